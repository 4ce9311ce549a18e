// AU read-out tokens (config.json "au_readout"): V gains one token per AU after its other tokens; token k is
// LayerNorm(e_k + tanh(l_k / 2) u) with l the head's logits on V pooled (checked against a computation by hand); the
// other tokens are those of the same model without the read-out; the head learns the clips' AU occurrence through
// the label heads' loss; the parameters save, load and sit in the freeze plan's "MLPs".
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
import { AU_READOUT_TOKENS } from "../../src/model/au-readout.ts";
import { synthesize } from "../../src/data/faceworld/synth.ts";
import { AU_NAMES } from "../../src/data/records.ts";
import { AU_PRESENT } from "../../src/data/builder/clip-facts.ts";
import { indexClips, type ClipRef } from "../../src/train/favchat-data.ts";
import { VisualAuxModel, emptyTally, tallyMetrics, visualLabels } from "../../src/train/visual-aux.ts";
import { disposeInputs, microConfigJson, microInputs } from "./favchat-helpers.ts";

let root = "";
before(async () => {
  await initBackend("wasm");
  root = await mkdtemp(join(tmpdir(), "favchat-au-readout-"));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const D = 16;
const readoutConfig = (extra: Record<string, unknown> = {}) => resolveFavchatConfig({ ...microConfigJson(), ...extra, au_readout: true }, "micro config");

test("config: au_readout is read, written and defaults to false; a non-boolean is a clear error", () => {
  assert.equal(resolveFavchatConfig(microConfigJson(), "micro").auReadout, false);
  const c = readoutConfig();
  assert.equal(c.auReadout, true);
  assert.equal(favchatConfigToJson(c).au_readout, true);
  assert.deepEqual(resolveFavchatConfig(favchatConfigToJson(c), "round trip"), c);
  assert.throws(() => resolveFavchatConfig({ ...microConfigJson(), au_readout: 1 }, "bad.json"), (e: Error) => e instanceof FavchatError && /bad\.json: "au_readout" must be true or false/.test(e.message));
});

test("V is the model's tokens without the read-out, then 16 AU tokens LayerNorm(e_k + tanh(l_k / 2) u), l = head(mean V)", () => {
  for (const extra of [{}, { summary_tokens: true }]) {
    const model = new FavChat(readoutConfig(extra), new Rng(1));
    const base = new FavChat(resolveFavchatConfig({ ...microConfigJson(), ...extra }, "micro"), new Rng(1)); // same streams for the shared parts
    const N = base.numVisualTokens;
    assert.equal(model.numVisualTokens, N + AU_READOUT_TOKENS);
    const x = microInputs(2);
    const out = model.forward(x);
    assert.deepEqual(out.tokens.shape, [2, N + 16, D]);
    assert.deepEqual(out.logits.shape, [2, 7 - 1 + N + 16, 32]);
    assert.deepEqual(out.auLogits!.shape, [2, 16]);
    const v = base.encodeVideo(x);
    const got = out.tokens.arraySync() as number[][][];
    const want = v.tokens.arraySync() as number[][][];
    const r = model.auReadout!;
    const W = r.head.weight.arraySync() as number[][]; // [D, 16]
    const bias = r.head.bias!.arraySync() as number[];
    const e = r.identity.arraySync() as number[][];
    const u = (r.direction.arraySync() as number[][])[0];
    const logits = out.auLogits!.arraySync() as number[][];
    for (let b = 0; b < 2; b++) {
      for (let t = 0; t < N; t++) want[b][t].forEach((w, j) => assert.ok(Math.abs(got[b][t][j] - w) < 1e-5, `row ${b} token ${t}`));
      const mean = want[b][0].map((_, j) => want[b].reduce((s, row) => s + row[j], 0) / N);
      for (let k = 0; k < 16; k++) {
        const l = bias[k] + mean.reduce((s, m, j) => s + m * W[j][k], 0);
        assert.ok(Math.abs(logits[b][k] - l) < 1e-4, `row ${b} AU ${k}: logit ${logits[b][k]} vs ${l}`);
        const y = e[k].map((ek, j) => ek + Math.tanh(l / 2) * u[j]);
        const mu = y.reduce((s, q) => s + q, 0) / D;
        const sd = Math.sqrt(y.reduce((s, q) => s + (q - mu) ** 2, 0) / D + 1e-5);
        y.forEach((q, j) => assert.ok(Math.abs(got[b][N + k][j] - (q - mu) / sd) < 1e-4, `row ${b} AU token ${k} dim ${j}`));
      }
    }
    tf.dispose([out.logits, out.tokens, out.weights, out.auLogits!, v.tokens, v.weights]);
    disposeInputs(x);
    model.dispose();
    base.dispose();
  }
});

test("the read-out head learns the clips' AU occurrence through the label heads' loss; the LM path reaches e and u", async () => {
  const out = join(root, "clips");
  await synthesize({ out, clips: 6, seed: 4, frames: 4, size: 64, mp4: false });
  const clips: ClipRef[] = [...indexClips(join(out, "clips.jsonl")).values()];
  const model = new FavChat(readoutConfig(), new Rng(2));
  const aux = new VisualAuxModel(model, visualLabels(clips), new Rng(3));
  // V that carries each clip's AUs: a fixed random token per clip (the head's input), through the model's read-out.
  const r = new Rng(5);
  const V = tf.tensor3d(clips.map(() => { const t = Array.from({ length: D }, () => r.uniform(-1, 1)); return [t, t, t]; }));
  const head = [...model.auReadout!.head.trainableVariables("head.")].map(([, v]) => v);
  const withReadout = () => {
    const { tokens, logits } = model.auReadout!.forward(V);
    tokens.dispose();
    return logits;
  };
  const opt = tf.train.adam(0.05);
  for (let s = 0; s < 150; s++) opt.minimize(() => tf.tidy(() => aux.loss(V, clips, undefined, undefined, withReadout())), false, head);
  const tally = emptyTally();
  const logits = withReadout();
  await aux.score(V, clips, tally, undefined, logits);
  const occurs = clips.flatMap((c) => AU_NAMES.map((au) => Math.max(0, ...(c.record.labels.aus?.[au] ?? [0])) >= AU_PRESENT));
  assert.ok(occurs.some((o) => o), "the fixture clips have AUs");
  assert.equal(tallyMetrics(tally).visual_au_readout_f1, 1);
  logits.dispose();
  // Gradients reach every read-out parameter from the AU tokens (what the LLM reads).
  const vars = [...model.auReadout!.trainableVariables("au_readout.")];
  assert.equal(vars.length, 6); // head weight + bias, identity, direction, norm weight + bias
  const { value, grads } = tf.variableGrads(() => tf.tidy(() => tf.sum(tf.square(model.auReadout!.forward(V).tokens.mul(tf.linspace(0, 1, D))))) as tf.Scalar, vars.map(([, v]) => v));
  for (const [name, v] of vars) assert.ok(tf.max(tf.abs(grads[v.name])).dataSync()[0] > 0, `${name} has no gradient`);
  tf.dispose([value, ...Object.values(grads), V]);
  opt.dispose();
  aux.dispose();
});

test("read-out parameters are MLPs in the freeze plan (trained from stage connector on, frozen in stage encoders); save and load round-trip", async () => {
  const model = new FavChat(readoutConfig(), new Rng(5));
  const names = [...model.namedParams().keys()].filter((n) => n.startsWith("au_readout."));
  assert.deepEqual(names.sort(), ["au_readout.direction", "au_readout.head.bias", "au_readout.head.weight", "au_readout.identity", "au_readout.norm.bias", "au_readout.norm.weight"]);
  for (const n of names) assert.equal(partOf(n), "MLPs");
  const trainable = () => names.every((n) => model.namedParams().get(n)!.variable.trainable);
  for (const stage of ["connector", 1, 2, 3] as const) {
    applyFreezePlan(model, stage);
    assert.ok(trainable(), `stage ${stage}`);
  }
  applyFreezePlan(model, "encoders");
  assert.ok(names.every((n) => !model.namedParams().get(n)!.variable.trainable));
  const dir = join(root, "m");
  await saveFavchat(model, dir);
  const back = await loadFavchat(dir);
  assert.equal(back.config.auReadout, true);
  const x = microInputs(6);
  const [a, b] = [model.encodeVideo(x), back.encodeVideo(x)];
  assert.deepEqual(b.tokens.arraySync(), a.tokens.arraySync());
  tf.dispose([a.tokens, a.weights, a.auLogits!, b.tokens, b.weights, b.auLogits!]);
  disposeInputs(x);
  model.dispose();
  back.dispose();
});
