// Which appearance attributes a model's summary tokens carry (issue 5): a softmax regression per attribute on the two
// summary tokens (src/model/summary-tokens.ts) of training clips, scored on validation clips. A model without them is
// read the same way through summary tokens made for it (seeded projection): the same encoder features, projected.
// Also per token, the share of its across-clip variance that lies between an attribute's values (how salient the
// attribute is there: 1, the token is the attribute; 0, it does not vary with it).
//   node --import tsx scripts/attribute-probe.ts [MODEL_DIR=models/favchat-tiny] [CLIPS=runs/tiny/data/clips.jsonl] [TRAIN=800] [VAL=200]
import { dirname, resolve } from "node:path";
import { initBackend, tf } from "../src/core/backend.ts";
import { Rng } from "../src/core/rng.ts";
import { loadFavchat } from "../src/model/load.ts";
import { SummaryTokens, pooledFaceDim } from "../src/model/summary-tokens.ts";
import { readClipRecords, type ClipRecord } from "../src/data/records.ts";
import { readRawClip } from "../src/data/frames.ts";
import { pixelsFromRaw } from "../src/data/clip-pixels.ts";
import { pixelTensors } from "../src/data/collate.ts";
await initBackend("wasm");
const [dir = "models/favchat-tiny", file = "runs/tiny/data/clips.jsonl", nTrain = "800", nVal = "200"] = process.argv.slice(2);
const model = await loadFavchat(dir);
const face = model.config.face;
const summary =
  model.summary ?? new SummaryTokens(model.config.vision.hiddenSize, model.faceEncoder ? pooledFaceDim(face.blockDims, face.blockTokens) : null, model.config.llm.hiddenSize, new Rng(0));
console.log(`${dir}: ${model.summary ? "its own summary tokens" : "no summary tokens; a seeded projection of the same encoder features"}`);
const records = readClipRecords(file).records;
const base = dirname(resolve(file));
// 8 frames, as the recipe trains with (configs/tiny.json "frames").
const px = async (c: ClipRecord) =>
  pixelsFromRaw(readRawClip(resolve(base, c.frames!)), c.labels.faceBoxes, { frames: 8, frameSize: model.config.vision.imageSize, faceSize: model.config.face.imageSize });
const features = async (clips: ClipRecord[]): Promise<number[][]> => {
  const out: number[][] = [];
  for (const [i, c] of clips.entries()) {
    const p = await px(c);
    const row = tf.tidy(() => {
      const { frames, faces } = pixelTensors(p);
      const f = model.encoderFeatures(frames, faces);
      return Array.from(summary.forward(f.patches, f.blocks, 1, p.F).reshape([-1]).dataSync());
    });
    out.push(row);
    if ((i + 1) % 200 === 0) console.log(`  features of ${i + 1} / ${clips.length} clips`);
  }
  return out;
};
const train = records.filter((c) => c.split === "train").slice(0, Number(nTrain));
const val = records.filter((c) => c.split === "val").slice(0, Number(nVal));
const [xt, xv] = [await features(train), await features(val)];
console.log(`${train.length} training clips, ${val.length} validation clips: the probe's accuracy, and always answering the commonest training value`);
console.log(`${"attribute".padEnd(16)}${"probe".padStart(8)}${"commonest".padStart(11)}   variance share in token 1 / 2`);
for (const key of Object.keys(train[0].labels.attributes).sort()) {
  const value = (c: ClipRecord) => String(c.labels.attributes[key]);
  const classes = [...new Set(train.map(value))].sort();
  const yt = train.map((c) => classes.indexOf(value(c)));
  const yv = val.map((c) => classes.indexOf(value(c)));
  const pred = tf.tidy(() => {
    const X = tf.tensor2d(xt);
    const Y = tf.oneHot(tf.tensor1d(yt, "int32"), classes.length);
    const W = tf.variable(tf.zeros([xt[0].length, classes.length]));
    const b = tf.variable(tf.zeros([classes.length]));
    const opt = tf.train.adam(0.01);
    for (let s = 0; s < 300; s++) opt.minimize(() => tf.losses.softmaxCrossEntropy(Y, tf.add(tf.matMul(X, W), b)) as tf.Scalar);
    const p = Array.from(tf.argMax(tf.add(tf.matMul(tf.tensor2d(xv), W), b), -1).dataSync());
    opt.dispose();
    tf.dispose([W, b]);
    return p;
  });
  const acc = yv.filter((y, i) => y === pred[i]).length / yv.length;
  const counts = classes.map((_, k) => yt.filter((y) => y === k).length);
  const commonest = counts.indexOf(Math.max(...counts));
  const baseline = yv.filter((y) => y === commonest).length / yv.length;
  const shares = Array.from({ length: summary.count }, (_, t) => betweenShare(xt.map((r) => r.slice(t * summary.outDim, (t + 1) * summary.outDim)), yt));
  console.log(`${key.padEnd(16)}${acc.toFixed(3).padStart(8)}${baseline.toFixed(3).padStart(11)}   ${shares.map((v) => v.toFixed(3)).join(" / ")}`);
}

/** Between-group sum of squares over the total, summed over the feature dimensions (eta squared of rows x by groups y). */
function betweenShare(x: number[][], y: number[]): number {
  const D = x[0].length;
  const mean = (rows: number[][]) => Array.from({ length: D }, (_, d) => rows.reduce((s, r) => s + r[d], 0) / rows.length);
  const mu = mean(x);
  const total = x.reduce((s, r) => s + r.reduce((t, v, d) => t + (v - mu[d]) ** 2, 0), 0);
  let between = 0;
  for (const g of new Set(y)) {
    const rows = x.filter((_, i) => y[i] === g);
    between += rows.length * mean(rows).reduce((t, v, d) => t + (v - mu[d]) ** 2, 0);
  }
  return total === 0 ? 0 : between / total;
}
