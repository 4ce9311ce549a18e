// Emotion read-out token (config.json "emotion_readout"): V gains one token after the other read-outs,
// LayerNorm(e + sum_c p_c u_c) with p from a head on the encoders' per-frame features pooled by a learnt softmax over
// frames beside their mean (checked against a computation by hand); the other tokens are those of the same model
// without it; the head learns the clips' emotions through the label heads' loss without a gradient to the features;
// the parameters save, load and sit in "MLPs".
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initBackend, tf } from "../../src/core/backend.ts";
import { Rng } from "../../src/core/rng.ts";
import { FavchatError } from "../../src/core/errors.ts";
import { FavChat } from "../../src/model/favchat.ts";
import { favchatConfigToJson, resolveFavchatConfig } from "../../src/model/config.ts";
import { applyFreezePlan, partOf } from "../../src/model/freeze.ts";
import { loadFavchat, saveFavchat } from "../../src/model/load.ts";
import { EMOTION_READOUT_TOKENS, frameFeatures } from "../../src/model/emotion-readout.ts";
import { EMOTIONS7 } from "../../src/data/records.ts";
import { synthesize } from "../../src/data/faceworld/synth.ts";
import { indexClips, type ClipRef } from "../../src/train/favchat-data.ts";
import { VisualAuxModel, emptyTally, tallyMetrics, visualLabels } from "../../src/train/visual-aux.ts";
import { emotionReadoutRows } from "../../src/eval/run-model.ts";
import { disposeInputs, microConfigJson, microInputs } from "./favchat-helpers.ts";

let root = "";
before(async () => {
  await initBackend("wasm");
  root = await mkdtemp(join(tmpdir(), "favchat-emotion-readout-"));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const D = 16;
const CLASSES = ["happy", "sad", "neutral"];
const readoutConfig = (extra: Record<string, unknown> = {}, classes: unknown = CLASSES) =>
  resolveFavchatConfig({ ...microConfigJson(), ...extra, emotion_readout: classes }, "micro config");

const layerNorm = (y: number[], w?: number[], b?: number[]) => {
  const mu = y.reduce((s, yj) => s + yj, 0) / y.length;
  const sd = Math.sqrt(y.reduce((s, yj) => s + (yj - mu) ** 2, 0) / y.length + 1e-5);
  return y.map((yj, j) => ((yj - mu) / sd) * (w?.[j] ?? 1) + (b?.[j] ?? 0));
};
const softmax = (z: number[]) => {
  const m = Math.max(...z);
  const ex = z.map((zi) => Math.exp(zi - m));
  const s = ex.reduce((a, b) => a + b, 0);
  return ex.map((a) => a / s);
};

test("config: emotion_readout is read (true: FaceWorld's seven), written only when set, and defaults to none; bad classes are a clear error", () => {
  assert.equal(resolveFavchatConfig(microConfigJson(), "micro").emotionReadout, null);
  assert.ok(!("emotion_readout" in favchatConfigToJson(resolveFavchatConfig(microConfigJson(), "micro"))), "older config.json files stay as they were");
  assert.deepEqual(readoutConfig({}, true).emotionReadout, EMOTIONS7);
  const c = readoutConfig();
  assert.deepEqual(c.emotionReadout, CLASSES);
  assert.deepEqual(favchatConfigToJson(c).emotion_readout, CLASSES);
  assert.deepEqual(resolveFavchatConfig(favchatConfigToJson(c), "round trip"), c);
  for (const bad of [1, "yes", [], ["happy"], ["a", "a"], ["a", 2], ["a", ""], { happy: 1 }]) {
    assert.throws(() => resolveFavchatConfig({ ...microConfigJson(), emotion_readout: bad }, "bad.json"), (e: Error) => e instanceof FavchatError && /bad\.json: "emotion_readout" must be true, false, or a list/.test(e.message), JSON.stringify(bad));
  }
});

test("V gains LayerNorm(e + sum_c p_c u_c) after the other read-outs, p from frames pooled by a softmax score beside their mean", () => {
  for (const extra of [{}, { summary_tokens: true, au_readout: true, attribute_readout: true }]) {
    const model = new FavChat(readoutConfig(extra), new Rng(1));
    const base = new FavChat(resolveFavchatConfig({ ...microConfigJson(), ...extra }, "micro"), new Rng(1)); // same streams for the shared parts
    const N = base.numVisualTokens;
    const before = "au_readout" in extra ? 2 : 0; // the attribute and AU tokens come first
    assert.equal(EMOTION_READOUT_TOKENS, 1);
    assert.equal(model.numVisualTokens, N + 1);
    const [B, F] = [2, 2];
    const x = microInputs(B);
    const out = model.forward(x);
    assert.deepEqual(out.tokens.shape, [B, N + 1, D]);
    assert.deepEqual(out.emotionLogits!.shape, [B, 3]);
    assert.deepEqual(out.emotionFrameWeights!.shape, [B, F]);
    const v = base.encodeVideo(x);
    const got = out.tokens.arraySync() as number[][][];
    const want = v.tokens.arraySync() as number[][][];
    const r = model.emotionReadout!;
    const feats = model.encoderFeatures(x.frames, x.faces);
    const perFrame = frameFeatures(feats.patches, feats.blocks).arraySync() as number[][]; // [B*F, Df]
    assert.equal(perFrame[0].length, r.featureDim);
    const [g, beta] = [r.inputNorm.weight.arraySync() as number[], r.inputNorm.bias.arraySync() as number[]];
    const ws = (r.score.weight.arraySync() as number[][]).map((row) => row[0]);
    const bs = (r.score.bias!.arraySync() as number[])[0];
    const [W, bias] = [r.head.weight.arraySync() as number[][], r.head.bias!.arraySync() as number[]];
    const e = (r.identity.arraySync() as number[][])[0];
    const u = r.values.arraySync() as number[][]; // [3, D]
    const logits = out.emotionLogits!.arraySync() as number[][];
    const frameWeights = out.emotionFrameWeights!.arraySync() as number[][];
    for (let b = 0; b < B; b++) {
      // The other tokens: those of the model without the read-out, in order, the emotion token after the other read-outs.
      for (let t = 0; t < N; t++) want[b][t].forEach((w, j) => assert.ok(Math.abs(got[b][t < before ? t : t + 1][j] - w) < 1e-5, `row ${b} token ${t}`));
      const h = [0, 1].map((f) => layerNorm(perFrame[b * F + f], g, beta));
      const a = softmax(h.map((hf) => bs + hf.reduce((s, hj, j) => s + hj * ws[j], 0)));
      a.forEach((af, f) => assert.ok(Math.abs(frameWeights[b][f] - af) < 1e-5, `row ${b} frame ${f} weight`));
      const pooled = h[0].map((_, j) => a[0] * h[0][j] + a[1] * h[1][j]);
      const mean = h[0].map((_, j) => (h[0][j] + h[1][j]) / 2);
      const input = [...pooled, ...mean];
      const l = bias.map((bk, k) => bk + input.reduce((s, xj, j) => s + xj * W[j][k], 0));
      l.forEach((lk, k) => assert.ok(Math.abs(logits[b][k] - lk) < 1e-3, `row ${b} class ${k}: ${logits[b][k]} vs ${lk}`));
      const p = softmax(l);
      const y = e.map((ej, j) => ej + p.reduce((s, pc, k) => s + pc * u[k][j], 0));
      layerNorm(y).forEach((yj, j) => assert.ok(Math.abs(got[b][before][j] - yj) < 1e-4, `row ${b} read-out token dim ${j}`));
      // What `favchat chat --json` reports.
      const report = r.report(logits[b]);
      assert.equal(report.emotion, CLASSES[p.indexOf(Math.max(...p))]);
      assert.ok(Math.abs(report.probability - Math.max(...p)) < 1e-4);
      CLASSES.forEach((c, k) => assert.ok(Math.abs(report.probabilities[c] - p[k]) < 1e-4, c));
    }
    tf.dispose([out.logits, out.tokens, out.weights, out.auLogits, out.auChoice, out.attributeLogits, out.attributeChoice, out.emotionLogits!, out.emotionFrameWeights!]);
    tf.dispose([v.tokens, v.weights, v.auLogits, v.auChoice, v.attributeLogits, v.attributeChoice, feats.patches, ...feats.blocks]);
    disposeInputs(x);
    model.dispose();
    base.dispose();
  }
});

test("the label heads' loss teaches the head the clips' emotions from the frame that shows them; no gradient reaches the features", async () => {
  const out = join(root, "clips");
  await synthesize({ out, clips: 8, seed: 4, frames: 4, size: 64, mp4: false });
  const clips: ClipRef[] = [...indexClips(join(out, "clips.jsonl")).values()];
  assert.ok(new Set(clips.map((c) => c.record.labels.emotion)).size >= 3, "the clips show several emotions");
  const model = new FavChat(readoutConfig({}, true), new Rng(2));
  const r = model.emotionReadout!;
  const aux = new VisualAuxModel(model, visualLabels(clips), new Rng(3));
  const rng = new Rng(5);
  const F = 4;
  const vec = () => Array.from({ length: r.featureDim }, () => rng.uniform(-1, 1));
  // Each emotion's features show in one frame of four, at a different place in each clip; the others are noise
  // shared by every clip, so only a pool that finds the showing frame, or the mean, tells the clips apart.
  const emotionRow = new Map(EMOTIONS7.map((e) => [e, vec()]));
  const noise = Array.from({ length: F }, vec);
  const rows = clips.flatMap((c, b) => noise.map((n, f) => (f === b % F ? emotionRow.get(c.record.labels.emotion as (typeof EMOTIONS7)[number])! : n)));
  const features = tf.tensor2d(rows); // [B*F, Df]
  const V = tf.zeros([clips.length, 3, D]);
  const logitsOf = () => {
    const o = r.forward(features, clips.length, F);
    tf.dispose([o.tokens, o.frameWeights]);
    return o.logits;
  };
  const trained = [...r.trainableVariables()].filter(([n]) => /^(input_norm|score|head)/.test(n)).map(([, v]) => v);
  const opt = tf.train.adam(0.05);
  for (let s = 0; s < 60; s++) opt.minimize(() => tf.tidy(() => aux.loss(V, clips, undefined, undefined, { emotion: logitsOf() })), false, trained);
  const tally = emptyTally();
  const logits = logitsOf();
  await aux.score(V, clips, tally, undefined, { emotion: logits });
  assert.equal(tally.emotionReadout.n, clips.length);
  assert.equal(tallyMetrics(tally).visual_emotion_readout_acc, 1);
  logits.dispose();
  // Gradients reach every read-out parameter from the token (what the LLM reads)...
  const vars = [...r.trainableVariables("emotion_readout.")];
  assert.equal(vars.length, 10); // input_norm, score, head, norm: weight + bias; identity, values
  const { value, grads } = tf.variableGrads(() => tf.tidy(() => tf.sum(tf.square(r.forward(features, clips.length, F).tokens.mul(tf.linspace(0, 1, D))))) as tf.Scalar, vars.map(([, v]) => v));
  for (const [name, v] of vars) assert.ok(tf.max(tf.abs(grads[v.name])).dataSync()[0] > 0, `${name} has no gradient`);
  // ...but none reaches the features.
  const Fvar = tf.variable(features);
  const toInputs = tf.variableGrads(() => tf.tidy(() => {
    const o = r.forward(Fvar, clips.length, F);
    return tf.addN([tf.sum(o.tokens), tf.sum(o.logits), tf.sum(Fvar.mul(0))]);
  }) as tf.Scalar, [Fvar]);
  assert.equal(tf.max(tf.abs(toInputs.grads[Fvar.name])).dataSync()[0], 0);
  tf.dispose([value, ...Object.values(grads), toInputs.value, ...Object.values(toInputs.grads), Fvar, V, features]);
  opt.dispose();
  aux.dispose();
});

test("read-out parameters are MLPs in the freeze plan; save and load round-trip", async () => {
  const model = new FavChat(readoutConfig(), new Rng(5));
  const names = [...model.namedParams().keys()].filter((n) => n.startsWith("emotion_readout."));
  assert.equal(names.length, 10);
  for (const n of names) assert.equal(partOf(n), "MLPs");
  for (const stage of ["connector", 1, 2, 3] as const) {
    applyFreezePlan(model, stage);
    assert.ok(names.every((n) => model.namedParams().get(n)!.variable.trainable), `stage ${stage}`);
  }
  const dir = join(root, "m");
  await saveFavchat(model, dir);
  const back = await loadFavchat(dir);
  assert.deepEqual(back.config.emotionReadout, CLASSES);
  const x = microInputs(6);
  const [a, b] = [model.encodeVideo(x), back.encodeVideo(x)];
  assert.deepEqual(b.tokens.arraySync(), a.tokens.arraySync());
  tf.dispose([a.tokens, a.weights, a.emotionLogits!, a.emotionFrameWeights!, b.tokens, b.weights, b.emotionLogits!, b.emotionFrameWeights!]);
  disposeInputs(x);
  model.dispose();
  back.dispose();
});

test("emotionReadoutRows: eval's share of clips whose read-out head was right and whose answer named the head's emotion, hand-counted", () => {
  const report = (emotion: string) => ({ emotion, probability: 0.8, probabilities: { [emotion]: 0.8 } });
  const predictions = [
    { id: "a", prediction: "<answer>happy</answer>", answer: "happy" }, // head right, answer agrees
    { id: "b", prediction: "<answer>sad</answer>", answer: "sad" }, // head wrong (angry), answer disagrees
    { id: "c", prediction: "happy or sad", answer: "fear" }, // head wrong, answer names two: no agreement
    { id: "d", prediction: "(B)", answer: "neutral", options: ["happy", "neutral"] }, // head right, option letter agrees
    { id: "e", prediction: "sad", answer: "sad" }, // no report: not counted
  ];
  const weights = [
    { id: "a", wFace: 0.5, emotionReadout: report("happy") },
    { id: "b", wFace: 0.5, emotionReadout: report("angry") },
    { id: "c", wFace: 0.5, emotionReadout: report("happy") },
    { id: "d", wFace: 0.5, emotionReadout: report("neutral") },
    { id: "e", wFace: 0.5 },
  ];
  assert.deepEqual(emotionReadoutRows(predictions, weights), { "read-out head: the clip's emotion": 0.5, "answer names the read-out head's emotion": 0.5 });
  assert.deepEqual(emotionReadoutRows(predictions, weights.map(({ id, wFace }) => ({ id, wFace }))), {});
});
