// The facial encoder: exact block-output dims for the presets' shapes, config validation, save/load round trip,
// loading errors, a finite-difference gradient check through every stage, and a flat tensor count.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initBackend, tf } from "../../../src/core/backend.ts";
import { FavchatError } from "../../../src/core/errors.ts";
import { Rng } from "../../../src/core/rng.ts";
import { FACE_ENCODER_PRESETS, faceEncoderConfigToJson, resolveFaceEncoderConfig } from "../../../src/model/face/config.ts";
import { FaceConvEmbed, FaceEncoder, windowedBlock } from "../../../src/model/face/encoder.ts";
import { TransformerBlock } from "../../../src/nn/block.ts";
import { loadFaceEncoder, saveFaceEncoder } from "../../../src/model/face/load.ts";
import { gradcheck, gradcheckVariables } from "../../helpers/gradcheck.ts";
import { trackTensorCount } from "../../helpers/tensor_count.ts";
import { randomPixels, withoutKeyBias } from "../../helpers/encoders.ts";

const FIXTURES = join(import.meta.dirname, "..", "..", "fixtures");

before(async () => {
  await initBackend("wasm");
});

/** A 4-stage pyramid small enough for finite differences: 16 px, 2 px patches, grids 8 -> 4 -> 2 -> 1. */
const MICRO = { imageSize: 16, patchSize: 2, widths: [4, 8, 8, 16], depths: [1, 2, 1, 1], numHeads: [1, 2, 2, 2], mlpRatio: 2 };

test("tiny preset: 112 px crops -> [N, 256, 32], [N, 64, 64], [N, 16, 128], [N, 4, 256]", () => {
  const cfg = FACE_ENCODER_PRESETS.tiny;
  const enc = new FaceEncoder(cfg, new Rng(1));
  assert.deepEqual(enc.blockDims, [32, 64, 128, 256]);
  assert.deepEqual(enc.blockTokens, [256, 64, 16, 4]);
  const outs = tf.tidy(() => enc.forward(randomPixels(new Rng(2), [2, 112, 112, 3])));
  assert.deepEqual(outs.map((t) => t.shape), [[2, 256, 32], [2, 64, 64], [2, 16, 128], [2, 4, 256]]);
  for (const t of outs) assert.ok([...t.dataSync()].every(Number.isFinite));
  tf.dispose(outs);
  const names = [...enc.namedParams().keys()];
  for (const n of ["stages.0.embed.proj.weight", "stages.0.embed.pos_embed", "stages.1.embed.reduction.weight", "stages.3.blocks.0.self_attn.q_proj.weight", "stages.3.norm.bias"]) {
    assert.ok(names.includes(n), n);
  }
  enc.dispose();
});

test("several blocks per stage give one output each, in order; presets resolve", () => {
  const enc = new FaceEncoder(resolveFaceEncoderConfig(MICRO), new Rng(3));
  assert.deepEqual(enc.blockDims, [4, 8, 8, 8, 16]);
  const outs = tf.tidy(() => enc.forward(randomPixels(new Rng(4), [2, 16, 16, 3])));
  assert.deepEqual(outs.map((t) => t.shape), [[2, 64, 4], [2, 16, 8], [2, 16, 8], [2, 4, 8], [2, 1, 16]]);
  tf.dispose(outs);
  enc.dispose();
  assert.deepEqual(FACE_ENCODER_PRESETS.small.blockDims, [64, 128, 256, 256, 512]);
  assert.deepEqual(FACE_ENCODER_PRESETS.paper.grids, [56, 28, 14, 7]);
  assert.equal(FACE_ENCODER_PRESETS.paper.blockDims.length, 24);
});

test("config validation names the field, the value and a fix", () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ patchSize: 8 }, /imageSize 112 is not divisible by the total downsampling 64 \(patchSize 8 x 2\^3 merges\); use imageSize 128/],
    [{ widths: [32, 64], depths: [1, 1, 1, 1] }, /one entry per stage; got 2, 4 and 4/],
    [{ widths: [30, 64, 128, 256], numHeads: [4, 2, 4, 8] }, /stage 1: width 30 is not divisible by its 4 heads/],
    [{ depths: [1, 0, 1, 1] }, /"depths\[1\]" must be a positive integer, got 0/],
    [{ mlpRatio: 0 }, /"mlpRatio" must be a positive number/],
    [{ widths: [] }, /"widths" must be a non-empty list/],
    [{ imagesize: 112 }, /unknown field "imagesize"/],
    [{ windowSizes: [6, 0, 0, 0] }, /stage 1: windowSizes\[0\] 6 does not divide its 16x16 token grid/],
    [{ windowSizes: [8, 0] }, /"windowSizes" needs one entry per stage \(4\), got 2/],
    [{ stem: "conv" }, /stem "conv" halves the crop log2\(patchSize\) times, so patchSize must be a power of 2 \(2, 4, 8, \.\.\.\); got 7/],
    [{ stem: "convnext" }, /"stem" must be "patch" or "conv", got "convnext"/],
  ];
  for (const [partial, re] of bad) {
    assert.throws(() => resolveFaceEncoderConfig(partial as never, "cfg"), (e: Error) => e instanceof FavchatError && re.test(e.message), JSON.stringify(partial));
  }
  const c = FACE_ENCODER_PRESETS.small;
  assert.deepEqual(resolveFaceEncoderConfig(faceEncoderConfigToJson(c)), c);
});

test("window attention equals the block run on each window separately; windows do not see each other", () => {
  const block = new TransformerBlock({ dim: 8, numHeads: 2, mlpDim: 16 }, new Rng(11));
  const rng = new Rng(12);
  const x = tf.tensor(rng.normalArray(2 * 16 * 8), [2, 16, 8]); // a 4x4 grid, 2x2 windows
  const got = windowedBlock(block, x, 4, 2);
  const grid = x.reshape([2, 4, 4, 8]);
  for (const [r, c] of [[0, 0], [0, 2], [2, 0], [2, 2]]) {
    const win = tf.slice(grid, [0, r, c, 0], [2, 2, 2, 8]); // [2, 2, 2, 8]
    const want = block.forward(win.reshape([2, 4, 8])).reshape([2, 2, 2, 8]);
    const have = tf.slice(got.reshape([2, 4, 4, 8]), [0, r, c, 0], [2, 2, 2, 8]);
    const diff = tf.max(tf.abs(tf.sub(want, have))).dataSync()[0];
    assert.ok(diff < 1e-5, `window at (${r}, ${c}): max diff ${diff}`);
    tf.dispose([win, want, have]);
  }
  tf.dispose([x, got, grid]);
  block.dispose();
  // Defaults: 8x8 windows on the tiny and small presets' 16x16 stage 1; global where the grid is 8 or less.
  assert.deepEqual(FACE_ENCODER_PRESETS.tiny.windowSizes, [8, 0, 0, 0]);
  assert.deepEqual(resolveFaceEncoderConfig(MICRO).windowSizes, [0, 0, 0, 0]);
});

test("forward refuses crops of the wrong size", () => {
  const enc = new FaceEncoder(resolveFaceEncoderConfig(MICRO), new Rng(0));
  const x = tf.zeros([1, 32, 32, 3]);
  assert.throws(() => enc.forward(x), /expected face crops \[N, 16, 16, 3\] \(imageSize 16\), got \[1, 32, 32, 3\]/);
  x.dispose();
  enc.dispose();
});

test("save then load round-trips every tensor exactly and gives the same outputs; other kinds are refused", async () => {
  const enc = new FaceEncoder(resolveFaceEncoderConfig(MICRO), new Rng(5));
  const dir = mkdtempSync(join(tmpdir(), "favchat-face-"));
  try {
    await saveFaceEncoder(enc, dir);
    const back = await loadFaceEncoder(dir);
    assert.deepEqual(back.config, enc.config);
    const a = enc.stateDict();
    const b = back.stateDict();
    assert.deepEqual([...b.keys()], [...a.keys()]);
    for (const [name, t] of a) assert.deepEqual(b.get(name), t, name);
    const x = randomPixels(new Rng(6), [2, 16, 16, 3]);
    const [ya, yb] = [enc.forward(x), back.forward(x)];
    ya.forEach((t, i) => assert.deepEqual(t.dataSync(), yb[i].dataSync()));
    tf.dispose([x, ...ya, ...yb]);
    back.dispose();

    const cfgPath = join(dir, "config.json");
    const raw = JSON.parse(readFileSync(cfgPath, "utf8"));
    writeFileSync(cfgPath, JSON.stringify({ ...raw, widths: [4, 8, 8, 32], numHeads: [1, 2, 2, 2] }));
    await assert.rejects(loadFaceEncoder(dir), /tensor stages\.3\.embed\.reduction\.weight has shape \[16, 32\] but the config expects \[32, 32\]/);
    writeFileSync(cfgPath, JSON.stringify({ ...raw, depths: [1, 1, 1, 1] }));
    await assert.rejects(loadFaceEncoder(dir), /tensor\(s\) not used by a face encoder with this config, e\.g\. stages\.1\.blocks\.1\./);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    enc.dispose();
  }
  await assert.rejects(loadFaceEncoder(join(FIXTURES, "qwen2", "gqa")), (e: Error) => e instanceof FavchatError && /model_type "qwen2" is not a favchat face encoder/.test(e.message));
  await assert.rejects(loadFaceEncoder(join(FIXTURES, "siglip", "full")), /model_type "siglip" is not a favchat face encoder/);
});

test("finite-difference gradients through all four stages, stage 1 windowed (crops and every parameter)", () => {
  const enc = new FaceEncoder(resolveFaceEncoderConfig({ ...MICRO, depths: [1, 1, 1, 1], windowSizes: [4, 0, 0, 0] }), new Rng(7));
  const rng = new Rng(8);
  // Off the initial values (std 0.02 projections, unit norms, zero biases), which hide bugs.
  for (const p of enc.namedParams().values()) p.variable.assign(tf.tidy(() => tf.add(p.variable, tf.tensor(rng.normalArray(p.variable.size, 0.3), p.variable.shape))));
  const x = randomPixels(rng, [1, 16, 16, 3]);
  // Positive weights per output element, so the scalar's size reflects its terms (no cancellation noise).
  const weights = enc.blockTokens.map((p, i) => tf.tensor(Float32Array.from({ length: p * enc.blockDims[i] }, () => 0.5 + rng.next()), [1, p, enc.blockDims[i]]));
  const f = (px: tf.Tensor) => tf.addN(enc.forward(px).map((y, i) => tf.sum(tf.mul(y, weights[i]))));
  const byInput = gradcheck(f, { crops: x }, { directions: 4 });
  assert.ok(byInput.passed, byInput.message);
  const byParams = gradcheckVariables(() => f(x), withoutKeyBias(enc.trainableVariables()), { directions: 2, maxElementwise: 0 });
  assert.ok(byParams.passed, byParams.message);
  tf.dispose([x, ...weights]);
  enc.dispose();
});

test("conv stem: parameter names, shapes as the patch stem's, a full-resolution first layer (the convolution itself: test/nn/conv.test.ts)", () => {
  const rng = new Rng(11);
  const enc = new FaceEncoder(resolveFaceEncoderConfig({ ...MICRO, imageSize: 32, patchSize: 4, stem: "conv" }), new Rng(12));
  assert.ok(enc.stages[0].embed instanceof FaceConvEmbed);
  const stemParams = [...enc.namedParams().keys()].filter((k) => k.startsWith("stages.0.embed.")).sort();
  const expected = ["pos_embed", ...[0, 1].flatMap((j) => [`convs.${j}.weight`, `convs.${j}.bias`, `norms.${j}.weight`, `norms.${j}.bias`])];
  assert.deepEqual(stemParams, expected.map((k) => `stages.0.embed.${k}`).sort()); // 32 px / 4 px patches: two stride-2 convs
  const px = randomPixels(rng, [2, 32, 32, 3]);
  const outs = enc.forward(px);
  assert.deepEqual(outs.map((o) => o.shape), [[2, 64, 4], [2, 16, 8], [2, 16, 8], [2, 4, 8], [2, 1, 16]]);
  tf.dispose([px, ...outs]);
  enc.dispose();
  // stemFullResolution: a stride-1 conv first, then the same stride-2 ones.
  const full = new FaceEncoder(resolveFaceEncoderConfig({ ...MICRO, imageSize: 32, patchSize: 4, stem: "conv", stemFullResolution: true }), new Rng(12));
  assert.deepEqual((full.stages[0].embed as FaceConvEmbed).strides, [1, 2, 2]);
  assert.deepEqual((full.stages[0].embed as FaceConvEmbed).convs.map((c) => c.weight.shape), [[27, 16], [144, 16], [144, 4]]);
  const fullOuts = full.forward(randomPixels(rng, [2, 32, 32, 3]));
  assert.deepEqual(fullOuts[0].shape, [2, 64, 4]);
  tf.dispose(fullOuts);
  full.dispose();
  assert.throws(() => resolveFaceEncoderConfig({ stemFullResolution: true }), /"stemFullResolution" is a layer of the conv stem; set "stem": "conv" with it/);
});

test("motion: each crop enters with its difference from the clip's first crop; forwardClips makes the reference", () => {
  const enc = new FaceEncoder(resolveFaceEncoderConfig({ ...MICRO, imageSize: 32, patchSize: 4, stem: "conv", motion: true }), new Rng(15));
  assert.deepEqual((enc.stages[0].embed as FaceConvEmbed).convs[0].weight.shape, [54, 16]); // 3x3 x (3 + 3) channels
  const rng = new Rng(16);
  const clips = randomPixels(rng, [2, 3, 32, 32, 3]); // [B, F, h, w, C]
  const viaClips = enc.forwardClips(clips);
  // By hand: clip b's frame 0 is the reference of its frames 0..2.
  const flat = clips.reshape([6, 32, 32, 3]);
  const ref = tf.concat([0, 0, 0, 1, 1, 1].map((b) => tf.slice(clips, [b, 0, 0, 0, 0], [1, 1, 32, 32, 3]).reshape([1, 32, 32, 3])), 0);
  const byHand = enc.forward(flat, ref);
  viaClips.forEach((y, i) => assert.ok(tf.max(tf.abs(tf.sub(y, byHand[i]))).dataSync()[0] < 1e-6, `block ${i}`));
  // The reference matters: the same crops against themselves (no motion) give other tokens.
  const still = enc.forward(flat, flat);
  assert.ok(tf.max(tf.abs(tf.sub(still[0], byHand[0]))).dataSync()[0] > 1e-3);
  assert.throws(() => enc.forward(flat), /reads motion \(face_config.motion\); pass each crop's clip's first crop \[6, 32, 32, 3\] as the reference/);
  assert.throws(() => enc.forwardClips(flat), /expected clips of face crops \[B, F, h, w, C\], got \[6, 32, 32, 3\]/);
  tf.dispose([clips, flat, ref, ...viaClips, ...byHand, ...still]);
  enc.dispose();
});

// The crops' own gradient through the stem is small next to f (two LayerNorms), so float32 noise swamps finite
// differences there; the test above checks it against conv2d's gradient instead. The attention keys' gradients of
// the blocks after a conv stem are small too (3 of 130 probes at 1.5-2%, the same with the patch stem at 32 px);
// the blocks have their own check above.
test("finite-difference gradients of a 2-layer conv stem's parameters through a 3-stage encoder", () => {
  const enc = new FaceEncoder(resolveFaceEncoderConfig({ imageSize: 16, patchSize: 4, stem: "conv", widths: [4, 8, 16], depths: [1, 1, 1], numHeads: [1, 2, 2], mlpRatio: 2 }), new Rng(13));
  const rng = new Rng(14);
  for (const p of enc.namedParams().values()) p.variable.assign(tf.tidy(() => tf.add(p.variable, tf.tensor(rng.normalArray(p.variable.size, 0.1), p.variable.shape))));
  const x = randomPixels(rng, [1, 16, 16, 3]);
  const weights = enc.blockTokens.map((p, i) => tf.tensor(Float32Array.from({ length: p * enc.blockDims[i] }, () => 0.5 + rng.next()), [1, p, enc.blockDims[i]]));
  const f = (px: tf.Tensor) => tf.addN(enc.forward(px).map((y, i) => tf.sum(tf.mul(y, weights[i]))));
  // The blocks after the stem are checked above; here the stem's own parameters, through everything after them.
  const stem = new Map([...enc.trainableVariables()].filter(([n]) => n.startsWith("stages.0.embed.")));
  const byParams = gradcheckVariables(() => f(x), stem, { directions: 4, maxElementwise: 0 });
  assert.ok(byParams.passed, byParams.message);
  tf.dispose([x, ...weights]);
  enc.dispose();
});

test("tensor count stays flat over repeated forward + backward", async () => {
  const enc = new FaceEncoder(resolveFaceEncoderConfig({ ...MICRO, windowSizes: [4, 2, 0, 0] }), new Rng(9));
  const x = randomPixels(new Rng(10), [2, 16, 16, 3]);
  const vars = [...enc.trainableVariables().values()];
  const report = await trackTensorCount(() => {
    const { value, grads } = tf.variableGrads(() => tf.addN(enc.forward(x).map((y) => tf.sum(tf.square(y)))) as tf.Scalar, vars);
    tf.dispose([value, ...Object.values(grads)]);
    tf.tidy(() => enc.forward(x).forEach((y) => y.dataSync()));
  }, { steps: 10, warmup: 2 });
  assert.ok(report.flat, report.message);
  x.dispose();
  enc.dispose();
});
