// Training the Qwen2 decoder end to end: the loss falls on a memorisable batch, and the live tensor
// count stays flat over 100 steps (forward, backward, clipping, AdamW).
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { initBackend, tf } from "../../src/core/backend.ts";
import { Rng } from "../../src/core/rng.ts";
import { Qwen2ForCausalLM } from "../../src/model/llm/qwen2.ts";
import { resolveQwen2Config } from "../../src/model/llm/config.ts";
import { AdamW } from "../../src/train/optimizer.ts";
import { lmTrainStep } from "../../src/train/lm-step.ts";

before(async () => {
  await initBackend("wasm");
});

test("100 training steps: loss falls, tensor count flat", () => {
  const config = resolveQwen2Config(
    { vocab_size: 40, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, tie_word_embeddings: true },
    "test",
  );
  const model = new Qwen2ForCausalLM(config, new Rng(1));
  const opt = new AdamW(model.trainableVariables(), { lr: 3e-3 });
  const rng = new Rng(2);
  const seq = Array.from({ length: 2 }, () => Array.from({ length: 13 }, () => rng.int(40)));
  const ids = tf.tensor2d(seq.map((r) => r.slice(0, 12)), [2, 12], "int32");
  const targets = tf.tensor2d(seq.map((r) => r.slice(1)), [2, 12], "int32");
  const mask = tf.tensor2d(seq.map(() => Array.from({ length: 12 }, (_, t) => (t >= 4 ? 1 : 0))), [2, 12], "float32");
  const losses: number[] = [];
  let count = -1;
  for (let step = 0; step < 100; step++) {
    const r = lmTrainStep(model, opt, { ids, targets, mask }, 3e-3);
    assert.ok(r.applied);
    losses.push(r.loss);
    if (step === 1) count = tf.memory().numTensors;
    if (step > 1) assert.equal(tf.memory().numTensors, count, `tensor count grew at step ${step}`);
  }
  assert.ok(losses[0] > 3, `initial loss ${losses[0]} should be near ln(40) = 3.69`);
  assert.ok(losses[99] < 0.5, `loss after 100 steps ${losses[99]} (memorising 16 tokens)`);
  model.dispose();
  opt.dispose();
  tf.dispose([ids, targets, mask]);
});
