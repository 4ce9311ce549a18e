// The Qwen2 decoder against PyTorch: logits and greedy continuations of tiny random checkpoints made by
// bench/reference/qwen2_reference.py (textbook Qwen2 in torch), one per variant. Tolerance: 1e-4 absolute.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { initBackend, tf } from "../../src/core/backend.ts";
import { loadQwen2 } from "../../src/model/llm/load.ts";
import { KVCache } from "../../src/nn/kv-cache.ts";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "qwen2");
const VARIANTS = ["gqa", "mha_tied", "bias", "fp16", "bf16", "sharded"];

interface Expected {
  input_ids: number[];
  logits: number[][];
  greedy: { new_ids: number[] };
}

before(async () => {
  await initBackend("wasm");
});

for (const variant of VARIANTS) {
  test(`${variant}: logits match PyTorch within 1e-4, cached greedy decoding matches`, async () => {
    const dir = join(FIXTURES, variant);
    const expected = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8")) as Expected;
    const model = await loadQwen2(dir);
    const ids = expected.input_ids;
    const logits = tf.tidy(() => model.forward({ ids: tf.tensor2d([ids], [1, ids.length], "int32") }));
    const got = (await logits.array()) as number[][][];
    logits.dispose();
    let maxDiff = 0;
    expected.logits.forEach((row, t) => row.forEach((v, j) => (maxDiff = Math.max(maxDiff, Math.abs(v - got[0][t][j])))));
    assert.ok(maxDiff < 1e-4, `${variant}: max |logit diff| ${maxDiff}`);

    // Greedy continuation through the KV cache, one token per step.
    model.freezeForInference();
    const cache = new KVCache(model.config.numLayers);
    const out: number[] = [];
    let step = ids;
    for (let i = 0; i < expected.greedy.new_ids.length; i++) {
      const next = tf.tidy(() => model.forward({ ids: tf.tensor2d([step], [1, step.length], "int32"), cache, lastOnly: true }).argMax(-1));
      const id = (await next.data())[0];
      next.dispose();
      out.push(id);
      step = [id];
    }
    cache.dispose();
    assert.deepEqual(out, expected.greedy.new_ids);
    model.dispose();
  });
}

test("rope_scaling yarn is refused with a clear error", async () => {
  await assert.rejects(loadQwen2(join(FIXTURES, "rope_yarn")), /rope_scaling type "yarn" is not implemented/);
});
