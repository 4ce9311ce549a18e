// Finite-difference gradient checks for every nn block (issue 2, item 3), on the wasm backend the
// models train on. Each check covers the block's parameters and, where it has one, its input.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { initBackend, tf } from "../../src/core/backend.ts";
import { Rng } from "../../src/core/rng.ts";
import { Linear } from "../../src/nn/linear.ts";
import { batchMatMul, batchMatMulBT } from "../../src/nn/batch-matmul.ts";
import { Embedding } from "../../src/nn/embedding.ts";
import { LayerNorm, RMSNorm, layerNorm } from "../../src/nn/norm.ts";
import { Attention } from "../../src/nn/attention.ts";
import { attentionBias } from "../../src/nn/mask.ts";
import { applyRope, ropeTables } from "../../src/nn/rope.ts";
import { GeluMLP, SwiGLU, geluTanh } from "../../src/nn/mlp.ts";
import { TransformerBlock } from "../../src/nn/block.ts";
import { Qwen2DecoderLayer } from "../../src/model/llm/qwen2.ts";
import { resolveQwen2Config } from "../../src/model/llm/config.ts";
import type { Module } from "../../src/nn/module.ts";
import { gradcheck, gradcheckVariables } from "../helpers/gradcheck.ts";

before(async () => {
  await initBackend("wasm");
});

const rng = new Rng(11);
function input(shape: number[], std = 1): tf.Tensor {
  return tf.tensor(rng.normalArray(shape.reduce((a, b) => a * b, 1), std), shape);
}

/** A fixed random projection makes the loss depend on every output element with distinct weights. */
function projected(y: tf.Tensor, seed: number): tf.Scalar {
  const w = tf.tensor(new Rng(seed).normalArray(y.size), y.shape);
  const out = tf.sum(tf.mul(y, w)) as tf.Scalar;
  w.dispose();
  return out;
}

/** Checks gradients w.r.t. the module's parameters (all) and the input x. */
function checkBlock(name: string, module: Module, x: tf.Tensor, f: (x: tf.Tensor) => tf.Tensor): void {
  const params = new Map([...module.namedParams()].map(([n, p]) => [n, p.variable]));
  const pr = gradcheckVariables(() => projected(f(x), 5), params);
  assert.ok(pr.passed, `${name} parameters: ${pr.message}`);
  const xr = gradcheck((xi) => projected(f(xi), 5), [x]);
  assert.ok(xr.passed, `${name} input: ${xr.message}`);
}

/** Moves parameters off their initial values (norm weights of 1, biases of 0 hide bugs). */
function jitter(module: Module, std = 0.3): void {
  for (const p of module.namedParams().values()) {
    p.variable.assign(tf.add(p.variable, tf.tensor(rng.normalArray(p.variable.size, std), p.variable.shape)));
  }
}

test("Linear (custom gradient) with and without bias, rank-3 input", () => {
  for (const bias of [true, false]) {
    const lin = new Linear(5, 3, new Rng(1), { bias, std: 0.5 });
    jitter(lin);
    checkBlock(`Linear(bias=${bias})`, lin, input([2, 4, 5]), (x) => lin.forward(x));
  }
});

test("batched matmuls (per-entry 2-D matmuls, custom gradients) match tf.matMul and its gradients", () => {
  // Its own Rng, so the shared one's draws (the other tests' inputs) stay as they were.
  const own = new Rng(21);
  const [a, b, bt] = [[3, 4, 5], [3, 5, 2], [3, 2, 5]].map((s) => tf.tensor(own.normalArray(s[0] * s[1] * s[2]), s));
  const close = (x: tf.Tensor, y: tf.Tensor, what: string) => {
    const err = tf.max(tf.abs(tf.sub(x, y))).dataSync()[0];
    assert.ok(err < 1e-5, `${what}: max difference ${err}`);
  };
  close(batchMatMul(a, b), tf.matMul(a, b), "batchMatMul value");
  close(batchMatMulBT(a, bt), tf.matMul(a, bt, false, true), "batchMatMulBT value");
  const nn = gradcheck((x, y) => projected(batchMatMul(x, y), 7), [a, b]);
  assert.ok(nn.passed, `batchMatMul: ${nn.message}`);
  const nt = gradcheck((x, y) => projected(batchMatMulBT(x, y), 8), [a, bt]);
  assert.ok(nt.passed, `batchMatMulBT: ${nt.message}`);
});

test("RoPE (gather by the half swap, custom gradient) matches x*cos + rotate_half(x)*sin and its gradient", () => {
  const own = new Rng(22);
  const x = tf.tensor(own.normalArray(2 * 3 * 5 * 8), [2, 3, 5, 8]);
  const { cos, sin } = ropeTables(5, 8, 10000, 3);
  const reference = tf.tidy(() => {
    const rotated = tf.concat([tf.neg(tf.slice(x, [0, 0, 0, 4], [-1, -1, -1, 4])), tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, 4])], 3);
    return tf.add(tf.mul(x, cos), tf.mul(rotated, sin));
  });
  const err = tf.max(tf.abs(tf.sub(applyRope(x, cos, sin), reference))).dataSync()[0];
  assert.ok(err < 1e-6, `RoPE value: max difference ${err}`);
  const r = gradcheck((xi) => projected(applyRope(xi, cos, sin), 9), [x]);
  assert.ok(r.passed, `RoPE: ${r.message}`);
});

test("Embedding (ScatterNd gradient), repeated ids accumulate", () => {
  const emb = new Embedding(7, 4, new Rng(2), 0.5);
  const ids = tf.tensor2d([[1, 3, 3], [0, 6, 1]], [2, 3], "int32");
  const r = gradcheckVariables(() => projected(emb.forward(ids), 3), new Map([["weight", emb.weight]]));
  assert.ok(r.passed, r.message);
});

test("LayerNorm and RMSNorm", () => {
  const ln = new LayerNorm(6, 1e-5);
  jitter(ln);
  checkBlock("LayerNorm", ln, input([3, 6]), (x) => ln.forward(x));
  const rms = new RMSNorm(6, 1e-6);
  jitter(rms);
  checkBlock("RMSNorm", rms, input([3, 6]), (x) => rms.forward(x));
});

test("self-attention: grouped-query, RoPE, causal + padding mask", () => {
  const attn = new Attention({ dim: 8, numHeads: 4, numKvHeads: 2, qkvBias: true }, new Rng(3));
  jitter(attn, 0.2);
  const rope = ropeTables(5, 2, 10000);
  const bias = attentionBias({ queries: 5, keys: 5, causal: true, keyPadding: [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]] });
  checkBlock("GQA self-attention", attn, input([2, 5, 8]), (x) => attn.forward(x, { rope, bias }));
});

test("cross-attention: queries over a context of another width", () => {
  const attn = new Attention({ dim: 8, numHeads: 2, kvDim: 6, qkvBias: true, outBias: true, outName: "out_proj" }, new Rng(4));
  jitter(attn, 0.2);
  const context = input([2, 7, 6]);
  const query = input([2, 3, 8]);
  checkBlock("cross-attention (query side)", attn, input([2, 3, 8]), (x) => attn.forward(x, { context }));
  const r = gradcheck((c) => projected(attn.forward(query, { context: c }), 6), [context]);
  assert.ok(r.passed, `cross-attention (context side): ${r.message}`);
});

test("SwiGLU and GELU MLPs", () => {
  const sw = new SwiGLU(6, 10, new Rng(5));
  jitter(sw, 0.3);
  checkBlock("SwiGLU", sw, input([2, 3, 6]), (x) => sw.forward(x));
  const ge = new GeluMLP(6, 10, new Rng(6));
  jitter(ge, 0.3);
  checkBlock("GeluMLP", ge, input([2, 3, 6]), (x) => ge.forward(x));
});

test("transformer block (pre-norm, SigLIP names) and Qwen2 decoder layer", () => {
  const block = new TransformerBlock({ dim: 8, numHeads: 2, mlpDim: 12 }, new Rng(7));
  jitter(block, 0.2);
  checkBlock("TransformerBlock", block, input([2, 4, 8]), (x) => block.forward(x));
  const c = resolveQwen2Config(
    { vocab_size: 10, hidden_size: 8, intermediate_size: 12, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2 },
    "test",
  );
  const layer = new Qwen2DecoderLayer(c, new Rng(8));
  jitter(layer, 0.2);
  const rope = ropeTables(4, 2, 10000);
  const bias = attentionBias({ queries: 4, keys: 4, causal: true });
  checkBlock("Qwen2DecoderLayer", layer, input([2, 4, 8]), (x) => layer.forward(x, bias, rope));
});

test("GELU and LayerNorm: explicit gradients equal autodiff of their textbook formulas", () => {
  const x = tf.linspace(-6, 6, 97).reshape([1, 97]);
  const textbook = (v: tf.Tensor) => tf.mul(0.5, tf.mul(v, tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(v, tf.mul(0.044715, tf.pow(v, 3))))))));
  const w = tf.linspace(0.5, 1.5, 97).reshape([1, 97]);
  const value = (f: (v: tf.Tensor) => tf.Tensor) => f(x);
  assert.ok(tf.max(tf.abs(tf.sub(value(geluTanh), value(textbook)))).dataSync()[0] < 1e-5);
  const g = (f: (v: tf.Tensor) => tf.Tensor) => tf.grad((v: tf.Tensor) => tf.sum(tf.mul(f(v), w)))(x);
  assert.ok(tf.max(tf.abs(tf.sub(g(geluTanh), g(textbook)))).dataSync()[0] < 1e-5, "GELU gradient");
  const ln = new LayerNorm(97, 1e-5);
  ln.weight.assign(tf.linspace(-1, 2, 97));
  ln.bias.assign(tf.linspace(1, 0, 97));
  const xs = tf.randomNormal([4, 97], 0.3, 2, "float32", 7);
  const plain = (v: tf.Tensor, wt: tf.Tensor, b: tf.Tensor) => {
    const c = tf.sub(v, tf.mean(v, -1, true));
    return tf.add(tf.mul(tf.mul(c, tf.rsqrt(tf.add(tf.mean(tf.square(c), -1, true), 1e-5))), wt), b);
  };
  const up = tf.randomNormal([4, 97], 0, 1, "float32", 8);
  const ours = tf.grads((v: tf.Tensor, wt: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(layerNorm(v, wt, b, 1e-5), up)))([xs, ln.weight, ln.bias]);
  const ref = tf.grads((v: tf.Tensor, wt: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(plain(v, wt, b), up)))([xs, ln.weight, ln.bias]);
  ours.forEach((t, i) => assert.ok(tf.max(tf.abs(tf.sub(t, ref[i]))).dataSync()[0] < 1e-4, `LayerNorm gradient ${i}`));
  ln.dispose();
});
