// CA²: exact output dims over a pyramid of blocks, the state keeps the prompt's size whatever the block sizes,
// padded prompt positions never reach real ones, every block matters, frames beyond the temporal table are refused,
// and finite-difference gradient checks through the whole stack (parameters and inputs).
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { initBackend, tf } from "../../../src/core/backend.ts";
import { Rng } from "../../../src/core/rng.ts";
import { FavchatError } from "../../../src/core/errors.ts";
import { CA2Stack } from "../../../src/model/prompt/ca2.ts";
import { makePrompt } from "../../../src/model/prompt/prompt.ts";
import { gradcheck, gradcheckVariables } from "../../helpers/gradcheck.ts";
import { disposePrompt, jitter, maxAbsDiff, projected, randn, randomPrompt } from "./helpers.ts";

before(async () => {
  await initBackend("wasm");
});

const B = 2, F = 3, Dllm = 12;
const blockShapes = [[16, 6], [4, 10], [1, 14]]; // [P_i, D_i]: a shrinking, widening pyramid

function blocks(rng: Rng): tf.Tensor[] {
  return blockShapes.map(([P, D]) => randn(rng, [B * F, P, D]));
}

test("CA² stack: H_n [B, Tq, Dc] and top tokens [B, F*P_n, Dc]; parameter names per block", () => {
  const rng = new Rng(1);
  const stack = new CA2Stack({ dim: 8, numHeads: 2, readBlocks: 1, frameTokens: false }, blockShapes.map(([, D]) => D), Dllm, 4, rng);
  const prompt = randomPrompt(rng, [[1, 1, 1, 1, 0], [1, 1, 0, 0, 0]], Dllm);
  const xs = blocks(rng);
  const { state, topTokens } = stack.forward(xs, prompt, F);
  assert.deepEqual(state.shape, [B, 5, 8]);
  assert.deepEqual(topTokens.shape, [B, F * 1, 8]);
  const names = [...stack.namedParams().keys()];
  for (let i = 0; i < 3; i++) {
    assert.ok(names.includes(`layers.${i}.proj.fc1.weight`) && names.includes(`layers.${i}.prompt_attn.q_proj.weight`));
  }
  assert.deepEqual(stack.namedParams().get("layers.1.proj.fc1.weight")?.variable.shape, [10, 8]);
  assert.deepEqual(stack.namedParams().get("layers.0.proj.temporal_embedding")?.variable.shape, [4, 8]);
  tf.dispose([state, topTokens, ...xs]);
  disposePrompt(prompt);
  stack.dispose();
});

test("CA² stack with readBlocks 2: the top two blocks' tokens, lower block first", () => {
  const rng = new Rng(3);
  const stack = new CA2Stack({ dim: 8, numHeads: 2, readBlocks: 2, frameTokens: false }, blockShapes.map(([, D]) => D), Dllm, 4, rng);
  const prompt = randomPrompt(rng, [[1, 1, 1, 1, 0], [1, 1, 0, 0, 0]], Dllm);
  const xs = blocks(rng);
  const { topTokens } = stack.forward(xs, prompt, F);
  const [P1, P2] = [blockShapes[1][0], blockShapes[2][0]];
  assert.deepEqual(topTokens.shape, [B, F * (P1 + P2), 8]);
  // The last F*P2 tokens are the top block's own projection W_n.
  const w2 = stack.layers[1].proj.forward(xs[1], B, F);
  const head = tf.slice(topTokens, [0, 0, 0], [B, F * P1, 8]);
  const diff = tf.max(tf.abs(tf.sub(head, w2))).dataSync()[0];
  assert.ok(diff < 1e-6, `W_{n-1} comes first (max diff ${diff})`);
  tf.dispose([topTokens, w2, head, ...xs]);
  disposePrompt(prompt);
  stack.dispose();
});

test("CA²: padded prompt positions do not reach real positions; each block changes the state", () => {
  const rng = new Rng(2);
  const stack = new CA2Stack({ dim: 8, numHeads: 2, readBlocks: 1, frameTokens: false }, blockShapes.map(([, D]) => D), Dllm, 4, rng);
  jitter(stack, rng, 0.2);
  const padding = [[1, 1, 1, 0], [1, 1, 0, 0]];
  const a = randomPrompt(rng, padding, Dllm);
  // The same real tokens, different embeddings at the padded positions.
  const noise = randn(rng, [B, 4, Dllm], 3);
  const padMask = tf.tensor3d(padding.map((r) => r.map((m) => [1 - m])));
  const b = makePrompt(tf.add(a.embeds, tf.mul(noise, padMask)), padding);
  const xs = blocks(rng);
  const real = (t: tf.Tensor) => tf.concat([tf.slice(t, [0, 0, 0], [1, 3, -1]).reshape([3, -1]), tf.slice(t, [1, 0, 0], [1, 2, -1]).reshape([2, -1])]);
  const sa = stack.forward(xs, a, F).state;
  const sb = stack.forward(xs, b, F).state;
  assert.ok(maxAbsDiff(real(sa), real(sb)) < 1e-5, "real positions depend on padded prompt embeddings");
  assert.ok(maxAbsDiff(sa, sb) > 1e-3, "padded positions should differ (the test would be vacuous otherwise)");
  for (let i = 0; i < xs.length; i++) {
    const moved = xs.map((x, j) => (j === i ? tf.add(x, 1) : x));
    const s = stack.forward(moved, a, F).state;
    assert.ok(maxAbsDiff(real(s), real(sa)) > 1e-4, `block ${i} does not influence the CA² state`);
  }
  disposePrompt(a);
  disposePrompt(b);
  stack.dispose();
});

test("CA²: more frames than the temporal embedding holds is a clear error", () => {
  const rng = new Rng(3);
  const stack = new CA2Stack({ dim: 8, numHeads: 2, readBlocks: 1, frameTokens: false }, [6], Dllm, 2, rng);
  const prompt = randomPrompt(rng, [[1, 1]], Dllm);
  const x = randn(rng, [3, 4, 6]);
  assert.throws(() => stack.forward([x], prompt, 3), (e: Error) => e instanceof FavchatError && /3 frames .* covers 2/.test(e.message));
  x.dispose();
  disposePrompt(prompt);
  stack.dispose();
});

test("CA² gradients: every parameter, the block features and the prompt embeddings", () => {
  const rng = new Rng(4);
  const shapes = [[4, 6], [2, 10]];
  const stack = new CA2Stack({ dim: 8, numHeads: 2, readBlocks: 1, frameTokens: false }, shapes.map(([, D]) => D), 6, 2, rng);
  jitter(stack, rng, 0.2);
  const padding = [[1, 1, 0], [1, 1, 1]];
  const p = randomPrompt(rng, padding, 6);
  const xs = shapes.map(([P, D]) => randn(rng, [2 * 2, P, D]));
  const loss = (embeds: tf.Tensor, b0: tf.Tensor, b1: tf.Tensor) => {
    const out = stack.forward([b0, b1], { ...p, embeds }, 2);
    return tf.add(projected(out.state, 7), projected(out.topTokens, 8));
  };
  const params = new Map([...stack.namedParams()].map(([n, q]) => [n, q.variable]));
  // Three attentions and five norms per layer round more than one block does: derivatives of ~1e-2 measured 2% off
  // at eps 1e-2 and further off as eps shrank (noise grows as 1/eps; a wrong gradient's error would not), so the
  // noise floor assumes 16 float32 roundings of f instead of 8.
  const pr = gradcheckVariables(() => loss(p.embeds, xs[0], xs[1]), params, { directions: 2, maxElementwise: 16, noiseUlps: 16 });
  assert.ok(pr.passed, pr.message);
  const xr = gradcheck(loss, { prompt: p.embeds, block0: xs[0], block1: xs[1] }, { maxElementwise: 0 });
  assert.ok(xr.passed, xr.message);
  tf.dispose(xs);
  disposePrompt(p);
  stack.dispose();
});

test("CA² with frame tokens: one token per frame and block, each position of the block with its own weights", () => {
  const rng = new Rng(11);
  const tokens = blockShapes.map(([P]) => P);
  const stack = new CA2Stack({ dim: 8, numHeads: 2, readBlocks: 2, frameTokens: true }, blockShapes.map(([, D]) => D), Dllm, 4, rng, tokens);
  assert.deepEqual(stack.namedParams().get("layers.0.proj.fc1.weight")?.variable.shape, [16 * 6, 8]);
  const prompt = randomPrompt(rng, [[1, 1, 1, 1, 0], [1, 1, 0, 0, 0]], Dllm);
  const xs = blocks(rng);
  const { state, topTokens } = stack.forward(xs, prompt, F);
  assert.deepEqual(state.shape, [B, 5, 8]);
  assert.deepEqual(topTokens.shape, [B, F * 2, 8]);
  // Swapping two positions of a frame's block changes its frame token (a per-position MLP plus mean would not).
  const x0 = xs[1];
  const swapped = tf.concat([tf.slice(x0, [0, 1, 0], [-1, 1, -1]), tf.slice(x0, [0, 0, 0], [-1, 1, -1]), tf.slice(x0, [0, 2, 0], [-1, -1, -1])], 1);
  const a = stack.layers[1].proj.forward(x0, B, F);
  const b = stack.layers[1].proj.forward(swapped, B, F);
  assert.deepEqual(a.shape, [B, F, 8]);
  assert.ok(maxAbsDiff(a, b) > 1e-4, "frame tokens see where on the face a feature is");
  assert.throws(() => stack.layers[1].proj.forward(xs[0], B, F), /expected block \[N, 4, 10\]/);
  assert.throws(() => new CA2Stack({ dim: 8, numHeads: 2, readBlocks: 1, frameTokens: true }, [6, 10], Dllm, 4, rng), /token count/);
  tf.dispose([state, topTokens, swapped, a, b, ...xs]);
  disposePrompt(prompt);
  stack.dispose();
});

test("CA² with frame deltas: a frame's token also reads the other frames of its clip, never another clip's", () => {
  const rng = new Rng(12);
  const tokens = blockShapes.map(([P]) => P);
  const dims = blockShapes.map(([, D]) => D);
  const stack = new CA2Stack({ dim: 8, numHeads: 2, readBlocks: 1, frameTokens: true, frameDeltas: true }, dims, Dllm, 4, rng, tokens);
  const plain = new CA2Stack({ dim: 8, numHeads: 2, readBlocks: 1, frameTokens: true }, dims, Dllm, 4, new Rng(12), tokens);
  assert.deepEqual(stack.namedParams().get("layers.1.proj.fc1.weight")?.variable.shape, [2 * 4 * 10, 8], "the frame and its delta");
  const x = randn(rng, [B * F, 4, 10]);
  // Change the last frame of clip 0 (row F-1): with deltas, clip 0's first frame token moves; clip 1's do not.
  const bump = tf.concat([tf.slice(x, [0, 0, 0], [F - 1, -1, -1]), tf.slice(x, [F - 1, 0, 0], [1, -1, -1]).add(1), tf.slice(x, [F, 0, 0], [-1, -1, -1])], 0);
  const [a, b] = [stack.layers[1].proj.forward(x, B, F), stack.layers[1].proj.forward(bump, B, F)]; // [B, F, 8]
  const first = (t: tf.Tensor, clip: number) => tf.slice(t, [clip, 0, 0], [1, 1, -1]);
  assert.ok(maxAbsDiff(first(a, 0), first(b, 0)) > 1e-4, "clip 0's first frame token reads its clip's mean frame");
  assert.ok(maxAbsDiff(tf.slice(a, [1, 0, 0], [1, -1, -1]), tf.slice(b, [1, 0, 0], [1, -1, -1])) < 1e-6, "clip 1 is untouched");
  const [c, d] = [plain.layers[1].proj.forward(x, B, F), plain.layers[1].proj.forward(bump, B, F)];
  assert.ok(maxAbsDiff(first(c, 0), first(d, 0)) < 1e-6, "without deltas a frame token reads its own frame alone");
  assert.throws(() => new CA2Stack({ dim: 8, numHeads: 2, readBlocks: 1, frameTokens: false, frameDeltas: true }, dims, Dllm, 4, rng), /frame_deltas needs frame_tokens/);
  tf.dispose([x, bump, a, b, c, d]);
  stack.dispose();
  plain.dispose();
});
