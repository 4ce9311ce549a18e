// AU read-out token (config.json "au_readout"): V gains one token before its other tokens, LayerNorm(e + s u) with s
// from the head's logits on V pooled and the choice of the AU the question names (checked against a computation by
// hand); the other tokens are those of the same model without the read-out; the head learns the clips' AU occurrence
// and the choice the named AU through the label heads' loss; the parameters save, load and sit in "MLPs".
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
import { AU_CHOICES, AU_READOUT_TOKENS, askedAu, readoutReport } from "../../src/model/au-readout.ts";
import { makePrompt } from "../../src/model/prompt/prompt.ts";
import { synthesize } from "../../src/data/faceworld/synth.ts";
import { AU_NAMES } from "../../src/data/records.ts";
import { AU_PRESENT } from "../../src/data/builder/clip-facts.ts";
import { AU_WORDS } from "../../src/data/builder/phrasing.ts";
import { AU_INTENSITY_Q, AU_PRESENCE_Q } from "../../src/data/builder/qa.ts";
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

test("V is LayerNorm(e + s u), then the model's tokens without the read-out: s from the head on mean V and the choice over the question", () => {
  for (const extra of [{}, { summary_tokens: true }]) {
    const model = new FavChat(readoutConfig(extra), new Rng(1));
    const base = new FavChat(resolveFavchatConfig({ ...microConfigJson(), ...extra }, "micro"), new Rng(1)); // same streams for the shared parts
    const N = base.numVisualTokens;
    assert.equal(model.numVisualTokens, N + AU_READOUT_TOKENS);
    assert.equal(AU_READOUT_TOKENS, 1);
    const x = microInputs(2);
    const out = model.forward(x);
    assert.deepEqual(out.tokens.shape, [2, N + 1, D]);
    assert.deepEqual(out.logits.shape, [2, 7 - 1 + N + 1, 32]);
    assert.deepEqual(out.auLogits!.shape, [2, 16]);
    assert.deepEqual(out.auChoice!.shape, [2, AU_CHOICES]);
    const v = base.encodeVideo(x);
    const got = out.tokens.arraySync() as number[][][];
    const want = v.tokens.arraySync() as number[][][];
    const r = model.auReadout!;
    const [W, bias] = [r.head.weight.arraySync() as number[][], r.head.bias!.arraySync() as number[]]; // [D, 16], [16]
    const [Wk, bk] = [r.key.weight.arraySync() as number[][], r.key.bias!.arraySync() as number[]]; // [D, D], [D]
    const [Wp, bp] = [r.previous.weight.arraySync() as number[][], r.previous.bias!.arraySync() as number[]];
    const q = r.queries.arraySync() as number[][]; // [17, D]
    const e = (r.identity.arraySync() as number[][])[0];
    const u = (r.direction.arraySync() as number[][])[0];
    const prompt = model.llm.embed(x.promptIds).arraySync() as number[][][]; // [2, 3, D]
    const logits = out.auLogits!.arraySync() as number[][];
    const choice = out.auChoice!.arraySync() as number[][];
    const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, ai, j) => s + ai * b[j], 0);
    for (let b = 0; b < 2; b++) {
      // The read-out token comes first (V keeps ending with the summary tokens), then the other tokens unchanged.
      for (let t = 0; t < N; t++) want[b][t].forEach((w, j) => assert.ok(Math.abs(got[b][t + 1][j] - w) < 1e-5, `row ${b} token ${t}`));
      const mean = want[b][0].map((_, j) => want[b].reduce((s, row) => s + row[j], 0) / N);
      const l = bias.map((bi, k) => bi + mean.reduce((s, m, j) => s + m * W[j][k], 0));
      l.forEach((lk, k) => assert.ok(Math.abs(logits[b][k] - lk) < 1e-4, `row ${b} AU ${k}: logit ${logits[b][k]} vs ${lk}`));
      // Choice k: log-sum-exp over the question's real tokens of (key(p_t) + previous(p_t-1)) . q_k / sqrt(D), p_-1 = 0
      // (row 1's third token is padding).
      const linear = (Wm: number[][], bv: number[], p: readonly number[]) => bv.map((bj, j) => bj + p.reduce((s, pi, i) => s + pi * Wm[i][j], 0));
      const zero = new Array<number>(D).fill(0);
      const keys = prompt[b]
        .map((p, t) => linear(Wk, bk, p).map((kj, j) => kj + linear(Wp, bp, t > 0 ? prompt[b][t - 1] : zero)[j]))
        .filter((_, t) => x.promptMask[b][t] === 1);
      const c = q.map((qk) => Math.log(keys.reduce((s, key) => s + Math.exp(dot(key, qk) / Math.sqrt(D)), 0)));
      c.forEach((ck, k) => assert.ok(Math.abs(choice[b][k] - ck) < 1e-3, `row ${b} choice ${k}: ${choice[b][k]} vs ${ck}`));
      const z = c.reduce((s, ck) => s + Math.exp(ck), 0);
      const p = c.reduce((s, ck, k) => s + (Math.exp(ck) / z) * (k < 16 ? 1 / (1 + Math.exp(-l[k])) : 0.5), 0);
      // What `favchat chat --json` reports: the same p, the top choice and every AU's probability.
      const report = readoutReport(logits[b], choice[b]);
      assert.ok(Math.abs(report.active - p) < 1e-5, `row ${b}: report p ${report.active} vs ${p}`);
      const top = c.indexOf(Math.max(...c));
      assert.equal(report.asked, top < 16 ? AU_NAMES[top] : null);
      assert.ok(Math.abs(report.askedProbability - Math.exp(c[top]) / z) < 1e-4);
      AU_NAMES.forEach((au, k) => assert.ok(Math.abs(report.aus[au] - 1 / (1 + Math.exp(-l[k]))) < 1e-5, au));
      const y = e.map((ej, j) => ej + (2 * p - 1) * u[j]);
      const mu = y.reduce((s, yj) => s + yj, 0) / D;
      const sd = Math.sqrt(y.reduce((s, yj) => s + (yj - mu) ** 2, 0) / D + 1e-5);
      y.forEach((yj, j) => assert.ok(Math.abs(got[b][0][j] - (yj - mu) / sd) < 1e-4, `row ${b} read-out token dim ${j}`));
    }
    tf.dispose([out.logits, out.tokens, out.weights, out.auLogits!, out.auChoice!, v.tokens, v.weights]);
    disposeInputs(x);
    model.dispose();
    base.dispose();
  }
});

test("readoutReport: a sure choice of AU12 reports AU12 and its head probability; a sure none reports null and 0.5", () => {
  const logits = AU_NAMES.map((_, k) => k - 8); // AU12 is index 8: logit 0
  logits[8] = 2;
  const sure = (k: number) => Array.from({ length: AU_CHOICES }, (_, i) => (i === k ? 50 : 0));
  const au12 = readoutReport(logits, sure(8));
  assert.equal(au12.asked, "AU12");
  assert.ok(Math.abs(au12.active - 1 / (1 + Math.exp(-2))) < 1e-6);
  assert.ok(au12.askedProbability > 0.999);
  const none = readoutReport(logits, sure(AU_NAMES.length));
  assert.equal(none.asked, null);
  assert.ok(Math.abs(none.active - 0.5) < 1e-6);
  assert.equal(Object.keys(none.aus).length, 16);
});

test("askedAu: the AU a question names, or none (16) when it names none, several or an unknown one", () => {
  assert.equal(askedAu("Is AU12 (lip corner puller) active at any point in the clip?"), AU_NAMES.indexOf("AU12"));
  assert.equal(askedAu("Do you see AU1, the inner brow raiser?"), AU_NAMES.indexOf("AU1"));
  assert.equal(askedAu("Does AU12 come before AU4?"), AU_NAMES.length);
  assert.equal(askedAu("Is AU12 active? Answer about AU12 only."), AU_NAMES.indexOf("AU12"));
  assert.equal(askedAu("How many times does the person blink?"), AU_NAMES.length);
  assert.equal(askedAu("Is AU99 active?"), AU_NAMES.length);
  assert.equal(askedAu("Is AU120 active?"), AU_NAMES.length);
  // By the words alone, any case; words and a number of two different AUs name several.
  assert.equal(askedAu("Is the lip corner puller visible at any point in the clip?"), AU_NAMES.indexOf("AU12"));
  assert.equal(askedAu("Are the person's eyes closed? Eyes Closed, I mean."), AU_NAMES.indexOf("AU43"));
  assert.equal(askedAu("Is the upper lip raiser active?"), AU_NAMES.indexOf("AU10"));
  assert.equal(askedAu("Is AU12 (brow lowerer) active?"), AU_NAMES.length);
  assert.equal(askedAu("Which starts first: the lip tightener or the lid tightener?"), AU_NAMES.length);
});

test("every AU presence and intensity template names its AU so that askedAu finds it", () => {
  for (const templates of [AU_PRESENCE_Q, AU_INTENSITY_Q]) {
    for (const t of templates) {
      for (const au of AU_NAMES) assert.equal(askedAu(t.replace("{au}", au).replace("{w}", AU_WORDS[au])), AU_NAMES.indexOf(au), `${t} / ${au}`);
    }
  }
  // Each way of naming an AU is among the templates: number and words, number alone, words alone.
  const kinds = (ts: readonly string[]) => new Set(ts.map((t) => `${t.includes("{au}")}/${t.includes("{w}")}`));
  for (const ts of [AU_PRESENCE_Q, AU_INTENSITY_Q]) assert.deepEqual([...kinds(ts)].sort(), ["false/true", "true/false", "true/true"]);
});

test("the label heads' loss teaches the head the clips' AUs and the choice the AU each question names; gradients reach every read-out parameter, none V or the question", async () => {
  const out = join(root, "clips");
  await synthesize({ out, clips: 6, seed: 4, frames: 4, size: 64, mp4: false });
  const clips: ClipRef[] = [...indexClips(join(out, "clips.jsonl")).values()];
  const model = new FavChat(readoutConfig(), new Rng(2));
  const aux = new VisualAuxModel(model, visualLabels(clips), new Rng(3));
  const r = new Rng(5);
  const vec = () => Array.from({ length: D }, () => r.uniform(-1, 1));
  // V that carries each clip's AUs: a fixed random token per clip. Questions: two tokens, one of them names an AU
  // (a fixed random embedding per AU) or none; the rows ask AU k = row index, and the last row names none.
  const V = tf.tensor3d(clips.map(() => { const t = vec(); return [t, t, t]; }));
  const auEmbeds = AU_NAMES.map(vec);
  const filler = vec();
  const asked = clips.map((_, b) => (b === clips.length - 1 ? AU_NAMES.length : b));
  const prompt = makePrompt(tf.tensor3d(asked.map((k) => [filler, k < AU_NAMES.length ? auEmbeds[k] : vec()])), asked.map(() => [1, 1]));
  const readout = () => {
    const o = model.auReadout!.forward(V, prompt);
    o.tokens.dispose();
    return { logits: o.logits, choice: o.choice, asked };
  };
  const trained = [...model.auReadout!.trainableVariables()].filter(([n]) => !n.startsWith("identity") && !n.startsWith("direction") && !n.startsWith("norm")).map(([, v]) => v);
  const opt = tf.train.adam(0.05);
  for (let s = 0; s < 150; s++) opt.minimize(() => tf.tidy(() => aux.loss(V, clips, undefined, undefined, { au: readout() })), false, trained);
  const tally = emptyTally();
  const o = readout();
  await aux.score(V, clips, tally, undefined, { au: o });
  const occurs = clips.flatMap((c) => AU_NAMES.map((au) => Math.max(0, ...(c.record.labels.aus?.[au] ?? [0])) >= AU_PRESENT));
  assert.ok(occurs.some((x) => x), "the fixture clips have AUs");
  const m = tallyMetrics(tally);
  assert.equal(m.visual_au_readout_f1, 1);
  assert.equal(m.visual_au_choice_acc, 1);
  tf.dispose([o.logits, o.choice]);
  // Gradients reach every read-out parameter from the token (what the LLM reads).
  const vars = [...model.auReadout!.trainableVariables("au_readout.")];
  assert.equal(vars.length, 11); // head, key, previous: weight + bias; queries, identity, direction; norm: weight + bias
  const { value, grads } = tf.variableGrads(() => tf.tidy(() => tf.sum(tf.square(model.auReadout!.forward(V, prompt).tokens.mul(tf.linspace(0, 1, D))))) as tf.Scalar, vars.map(([, v]) => v));
  for (const [name, v] of vars) assert.ok(tf.max(tf.abs(grads[v.name])).dataSync()[0] > 0, `${name} has no gradient`);
  // ...but none reaches V or the question's embeddings: the read-out reads both as constants, so it can pull neither
  // V's tokens toward the AUs nor the LLM's token table (the prompt the visual path reads) toward its choice.
  const Vvar = tf.variable(V);
  const Evar = tf.variable(prompt.embeds);
  const toInputs = tf.variableGrads(() => tf.tidy(() => {
    const o = model.auReadout!.forward(Vvar, makePrompt(Evar, asked.map(() => [1, 1])));
    const keep = tf.add(tf.sum(Vvar.mul(0)), tf.sum(Evar.mul(0))); // keeps both on the tape
    return tf.addN([tf.sum(o.tokens), tf.sum(o.logits), tf.sum(o.choice), keep]);
  }) as tf.Scalar, [Vvar, Evar]);
  assert.equal(tf.max(tf.abs(toInputs.grads[Vvar.name])).dataSync()[0], 0);
  assert.equal(tf.max(tf.abs(toInputs.grads[Evar.name])).dataSync()[0], 0);
  tf.dispose([value, ...Object.values(grads), toInputs.value, ...Object.values(toInputs.grads), Vvar, Evar, V, prompt.embeds, prompt.mask]);
  opt.dispose();
  aux.dispose();
});

test("read-out parameters are MLPs in the freeze plan (trained from stage connector on, frozen in stage encoders); save and load round-trip", async () => {
  const model = new FavChat(readoutConfig(), new Rng(5));
  const names = [...model.namedParams().keys()].filter((n) => n.startsWith("au_readout."));
  assert.deepEqual(names.sort(), ["au_readout.direction", "au_readout.head.bias", "au_readout.head.weight", "au_readout.identity", "au_readout.key.bias", "au_readout.key.weight", "au_readout.norm.bias", "au_readout.norm.weight", "au_readout.previous.bias", "au_readout.previous.weight", "au_readout.queries"]);
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
  tf.dispose([a.tokens, a.weights, a.auLogits!, a.auChoice!, b.tokens, b.weights, b.auLogits!, b.auChoice!]);
  disposeInputs(x);
  model.dispose();
  back.dispose();
});
