// A full training step from tf ops (forward, backward per micro-batch, accumulation, global-norm
// clipping, schedule, AdamW) repeated 100 times: the live tensor count must stay flat, and the
// model must actually learn (so the loop measured is a real one).
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { initBackend, tf } from "../../src/core/backend.ts";
import { Rng } from "../../src/core/rng.ts";
import { AdamW } from "../../src/train/optimizer.ts";
import { lrAt, resolveCosineSchedule } from "../../src/train/schedule.ts";
import { clipByGlobalNorm, GradAccumulator, toGradMap } from "../../src/train/gradients.ts";
import { trackTensorCount } from "../helpers/tensor_count.ts";

before(async () => {
  await initBackend("wasm");
});

test("100 training steps of a small classifier: tensor count flat, loss falls", async () => {
  const rng = new Rng(2024);
  const [B, D, Hd, C, micro] = [16, 8, 32, 4, 2]; // batch, input width, hidden, classes, micro-batches
  const init = (shape: number[], std: number) => tf.tensor(rng.normalArray(shape.reduce((a, b) => a * b, 1), std), shape);
  const params = new Map<string, tf.Variable>([
    ["fc1.weight", tf.variable(init([D, Hd], 0.3), true, "fc1.weight")],
    ["fc1.bias", tf.variable(tf.zeros([Hd]), true, "fc1.bias")],
    ["norm.weight", tf.variable(tf.ones([Hd]), true, "norm.weight")],
    ["fc2.weight", tf.variable(init([Hd, C], 0.3), true, "fc2.weight")],
  ]);
  const p = (n: string) => params.get(n)!;
  // A fixed task: the label is the argmax of a random linear map of the input.
  const x = init([B, D], 1);
  const labels = tf.tidy(() => tf.oneHot(tf.argMax(tf.matMul(x, init([D, C], 1)), 1), C).toFloat());
  const loss = (xs: tf.Tensor, ys: tf.Tensor) => (): tf.Scalar =>
    tf.tidy(() => {
      const h = tf.relu(tf.add(tf.matMul(xs, p("fc1.weight")), p("fc1.bias"))); // [b, Hd]
      const { variance } = tf.moments(h, -1, true);
      const hn = tf.mul(tf.div(h, tf.sqrt(tf.add(variance, 1e-5))), p("norm.weight")); // RMS-style norm
      const logits = tf.matMul(hn, p("fc2.weight")); // [b, C]
      return tf.neg(tf.mean(tf.sum(tf.mul(ys, tf.logSoftmax(logits)), -1))) as tf.Scalar;
    });

  const opt = new AdamW(params, { weightDecay: 0.01 });
  const schedule = resolveCosineSchedule({ baseLr: 3e-2, warmupSteps: 10, totalSteps: 101, minLrRatio: 0.1 });
  const acc = new GradAccumulator();
  const losses: number[] = [];
  const norms: number[] = [];
  const varList = [...params.values()];
  const step = (i: number) => {
    let total = 0;
    for (let k = 0; k < micro; k++) {
      const b = B / micro;
      const xs = x.slice([k * b, 0], [b, D]), ys = labels.slice([k * b, 0], [b, C]);
      const { value, grads } = tf.variableGrads(loss(xs, ys), varList);
      total += value.dataSync()[0] / micro;
      acc.add(toGradMap(grads));
      tf.dispose([value, xs, ys]);
    }
    const grads = acc.finish();
    norms.push(clipByGlobalNorm(grads, 1.0));
    opt.step(grads, lrAt(i, schedule));
    tf.dispose([...grads.values()]);
    losses.push(total);
  };

  const report = await trackTensorCount(step, { warmup: 1, steps: 100 });
  assert.ok(report.flat, report.message);
  assert.ok(losses[100] < 0.3 * losses[0], `loss should fall: ${losses[0].toFixed(3)} -> ${losses[100].toFixed(3)}`);
  assert.ok(norms.slice(0, 5).some((n) => n > 1), "clipping should be active early on (else this test misses it)");
  assert.equal(opt.stepOf("fc1.weight"), 101);

  opt.dispose();
  tf.dispose([...varList, x, labels]);
});

test("the tracker itself reports a leak", async () => {
  const kept: tf.Tensor[] = [];
  const report = await trackTensorCount(() => void kept.push(tf.ones([3])), { steps: 10 });
  assert.equal(report.flat, false);
  assert.match(report.message, /live tensors went from \d+ to \d+ \(1.00 per step\) and bytes from \d+ to \d+ over 10 steps/);
  tf.dispose(kept);
});
