// How well stage encoders' own per-frame emotion head names a clip's emotion from the 8 frames inference reads, under
// a few fixed ways of pooling the frames: the question behind the emotion read-out's design (session 27).
// Reads the head from the stage's checkpoint (emotion_head.*: it is dropped from the model directory).
//   node --import tsx scripts/emotion-pool-probe.ts ENCODERS_DIR CLIPS_JSONL [SPLIT=val] [LIMIT=600]
import { dirname, join, resolve } from "node:path";
import { initBackend, tf } from "../src/core/backend.ts";
import { readSafetensors } from "../src/core/safetensors.ts";
import { loadFavchat } from "../src/model/load.ts";
import { pooledFaceFeatures } from "../src/model/summary-tokens.ts";
import { readClipRecords, EMOTIONS7 } from "../src/data/records.ts";
import { readRawClip } from "../src/data/frames.ts";
import { pixelsFromRaw } from "../src/data/clip-pixels.ts";
import { pixelTensors } from "../src/data/collate.ts";

const [dir, clipsFile, split = "val", limit = "600"] = process.argv.slice(2);
await initBackend("wasm");
const model = await loadFavchat(dir);
const ckpt = await readSafetensors(join(dir, "checkpoint", "model.safetensors"));
const W = ckpt.get("emotion_head.weight")!; // [C, faceDim]
const b = ckpt.get("emotion_head.bias")!;
// The stage's classes: the training clips' emotions, sorted (categoricalHeads).
const records = readClipRecords(clipsFile, { onBadLine: "fail" }).records;
const classes = [...new Set(records.filter((r) => (r.split ?? "test") === "train").map((r) => r.labels.emotion).filter((e): e is string => !!e))].sort();
if (classes.length !== W.shape[0]) throw new Error(`classes ${classes} vs head ${W.shape}`);
const neutral = classes.indexOf("neutral");
const clips = records.filter((r) => (r.split ?? "test") === split && r.labels.emotion).slice(0, Number(limit));
const base = dirname(resolve(clipsFile));
const Wt = tf.tensor2d(W.data, W.shape as [number, number]).transpose();
const bt = tf.tensor1d(b.data);
const rules = ["mean logits", "mean probabilities", "least neutral frame", "max non-neutral prob", "middle frame", "oracle: some frame right"] as const;
const hits = Object.fromEntries(rules.map((r) => [r, 0])) as Record<(typeof rules)[number], number>;
const softmax = (z: number[]) => {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((x, y) => x + y, 0);
  return e.map((v) => v / s);
};
const argmax = (z: number[]) => z.indexOf(Math.max(...z));
for (const [i, clip] of clips.entries()) {
  const px = pixelsFromRaw(readRawClip(resolve(base, clip.frames!)), clip.labels.faceBoxes, { frames: model.config.maxFrames, frameSize: model.config.vision.imageSize, faceSize: model.config.face.imageSize });
  const { frames, faces } = pixelTensors(px);
  const logits = tf.tidy(() => tf.add(tf.matMul(pooledFaceFeatures(model.faceEncoder!.forwardClips(faces)), Wt), bt).arraySync() as number[][]);
  tf.dispose([frames, faces]);
  const y = classes.indexOf(clip.labels.emotion!);
  const p = logits.map(softmax);
  const F = logits.length;
  const mean = (rows: number[][]) => rows[0].map((_, c) => rows.reduce((s, r) => s + r[c], 0) / rows.length);
  const leastNeutral = p.reduce((best, r, t) => (r[neutral] < p[best][neutral] ? t : best), 0);
  const nonNeutral = classes.map((_, c) => (c === neutral ? -1 : Math.max(...p.map((r) => r[c]))));
  const maxNon = argmax(nonNeutral);
  const pick = {
    "mean logits": argmax(mean(logits)),
    "mean probabilities": argmax(mean(p)),
    "least neutral frame": argmax(p[leastNeutral]),
    "max non-neutral prob": nonNeutral[maxNon] > 0.5 ? maxNon : neutral,
    "middle frame": argmax(p[Math.floor(F / 2)]),
    "oracle: some frame right": p.some((r) => argmax(r) === y) ? y : -1,
  };
  for (const r of rules) if (pick[r] === y) hits[r]++;
  if ((i + 1) % 100 === 0) console.error(`${i + 1} / ${clips.length}`);
}
console.log(`${clips.length} ${split} clips; classes ${classes.join(", ")} (EMOTIONS7 ${EMOTIONS7.length})`);
for (const r of rules) console.log(`${r.padEnd(26)} ${(hits[r] / clips.length).toFixed(3)}`);
