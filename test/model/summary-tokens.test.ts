// Summary tokens (config.json "summary_tokens"): V gains the encoders' two pooled tokens after the Q-Formers' Q; they
// are what the encoders say without the question (the same for any prompt), match an independent computation from
// the vision tower's own output, receive gradients, save and load, and sit in the freeze plan's "MLPs".
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
import { pooledFaceDim, pooledFaceFeatures } from "../../src/model/summary-tokens.ts";
import { disposeInputs, microConfigJson, microInputs } from "./favchat-helpers.ts";

let root = "";
before(async () => {
  await initBackend("wasm");
  root = await mkdtemp(join(tmpdir(), "favchat-summary-"));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const Q = 3, D = 16;
const summaryConfig = (ablation: Record<string, boolean> = {}) => resolveFavchatConfig({ ...microConfigJson(ablation), summary_tokens: true }, "micro config");

test("config: summary_tokens is read, written and defaults to false; a non-boolean is a clear error", () => {
  assert.equal(resolveFavchatConfig(microConfigJson(), "micro").summaryTokens, false);
  const c = summaryConfig();
  assert.equal(c.summaryTokens, true);
  assert.equal(favchatConfigToJson(c).summary_tokens, true);
  assert.deepEqual(resolveFavchatConfig(favchatConfigToJson(c), "round trip"), c);
  assert.throws(() => resolveFavchatConfig({ ...microConfigJson(), summary_tokens: "yes" }, "bad.json"), (e: Error) => e instanceof FavchatError && /bad\.json: "summary_tokens" must be true or false/.test(e.message));
});

test("V is the fused Q then the general and face summary tokens; they do not depend on the question", () => {
  const model = new FavChat(summaryConfig(), new Rng(1));
  assert.equal(model.numVisualTokens, Q + 2);
  const x = microInputs(1);
  const out = model.forward(x);
  assert.deepEqual(out.tokens.shape, [2, Q + 2, D]);
  assert.deepEqual(out.logits.shape, [2, 7 - 1 + Q + 2, 32]);
  // The same clips with other questions: the Q-Formers' tokens move, the summary tokens do not.
  const other = { ...x, promptIds: tf.tensor2d([[20, 21, 22], [23, 24, 25]], [2, 3], "int32"), promptMask: [[1, 1, 1], [1, 1, 1]] };
  const again = model.encodeVideo(other);
  const [a, b] = [out.tokens.arraySync() as number[][][], again.tokens.arraySync() as number[][][]];
  for (let r = 0; r < 2; r++) {
    assert.deepEqual(b[r].slice(Q), a[r].slice(Q), `row ${r}: summary tokens changed with the question`);
    assert.notDeepEqual(b[r].slice(0, Q), a[r].slice(0, Q), `row ${r}: the Q-Former tokens ignore the question`);
  }
  // Different clips, different summaries.
  assert.notDeepEqual(a[0][Q], a[1][Q]);
  tf.dispose([out.logits, out.tokens, out.weights, again.tokens, again.weights, other.promptIds]);
  disposeInputs(x);
  model.dispose();
});

test("the general summary token is LayerNorm(W mean(patches) + b), the mean over every patch of every frame", () => {
  const model = new FavChat(summaryConfig(), new Rng(2));
  const x = microInputs(2, 3);
  const got = (model.encodeVideo(x).tokens.arraySync() as number[][][]).map((row) => row[Q]);
  const [B, F, H, W, C] = x.frames.shape as number[];
  const patches = model.visionTower.forward(x.frames.reshape([B * F, H, W, C])).arraySync() as number[][][]; // [B*F, P, Dv]
  const s = model.summary!;
  const weight = s.general.weight.arraySync() as number[][]; // [Dv, D]
  const bias = s.general.bias!.arraySync() as number[];
  for (let b = 0; b < B; b++) {
    const rows = patches.slice(b * F, (b + 1) * F).flat(); // every patch token of the clip
    const mean = rows[0].map((_, k) => rows.reduce((sum, r) => sum + r[k], 0) / rows.length);
    const y = bias.map((bj, j) => bj + mean.reduce((sum, m, k) => sum + m * weight[k][j], 0));
    const mu = y.reduce((p, q) => p + q, 0) / y.length;
    const variance = y.reduce((p, q) => p + (q - mu) ** 2, 0) / y.length;
    const want = y.map((v) => (v - mu) / Math.sqrt(variance + 1e-5)); // LayerNorm's weight 1, bias 0 at init
    want.forEach((w, j) => assert.ok(Math.abs(got[b][j] - w) < 1e-4, `clip ${b} dim ${j}: ${got[b][j]} vs ${w}`));
  }
  disposeInputs(x);
  model.dispose();
});

test("pooledFaceFeatures keeps small grids in their layout and averages large ones", () => {
  const big = tf.tensor3d([[[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]]]); // [1, 5, 2]: averaged
  const small = tf.tensor3d([[[1, 2, 3], [4, 5, 6]]]); // [1, 2, 3]: flattened
  assert.deepEqual(pooledFaceFeatures([big, small]).arraySync(), [[5, 6, 1, 2, 3, 4, 5, 6]]);
  assert.equal(pooledFaceDim([2, 3], [5, 2]), 2 + 6);
  tf.dispose([big, small]);
});

test("without the facial encoder there is one summary token; every summary parameter gets a gradient", () => {
  const general = new FavChat(summaryConfig({ no_face_encoder: true }), new Rng(3));
  assert.equal(general.numVisualTokens, Q + 1);
  assert.equal(general.summary!.face, null);
  general.dispose();
  const model = new FavChat(summaryConfig(), new Rng(4));
  const x = microInputs(4);
  const vars = [...model.summary!.trainableVariables("summary.")];
  assert.equal(vars.length, 6); // general, face: weight + bias; norm: weight + bias
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(model.encodeVideo(x).tokens.slice([0, Q, 0], [2, 2, D]).mul(tf.linspace(0, 1, D)))) as tf.Scalar, vars.map(([, v]) => v));
  for (const [name, v] of vars) assert.ok(tf.max(tf.abs(grads[v.name])).dataSync()[0] > 0, `${name} has no gradient`);
  tf.dispose([value, ...Object.values(grads)]);
  disposeInputs(x);
  model.dispose();
});

test("summary parameters are MLPs in the freeze plan (trained in stages 1-3, frozen in stage encoders); save and load round-trip", async () => {
  const model = new FavChat(summaryConfig(), new Rng(5));
  const names = [...model.namedParams().keys()].filter((n) => n.startsWith("summary."));
  assert.deepEqual(names.sort(), ["summary.face.bias", "summary.face.weight", "summary.general.bias", "summary.general.weight", "summary.norm.bias", "summary.norm.weight"]);
  for (const n of names) assert.equal(partOf(n), "MLPs");
  const trainable = () => names.every((n) => model.namedParams().get(n)!.variable.trainable);
  applyFreezePlan(model, 1);
  assert.ok(trainable());
  applyFreezePlan(model, "encoders");
  assert.ok(names.every((n) => !model.namedParams().get(n)!.variable.trainable));
  const dir = join(root, "m");
  await saveFavchat(model, dir);
  const back = await loadFavchat(dir);
  assert.equal(back.config.summaryTokens, true);
  const x = microInputs(6);
  const [a, b] = [model.encodeVideo(x), back.encodeVideo(x)];
  assert.deepEqual(b.tokens.arraySync(), a.tokens.arraySync());
  tf.dispose([a.tokens, a.weights, b.tokens, b.weights]);
  disposeInputs(x);
  model.dispose();
  back.dispose();
});
