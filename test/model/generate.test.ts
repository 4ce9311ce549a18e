// generate(): greedy output equals PyTorch's greedy continuation, sampling is seeded, stop tokens and
// strings end it, and no tensor leaks across calls.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { initBackend, tf } from "../../src/core/backend.ts";
import { loadQwen2 } from "../../src/model/llm/load.ts";
import { generate } from "../../src/model/llm/generate.ts";
import type { Qwen2ForCausalLM } from "../../src/model/llm/qwen2.ts";

const DIR = join(import.meta.dirname, "..", "fixtures", "qwen2", "gqa");
const expected = JSON.parse(readFileSync(join(DIR, "expected.json"), "utf8")) as {
  input_ids: number[];
  greedy: { new_ids: number[] };
};
let model: Qwen2ForCausalLM;

before(async () => {
  await initBackend("wasm");
  model = await loadQwen2(DIR);
  model.freezeForInference();
});

test("greedy generation matches the PyTorch continuation", async () => {
  const n = expected.greedy.new_ids.length;
  const r = await generate(model, expected.input_ids, { maxTokens: n, stopTokens: [] });
  assert.deepEqual(r.newIds, expected.greedy.new_ids);
  assert.deepEqual(r.ids, [...expected.input_ids, ...expected.greedy.new_ids]);
  assert.equal(r.finishReason, "length");
});

test("sampling: same seed same tokens, other seed other tokens; top-k 1 is greedy", async () => {
  const opts = { maxTokens: 12, temperature: 1.5, stopTokens: [] as number[] };
  const a = await generate(model, expected.input_ids, { ...opts, seed: 1 });
  const b = await generate(model, expected.input_ids, { ...opts, seed: 1 });
  const c = await generate(model, expected.input_ids, { ...opts, seed: 2 });
  assert.deepEqual(a.newIds, b.newIds);
  assert.notDeepEqual(a.newIds, c.newIds);
  const k1 = await generate(model, expected.input_ids, { maxTokens: 8, temperature: 1, topK: 1, seed: 5, stopTokens: [] });
  assert.deepEqual(k1.newIds, expected.greedy.new_ids);
});

test("stop token, stop string and streaming callback", async () => {
  const first = expected.greedy.new_ids[2];
  const r = await generate(model, expected.input_ids, { maxTokens: 8, stopTokens: [first] });
  assert.equal(r.finishReason, "stop");
  assert.deepEqual(r.newIds, expected.greedy.new_ids.slice(0, 2));

  const decode = (ids: number[]) => ids.map((i) => `<${i}>`).join("");
  const streamed: number[] = [];
  const stopAt = `<${expected.greedy.new_ids[3]}>`;
  const s = await generate(model, expected.input_ids, { maxTokens: 8, stopTokens: [], decode, stopStrings: [stopAt], onToken: (id) => streamed.push(id) });
  assert.equal(s.finishReason, "stop");
  assert.equal(s.text, decode(expected.greedy.new_ids.slice(0, 3)));
  assert.deepEqual(streamed, expected.greedy.new_ids.slice(0, 4));
});

test("no tensors leak across generations", async () => {
  await generate(model, expected.input_ids, { maxTokens: 4 });
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) await generate(model, expected.input_ids, { maxTokens: 6, temperature: 1, seed: i, stopTokens: [] });
  assert.equal(tf.memory().numTensors, before);
});
