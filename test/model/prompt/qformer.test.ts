// Q-Former: exact output dims, the prompt-conditioning ablation really removes the prompt (no parameters, output
// independent of the question), padded visual tokens are ignored, and gradients check through the whole module.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { initBackend, tf } from "../../../src/core/backend.ts";
import { Rng } from "../../../src/core/rng.ts";
import { QFormer, type QFormerConfig } from "../../../src/model/prompt/qformer.ts";
import { gradcheck, gradcheckVariables } from "../../helpers/gradcheck.ts";
import { disposePrompt, jitter, maxAbsDiff, projected, randn, randomPrompt } from "./helpers.ts";

before(async () => {
  await initBackend("wasm");
});

const cfg: QFormerConfig = { numQueries: 5, dim: 8, numHeads: 2, numLayers: 2, mlpDim: 16 };

test("Q-Former: visual [B, S, Dv] + prompt -> F [B, Q, Dllm]", () => {
  const rng = new Rng(1);
  const qf = new QFormer(cfg, { visualDim: 6, promptDim: 12, outDim: 20, usePrompt: true }, rng);
  const prompt = randomPrompt(rng, [[1, 1, 1, 0], [1, 0, 0, 0], [1, 1, 1, 1]], 12);
  const visual = randn(rng, [3, 30, 6]);
  const out = qf.forward(visual, prompt);
  assert.deepEqual(out.shape, [3, 5, 20]);
  assert.deepEqual(qf.namedParams().get("query_tokens")?.variable.shape, [5, 8]);
  assert.deepEqual(qf.namedParams().get("layers.1.cross_attn.k_proj.weight")?.variable.shape, [6, 8]);
  assert.deepEqual(qf.namedParams().get("prompt_proj.proj.weight")?.variable.shape, [12, 8]);
  tf.dispose([visual, out]);
  disposePrompt(prompt);
  qf.dispose();
});

test("Q-Former with the prompt depends on the question; without it (ablation) it has no prompt parameters and does not", () => {
  const rng = new Rng(2);
  const visual = randn(rng, [2, 12, 6]);
  const a = randomPrompt(rng, [[1, 1, 1], [1, 1, 0]], 12);
  const b = randomPrompt(rng, [[1, 1, 0], [1, 1, 1]], 12);
  const withPrompt = new QFormer(cfg, { visualDim: 6, promptDim: 12, outDim: 10, usePrompt: true }, rng);
  const without = new QFormer(cfg, { visualDim: 6, promptDim: 12, outDim: 10, usePrompt: false }, rng);
  jitter(withPrompt, rng, 0.2);
  jitter(without, rng, 0.2);
  assert.ok([...withPrompt.namedParams().keys()].some((n) => n.startsWith("prompt_proj.")));
  assert.ok(![...without.namedParams().keys()].some((n) => n.includes("prompt")), "ablated Q-Former still has prompt parameters");
  const [wa, wb] = [withPrompt.forward(visual, a), withPrompt.forward(visual, b)];
  assert.ok(maxAbsDiff(wa, wb) > 1e-3, "prompt-conditioned output ignores the prompt");
  const [na, nb] = [without.forward(visual, a), without.forward(visual, b)];
  assert.equal(maxAbsDiff(na, nb), 0, "ablated output depends on the prompt");
  assert.deepEqual(na.shape, [2, 5, 10]);
  tf.dispose([visual, wa, wb, na, nb]);
  disposePrompt(a);
  disposePrompt(b);
  withPrompt.dispose();
  without.dispose();
});

test("Q-Former: padded visual tokens do not change the output", () => {
  const rng = new Rng(3);
  const qf = new QFormer(cfg, { visualDim: 6, promptDim: 12, outDim: 10, usePrompt: true }, rng);
  jitter(qf, rng, 0.2);
  const prompt = randomPrompt(rng, [[1, 1], [1, 0]], 12);
  const visual = randn(rng, [2, 7, 6]);
  const pad = [[1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1, 1]];
  const tail = tf.tensor3d(pad.map((r) => r.map((m) => new Array<number>(6).fill((1 - m) * 5))));
  const a = qf.forward(visual, prompt, pad);
  const b = qf.forward(tf.add(visual, tail), prompt, pad);
  const c = qf.forward(tf.add(visual, tail), prompt);
  assert.ok(maxAbsDiff(a, b) < 1e-5, "padded visual tokens leak into the output");
  assert.ok(maxAbsDiff(a, c) > 1e-3, "without a mask the changed tokens should matter (else the test is vacuous)");
  tf.dispose([visual, tail, a, b, c]);
  disposePrompt(prompt);
  qf.dispose();
});

test("Q-Former gradients: parameters, visual tokens and prompt embeddings", () => {
  const rng = new Rng(4);
  const small: QFormerConfig = { numQueries: 3, dim: 8, numHeads: 2, numLayers: 2, mlpDim: 12 };
  const qf = new QFormer(small, { visualDim: 6, promptDim: 5, outDim: 7, usePrompt: true }, rng);
  jitter(qf, rng, 0.2);
  const prompt = randomPrompt(rng, [[1, 1, 0], [1, 1, 1]], 5);
  const visual = randn(rng, [2, 6, 6]);
  const loss = (v: tf.Tensor, embeds: tf.Tensor) => projected(qf.forward(v, { ...prompt, embeds }), 3);
  const params = new Map([...qf.namedParams()].map(([n, p]) => [n, p.variable]));
  // Noise floor of 16 roundings: see the CA² gradient test (same depth of attention and norms).
  const pr = gradcheckVariables(() => loss(visual, prompt.embeds), params, { directions: 2, maxElementwise: 16, noiseUlps: 16 });
  assert.ok(pr.passed, pr.message);
  const xr = gradcheck(loss, { visual, prompt: prompt.embeds }, { maxElementwise: 0, noiseUlps: 16 });
  assert.ok(xr.passed, xr.message);
  visual.dispose();
  disposePrompt(prompt);
  qf.dispose();
});
