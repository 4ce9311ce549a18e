// The SigLIP vision tower on its own: output dims, config resolution and refusals, save/load round trip,
// loading errors (another model kind, mismatched shapes), a finite-difference gradient check, flat tensor count.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initBackend, tf } from "../../../src/core/backend.ts";
import { FavchatError } from "../../../src/core/errors.ts";
import { Rng } from "../../../src/core/rng.ts";
import { resolveSiglipVisionConfig, SIGLIP_VISION_PRESETS } from "../../../src/model/vision/config.ts";
import { SiglipVisionTower } from "../../../src/model/vision/siglip.ts";
import { loadSiglipVision, loadSiglipVisionWithReport, saveSiglipVision } from "../../../src/model/vision/load.ts";
import { gradcheck, gradcheckVariables } from "../../helpers/gradcheck.ts";
import { trackTensorCount } from "../../helpers/tensor_count.ts";
import { randomPixels, withoutKeyBias } from "../../helpers/encoders.ts";

const FIXTURES = join(import.meta.dirname, "..", "..", "fixtures");

before(async () => {
  await initBackend("wasm");
});

test("tiny preset: [N, 112, 112, 3] -> [N, 49, 128]; parameter names are Hugging Face's", () => {
  const cfg = SIGLIP_VISION_PRESETS.tiny;
  const tower = new SiglipVisionTower(cfg, new Rng(1));
  const y = tf.tidy(() => tower.forward(randomPixels(new Rng(2), [3, 112, 112, 3])));
  assert.deepEqual(y.shape, [3, 49, 128]);
  assert.ok([...y.dataSync()].every(Number.isFinite));
  y.dispose();
  const names = [...tower.namedParams().keys()];
  assert.ok(names.includes("vision_model.embeddings.patch_embedding.weight"));
  assert.ok(names.includes("vision_model.embeddings.position_embedding.weight"));
  assert.ok(names.includes("vision_model.encoder.layers.2.self_attn.out_proj.bias"));
  assert.ok(names.includes("vision_model.encoder.layers.0.mlp.fc2.weight"));
  assert.ok(names.includes("vision_model.post_layernorm.weight"));
  assert.deepEqual(tower.stateDict().get("vision_model.embeddings.patch_embedding.weight")!.shape, [128, 3, 16, 16]);
  tower.dispose();
});

test("config: HF defaults fill missing fields; paper preset is so400m-patch14-384 (27x27 patches)", () => {
  const c = resolveSiglipVisionConfig({ model_type: "siglip_vision_model" }, "x");
  assert.equal(c.hiddenSize, 768);
  assert.equal(c.numLayers, 12);
  assert.equal(c.numPatches, 196);
  assert.equal(c.layerNormEps, 1e-6);
  const full = resolveSiglipVisionConfig({ model_type: "siglip", vision_config: { hidden_size: 64, num_attention_heads: 4 } }, "x");
  assert.equal(full.hiddenSize, 64);
  assert.equal(SIGLIP_VISION_PRESETS.paper.numPatches, 729);
  assert.equal(SIGLIP_VISION_PRESETS.paper.hiddenSize, 1152);
});

test("config refusals name the field and the value", () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ model_type: "qwen2" }, /model_type "qwen2" is not a SigLIP vision tower/],
    [{ hidden_act: "gelu" }, /hidden_act "gelu" is not supported/],
    [{ hidden_size: 100, num_attention_heads: 3 }, /hidden_size 100 is not divisible by num_attention_heads 3/],
    [{ patch_size: 0 }, /"patch_size" must be a positive integer, got 0/],
    [{ image_size: [224, 224] }, /"image_size" must be one integer/],
    [{ layer_norm_eps: -1 }, /"layer_norm_eps" must be a positive number/],
    [{ patch_size: 32, image_size: 16 }, /patch_size 32 is larger than image_size 16/],
  ];
  for (const [raw, re] of bad) assert.throws(() => resolveSiglipVisionConfig(raw, "cfg.json"), (e: Error) => e instanceof FavchatError && re.test(e.message));
});

test("forward refuses pixels of the wrong size with the expected shape in the message", () => {
  const tower = new SiglipVisionTower(resolveSiglipVisionConfig({ hidden_size: 8, intermediate_size: 16, num_hidden_layers: 1, num_attention_heads: 2, image_size: 16, patch_size: 8 }, "t"), new Rng(0));
  const x = tf.zeros([1, 32, 32, 3]);
  assert.throws(() => tower.forward(x), /expected pixels \[N, 16, 16, 3\] \(image_size 16\), got \[1, 32, 32, 3\]/);
  x.dispose();
  tower.dispose();
});

test("save then load round-trips every tensor exactly and gives the same output", async () => {
  const cfg = resolveSiglipVisionConfig(
    { hidden_size: 16, intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: 2, image_size: 20, patch_size: 6, layer_norm_eps: 1e-5 },
    "t",
  );
  const tower = new SiglipVisionTower(cfg, new Rng(3));
  const dir = mkdtempSync(join(tmpdir(), "favchat-siglip-"));
  try {
    await saveSiglipVision(tower, dir);
    const { tower: back, unused } = await loadSiglipVisionWithReport(dir);
    assert.deepEqual(unused, []);
    assert.deepEqual(back.config, cfg);
    const a = tower.stateDict();
    const b = back.stateDict();
    assert.deepEqual([...b.keys()], [...a.keys()]);
    for (const [name, t] of a) {
      assert.deepEqual(b.get(name)!.shape, t.shape, name);
      assert.deepEqual(b.get(name)!.data, t.data, name);
    }
    const x = randomPixels(new Rng(4), [2, 20, 20, 3]);
    const [ya, yb] = [tower.forward(x), back.forward(x)];
    assert.deepEqual(ya.dataSync(), yb.dataSync());
    tf.dispose([x, ya, yb]);
    back.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    tower.dispose();
  }
});

test("loading another kind of directory, a missing one, or a checkpoint that disagrees with its config is a clear error", async () => {
  await assert.rejects(loadSiglipVision(join(FIXTURES, "qwen2", "gqa")), (e: Error) => e instanceof FavchatError && /model_type "qwen2" is not a SigLIP vision tower/.test(e.message));
  await assert.rejects(loadSiglipVision(join(FIXTURES, "siglip", "nope")), (e: Error) => e instanceof FavchatError && /does not exist/.test(e.message));
  const dir = mkdtempSync(join(tmpdir(), "favchat-siglip-"));
  try {
    const tower = new SiglipVisionTower(resolveSiglipVisionConfig({ hidden_size: 8, intermediate_size: 16, num_hidden_layers: 2, num_attention_heads: 2, image_size: 16, patch_size: 8 }, "t"), new Rng(0));
    await saveSiglipVision(tower, dir);
    tower.dispose();
    const cfgPath = join(dir, "config.json");
    const raw = JSON.parse(readFileSync(cfgPath, "utf8"));
    writeFileSync(cfgPath, JSON.stringify({ ...raw, intermediate_size: 32 }));
    await assert.rejects(loadSiglipVision(dir), /tensor vision_model\.encoder\.layers\.0\.mlp\.fc1\.weight has shape \[16, 8\] but the config expects \[32, 8\]/);
    writeFileSync(cfgPath, JSON.stringify({ ...raw, num_hidden_layers: 1 }));
    await assert.rejects(loadSiglipVision(dir), /vision tensor\(s\) not used by a SigLIP tower with this config, e\.g\. vision_model\.encoder\.layers\.1\./);
    const { model_type: _drop, ...untyped } = raw;
    writeFileSync(cfgPath, JSON.stringify(untyped));
    await assert.rejects(loadSiglipVision(dir), /has no "model_type"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("finite-difference gradients through the tower (pixels and every parameter), image not a multiple of the patch", () => {
  const cfg = resolveSiglipVisionConfig({ hidden_size: 8, intermediate_size: 12, num_hidden_layers: 1, num_attention_heads: 2, image_size: 9, patch_size: 4 }, "t");
  const tower = new SiglipVisionTower(cfg, new Rng(7));
  const rng = new Rng(8);
  // Off the initial values (std 0.02 projections, unit norms, zero biases): a near-linear tower hides bugs and
  // leaves derivatives at the float32 noise floor.
  for (const p of tower.namedParams().values()) p.variable.assign(tf.tidy(() => tf.add(p.variable, tf.tensor(rng.normalArray(p.variable.size, 0.3), p.variable.shape))));
  const x = randomPixels(rng, [2, 9, 9, 3]);
  const probe = tf.tensor(Float32Array.from({ length: 64 }, () => 0.5 + rng.next()), [2, 4, 8], "float32"); // fixed weights to a scalar
  const f = (px: tf.Tensor) => tf.sum(tf.mul(tower.forward(px), probe));
  const byInput = gradcheck(f, { pixels: x }, { directions: 4 });
  assert.ok(byInput.passed, byInput.message);
  const byParams = gradcheckVariables(() => f(x), withoutKeyBias(tower.trainableVariables()), { directions: 2, maxElementwise: 16 });
  assert.ok(byParams.passed, byParams.message);
  tf.dispose([x, probe]);
  tower.dispose();
});

test("tensor count stays flat over repeated forward + backward", async () => {
  const cfg = resolveSiglipVisionConfig({ hidden_size: 16, intermediate_size: 32, num_hidden_layers: 2, num_attention_heads: 2, image_size: 16, patch_size: 4 }, "t");
  const tower = new SiglipVisionTower(cfg, new Rng(9));
  const x = randomPixels(new Rng(10), [2, 16, 16, 3]);
  const vars = [...tower.trainableVariables().values()];
  const report = await trackTensorCount(() => {
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(tower.forward(x))) as tf.Scalar, vars);
    tf.dispose([value, ...Object.values(grads)]);
    const y = tower.forward(x);
    y.dataSync();
    y.dispose();
  }, { steps: 20, warmup: 2 });
  assert.ok(report.flat, report.message);
  x.dispose();
  tower.dispose();
});
