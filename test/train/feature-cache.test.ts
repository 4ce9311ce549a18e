// The encoders' feature cache (src/train/feature-cache.ts): what it returns is what the encoders give for the clip's
// crops, a second opener (another thread, a later stage) reads instead of computing, a slot whose write was cut short
// is computed again, the key follows the encoders' weights and nothing else of the model, and the model's forward pass
// from cached features equals the one from pixels.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, openSync, closeSync, writeSync, writeFileSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initBackend, tf } from "../../src/core/backend.ts";
import { FavchatError } from "../../src/core/errors.ts";
import { Rng } from "../../src/core/rng.ts";
import { synthesize } from "../../src/data/faceworld/synth.ts";
import { readRawClip } from "../../src/data/frames.ts";
import { pixelsFromRaw } from "../../src/data/clip-pixels.ts";
import { pixelTensors } from "../../src/data/collate.ts";
import { FavChat } from "../../src/model/favchat.ts";
import { indexClips, type ClipRef } from "../../src/train/favchat-data.ts";
import { FeatureCache, featureCacheKey, otherCaches } from "../../src/train/feature-cache.ts";
import { microConfig, VIDEO_ID } from "../model/favchat-helpers.ts";

const F = 2;
let clips: ClipRef[] = [];
let work = "";

before(async () => {
  await initBackend("wasm");
  work = mkdtempSync(join(tmpdir(), "favchat-fcache-"));
  await synthesize({ out: join(work, "fw"), clips: 4, seed: 3, frames: 4, size: 64, mp4: false });
  clips = [...indexClips(join(work, "fw", "clips.jsonl")).values()];
});

/** The encoders' outputs for one clip's un-jittered crops, flattened per part. */
function direct(model: FavChat, clip: ClipRef): Float32Array[] {
  const c = model.config;
  const { frames, faces } = pixelTensors(pixelsFromRaw(readRawClip(clip.raw!), clip.record.labels.faceBoxes, { frames: F, frameSize: c.vision.imageSize, faceSize: c.face.imageSize }));
  const f = model.encoderFeatures(frames, faces);
  const out = [f.patches, ...f.blocks].map((t) => t.dataSync() as Float32Array);
  tf.dispose([frames, faces, f.patches, ...f.blocks]);
  return out;
}

function values(f: { patches: tf.Tensor; blocks: tf.Tensor[] }): Float32Array[] {
  const out = [f.patches, ...f.blocks].map((t) => t.dataSync() as Float32Array);
  tf.dispose([f.patches, ...f.blocks]);
  return out;
}

test("variant 0 is the encoders' output for the clip's crops; a second opener reads it without computing", () => {
  const model = new FavChat(microConfig(), new Rng(0));
  const ref = { dir: join(work, "cache-a"), key: featureCacheKey(model, clips, F, 2), variants: 2 };
  const a = FeatureCache.open(ref, model, clips, F);
  const got = values(a.features([clips[0], clips[1]], [0, 0]));
  assert.equal(a.misses, 2);
  const want = [direct(model, clips[0]), direct(model, clips[1])];
  got.forEach((part, k) => {
    const n = want[0][k].length;
    assert.deepEqual([...part.subarray(0, n)], [...want[0][k]], `part ${k}, clip 0`);
    assert.deepEqual([...part.subarray(n)], [...want[1][k]], `part ${k}, clip 1`);
  });
  const b = FeatureCache.open(ref, model, clips, F);
  const again = values(b.features([clips[1], clips[0]], [0, 0]));
  assert.equal(b.misses, 0);
  assert.equal(b.hits, 2);
  const n0 = want[0][0].length;
  assert.deepEqual([...again[0].subarray(0, n0)], [...want[1][0]], "rows come back in the order asked");
  // Variant 1 moves the face crop (seeded by the clip): other facial features, the same frames' patches, reproducible.
  const v1 = values(a.features([clips[0]], [1]));
  const v1b = values(b.features([clips[0]], [1]));
  assert.deepEqual([...v1[0]], [...want[0][0]], "the general encoder sees the whole frame either way");
  assert.notDeepEqual([...v1[1]], [...want[0][1]]);
  assert.equal(b.hits, 3, "the second opener reads the variant the first computed");
  assert.deepEqual(v1b.map((p) => [...p]), v1.map((p) => [...p]));
  a.close();
  b.close();
});

test("a slot whose completion byte was never written is computed again", () => {
  const model = new FavChat(microConfig(), new Rng(1));
  const ref = { dir: join(work, "cache-b"), key: featureCacheKey(model, clips, F, 1), variants: 1 };
  const a = FeatureCache.open(ref, model, clips, F);
  const first = values(a.features([clips[2]], [0]));
  a.close();
  // A kill between the data write and the byte: garbage data, byte cleared.
  const slot = clips.map((c) => c.id).sort().indexOf(clips[2].id);
  const filled = openSync(join(ref.dir, ref.key, "filled.u8"), "r+");
  writeSync(filled, Uint8Array.of(0), 0, 1, slot);
  closeSync(filled);
  const data = openSync(join(ref.dir, ref.key, "features.f32"), "r+");
  const perSlot = first.reduce((s, p) => s + p.length, 0) * 4;
  writeSync(data, new Uint8Array(perSlot).fill(7), 0, perSlot, slot * perSlot);
  closeSync(data);
  const b = FeatureCache.open(ref, model, clips, F);
  const again = values(b.features([clips[2]], [0]));
  assert.equal(b.misses, 1);
  assert.deepEqual(again.map((p) => [...p]), first.map((p) => [...p]));
  b.close();
});

test("the key follows the encoders' weights and the frames, not the rest of the model", () => {
  const model = new FavChat(microConfig(), new Rng(2));
  const key = featureCacheKey(model, clips, F, 1);
  assert.equal(featureCacheKey(model, clips, F, 1), key);
  const llmParam = [...model.namedParams()].find(([n]) => n.startsWith("llm."))![1].variable;
  llmParam.assign(tf.add(llmParam, 1));
  assert.equal(featureCacheKey(model, clips, F, 1), key, "the LLM is not read by the encoders");
  assert.notEqual(featureCacheKey(model, clips, F + 1, 1), key);
  // The same data through a symlinked directory (scripts/ablate.sh links the full run's data) has the same key.
  symlinkSync(join(work, "fw"), join(work, "fw-link"));
  const linked = [...indexClips(join(work, "fw-link", "clips.jsonl")).values()];
  assert.notEqual(linked[0].raw, clips[0].raw);
  assert.equal(featureCacheKey(model, linked, F, 1), key);
  assert.notEqual(featureCacheKey(model, clips, F, 2), key);
  const faceParam = [...model.namedParams()].find(([n]) => n.startsWith("face_encoder."))![1].variable;
  faceParam.assign(tf.add(faceParam, 1e-3));
  assert.notEqual(featureCacheKey(model, clips, F, 1), key);
  model.dispose();
});

test("a cache made for other clips is refused with what to do; a clip outside it is named", () => {
  const model = new FavChat(microConfig(), new Rng(3));
  const ref = { dir: join(work, "cache-c"), key: "k1", variants: 1 };
  FeatureCache.open(ref, model, clips, F).close();
  const metaPath = join(ref.dir, "k1", "meta.json");
  const meta = JSON.parse(readFileSync(metaPath, "utf8")) as { clips: string[] };
  writeFileSync(metaPath, JSON.stringify({ ...meta, clips: meta.clips.slice(1) }));
  assert.throws(() => FeatureCache.open(ref, model, clips, F), (e: Error) => e instanceof FavchatError && /made for other clips or shapes; delete that directory/.test(e.message));
  const few = FeatureCache.open({ ...ref, key: "k2" }, model, clips.slice(1), F);
  assert.throws(() => few.features([clips[0]], [0]), /clip .* is not one of its clips/);
  few.close();
});

test("otherCaches lists the caches beside a key with the disk their written slots take", () => {
  const model = new FavChat(microConfig(), new Rng(3));
  const ref = { dir: join(work, "cache-o"), key: "a", variants: 1 };
  assert.deepEqual(otherCaches(join(work, "nowhere"), "a"), []);
  FeatureCache.open(ref, model, clips, F).close();
  const b = FeatureCache.open({ ...ref, key: "b" }, model, clips, F);
  values(b.features([clips[0], clips[1]], [0, 0]));
  b.close();
  assert.deepEqual(otherCaches(ref.dir, "b").map((c) => c.path), [join(ref.dir, "a")]);
  const [other] = otherCaches(ref.dir, "a");
  const [empty] = otherCaches(ref.dir, "b");
  assert.equal(other.path, join(ref.dir, "b"));
  assert.ok(other.bytes > empty.bytes, `two written slots take disk (${other.bytes} B) that an empty cache does not (${empty.bytes} B)`);
});

test("the model's forward pass from cached features equals the one from pixels", () => {
  const model = new FavChat(microConfig(), new Rng(4));
  const cache = FeatureCache.open({ dir: join(work, "cache-d"), key: featureCacheKey(model, clips, F, 1), variants: 1 }, model, clips, F);
  const c = model.config;
  const px = [clips[0], clips[3]].map((clip) => pixelsFromRaw(readRawClip(clip.raw!), clip.record.labels.faceBoxes, { frames: F, frameSize: c.vision.imageSize, faceSize: c.face.imageSize }));
  const one = px.map(pixelTensors);
  const frames = tf.concat(one.map((p) => p.frames));
  const faces = tf.concat(one.map((p) => p.faces));
  const text = { ids: tf.tensor2d([[1, VIDEO_ID, 4, 5], [VIDEO_ID, 8, 9, 0]], [2, 4], "int32"), attentionMask: [[1, 1, 1, 1], [1, 1, 1, 0]] };
  const prompt = { promptIds: tf.tensor2d([[4, 5], [8, 9]], [2, 2], "int32"), promptMask: [[1, 1], [1, 1]] };
  const features = cache.features([clips[0], clips[3]], [0, 0]);
  const fromPixels = model.forward({ ...text, ...prompt, frames, faces });
  const fromCache = model.forward({ ...text, ...prompt, features });
  const a = fromPixels.logits.dataSync();
  const b = fromCache.logits.dataSync();
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  assert.ok(worst < 1e-5, `max |logit difference| ${worst}`);
  assert.throws(() => model.forward({ ...text, ...prompt, features: { patches: features.patches, blocks: [] } }), /encoder features .* do not fit 2 prompts/);
  tf.dispose([frames, faces, text.ids, prompt.promptIds, features.patches, ...features.blocks, fromPixels.logits, fromPixels.tokens, fromPixels.weights, fromCache.logits, fromCache.tokens, fromCache.weights, ...one.flatMap((p) => [p.frames, p.faces])]);
  cache.close();
});
