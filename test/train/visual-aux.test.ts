// Label heads on the visual tokens: the labels come from the clips, unknown labels are skipped, and the heads can
// learn them from V (the loss on a fixed batch falls when V carries the labels).
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initBackend, tf } from "../../src/core/backend.ts";
import { Rng } from "../../src/core/rng.ts";
import { synthesize } from "../../src/data/faceworld/synth.ts";
import { FavChat } from "../../src/model/favchat.ts";
import { indexClips, type ClipRef } from "../../src/train/favchat-data.ts";
import { OFF_TOPIC_WEIGHT, VisualAuxModel, answerClasses, emptyTally, headWeight, tallyMetrics, visualLabels } from "../../src/train/visual-aux.ts";
import { microConfig, microConfigJson } from "../model/favchat-helpers.ts";
import { resolveFavchatConfig } from "../../src/model/config.ts";
import { AU_NAMES } from "../../src/data/records.ts";
import { AU_PRESENT } from "../../src/data/builder/clip-facts.ts";

let clips: ClipRef[] = [];

before(async () => {
  await initBackend("wasm");
  const out = mkdtempSync(join(tmpdir(), "favchat-aux-"));
  await synthesize({ out, clips: 6, seed: 4, frames: 4, size: 64, mp4: false });
  clips = [...indexClips(join(out, "clips.jsonl")).values()];
});

test("labels: attributes, every scene key (motion included), emotion, AU occurrence", () => {
  const labels = visualLabels(clips);
  const keys = labels.heads.map((h) => `${h.source}:${h.key}`);
  assert.ok(keys.includes("attributes:hair_colour"), keys.join(","));
  assert.ok(keys.includes("scene:object_motion") || new Set(clips.map((c) => c.record.labels.scene?.object_motion)).size < 2);
  assert.ok(keys.includes("emotion:emotion") || new Set(clips.map((c) => c.record.labels.emotion)).size < 2);
  assert.ok(labels.withAus);
  for (const h of labels.heads) assert.deepEqual([...h.classes], [...h.classes].sort());
});

test("loss: falls as the heads fit labels carried by V; a clip without labels adds nothing", () => {
  const model = new FavChat(microConfig(), new Rng(0));
  const aux = new VisualAuxModel(model, visualLabels(clips), new Rng(1));
  const D = model.config.llm.hiddenSize;
  // V that carries each clip's identity: one fixed random token per clip.
  const r = new Rng(5);
  const V = tf.tensor3d(Array.from({ length: clips.length }, () => { const t = Array.from({ length: D }, () => r.uniform(-1, 1)); return [t, t, t]; }));
  const heads = [...aux.trainableVariables()].filter(([n]) => !n.startsWith("model.")).map(([, v]) => v);
  const first = tf.tidy(() => aux.loss(V, clips).dataSync()[0]);
  const opt = tf.train.adam(0.05);
  for (let s = 0; s < 200; s++) opt.minimize(() => aux.loss(V, clips), false, heads);
  const last = tf.tidy(() => aux.loss(V, clips).dataSync()[0]);
  assert.ok(last < 0.3 * first, `loss ${first} -> ${last}`);
  // A clip with no labels at all contributes nothing: the loss of [clip, bare] equals that of [clip] alone.
  const bare: ClipRef = { ...clips[0], record: { ...clips[0].record, labels: { emotion: null, attributes: {}, actions: [], identity: null } } };
  const one = tf.tidy(() => aux.loss(V.slice([0, 0, 0], [1, -1, -1]), [clips[0]]).dataSync()[0]);
  const two = tf.tidy(() => aux.loss(V.slice([0, 0, 0], [2, -1, -1]), [clips[0], bare]).dataSync()[0]);
  assert.ok(Math.abs(one - two) < 1e-5, `${one} vs ${two}`);
  V.dispose();
  opt.dispose();
  aux.dispose();
});

test("question focus: each group counts once; a row's off-topic groups are scaled by OFF_TOPIC_WEIGHT", () => {
  assert.equal(headWeight("scene", "scene"), 1);
  assert.equal(headWeight("scene", "emotion"), OFF_TOPIC_WEIGHT);
  assert.equal(headWeight("emotion", "au"), 1);
  assert.equal(headWeight("attribute", "au"), OFF_TOPIC_WEIGHT);
  assert.equal(headWeight("summary", "attribute"), 1); // not a QA category: every group
  assert.equal(headWeight(undefined, "scene"), 1);
  const model = new FavChat(microConfig(), new Rng(0));
  const labels = visualLabels(clips);
  assert.ok(labels.heads.some((h) => h.source === "emotion") && labels.withAus, "the fixture clips carry all four groups");
  const aux = new VisualAuxModel(model, labels, new Rng(1));
  const D = model.config.llm.hiddenSize;
  const r = new Rng(6);
  const V = tf.tensor3d(Array.from({ length: clips.length }, () => [Array.from({ length: D }, () => r.uniform(-1, 1))]));
  const lossFor = (category?: string) => tf.tidy(() => aux.loss(V, clips, category ? clips.map(() => category) : undefined).dataSync()[0]);
  // Unfocused: (s + a + e + u) / 4. Focused on one group g: (g + w * (the other three)) / 4, w = OFF_TOPIC_WEIGHT.
  const U = lossFor();
  const w = OFF_TOPIC_WEIGHT;
  const solo = (L: number) => ((L - w * U) * 4) / (1 - w); // the group's own term
  const s = solo(lossFor("scene"));
  const a = solo(lossFor("attribute"));
  const u = solo(lossFor("au_presence"));
  const e = 4 * U - s - a - u;
  assert.ok(s > 0 && a > 0 && u > 0 && e > 0, `terms ${s} ${a} ${u} ${e}`);
  // An emotion question is about the emotion and the AUs.
  const E = lossFor("emotion");
  assert.ok(Math.abs(E - (e + u + w * (s + a)) / 4) < 1e-5, `${E} vs ${(e + u + w * (s + a)) / 4}`);
  // visual_off_topic 1: the same heads weigh every group fully, whatever the question.
  const flat = new VisualAuxModel(model, labels, new Rng(1), 1);
  const F = tf.tidy(() => flat.loss(V, clips, clips.map(() => "scene")).dataSync()[0]);
  assert.ok(Math.abs(F - U) < 1e-5, `${F} vs unfocused ${U}`);
  assert.equal(headWeight("scene", "emotion", 1), 1);
  [...flat.heads, ...(flat.auHead ? [flat.auHead] : [])].forEach((h) => h.dispose()); // the model is aux's to dispose
  V.dispose();
  aux.dispose();
});

test("answer head: classes are the QA answers; it learns a row's answer from V; rows with an unknown answer add nothing", async () => {
  const qa = (category: string, answer: string) => ({ category, target: { answer } });
  assert.deepEqual(answerClasses([qa("au_presence", "yes"), qa("summary", "A long paragraph."), qa("emotion", "happy"), qa("au_presence", "no"), qa("au_presence", "yes")]), ["happy", "no", "yes"]);
  const model = new FavChat(microConfig(), new Rng(0));
  const labels = visualLabels(clips, { answers: ["no", "yes"] });
  const aux = new VisualAuxModel(model, labels, new Rng(1));
  assert.ok(aux.answerHead, "an answer head when there are answers");
  const plain = new VisualAuxModel(model, visualLabels(clips), new Rng(1));
  assert.equal(plain.answerHead, null);
  [...plain.heads, ...(plain.auHead ? [plain.auHead] : [])].forEach((h) => h.dispose()); // the model is aux's to dispose
  const D = model.config.llm.hiddenSize;
  // Two rows of the same clip whose V differ (as V made with two questions does), with opposite answers.
  const r = new Rng(7);
  const rows = [0, 0, 1, 1].map(() => Array.from({ length: D }, () => r.uniform(-1, 1)));
  const V = tf.tensor3d(rows.map((t) => [t]));
  const both = [clips[0], clips[0], clips[1], clips[1]];
  const answers = ["yes", "no", "no", "yes"];
  const withAnswers = () => aux.loss(V, both, undefined, answers);
  const before = tf.tidy(() => withAnswers().dataSync()[0]);
  const alone = tf.tidy(() => aux.loss(V, both).dataSync()[0]);
  // Unknown answers: the answer group has no term, so the loss is that of the label groups alone.
  const unknown = tf.tidy(() => aux.loss(V, both, undefined, ["maybe", "maybe", "maybe", "maybe"]).dataSync()[0]);
  assert.ok(Math.abs(unknown - alone) < 1e-6, `${unknown} vs ${alone}`);
  // With answers the loss is the mean over five groups, the answer's cross-entropy (about ln 2 at start) one of them.
  assert.ok(Math.abs(before - (4 * alone + Math.LN2) / 5) < 0.2, `${before} vs ${(4 * alone + Math.LN2) / 5}`);
  const head = [...aux.trainableVariables()].filter(([n]) => n.startsWith("visual_answer_head")).map(([, v]) => v);
  assert.equal(head.length, 2);
  const opt = tf.train.adam(0.05);
  for (let s = 0; s < 150; s++) opt.minimize(() => aux.loss(V, both, undefined, answers), false, head);
  const tally = emptyTally();
  await aux.score(V, both, tally, answers);
  assert.deepEqual(tally.answer, { hit: 4, n: 4 });
  assert.equal(tallyMetrics(tally).visual_answer_acc, 1);
  opt.dispose();
  V.dispose();
  aux.dispose();
});

test("AU token head: token k of V learns AU k's occurrence; a model with fewer than 16 visual tokens is a clear error", async () => {
  const micro = new FavChat(microConfig(), new Rng(0)); // 3 visual tokens
  assert.throws(() => new VisualAuxModel(micro, visualLabels(clips, { auTokens: true }), new Rng(1)), /a visual token per AU \(16\); the model makes 3/);
  micro.dispose();
  const json = microConfigJson();
  const model = new FavChat(resolveFavchatConfig({ ...json, qformer_config: { ...(json.qformer_config as object), num_queries: 16 } }, "test"), new Rng(0));
  const aux = new VisualAuxModel(model, visualLabels(clips, { auTokens: true }), new Rng(1));
  assert.ok(aux.auTokenHead);
  const D = model.config.llm.hiddenSize;
  // V whose token k is +u or -u by whether AU k occurs in the clip (plus noise): learnable by one shared direction.
  const r = new Rng(8);
  const u = Array.from({ length: D }, () => r.uniform(-1, 1));
  const V = tf.tensor3d(clips.map((c) => AU_NAMES.map((au) => {
    const on = Math.max(0, ...(c.record.labels.aus?.[au] ?? [0])) >= AU_PRESENT ? 1 : -1;
    return u.map((x) => on * x + r.uniform(-0.3, 0.3));
  })));
  const head = [...aux.trainableVariables()].filter(([n]) => n.startsWith("visual_au_token_head")).map(([, v]) => v);
  assert.equal(head.length, 2);
  const opt = tf.train.adam(0.05);
  for (let s = 0; s < 100; s++) opt.minimize(() => aux.loss(V, clips), false, head);
  const tally = emptyTally();
  await aux.score(V, clips, tally);
  assert.equal(tallyMetrics(tally).visual_au_token_f1, 1);
  opt.dispose();
  V.dispose();
  aux.dispose();
});

test("tallyMetrics reports each categorical head's accuracy beside its group's", () => {
  const tally = emptyTally();
  tally.attribute = { hit: 3, n: 4 };
  tally.heads = { hair_colour: { hit: 2, n: 2 }, glasses: { hit: 1, n: 2 }, unseen: { hit: 0, n: 0 } };
  const m = tallyMetrics(tally);
  assert.equal(m.visual_attr_acc, 0.75);
  assert.equal(m["visual_acc.hair_colour"], 1);
  assert.equal(m["visual_acc.glasses"], 0.5);
  assert.ok(!("visual_acc.unseen" in m));
});
