// conv3x3 (src/nn/conv.ts): forward against tf.conv2d with padding 1, the input gradient against conv2d's own
// (Conv2DBackpropInput), and the filter gradient, which wasm has no kernel for, against the gradient of an im2col
// matmul written out here (nine shifted copies of the input, concatenated, times the weight).
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { initBackend, tf } from "../../src/core/backend.ts";
import { Rng } from "../../src/core/rng.ts";
import { conv3x3 } from "../../src/nn/conv.ts";
import { trackTensorCount } from "../helpers/tensor_count.ts";

before(async () => {
  await initBackend("wasm");
});

/** The reference: x [N, H, W, C] -> every output pixel's 3x3 neighbourhood [N, H/s, W/s, 9C], by plain slices. */
function im2col(x: tf.Tensor, stride: 1 | 2): tf.Tensor {
  const [N, H, W, C] = x.shape as number[];
  const padded = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]);
  const taps: tf.Tensor[] = [];
  for (let dy = 0; dy < 3; dy++) {
    for (let dx = 0; dx < 3; dx++) {
      const window = tf.slice(padded, [0, dy, dx, 0], [N, H, W, C]);
      taps.push(stride === 1 ? window : tf.slice(window.reshape([N, H / 2, 2, W / 2, 2, C]), [0, 0, 0, 0, 0, 0], [N, H / 2, 1, W / 2, 1, C]).reshape([N, H / 2, W / 2, C]));
    }
  }
  return tf.concat(taps, 3);
}

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

for (const stride of [1, 2] as const) {
  test(`stride ${stride}: forward, input gradient and filter gradient match conv2d and an im2col matmul`, () => {
    const rng = new Rng(20 + stride);
    const [N, H, W, C, O] = [2, 8, 6, 5, 7];
    const x = tf.tensor(rng.normalArray(N * H * W * C, 1), [N, H, W, C]);
    const weight = tf.tensor(rng.normalArray(9 * C * O, 1), [9 * C, O]);
    const bias = tf.tensor(rng.normalArray(O, 1), [O]);
    const [Ho, Wo] = [H / stride, W / stride];
    const g = tf.tensor(rng.normalArray(N * Ho * Wo * O, 1), [N, Ho, Wo, O]); // upstream gradient
    const ours = (v: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(g, conv3x3(v, w, bias, stride)));
    const ref = (v: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(g, tf.add(tf.matMul(im2col(v, stride).reshape([-1, 9 * C]), w).reshape([N, Ho, Wo, O]), bias)));
    const conv2d = (v: tf.Tensor) => tf.add(tf.conv2d(v as tf.Tensor4D, weight.reshape([3, 3, C, O]) as tf.Tensor4D, stride, [[0, 0], [1, 1], [1, 1], [0, 0]]), bias);
    const y = conv3x3(x, weight, bias, stride);
    assert.deepEqual(y.shape, [N, Ho, Wo, O]);
    assert.ok(maxDiff(y, conv2d(x)) < 1e-4, `forward vs conv2d: ${maxDiff(y, conv2d(x))}`);
    const [dx, dw] = tf.grads(ours)([x, weight]);
    const [dxRef, dwRef] = tf.grads(ref)([x, weight]);
    const dxConv = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(g, conv2d(v))))(x);
    assert.ok(maxDiff(dx, dxConv) < 1e-4, `input gradient vs conv2d's: ${maxDiff(dx, dxConv)}`);
    assert.ok(maxDiff(dx, dxRef) < 1e-4, `input gradient vs im2col's: ${maxDiff(dx, dxRef)}`);
    assert.ok(maxDiff(dw, dwRef) < 1e-3, `filter gradient vs im2col's: ${maxDiff(dw, dwRef)}`);
    tf.dispose([x, weight, bias, g, y, dx, dw, dxRef, dwRef, dxConv]);
  });
}

test("errors name the shapes; repeated forward + backward leaks no tensors", async () => {
  assert.throws(() => conv3x3(tf.zeros([1, 4, 4, 3]), tf.zeros([9 * 2, 4]), null, 1), /conv3x3: input \[1, 4, 4, 3\] needs a \[27, O\] weight, got \[18, 4\]/);
  assert.throws(() => conv3x3(tf.zeros([1, 7, 8, 3]), tf.zeros([27, 4]), null, 2), /needs an even input size, got 7x8/);
  const x = tf.randomNormal([2, 8, 8, 3]);
  const w = tf.variable(tf.randomNormal([27, 4]));
  const report = await trackTensorCount(() => {
    const { value, grads } = tf.variableGrads(() => tf.sum(conv3x3(conv3x3(x, w, null, 1).slice([0, 0, 0, 0], [2, 8, 8, 3]), w, null, 2)) as tf.Scalar, [w]);
    tf.dispose([value, ...Object.values(grads)]);
  }, { warmup: 2, steps: 10 });
  assert.ok(report.flat, report.message);
  tf.dispose([x, w]);
});
