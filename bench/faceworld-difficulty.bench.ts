// How hard FaceWorld's expressions are (issue 4: "subtle clips must be genuinely hard but not impossible").
// Renders clips in memory, splits by identity, and fits a linear (ridge) classifier on 24x24 grey face
// crops taken with the ground-truth boxes; test accuracy per intensity band, for three inputs:
// the apex frame minus frame 1 (knows where to look), the apex frame alone, and the middle frame minus
// frame 1 (no idea where the apex is). An AU oracle (nearest prototype on true AU values) is the ceiling.
import { Rng } from "../src/core/rng.ts";
import { EMOTION_PROTOTYPES } from "../src/data/faceworld/expression.ts";
import { makeIdentity } from "../src/data/faceworld/identity.ts";
import { planClip, type ClipPlan } from "../src/data/faceworld/plan.ts";
import { renderClip } from "../src/data/faceworld/render.ts";
import { AU_NAMES, EMOTIONS7 } from "../src/data/records.ts";
import { fmt } from "./stats.ts";

const C = { clips: 1400, identities: 350, testFrom: 280, size: 112, frames: 16, crop: 24, lambda: 30, seed: 4 };

/** Grey crop of `box`, area-resampled to crop x crop, as floats in [0, 1]. */
function crop(rgb: Uint8Array, t: number, box: number[]): Float64Array {
  const [bx, by, bw, bh] = box;
  const out = new Float64Array(C.crop * C.crop);
  const S = C.size;
  for (let cy = 0; cy < C.crop; cy++) {
    for (let cx = 0; cx < C.crop; cx++) {
      let sum = 0;
      let n = 0;
      const x0 = Math.floor(bx + (cx * bw) / C.crop);
      const x1 = Math.max(x0 + 1, Math.floor(bx + ((cx + 1) * bw) / C.crop));
      const y0 = Math.floor(by + (cy * bh) / C.crop);
      const y1 = Math.max(y0 + 1, Math.floor(by + ((cy + 1) * bh) / C.crop));
      for (let y = y0; y < Math.min(S, y1); y++) {
        for (let x = x0; x < Math.min(S, x1); x++) {
          const i = ((t * S + y) * S + x) * 3;
          sum += 0.299 * rgb[i] + 0.587 * rgb[i + 1] + 0.114 * rgb[i + 2];
          n++;
        }
      }
      out[cy * C.crop + cx] = n ? sum / n / 255 : 0;
    }
  }
  return out;
}

/** Ridge regression to one-hot targets: W = (X'X + lambda I)^-1 X'Y by Cholesky. */
function ridge(X: Float64Array[], y: number[], k: number): Float64Array[] {
  const d = X[0].length + 1;
  const A = new Float64Array(d * d);
  const B = new Float64Array(d * k);
  for (let s = 0; s < X.length; s++) {
    const x = [...X[s], 1];
    for (let i = 0; i < d; i++) {
      if (x[i] === 0) continue;
      for (let j = 0; j <= i; j++) A[i * d + j] += x[i] * x[j];
      B[i * k + y[s]] += x[i];
    }
  }
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < i; j++) A[j * d + i] = A[i * d + j];
    A[i * d + i] += C.lambda;
  }
  for (let j = 0; j < d; j++) {
    let s = A[j * d + j];
    for (let p = 0; p < j; p++) s -= A[j * d + p] ** 2;
    const l = Math.sqrt(s);
    A[j * d + j] = l;
    for (let i = j + 1; i < d; i++) {
      let v = A[i * d + j];
      for (let p = 0; p < j; p++) v -= A[i * d + p] * A[j * d + p];
      A[i * d + j] = v / l;
    }
  }
  const W: Float64Array[] = [];
  for (let c = 0; c < k; c++) {
    const z = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      let v = B[i * k + c];
      for (let p = 0; p < i; p++) v -= A[i * d + p] * z[p];
      z[i] = v / A[i * d + i];
    }
    for (let i = d - 1; i >= 0; i--) {
      let v = z[i];
      for (let p = i + 1; p < d; p++) v -= A[p * d + i] * z[p];
      z[i] = v / A[i * d + i];
    }
    W.push(z);
  }
  return W;
}

function predict(W: Float64Array[], x: Float64Array): number {
  let best = 0;
  let bestV = -Infinity;
  W.forEach((w, c) => {
    let v = w[x.length];
    for (let i = 0; i < x.length; i++) v += w[i] * x[i];
    if (v > bestV) [best, bestV] = [c, v];
  });
  return best;
}

function auOracle(plan: ClipPlan): number {
  const speaking = plan.actions.some((a) => a.name === "speak");
  const v = AU_NAMES.map((au) => (au === "AU43" || (speaking && (au === "AU25" || au === "AU26")) ? 0 : plan.aus[au][plan.apex]));
  if (Math.max(...v) < 0.1) return EMOTIONS7.indexOf("neutral");
  let best = 0;
  let bestV = -Infinity;
  EMOTIONS7.forEach((e, c) => {
    const p = AU_NAMES.map((au) => EMOTION_PROTOTYPES[e].find(([a]) => a === au)?.[1] ?? 0);
    const norm = Math.hypot(...p) * Math.hypot(...v);
    const cos = norm ? p.reduce((s, x, i) => s + x * v[i], 0) / norm : -1;
    if (cos > bestV) [best, bestV] = [c, cos];
  });
  return best;
}

// 1. Render and featurise.
const t0 = performance.now();
type Row = { y: number; test: boolean; band: string; short: boolean; feats: Float64Array[]; oracle: number };
const rows: Row[] = [];
const root = new Rng(C.seed);
for (let i = 0; i < C.clips; i++) {
  const who = i % C.identities;
  const plan = planClip(root.fork("clip", i), `d${i}`, makeIdentity(C.seed, who), { frames: C.frames, size: C.size, fps: 8 });
  const { rgb, faceBoxes } = renderClip(plan);
  const mid = C.frames >> 1;
  const f0 = crop(rgb, 0, faceBoxes[0]);
  const fa = crop(rgb, plan.apex, faceBoxes[plan.apex]);
  const fm = crop(rgb, mid, faceBoxes[mid]);
  rows.push({
    y: EMOTIONS7.indexOf(plan.expression.emotion), test: who >= C.testFrom, band: plan.expression.band, short: plan.expression.short,
    feats: [fa.map((v, k) => v - f0[k]), fa, fm.map((v, k) => v - f0[k])], oracle: auOracle(plan),
  });
}
console.log(`rendered ${C.clips} clips in ${fmt((performance.now() - t0) / 1000)} s; train identities ${C.testFrom}, test identities ${C.identities - C.testFrom}`);

// 2. Fit and score each input; accuracy by band on test identities (neutral clips have no band effect: excluded from bands).
const train = rows.filter((r) => !r.test);
const test = rows.filter((r) => r.test);
const groups: [string, (r: Row) => boolean][] = [
  ["all", () => true], ["subtle (<=0.3)", (r) => r.band === "subtle" && r.y !== 2], ["moderate", (r) => r.band === "moderate" && r.y !== 2],
  ["strong", (r) => r.band === "strong" && r.y !== 2], ["short apex (<=3 fr)", (r) => r.short && r.y !== 2],
];
const acc = (pred: (r: Row) => number, keep: (r: Row) => boolean): string => {
  const sel = test.filter(keep);
  return `${fmt((100 * sel.filter((r) => pred(r) === r.y).length) / sel.length, 0)}% (n=${sel.length})`;
};
const names = ["apex - frame 1", "apex frame only", "middle - frame 1"];
const models = names.map((_, f) => ridge(train.map((r) => r.feats[f]), train.map((r) => r.y), EMOTIONS7.length));
console.log(`test accuracy, 7 classes (chance 14%), linear classifier on ${C.crop}x${C.crop} grey face crops:`);
console.log(`  ${"".padEnd(22)}${[...names, "AU oracle"].map((n) => n.padEnd(20)).join("")}`);
for (const [g, keep] of groups) {
  const cells = names.map((_, f) => acc((r) => predict(models[f], r.feats[f]), keep));
  cells.push(acc((r) => r.oracle, keep));
  console.log(`  ${g.padEnd(22)}${cells.map((c) => c.padEnd(20)).join("")}`);
}
