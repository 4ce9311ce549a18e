// How much do a model's encoders know about emotion? Linear probe: each clip's face features (the facial encoder's
// per-frame features as stage encoders' heads see them, over 8 frames: their mean and their range, max - min)
// -> softmax regression on the training clips, accuracy on held-out clips. It bounds what the later stages can read
// from frozen encoders with a linear map. Usage:
//   node --import tsx scripts/encoder-probe.ts MODEL_DIR CLIPS_JSONL [TRAIN_CLIPS=2000] [EVAL_SPLIT=val]
import { initBackend, tf } from "../src/core/backend.ts";
import { Rng } from "../src/core/rng.ts";
import { readRawClip } from "../src/data/frames.ts";
import { pixelsFromRaw } from "../src/data/clip-pixels.ts";
import { pixelTensors } from "../src/data/collate.ts";
import { loadFavchat } from "../src/model/load.ts";
import { indexClips, type ClipRef } from "../src/train/favchat-data.ts";
import { EncoderPretrainer } from "../src/train/encoder-task.ts";

const [modelDir, clipsFile, nTrain = "2000", evalSplit = "val"] = process.argv.slice(2);
if (!modelDir || !clipsFile) {
  console.error("usage: node --import tsx scripts/encoder-probe.ts MODEL_DIR CLIPS_JSONL [TRAIN_CLIPS] [EVAL_SPLIT]");
  process.exit(2);
}
await initBackend("wasm");
const model = await loadFavchat(modelDir);
const probe = new EncoderPretrainer(model, { face: [], general: [], emotion: null }, new Rng(0)); // features only; no heads used
const F = 8;
const clips = [...indexClips(clipsFile).values()].filter((c) => c.raw && c.record.labels.emotion);
const classes = [...new Set(clips.map((c) => c.record.labels.emotion!))].sort();

/** Per clip: [mean over frames, max - min over frames] of the per-frame face features. */
function features(set: readonly ClipRef[]): Float32Array[] {
  const out: Float32Array[] = [];
  for (let i = 0; i < set.length; i += 16) {
    const chunk = set.slice(i, i + 16);
    const px = chunk.map((c) => pixelTensors(pixelsFromRaw(readRawClip(c.raw!), c.record.labels.faceBoxes, { frames: F, frameSize: model.config.vision.imageSize, faceSize: model.config.face.imageSize })));
    const feats = tf.tidy(() => {
      const frames = tf.concat(px.map((p) => p.frames), 0);
      const faces = tf.concat(px.map((p) => p.faces), 0);
      const per = probe.features(frames, faces).face!.reshape([chunk.length, F, -1]); // [B, F, Df]
      return tf.concat([tf.mean(per, 1), tf.sub(tf.max(per, 1), tf.min(per, 1))], 1); // [B, 2 Df]
    });
    const rows = feats.arraySync() as number[][];
    rows.forEach((r) => out.push(Float32Array.from(r)));
    tf.dispose([feats, ...px.flatMap((p) => [p.frames, p.faces])]);
  }
  return out;
}

const rng = new Rng(0);
const train = rng.shuffle(clips.filter((c) => c.record.split === "train")).slice(0, Number(nTrain));
const held = clips.filter((c) => c.record.split === evalSplit);
const t0 = performance.now();
const [xTr, xEv] = [features(train), features(held)];
const yTr = train.map((c) => classes.indexOf(c.record.labels.emotion!));
const yEv = held.map((c) => classes.indexOf(c.record.labels.emotion!));
console.log(`features of ${train.length} + ${held.length} clips in ${((performance.now() - t0) / 1000).toFixed(0)} s`);

// Standardise with the training statistics, then softmax regression (Adam, L2) on the whole training set.
const D = xTr[0].length;
const X = tf.tensor2d(xTr.flatMap((r) => [...r]), [xTr.length, D]);
const mu = X.mean(0);
const sd = tf.sqrt(tf.moments(X, 0).variance).add(1e-5);
const norm = (x: tf.Tensor) => tf.div(tf.sub(x, mu), sd);
const Xn = norm(X);
const Xe = norm(tf.tensor2d(xEv.flatMap((r) => [...r]), [xEv.length, D]));
const Y = tf.oneHot(tf.tensor1d(yTr, "int32"), classes.length);
const W = tf.variable(tf.zeros([D, classes.length]));
const b = tf.variable(tf.zeros([classes.length]));
const opt = tf.train.adam(0.01);
for (let s = 0; s < 300; s++) {
  opt.minimize(() => tf.add(tf.losses.softmaxCrossEntropy(Y, tf.add(tf.matMul(Xn, W), b)), tf.mul(1e-3, tf.sum(tf.square(W)))) as tf.Scalar);
}
const accuracy = (x: tf.Tensor, y: number[]) => {
  const pred = tf.argMax(tf.add(tf.matMul(x, W), b), 1).arraySync() as number[];
  return pred.filter((p, i) => p === y[i]).length / y.length;
};
console.log(`emotion linear probe on ${modelDir}: train ${accuracy(Xn, yTr).toFixed(3)}, ${evalSplit} ${accuracy(Xe, yEv).toFixed(3)} (${held.length} clips, ${classes.length} classes, chance ${(1 / classes.length).toFixed(3)})`);
