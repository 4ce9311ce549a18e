// FaceWorld speed (issue 4, item 7): clips/s of 16 x 112 x 112 frames, target >= 20 clips/s on this
// machine (10,000 clips in under 10 minutes). Measures render only, render + raw frames, and the full
// `synth` path with MP4; the peer is a comparable Pillow + numpy renderer (bench/peers/faceworld_pil.py).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../src/core/rng.ts";
import { makeIdentity } from "../src/data/faceworld/identity.ts";
import { planClip } from "../src/data/faceworld/plan.ts";
import { renderClip } from "../src/data/faceworld/render.ts";
import { synthesize } from "../src/data/faceworld/synth.ts";
import { findFfmpeg } from "../src/video/ffmpeg.ts";
import { fmt, median, runPeer } from "./stats.ts";

const C = { clips: 60, repeats: 3, target: 20 };

function renderOnly(seed: number): number {
  const t0 = performance.now();
  for (let i = 0; i < C.clips; i++) renderClip(planClip(new Rng(seed).fork(i), `b${i}`, makeIdentity(seed, i % 20), { frames: 16, size: 112, fps: 8 }));
  return C.clips / ((performance.now() - t0) / 1000);
}

async function synthRate(mp4: boolean, seed: number): Promise<number> {
  const out = mkdtempSync(join(tmpdir(), "fv-bench-"));
  try {
    const t0 = performance.now();
    await synthesize({ out, clips: C.clips, seed, mp4, ffmpeg: mp4 ? findFfmpeg().path : undefined });
    return C.clips / ((performance.now() - t0) / 1000);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

renderOnly(99); // warm-up: JIT and canvas initialisation
const rows: [string, number[]][] = [["render only", []], ["render + raw frames", []], ["render + raw + MP4 (synth)", []]];
for (let r = 0; r < C.repeats; r++) {
  rows[0][1].push(renderOnly(r));
  rows[1][1].push(await synthRate(false, r));
  rows[2][1].push(await synthRate(true, r));
}
const peer = runPeer<{ clips_per_s: number[] }>(join(import.meta.dirname, "peers", "faceworld_pil.py"), [String(C.clips), String(C.repeats)]);
const peerRate = peer ? median(peer.clips_per_s) : NaN;

console.log(`FaceWorld, ${C.clips} clips of 16 x 112 x 112, median of ${C.repeats} runs (clips/s):`);
for (const [name, xs] of rows) {
  const m = median(xs);
  console.log(`  ${name.padEnd(28)} ${fmt(m).padStart(6)}   x${fmt(m / C.target, 2)} of the ${C.target}/s target   x${fmt(m / peerRate, 2)} of the peer   (runs: ${xs.map((x) => fmt(x)).join(", ")})`);
}
console.log(`  ${"peer: Pillow + numpy, raw".padEnd(28)} ${fmt(peerRate).padStart(6)}`);
const full = median(rows[2][1]);
console.log(`10,000 clips with MP4 would take ${fmt(10000 / full / 60)} min (target: under 10).`);
