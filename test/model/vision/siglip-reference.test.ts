// The SigLIP vision tower against PyTorch: tiny random checkpoints in Hugging Face layout made by
// bench/reference/siglip_reference.py (textbook SigLIP with a real conv2d patch embedding), a whole SigLIP
// checkpoint (pooling head and text tensors reported unused) and an fp16 vision-only one. Tolerance 1e-4.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { initBackend, tf } from "../../../src/core/backend.ts";
import { loadSiglipVisionWithReport } from "../../../src/model/vision/load.ts";

const FIXTURES = join(import.meta.dirname, "..", "..", "fixtures", "siglip");

interface Expected {
  pixels_shape: number[];
  pixels: number[];
  output_shape: number[];
  output: number[];
  unused: string[];
}

before(async () => {
  await initBackend("wasm");
});

for (const variant of ["full", "vision_fp16"]) {
  test(`${variant}: patch tokens match PyTorch within 1e-4; unused tensors are exactly the head and text ones`, async () => {
    const dir = join(FIXTURES, variant);
    const expected = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8")) as Expected;
    const { tower, unused } = await loadSiglipVisionWithReport(dir);
    assert.deepEqual(unused.sort(), expected.unused);
    const out = tf.tidy(() => tower.forward(tf.tensor(expected.pixels, expected.pixels_shape, "float32")));
    assert.deepEqual(out.shape, expected.output_shape);
    const got = out.dataSync();
    out.dispose();
    let maxDiff = 0;
    expected.output.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - got[i]))));
    assert.ok(maxDiff < 1e-4, `${variant}: max |diff| ${maxDiff}`);
    tower.dispose();
  });
}

test("the full checkpoint's pooling head and text tower are reported, not loaded", async () => {
  const { tower, unused } = await loadSiglipVisionWithReport(join(FIXTURES, "full"));
  assert.ok(unused.includes("vision_model.head.probe"));
  assert.ok(unused.includes("text_model.embeddings.token_embedding.weight"));
  assert.ok(unused.includes("logit_scale"));
  assert.ok(![...tower.namedParams().keys()].some((n) => n.includes(".head.")));
  tower.dispose();
});
