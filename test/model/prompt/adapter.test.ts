// Weight adapters and fusion: weights are a per-sample softmax (sum to 1) that depends on the prompt and on the
// branch tokens, V matches LayerNorm(w_g F_g + w_f F_f) computed by hand, the fixed and general-only ablations
// have no adapter parameters and give 0.5/0.5 and 1/0, and gradients check through adapters and fusion.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { initBackend, tf } from "../../../src/core/backend.ts";
import { Rng } from "../../../src/core/rng.ts";
import { BranchFusion } from "../../../src/model/prompt/adapter.ts";
import { gradcheck, gradcheckVariables } from "../../helpers/gradcheck.ts";
import { disposePrompt, jitter, maxAbsDiff, projected, randn, randomPrompt } from "./helpers.ts";

before(async () => {
  await initBackend("wasm");
});

const D = 10;

test("adapters: per-sample weights sum to 1 and follow prompt and branch; V = LayerNorm(w_g F_g + w_f F_f)", () => {
  const rng = new Rng(1);
  const fusion = new BranchFusion(D, "adapters", { hidden: 6 }, rng);
  jitter(fusion, rng, 0.5);
  const prompt = randomPrompt(rng, [[1, 1, 0], [1, 1, 1], [1, 0, 0]], D);
  const fg = randn(rng, [3, 4, D]);
  const ff = randn(rng, [3, 4, D]);
  const { tokens, weights } = fusion.forward(fg, ff, prompt);
  assert.deepEqual(tokens.shape, [3, 4, D]);
  assert.deepEqual(weights.shape, [3, 2]);
  const w = weights.arraySync() as number[][];
  for (const [wg, wf] of w) assert.ok(Math.abs(wg + wf - 1) < 1e-6 && wg > 0 && wf > 0, `weights ${wg}, ${wf}`);
  assert.ok(Math.abs(w[0][0] - w[1][0]) > 1e-4, "weights do not vary per sample");
  // By hand: mix with the reported weights, then the norm's own affine.
  const expected = tf.tidy(() => {
    const mixed = tf.add(tf.mul(fg, weights.slice([0, 0], [3, 1]).reshape([3, 1, 1])), tf.mul(ff, weights.slice([0, 1], [3, 1]).reshape([3, 1, 1])));
    const { mean, variance } = tf.moments(mixed, -1, true);
    const normed = tf.div(tf.sub(mixed, mean), tf.sqrt(tf.add(variance, 1e-5)));
    return tf.add(tf.mul(normed, fusion.norm.weight), fusion.norm.bias);
  });
  assert.ok(maxAbsDiff(tokens, expected) < 1e-5);
  // Another prompt, same branches: other weights. Other face tokens, same prompt: other weights.
  const other = randomPrompt(rng, [[1, 1, 1], [1, 1, 1], [1, 1, 1]], D);
  const w2 = fusion.forward(fg, ff, other).weights;
  const shift = randn(rng, [3, 4, D]); // not a rescaling: the adapter normalises the pooled tokens
  const w3 = fusion.forward(fg, tf.add(ff, shift), prompt).weights;
  assert.ok(maxAbsDiff(weights, w2) > 1e-4, `weights ignore the prompt: ${maxAbsDiff(weights, w2)}`);
  assert.ok(maxAbsDiff(weights, w3) > 1e-4, `weights ignore the face tokens: ${maxAbsDiff(weights, w3)}`);
  tf.dispose([fg, ff, shift, tokens, weights, expected, w2, w3]);
  disposePrompt(prompt);
  disposePrompt(other);
  fusion.dispose();
});

test("ablations: fixed weights give 0.5/0.5, general-only gives 1/0 and V = LayerNorm(F_g); neither has adapters", () => {
  const rng = new Rng(2);
  const prompt = randomPrompt(rng, [[1, 0], [1, 1]], D);
  const fg = randn(rng, [2, 3, D]);
  const ff = randn(rng, [2, 3, D]);
  const fixed = new BranchFusion(D, "fixed", { hidden: 6 }, rng);
  const general = new BranchFusion(D, "general-only", { hidden: 6 }, rng);
  for (const f of [fixed, general]) assert.deepEqual([...f.namedParams().keys()], ["norm.weight", "norm.bias"]);
  const a = fixed.forward(fg, ff, prompt);
  assert.deepEqual(a.weights.arraySync(), [[0.5, 0.5], [0.5, 0.5]]);
  const fromHalves = fixed.norm.forward(tf.mul(tf.add(fg, ff), 0.5));
  assert.ok(maxAbsDiff(a.tokens, fromHalves) < 1e-6);
  const g = general.forward(fg, null, prompt);
  assert.deepEqual(g.weights.arraySync(), [[1, 0], [1, 0]]);
  const onlyG = general.norm.forward(fg);
  assert.ok(maxAbsDiff(g.tokens, onlyG) < 1e-6);
  assert.throws(() => general.forward(fg, ff, prompt), /takes no face tokens/);
  assert.throws(() => fixed.forward(fg, null, prompt), /needs the face tokens/);
  tf.dispose([fg, ff, a.tokens, a.weights, fromHalves, g.tokens, g.weights, onlyG]);
  disposePrompt(prompt);
  fixed.dispose();
  general.dispose();
});

test("adapter gradients: parameters, both branches and the prompt, through weights and fused tokens", () => {
  const rng = new Rng(3);
  const fusion = new BranchFusion(6, "adapters", { hidden: 5 }, rng);
  jitter(fusion, rng, 0.5);
  const prompt = randomPrompt(rng, [[1, 1, 0], [1, 1, 1]], 6);
  const fg = randn(rng, [2, 3, 6]);
  const ff = randn(rng, [2, 3, 6]);
  const loss = (g: tf.Tensor, f: tf.Tensor, embeds: tf.Tensor) => {
    const out = fusion.forward(g, f, { ...prompt, embeds });
    return tf.add(projected(out.tokens, 1), tf.mul(projected(out.weights, 2), 5));
  };
  const params = new Map([...fusion.namedParams()].map(([n, p]) => [n, p.variable]));
  const pr = gradcheckVariables(() => loss(fg, ff, prompt.embeds), params, { directions: 2 });
  assert.ok(pr.passed, pr.message);
  const xr = gradcheck(loss, { fg, ff, prompt: prompt.embeds }, { maxElementwise: 0 });
  assert.ok(xr.passed, xr.message);
  tf.dispose([fg, ff]);
  disposePrompt(prompt);
  fusion.dispose();
});
