// The renderer: deterministic, every AU visibly moves the part of the face it should, and the ground-truth
// face box covers the face.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../../../src/core/rng.ts";
import { makeIdentity } from "../../../src/data/faceworld/identity.ts";
import { planClip, type ClipPlan } from "../../../src/data/faceworld/plan.ts";
import { ClipCanvases, renderClip } from "../../../src/data/faceworld/render.ts";
import { AU_NAMES, type AuName } from "../../../src/data/records.ts";

const SIZE = 112;

/** A calm, noise-free 2-frame plan of a neutral face, for controlled AU edits. */
function basePlan(): ClipPlan {
  const id = makeIdentity(4, 2);
  id.attributes.glasses = "none";
  id.attributes.beard = "none";
  const plan = planClip(new Rng(9), "t", id, { frames: 2, size: SIZE, fps: 8, emotion: "neutral", calm: true });
  plan.scene.noise = 0;
  plan.scene.quant = 0;
  for (const au of AU_NAMES) plan.aus[au].fill(0);
  for (const p of plan.poses) Object.assign(p, { cx: 56, cy: 50, scale: 26, yaw: 0, pitch: 0, roll: 0 });
  return plan;
}

/** Rows (in face units, 1 unit = 26 px, origin at y = 50 px) where each AU's change must show. */
const REGION: Record<AuName, [number, number]> = {
  AU1: [-0.9, -0.25], AU2: [-0.9, -0.25], AU4: [-0.7, -0.25], AU5: [-0.45, 0.1], AU6: [-0.4, 0.4], AU7: [-0.4, 0.1],
  AU9: [-0.7, 0.45], AU10: [0.2, 0.8], AU12: [0.2, 0.9], AU15: [0.2, 0.9], AU17: [0.4, 1.2], AU20: [0.2, 0.9],
  AU23: [0.2, 0.9], AU25: [0.3, 0.9], AU26: [0.3, 1.5], AU43: [-0.45, 0.1],
};

test("each AU at full intensity changes pixels, mostly in its own region", () => {
  const plan = basePlan();
  const rest = renderClip(plan).rgb;
  for (const au of AU_NAMES) {
    plan.aus[au][1] = 1;
    const moved = renderClip(plan).rgb;
    plan.aus[au][1] = 0;
    let inside = 0;
    let total = 0;
    const [lo, hi] = REGION[au];
    const off = SIZE * SIZE * 3;
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const i = off + (y * SIZE + x) * 3;
        const d = Math.abs(moved[i] - rest[i]) + Math.abs(moved[i + 1] - rest[i + 1]) + Math.abs(moved[i + 2] - rest[i + 2]);
        if (d < 30) continue;
        total++;
        const u = (y - 50) / 26;
        if (u >= lo && u <= hi) inside++;
      }
    }
    assert.ok(total >= 20, `${au} changed only ${total} pixels`);
    assert.ok(inside / total > 0.8, `${au}: only ${inside} of ${total} changed pixels in rows ${lo}..${hi}`);
  }
});

test("the same plan renders the same bytes; the face box holds the face", () => {
  const id = makeIdentity(1, 3);
  const a = planClip(new Rng(5), "x", id, { frames: 4, size: SIZE, fps: 8 });
  const b = planClip(new Rng(5), "x", id, { frames: 4, size: SIZE, fps: 8 });
  const ra = renderClip(a);
  assert.deepEqual(ra.rgb, renderClip(b).rgb);
  for (const [t, [x, y, w, h]] of ra.faceBoxes.entries()) {
    const p = a.poses[t];
    assert.ok(x < p.cx && p.cx < x + w && y < p.cy && p.cy < y + h, `frame ${t}: box ${[x, y, w, h]} misses the face centre`);
    assert.ok(w > SIZE * 0.3 && w < SIZE * 0.7 && h > w, `frame ${t}: box ${[x, y, w, h]} has an odd size`);
  }
});

test("reused canvases give the same pixels as fresh ones (synth reuses one set for every clip)", () => {
  const plan = (i: number) => planClip(new Rng(77).fork(i), `c${i}`, makeIdentity(77, i), { frames: 3, size: 48, fps: 8 });
  const shared = new ClipCanvases(48);
  const first = renderClip(plan(0), shared).rgb.slice();
  renderClip(plan(1), shared);
  assert.deepEqual(renderClip(plan(0), shared).rgb, first);
  assert.deepEqual(renderClip(plan(0)).rgb, first);
});
