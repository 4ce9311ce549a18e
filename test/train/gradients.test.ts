// Global-norm clipping and micro-batch accumulation: values by hand and against full-batch
// gradients, and tensor lifetime (what is replaced is disposed, nothing leaks).
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { initBackend, tf } from "../../src/core/backend.ts";
import { Rng } from "../../src/core/rng.ts";
import { clipByGlobalNorm, GradAccumulator, globalNorm, toGradMap, type GradMap } from "../../src/train/gradients.ts";

before(async () => {
  await initBackend("wasm");
});

const values = (g: GradMap, name: string) => [...g.get(name)!.dataSync()];

test("global norm over all tensors: sqrt(3² + 4² + 12²) = 13", () => {
  const g: GradMap = new Map([["a", tf.tensor([3, 4])], ["b", tf.tensor([[12]])]]);
  assert.equal(globalNorm(g), 13);
  assert.equal(globalNorm(new Map()), 0);
  tf.dispose([...g.values()]);
});

test("clipping scales by maxNorm / (norm + 1e-6), returns the pre-clip norm, disposes the old tensors", () => {
  const a = tf.tensor([3, 4]), b = tf.tensor([[12]]);
  const g: GradMap = new Map([["a", a], ["b", b]]);
  const start = tf.memory().numTensors;
  assert.equal(clipByGlobalNorm(g, 6.5), 13);
  const f = 6.5 / (13 + 1e-6);
  assert.deepEqual(values(g, "a"), [3 * f, 4 * f].map(Math.fround));
  assert.deepEqual(values(g, "b"), [Math.fround(12 * f)]);
  assert.ok(a.isDisposed && b.isDisposed, "replaced gradients must be disposed");
  assert.equal(tf.memory().numTensors, start, "clipping must not leak");
  assert.ok(Math.abs(globalNorm(g) - 6.5) < 1e-5);
  tf.dispose([...g.values()]);
});

test("below the threshold, or non-finite: gradients are left exactly as they were", () => {
  const a = tf.tensor([3, 4]);
  const g: GradMap = new Map([["a", a]]);
  assert.equal(clipByGlobalNorm(g, 6), 5);
  assert.equal(g.get("a"), a, "same tensor object, not a copy");
  const n = tf.tensor([1, Number.NaN]);
  const bad: GradMap = new Map([["n", n]]);
  assert.ok(Number.isNaN(clipByGlobalNorm(bad, 1)));
  assert.equal(bad.get("n"), n);
  assert.throws(() => clipByGlobalNorm(g, 0), /maxNorm must be a positive number, got 0/);
  tf.dispose([a, n]);
});

test("accumulating micro-batches gives the full batch's gradient of the mean loss", () => {
  const rng = new Rng(3);
  const w = tf.variable(tf.tensor(rng.normalArray(4 * 3), [4, 3]), true, "w");
  const b = tf.variable(tf.tensor(rng.normalArray(3), [3]), true, "b");
  const x = tf.tensor(rng.normalArray(8 * 4), [8, 4]), y = tf.tensor(rng.normalArray(8 * 3), [8, 3]);
  const loss = (xs: tf.Tensor, ys: tf.Tensor) => () => tf.mean(tf.square(tf.sub(tf.tanh(tf.add(tf.matMul(xs, w), b)), ys))) as tf.Scalar;
  const full = tf.variableGrads(loss(x, y));
  const start = tf.memory().numTensors;
  const acc = new GradAccumulator();
  for (let k = 0; k < 4; k++) {
    const [xs, ys] = [x.slice([2 * k, 0], [2, 4]), y.slice([2 * k, 0], [2, 3])];
    const { value, grads } = tf.variableGrads(loss(xs, ys));
    acc.add(toGradMap(grads));
    tf.dispose([value, xs, ys]);
  }
  assert.equal(acc.count, 4);
  const mean = acc.finish();
  assert.equal(acc.count, 0);
  assert.equal(tf.memory().numTensors, start + 2, "only the two averaged gradients are left");
  for (const name of ["w", "b"]) {
    const got = values(mean, name), want = [...full.grads[name].dataSync()];
    got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-6, `${name}[${i}]: ${v} vs ${want[i]}`));
  }
  tf.dispose([...mean.values(), full.value, ...Object.values(full.grads), w, b, x, y]);
});

test("accumulator: explicit scale, names seen late, shape errors leave the sum intact", () => {
  const acc = new GradAccumulator();
  acc.add(new Map([["a", tf.tensor([1, 2])]]));
  acc.add(new Map([["a", tf.tensor([3, 4])], ["late", tf.tensor([10])]]));
  const wrong = tf.tensor([1, 2, 3]);
  assert.throws(() => acc.add(new Map([["a", wrong]])), /gradient "a" has shape \[3\], earlier micro-batches had \[2\]/);
  assert.equal(acc.count, 2, "a rejected micro-batch is not counted");
  wrong.dispose();
  const out = acc.finish(0.1); // e.g. 1 / (tokens over all micro-batches)
  assert.deepEqual(values(out, "a"), [0.4, 0.6].map(Math.fround));
  assert.deepEqual(values(out, "late"), [1]);
  tf.dispose([...out.values()]);
  assert.throws(() => acc.finish(), /no micro-batch was added since the last finish\(\)/);
  const before = tf.memory().numTensors;
  acc.add(new Map([["a", tf.tensor([1, 2])]]));
  acc.dispose();
  assert.equal(tf.memory().numTensors, before, "dispose frees a partial accumulation");
});
