// The wasm kernels favchat registers over tfjs-backend-wasm's (Slice, Identity, Transpose, unstack, batched matmul): same
// values as a plain JavaScript reference or the backend's own kernel, on every rank and dtype the models use, and no
// leaked tensors.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { initBackend, tf } from "../../src/core/backend.ts";
import { Rng } from "../../src/core/rng.ts";
import { batchedMatMul, swapHalves, unstack0 } from "../../src/core/wasm-kernels.ts";

before(async () => {
  await initBackend("wasm");
});

/** Row-major reference slice of `data` (shape `shape`) at begin/size. */
function refSlice(data: ArrayLike<number>, shape: number[], begin: number[], size: number[]): number[] {
  const out: number[] = [];
  const strides = shape.map((_, j) => shape.slice(j + 1).reduce((p, d) => p * d, 1));
  const walk = (j: number, off: number) => {
    if (j === shape.length) {
      out.push(data[off]);
      return;
    }
    for (let i = 0; i < size[j]; i++) walk(j + 1, off + (begin[j] + i) * strides[j]);
  };
  walk(0, 0);
  return out;
}

test("Slice: random boxes of ranks 1-5, float32/int32/bool, match a reference", () => {
  const rng = new Rng(3);
  for (let trial = 0; trial < 200; trial++) {
    const rank = 1 + (trial % 5);
    const shape = Array.from({ length: rank }, () => 1 + rng.int(5));
    const begin = shape.map((d) => rng.int(d));
    const size = shape.map((d, j) => (rng.int(3) === 0 ? d - begin[j] : rng.int(d - begin[j] + 1)));
    const n = shape.reduce((p, d) => p * d, 1);
    const dtype = (["float32", "int32", "bool"] as const)[trial % 3];
    const data = Array.from({ length: n }, (_, i) => (dtype === "bool" ? i % 2 : dtype === "int32" ? i - 7 : i * 0.5));
    const x = tf.tensor(data, shape, dtype);
    const y = tf.slice(x, begin, size);
    assert.deepEqual(y.shape, size);
    assert.deepEqual([...y.dataSync()], refSlice(data, shape, begin, size), `shape [${shape}] begin [${begin}] size [${size}] ${dtype}`);
    tf.dispose([x, y]);
  }
});

test("Transpose: the last two axes by the SIMD kernel (any size, batched, float32/int32), other orders unchanged", () => {
  const rng = new Rng(5);
  const shapes = [[1, 1], [3, 5], [4, 4], [16, 8], [17, 9], [33, 70], [256, 704], [2, 7, 6], [3, 2, 8, 5], [0, 4], [2, 0, 3]];
  for (const [k, shape] of shapes.entries()) {
    const r = shape.length;
    const dtype = k % 2 === 0 ? "float32" : "int32";
    const n = shape.reduce((p, d) => p * d, 1);
    const data = Array.from({ length: n }, () => (dtype === "int32" ? rng.int(1000) - 500 : rng.normal()));
    const x = tf.tensor(data, shape, dtype);
    const perm = [...Array(r - 2).keys(), r - 1, r - 2];
    const y = tf.transpose(x, perm);
    const [rows, cols] = shape.slice(-2);
    const want: number[] = [];
    for (let m = 0; m < n / (rows * cols || 1) && rows * cols > 0; m++) {
      for (let j = 0; j < cols; j++) for (let i = 0; i < rows; i++) want.push(Math.fround(data[m * rows * cols + i * cols + j]));
    }
    assert.deepEqual(y.shape, perm.map((p) => shape[p]));
    assert.deepEqual([...y.dataSync()], want, `shape [${shape}] ${dtype}`);
    tf.dispose([x, y]);
  }
  // Another order (the backend's own kernel) and a gradient through the swap.
  const x = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]);
  assert.deepEqual(tf.transpose(x, [1, 0, 2]).arraySync(), [[[1, 2], [5, 6]], [[3, 4], [7, 8]]]);
  const w = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.transpose(t), tf.tensor2d([[1, 2], [3, 4], [5, 6]]))))(w);
  assert.deepEqual(g.arraySync(), [[1, 3, 5], [2, 4, 6]]);
  tf.dispose([x, w, g]);
});

test("Identity (clone) and same-dtype Cast share the buffer: results outlive their source, values intact", () => {
  const before = tf.memory().numTensors;
  const x = tf.tensor([1, 2, 3, 4], [2, 2]);
  const y = x.clone();
  const z = tf.cast(x, "float32");
  x.dispose();
  assert.deepEqual([...y.dataSync()], [1, 2, 3, 4]);
  y.dispose();
  assert.deepEqual([...z.dataSync()], [1, 2, 3, 4]);
  z.dispose();
  assert.equal(tf.memory().numTensors, before);
  const f = tf.tensor([1.7, -2.2]);
  const i = tf.cast(f, "int32");
  assert.equal(i.dtype, "int32");
  assert.deepEqual([...i.dataSync()], [1, -2]);
  tf.dispose([f, i]);
});

test("unstack0 matches tf.unstack and leaks nothing", () => {
  const x = tf.tensor(Array.from({ length: 24 }, (_, i) => i), [3, 2, 4]);
  const before = tf.memory().numTensors;
  const mine = unstack0(x);
  const theirs = tf.unstack(x);
  mine.forEach((m, i) => {
    assert.deepEqual(m.shape, [2, 4]);
    assert.deepEqual([...m.dataSync()], [...theirs[i].dataSync()]);
  });
  tf.dispose([...mine, ...theirs]);
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
});

test("swapHalves swaps the halves of the last dim, is its own inverse, rejects an odd last dim", () => {
  const x = tf.tensor(Array.from({ length: 2 * 3 * 6 }, (_, i) => i), [2, 3, 6]);
  const y = swapHalves(x);
  const want = tf.concat([tf.slice(x, [0, 0, 3], [-1, -1, 3]), tf.slice(x, [0, 0, 0], [-1, -1, 3])], 2);
  assert.deepEqual([...y.dataSync()], [...want.dataSync()]);
  const back = swapHalves(y);
  assert.deepEqual([...back.dataSync()], [...x.dataSync()]);
  const odd = tf.zeros([2, 3]);
  assert.throws(() => swapHalves(odd), /last dim must be even, got shape \[2, 3\]/);
  tf.dispose([x, y, want, back, odd]);
});

test("batchedMatMul: every entry bit-identical to the backend's 2-D matmul, on the block sizes and every remainder", () => {
  const rng = new Rng(11);
  // Rows: 4-row blocks and 1-3 left over; columns: 8-wide panels, a 4-wide one and 1-3 left over; attention's shapes
  // and a Linear bias's gradient (ones [1, N] @ dy).
  const shapes = [[1, 1, 1, 1], [2, 4, 3, 8], [3, 5, 7, 9], [2, 6, 2, 12], [2, 7, 5, 15], [1, 3, 4, 4], [1, 2, 6, 3],
    [2, 55, 55, 32], [3, 55, 32, 55], [2, 16, 128, 32], [1, 39, 39, 32], [1, 64, 128, 256], [1, 1, 312, 128]];
  const before = tf.memory().numTensors;
  for (const [n, m, k, p] of shapes) {
    const a = tf.tensor3d(Array.from({ length: n * m * k }, () => rng.normal()), [n, m, k]);
    const b = tf.tensor3d(Array.from({ length: n * k * p }, () => rng.normal()), [n, k, p]);
    const got = batchedMatMul(a, b)!;
    assert.deepEqual(got.shape, [n, m, p]);
    const want = tf.tidy(() => {
      const bs = unstack0(b) as tf.Tensor2D[];
      return tf.stack((unstack0(a) as tf.Tensor2D[]).map((x, i) => tf.matMul(x, bs[i])));
    });
    const g = got.dataSync();
    const w = want.dataSync();
    const differ = g.findIndex((v, i) => v !== w[i]); // not even the last bit
    assert.equal(differ, -1, `[${n}, ${m}, ${k}] x [${n}, ${k}, ${p}]: element ${differ} is ${g[differ]}, XNNPACK's ${w[differ]}`);
    tf.dispose([a, b, got, want]);
  }
  assert.equal(tf.memory().numTensors, before);
  const a = tf.zeros([2, 3, 4]) as tf.Tensor3D;
  const b = tf.zeros([2, 5, 6]) as tf.Tensor3D;
  assert.throws(() => batchedMatMul(a, b), /operands do not match, got a \[2, 3, 4\] and b \[2, 5, 6\]/);
  tf.dispose([a, b]);
});
