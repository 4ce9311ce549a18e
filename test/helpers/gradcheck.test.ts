// The gradient checker checked: it passes tfjs' own gradients of known functions, and it fails,
// naming the input, when a tf.customGrad gradient is wrong (grossly, by 5%, or in one element).
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { initBackend, tf } from "../../src/core/backend.ts";
import { Rng } from "../../src/core/rng.ts";
import { gradcheck, gradcheckVariables } from "./gradcheck.ts";

before(async () => {
  await initBackend("wasm");
});

const rng = new Rng(11);
const randn = (shape: number[], std = 1) => tf.tensor(rng.normalArray(shape.reduce((a, b) => a * b, 1), std), shape);

/** sum(x³) with a custom gradient dy * k(x); k = 3x² is right. */
function cubeWith(grad: (x: tf.Tensor) => tf.Tensor) {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor, save = args[1] as tf.GradSaveFunc;
    save([x]);
    return { value: tf.sum(tf.pow(x, 3)), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, grad(saved[0])) };
  });
}

test("passes tfjs' gradients of known functions, elementwise and along directions", () => {
  const x = randn([3, 4]), w = randn([4, 5]), labels = tf.oneHot(tf.tensor1d([1, 0, 4], "int32"), 5).toFloat();
  const mlp = gradcheck((a, b) => tf.sum(tf.square(tf.tanh(tf.matMul(a, b)))), { x, w });
  assert.ok(mlp.passed, mlp.message);
  assert.equal(mlp.probes.length, 12 + 20 + 2 * 3, "every element of both inputs plus 3 directions each");
  const xent = gradcheck((a, b) => tf.neg(tf.mean(tf.sum(tf.mul(labels, tf.logSoftmax(tf.matMul(a, b))), -1))), [x, w]);
  assert.ok(xent.passed, xent.message);
  assert.ok(xent.maxRelError < 3e-3, `correct gradients should sit far below tolerance: ${xent.message}`);
  tf.dispose([x, w, labels]);
});

test("large inputs are checked along random directions only, and pass a layer norm", () => {
  const x = randn([8, 64]);
  const layerNorm = (a: tf.Tensor) => {
    const { mean, variance } = tf.moments(a, -1, true);
    return tf.sum(tf.mul(tf.div(tf.sub(a, mean), tf.sqrt(tf.add(variance, 1e-5))), tf.range(0, 64).div(64)));
  };
  const r = gradcheck(layerNorm, { x }, { directions: 4 });
  assert.equal(r.probes.length, 4);
  assert.ok(r.passed, r.message);
  x.dispose();
});

test("variable mode passes and restores the variables bit for bit", () => {
  const w1 = tf.variable(randn([4, 6], 0.5)), b1 = tf.variable(randn([6], 0.1)), w2 = tf.variable(randn([6, 1], 0.5));
  const unused = tf.variable(randn([2]));
  const x = randn([5, 4]), y = randn([5, 1]);
  const before1 = w1.dataSync().slice();
  const loss = () => tf.mean(tf.square(tf.sub(tf.matMul(tf.relu(tf.add(tf.matMul(x, w1), b1)), w2), y)));
  const vars = new Map([["fc1.weight", w1], ["fc1.bias", b1], ["fc2.weight", w2], ["unused", unused]]);
  const r = gradcheckVariables(loss, vars);
  assert.ok(r.passed, r.message);
  assert.deepEqual(w1.dataSync(), before1);
  assert.ok(r.probes.some((p) => p.input === "unused" && p.analytic === 0 && p.numeric === 0));
  tf.dispose([w1, b1, w2, unused, x, y]);
});

test("a correct tf.customGrad passes", () => {
  const x = randn([2, 5]);
  const r = gradcheck(cubeWith((a) => tf.mul(3, tf.square(a))), { x });
  assert.ok(r.passed, r.message);
  x.dispose();
});

test("fails on a wrong tf.customGrad (2x instead of 3x²), naming the input and values", () => {
  const x = randn([2, 5]);
  const r = gradcheck(cubeWith((a) => tf.mul(2, a)), { x });
  assert.equal(r.passed, false);
  assert.ok(r.maxRelError > 0.3, r.message);
  assert.match(r.message, /^gradcheck failed: max relative error .* > tolerance 0.01 at "x" (element \[\d,\d\]|direction \d): analytic .*, numeric .*; \d+ of 13 probes over tolerance$/);
  x.dispose();
});

test("fails on a gradient 5% too large, and on one wrong element", () => {
  const x = tf.tensor2d([[0.5, -1.2, 0.8, 1.5], [-0.3, 0.9, -1.1, 0.7], [1.3, -0.6, 0.4, -0.9]]);
  const scaled = gradcheck(cubeWith((a) => tf.mul(3 * 1.05, tf.square(a))), { x });
  assert.equal(scaled.passed, false, scaled.message);
  // Only element [1,2]'s gradient is dropped: the elementwise probe of exactly that element fails.
  const mask = tf.tensor2d([[1, 1, 1, 1], [1, 1, 0, 1], [1, 1, 1, 1]]);
  const oneOff = gradcheck(cubeWith((a) => tf.mul(mask, tf.mul(3, tf.square(a)))), { x }, { directions: 0 });
  assert.equal(oneOff.passed, false);
  assert.equal(oneOff.worst.probe, "element [1,2]");
  assert.equal(oneOff.probes.filter((p) => p.relError > 1e-2).length, 1, oneOff.message);
  tf.dispose([x, mask]);
});

test("rejects non-scalar f and int inputs with a readable error", () => {
  const x = randn([2]);
  assert.throws(() => gradcheck((a) => tf.square(a), [x]), /f must return a scalar, got shape \[2\]/);
  const i = tf.tensor1d([1, 2], "int32");
  assert.throws(() => gradcheck((a) => tf.sum(a), { i }), /"i" is int32; only float32 inputs have gradients/);
  tf.dispose([x, i]);
});
