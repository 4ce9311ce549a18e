// Whether the visual tokens V carry each AU's presence when the question asks about it (issue 5: the LLM denies
// AU6, AU9, AU10, AU12, AU15 and AU17 though emotion, which they drive, is read well). For every AU presence
// question of stage 2's records, V is made with that question as the prompt (from the stage's feature cache, the
// crops inference makes), pooled over its tokens, and a logistic regression per AU learns yes/no from the training
// split's questions; it is scored on the validation split's. High probe accuracy where the LLM says "no" to all
// means the LLM does not read what V holds; chance means the visual path does not hold it.
//   node --import tsx scripts/au-probe.ts MODEL_DIR DATA/built [PER_AU_TRAIN=300] [PER_AU_VAL=100]
import { tf, initBackend } from "../src/core/backend.ts";
import { Rng } from "../src/core/rng.ts";
import { loadFavchat } from "../src/model/load.ts";
import { loadTokenizer } from "../src/text/tokenizer.ts";
import { encodeQuestion } from "../src/data/chat-format.ts";
import { clipsFileFor, indexClips, stageExamples, type Example } from "../src/train/favchat-data.ts";
import { FeatureCache, featureCacheKey } from "../src/train/feature-cache.ts";
import { join } from "node:path";

await initBackend("wasm");
const [dir, dataDir, nTrain = "300", nVal = "100"] = process.argv.slice(2);
if (!dir || !dataDir) {
  console.error("usage: node --import tsx scripts/au-probe.ts MODEL_DIR DATA/built [PER_AU_TRAIN=300] [PER_AU_VAL=100]");
  process.exit(2);
}
const model = await loadFavchat(dir);
const tok = loadTokenizer(dir);
const frames = 8; // configs/tiny.json "frames"
const clips = [...indexClips(clipsFileFor({ dataDir })).values()];
const cache = FeatureCache.open({ dir: join(dataDir, "feature-cache"), key: featureCacheKey(model, clips, frames, 1), variants: 1 }, model, clips, frames);
const auOf = (e: Example) => /AU(\d+)/.exec(e.question.question)![0];
const byAu = (split: "train" | "val", per: number) => {
  const out = new Map<string, Example[]>();
  for (const e of stageExamples(2, split, { dataDir }, new Rng(0)).filter((x) => x.category === "au_presence")) {
    const list = out.get(auOf(e)) ?? [];
    if (list.length < per) out.set(auOf(e), [...list, e]);
  }
  return out;
};
/** V pooled over its tokens, with the example's question as the prompt. */
const pooledV = (e: Example): number[] =>
  tf.tidy(() => {
    const features = cache.features([e.clip], [0]);
    const promptIds = encodeQuestion(tok, e.question, model.config.videoPosition).promptIds;
    const { tokens } = model.visualTokensFrom(features, tf.tensor2d([promptIds], [1, promptIds.length], "int32"), [promptIds.map(() => 1)], 1, frames);
    return Array.from(tokens.mean(1).dataSync());
  });
const train = byAu("train", Number(nTrain));
const val = byAu("val", Number(nVal));
console.log(`${dir}: per AU, a logistic regression on V pooled (question as prompt), trained on up to ${nTrain} training questions, scored on up to ${nVal} validation ones`);
console.log(`${"AU".padEnd(6)}${"train".padStart(7)}${"val".padStart(6)}${"probe acc".padStart(11)}${"probe F1".padStart(10)}${"all yes F1".padStart(12)}`);
const yes = (e: Example): number => (e.target.answer === "yes" ? 1 : 0);
for (const au of [...train.keys()].sort((a, b) => Number(a.slice(2)) - Number(b.slice(2)))) {
  const tr = train.get(au)!;
  const va = val.get(au) ?? [];
  if (va.length === 0) continue;
  const xt = tr.map(pooledV);
  const xv = va.map(pooledV);
  // Standardise with the training questions' statistics, then logistic regression (Adam, 400 steps, small L2).
  const D = xt[0].length;
  const mean = Array.from({ length: D }, (_, j) => xt.reduce((s, r) => s + r[j], 0) / xt.length);
  const sd = Array.from({ length: D }, (_, j) => Math.sqrt(xt.reduce((s, r) => s + (r[j] - mean[j]) ** 2, 0) / xt.length) || 1);
  const norm = (x: number[][]) => x.map((r) => r.map((v, j) => (v - mean[j]) / sd[j]));
  const pred = tf.tidy(() => {
    const X = tf.tensor2d(norm(xt));
    const Y = tf.tensor2d(tr.map((e) => [yes(e)]));
    const W = tf.variable(tf.zeros([D, 1]));
    const b = tf.variable(tf.zeros([1]));
    const opt = tf.train.adam(0.01);
    for (let s = 0; s < 400; s++) opt.minimize(() => tf.add(tf.losses.sigmoidCrossEntropy(Y, tf.add(tf.matMul(X, W), b)), tf.mul(1e-3, tf.sum(tf.square(W)))) as tf.Scalar);
    const p = Array.from(tf.add(tf.matMul(tf.tensor2d(norm(xv)), W), b).dataSync()).map((z): number => (z > 0 ? 1 : 0));
    opt.dispose();
    return p;
  });
  const truth = va.map(yes);
  const tp = pred.filter((p, i) => p === 1 && truth[i] === 1).length;
  const f1 = (tp2: number, np: number, nt: number) => (np + nt === 0 ? 0 : (2 * tp2) / (np + nt));
  const acc = pred.filter((p, i) => p === truth[i]).length / va.length;
  const nt = truth.reduce((s, v) => s + v, 0);
  console.log(`${au.padEnd(6)}${String(tr.length).padStart(7)}${String(va.length).padStart(6)}${acc.toFixed(3).padStart(11)}${f1(tp, pred.reduce((s, v) => s + v, 0), nt).toFixed(3).padStart(10)}${f1(nt, va.length, nt).toFixed(3).padStart(12)}`);
}
cache.close();
