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
import { OFF_TOPIC_WEIGHT, VisualAuxModel, headWeight, visualLabels } from "../../src/train/visual-aux.ts";
import { microConfig } from "../model/favchat-helpers.ts";

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
