// Attribute read-out token (config.json "attribute_readout"): V gains one token before its other tokens,
// LayerNorm(e + sum_a choice_a sum_v p_{a,v} u_{a,v}) with p from a head on the encoders' pooled features and the
// choice of the attribute the question asks about (checked against a computation by hand); the other tokens are those
// of the same model without it; the head learns the clips' attribute values and the choice the asked attribute through
// the label heads' loss, without a gradient to the features or the question; the parameters save, load and sit in "MLPs".
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
import { ATTRIBUTE_READOUT_TOKENS } from "../../src/model/attribute-readout.ts";
import { clipSummaryFeatures } from "../../src/model/summary-tokens.ts";
import { makePrompt } from "../../src/model/prompt/prompt.ts";
import { synthesize } from "../../src/data/faceworld/synth.ts";
import { ATTRIBUTE_VALUES } from "../../src/data/faceworld/identity.ts";
import { ATTR_CHECK_Q, attributeQuestions, qaContext } from "../../src/data/builder/qa.ts";
import { indexClips, type ClipRef } from "../../src/train/favchat-data.ts";
import { VisualAuxModel, emptyTally, tallyMetrics, visualLabels } from "../../src/train/visual-aux.ts";
import { attributeReadoutRows, evalItems } from "../../src/eval/run-model.ts";
import { disposeInputs, microConfigJson, microInputs } from "./favchat-helpers.ts";

let root = "";
before(async () => {
  await initBackend("wasm");
  root = await mkdtemp(join(tmpdir(), "favchat-attribute-readout-"));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const D = 16;
const SCHEMA = { glasses: ["none", "round glasses", "rectangular glasses"], hair_colour: ["black", "red"] };
const readoutConfig = (extra: Record<string, unknown> = {}, schema: unknown = SCHEMA) =>
  resolveFavchatConfig({ ...microConfigJson(), ...extra, attribute_readout: schema }, "micro config");

test("config: attribute_readout is read (true: FaceWorld's attributes), written and defaults to none; a bad schema is a clear error", () => {
  assert.equal(resolveFavchatConfig(microConfigJson(), "micro").attributeReadout, null);
  assert.equal(favchatConfigToJson(resolveFavchatConfig(microConfigJson(), "micro")).attribute_readout, false);
  assert.deepEqual(readoutConfig({}, true).attributeReadout, ATTRIBUTE_VALUES);
  const c = readoutConfig();
  assert.deepEqual(c.attributeReadout, SCHEMA);
  assert.deepEqual(favchatConfigToJson(c).attribute_readout, SCHEMA);
  assert.deepEqual(resolveFavchatConfig(favchatConfigToJson(c), "round trip"), c);
  for (const bad of [1, "yes", {}, { glasses: ["none"] }, { glasses: ["a", "a"] }, { glasses: ["a", 2] }, [["a", "b"]]]) {
    assert.throws(() => resolveFavchatConfig({ ...microConfigJson(), attribute_readout: bad }, "bad.json"), (e: Error) => e instanceof FavchatError && /bad\.json: "attribute_readout" must be true, false, or an object/.test(e.message), JSON.stringify(bad));
  }
});

test("V is LayerNorm(e + sum_a c_a sum_v p_av u_av) first, then the model's tokens without the read-out (with the AU read-out too)", () => {
  for (const extra of [{}, { summary_tokens: true, au_readout: true }]) {
    const model = new FavChat(readoutConfig(extra), new Rng(1));
    const base = new FavChat(resolveFavchatConfig({ ...microConfigJson(), ...extra }, "micro"), new Rng(1)); // same streams for the shared parts
    const N = base.numVisualTokens;
    assert.equal(ATTRIBUTE_READOUT_TOKENS, 1);
    assert.equal(model.numVisualTokens, N + 1);
    const x = microInputs(2);
    const out = model.forward(x);
    assert.deepEqual(out.tokens.shape, [2, N + 1, D]);
    assert.deepEqual(out.attributeLogits!.shape, [2, 5]);
    assert.deepEqual(out.attributeChoice!.shape, [2, 3]);
    const v = base.encodeVideo(x);
    const got = out.tokens.arraySync() as number[][][];
    const want = v.tokens.arraySync() as number[][][];
    const r = model.attributeReadout!;
    // The head reads the encoders' pooled features: recompute them, normalise, apply the head by hand.
    const feats = model.encoderFeatures(x.frames, x.faces);
    const pooled = tf.concat(clipSummaryFeatures(feats.patches, feats.blocks, 2, 2), 1).arraySync() as number[][];
    const [W, bias] = [r.head.weight.arraySync() as number[][], r.head.bias!.arraySync() as number[]];
    const [g, beta] = [r.inputNorm.weight.arraySync() as number[], r.inputNorm.bias.arraySync() as number[]];
    const choice = out.attributeChoice!.arraySync() as number[][];
    const logits = out.attributeLogits!.arraySync() as number[][];
    const e = (r.identity.arraySync() as number[][])[0];
    const u = r.values.arraySync() as number[][]; // [5, D]
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
    for (let b = 0; b < 2; b++) {
      for (let t = 0; t < N; t++) want[b][t].forEach((w, j) => assert.ok(Math.abs(got[b][t + 1][j] - w) < 1e-5, `row ${b} token ${t}`));
      const h = layerNorm(pooled[b], g, beta);
      const l = bias.map((bi, k) => bi + h.reduce((s, hj, j) => s + hj * W[j][k], 0));
      l.forEach((lk, k) => assert.ok(Math.abs(logits[b][k] - lk) < 1e-3, `row ${b} value ${k}: ${logits[b][k]} vs ${lk}`));
      const c = softmax(choice[b]); // [glasses, hair_colour, none]; questionChoice itself is checked in au-readout.test.ts
      const p = [...softmax(l.slice(0, 3)).map((pv) => pv * c[0]), ...softmax(l.slice(3, 5)).map((pv) => pv * c[1])];
      const y = e.map((ej, j) => ej + p.reduce((s, pv, k) => s + pv * u[k][j], 0));
      layerNorm(y).forEach((yj, j) => assert.ok(Math.abs(got[b][0][j] - yj) < 1e-4, `row ${b} read-out token dim ${j}`));
      // What `favchat chat --json` reports: the top choice and each attribute's likeliest value.
      const report = r.report(logits[b], choice[b]);
      const top = c.indexOf(Math.max(...c));
      assert.equal(report.asked, top < 2 ? ["glasses", "hair_colour"][top] : null);
      assert.ok(Math.abs(report.askedProbability - c[top]) < 1e-6);
      const glasses = softmax(l.slice(0, 3));
      assert.equal(report.values.glasses.value, SCHEMA.glasses[glasses.indexOf(Math.max(...glasses))]);
      assert.ok(Math.abs(report.values.glasses.probability - Math.max(...glasses)) < 1e-4);
    }
    tf.dispose([out.logits, out.tokens, out.weights, out.auLogits, out.auChoice, out.attributeLogits!, out.attributeChoice!, v.tokens, v.weights, v.auLogits, v.auChoice, feats.patches, ...feats.blocks]);
    disposeInputs(x);
    model.dispose();
    base.dispose();
  }
});

test("askedIn: every attribute question the builder writes names its attribute; other questions none", async () => {
  const out = join(root, "ask");
  await synthesize({ out, clips: 2, seed: 3, frames: 4, size: 64, mp4: false });
  const records = [...indexClips(join(out, "clips.jsonl")).values()].map((c) => c.record);
  const model = new FavChat(readoutConfig({}, true), new Rng(1));
  const r = model.attributeReadout!;
  const context = qaContext(records);
  let checks = 0;
  for (let s = 0; s < 6; s++) {
    for (const q of attributeQuestions(records[s % 2], new Rng(s), context.pools)) {
      const asked = r.askedIn(q.question);
      assert.ok(asked < r.attributes.length, q.question);
      const value = String(records[s % 2].labels.attributes[r.attributes[asked]]);
      if (q.answer === "yes" || q.answer === "no") {
        // A yes/no check (ATTR_CHECK_Q): whether there are any (glasses, facial hair) or whether the value asked is the clip's.
        const yes = /glasses|facial hair/.test(q.question) ? value !== "none" : q.question.includes(value);
        assert.equal(q.answer, yes ? "yes" : "no", `${q.question} (${value})`);
        checks++;
      } else assert.equal(value, q.answer, q.question);
    }
  }
  assert.ok(checks > 0, "some questions are yes/no checks");
  // Every check wording with every value of its attribute is read as that attribute's (what the choice learns).
  for (const [k, wordings] of Object.entries(ATTR_CHECK_Q)) {
    for (const w of wordings) for (const v of ATTRIBUTE_VALUES[k as keyof typeof ATTRIBUTE_VALUES]) assert.equal(r.attributes[r.askedIn(w.replace("{v}", v))], k, w.replace("{v}", v));
  }
  for (const q of ["What emotion does the person show in this video?", "Is AU12 active?", "How many times does the person blink?"]) assert.equal(r.askedIn(q), r.attributes.length, q);
  model.dispose();
});

test("the label heads' loss teaches the head the clips' values and the choice the asked attribute; no gradient reaches the features or the question", async () => {
  const out = join(root, "clips");
  await synthesize({ out, clips: 6, seed: 4, frames: 4, size: 64, mp4: false });
  const clips: ClipRef[] = [...indexClips(join(out, "clips.jsonl")).values()];
  const model = new FavChat(readoutConfig({}, true), new Rng(2));
  const r = model.attributeReadout!;
  const aux = new VisualAuxModel(model, visualLabels(clips), new Rng(3));
  const rng = new Rng(5);
  const vec = (n: number) => Array.from({ length: n }, () => rng.uniform(-1, 1));
  // Features that tell the clips apart (a fixed random row each), and questions of two tokens naming an attribute (a
  // fixed random embedding per attribute) or none (the last row).
  const features = tf.tensor2d(clips.map(() => vec(r.featureDim)));
  const attrEmbeds = r.attributes.map(() => vec(D));
  const filler = vec(D);
  const asked = clips.map((_, b) => (b === clips.length - 1 ? r.attributes.length : b));
  const prompt = makePrompt(tf.tensor3d(asked.map((k) => [filler, k < r.attributes.length ? attrEmbeds[k] : vec(D)])), asked.map(() => [1, 1]));
  const V = tf.zeros([clips.length, 3, D]);
  const readout = () => {
    const o = r.forward(features, prompt);
    o.tokens.dispose();
    return { logits: o.logits, choice: o.choice, asked };
  };
  const trained = [...r.trainableVariables()].filter(([n]) => /^(input_norm|head|key|previous|queries)/.test(n)).map(([, v]) => v);
  const opt = tf.train.adam(0.05);
  for (let s = 0; s < 100; s++) opt.minimize(() => tf.tidy(() => aux.loss(V, clips, undefined, undefined, { attribute: readout() })), false, trained);
  const tally = emptyTally();
  const o = readout();
  await aux.score(V, clips, tally, undefined, { attribute: o });
  const m = tallyMetrics(tally);
  assert.equal(tally.attributeReadout.n, clips.length * 12);
  assert.equal(m.visual_attr_readout_acc, 1);
  assert.equal(m.visual_attr_choice_acc, 1);
  tf.dispose([o.logits, o.choice]);
  // Gradients reach every read-out parameter from the token (what the LLM reads)...
  const vars = [...r.trainableVariables("attribute_readout.")];
  assert.equal(vars.length, 13); // input_norm, head, key, previous, norm: weight + bias; queries, identity, values
  const { value, grads } = tf.variableGrads(() => tf.tidy(() => tf.sum(tf.square(r.forward(features, prompt).tokens.mul(tf.linspace(0, 1, D))))) as tf.Scalar, vars.map(([, v]) => v));
  for (const [name, v] of vars) assert.ok(tf.max(tf.abs(grads[v.name])).dataSync()[0] > 0, `${name} has no gradient`);
  // ...but none reaches the features or the question's embeddings.
  const Fvar = tf.variable(features);
  const Evar = tf.variable(prompt.embeds);
  const toInputs = tf.variableGrads(() => tf.tidy(() => {
    const o2 = r.forward(Fvar, makePrompt(Evar, asked.map(() => [1, 1])));
    const keep = tf.add(tf.sum(Fvar.mul(0)), tf.sum(Evar.mul(0)));
    return tf.addN([tf.sum(o2.tokens), tf.sum(o2.logits), tf.sum(o2.choice), keep]);
  }) as tf.Scalar, [Fvar, Evar]);
  assert.equal(tf.max(tf.abs(toInputs.grads[Fvar.name])).dataSync()[0], 0);
  assert.equal(tf.max(tf.abs(toInputs.grads[Evar.name])).dataSync()[0], 0);
  tf.dispose([value, ...Object.values(grads), toInputs.value, ...Object.values(toInputs.grads), Fvar, Evar, V, features, prompt.embeds, prompt.mask]);
  opt.dispose();
  aux.dispose();
});

test("read-out parameters are MLPs in the freeze plan; save and load round-trip", async () => {
  const model = new FavChat(readoutConfig(), new Rng(5));
  const names = [...model.namedParams().keys()].filter((n) => n.startsWith("attribute_readout."));
  assert.equal(names.length, 13);
  for (const n of names) assert.equal(partOf(n), "MLPs");
  for (const stage of ["connector", 1, 2, 3] as const) {
    applyFreezePlan(model, stage);
    assert.ok(names.every((n) => model.namedParams().get(n)!.variable.trainable), `stage ${stage}`);
  }
  const dir = join(root, "m");
  await saveFavchat(model, dir);
  const back = await loadFavchat(dir);
  assert.deepEqual(back.config.attributeReadout, SCHEMA);
  const x = microInputs(6);
  const [a, b] = [model.encodeVideo(x), back.encodeVideo(x)];
  assert.deepEqual(b.tokens.arraySync(), a.tokens.arraySync());
  tf.dispose([a.tokens, a.weights, a.attributeLogits!, a.attributeChoice!, b.tokens, b.weights, b.attributeLogits!, b.attributeChoice!]);
  disposeInputs(x);
  model.dispose();
  back.dispose();
});

test("attributeReadoutRows: eval's share of attribute questions whose read-out choice and head value were right, hand-counted", async () => {
  const out = join(root, "rows");
  await synthesize({ out, clips: 4, seed: 6, frames: 4, size: 64, mp4: false });
  const records = [...indexClips(join(out, "clips.jsonl")).values()].map((c) => c.record);
  const items = evalItems(records, "attribute", 0);
  assert.ok(items.length >= 4 && items.every((it) => it.label));
  // Item 0: choice and value right; item 1: choice wrong, value right; item 2: both wrong; the rest: no report.
  const values = (it: (typeof items)[number], right: boolean) => ({ [it.label!]: { value: right ? it.answer : "not a value", probability: 0.9 } });
  const weights = [
    { id: items[0].id, wFace: 0.5, attributeReadout: { asked: items[0].label!, askedProbability: 0.9, values: values(items[0], true) } },
    { id: items[1].id, wFace: 0.5, attributeReadout: { asked: null, askedProbability: 0.6, values: values(items[1], true) } },
    { id: items[2].id, wFace: 0.5, attributeReadout: { asked: "not an attribute", askedProbability: 0.6, values: values(items[2], false) } },
    ...items.slice(3).map((it) => ({ id: it.id, wFace: 0.5 })),
  ];
  assert.deepEqual(attributeReadoutRows(items, weights), { "read-out choice: the asked attribute": 0.3333, "read-out head: the asked attribute's value": 0.6667 });
  assert.deepEqual(attributeReadoutRows(items, weights.map(({ id, wFace }) => ({ id, wFace }))), {});
});

test("eval task attribute-check: one seeded yes/no question per clip about an attribute that has check wordings, answered from the labels", async () => {
  const out = join(root, "checks");
  await synthesize({ out, clips: 12, seed: 8, frames: 4, size: 64, mp4: false });
  const records = [...indexClips(join(out, "clips.jsonl")).values()].map((c) => c.record);
  const items = evalItems(records, "attribute-check", 0);
  assert.equal(items.length, records.length);
  const model = new FavChat(readoutConfig({}, true), new Rng(1));
  for (const it of items) {
    assert.ok(it.label && ATTR_CHECK_Q[it.label], it.question);
    assert.deepEqual(it.options, ["yes", "no"]);
    assert.equal(model.attributeReadout!.attributes[model.attributeReadout!.askedIn(it.question)], it.label, it.question);
    const value = String(it.clip.labels.attributes[it.label!]);
    const yes = /glasses|facial hair/.test(it.question) ? value !== "none" : it.question.includes(value);
    assert.equal(it.answer, yes ? "yes" : "no", `${it.question} (${value})`);
  }
  assert.ok(new Set(items.map((it) => it.answer)).size === 2, "both answers occur");
  assert.deepEqual(evalItems(records, "attribute-check", 0), items, "seeded");
  assert.ok(evalItems(records, "attribute-check", 0, true).every((it) => it.options === undefined && !it.question.includes("Answer")), "plain: no options");
  // The read-out rows: only the choice (a yes/no answer is no value of the attribute).
  const weights = items.map((it) => ({ id: it.id, wFace: 0.5, attributeReadout: { asked: it.label!, askedProbability: 0.9, values: {} } }));
  assert.deepEqual(attributeReadoutRows(items, weights), { "read-out choice: the asked attribute": 1 });
  model.dispose();
});
