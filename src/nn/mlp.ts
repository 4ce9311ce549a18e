// Feed-forward blocks: SwiGLU (Qwen2: gate_proj, up_proj, down_proj) and GELU (SigLIP: fc1, fc2).
import { tf } from "../core/backend.ts";
import type { Rng } from "../core/rng.ts";
import { Module } from "./module.ts";
import { Linear } from "./linear.ts";

/**
 * GELU, tanh approximation (SigLIP's gelu_pytorch_tanh), written as x * sigmoid(2u), u = c (x + a x^3), which
 * equals 0.5 * x * (1 + tanh(u)) exactly: sigmoid is 4x faster than tanh on wasm, and x * x * x beats tf.pow (GELU's
 * forward+backward 26 ms -> 13 ms on [784, 512]). Explicit gradient: dy * (s + 2 c x s (1 - s) (1 + 3 a x^2)) with
 * s = sigmoid(2u), fewer full-size ops than autodiff's.
 */
export function geluTanh(x: tf.Tensor): tf.Tensor {
  return GELU(x);
}

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;
// customGrad's typing wants (...inputs: (Tensor | GradSaveFunc)[]); the cast keeps the signature readable.
const GELU = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const x2 = tf.square(x);
  const s = tf.sigmoid(tf.mul(tf.mul(x, tf.add(1, tf.mul(GELU_A, x2))), 2 * GELU_C)); // sigmoid(2u)
  save([x, x2, s]);
  return {
    value: tf.mul(x, s),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, sq, sg] = saved;
      const slope = tf.mul(tf.mul(xs, tf.sub(sg, tf.square(sg))), tf.add(2 * GELU_C, tf.mul(6 * GELU_C * GELU_A, sq))); // 2c x s(1-s)(1+3a x^2)
      return [tf.mul(dy, tf.add(sg, slope))];
    },
  };
}) as any) as (x: tf.Tensor) => tf.Tensor;

export function silu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.sigmoid(x)));
}

export class SwiGLU extends Module {
  readonly gate: Linear;
  readonly up: Linear;
  readonly down: Linear;

  constructor(dim: number, hidden: number, rng: Rng | null) {
    super();
    this.gate = this.addChild("gate_proj", new Linear(dim, hidden, rng, { bias: false }));
    this.up = this.addChild("up_proj", new Linear(dim, hidden, rng, { bias: false }));
    this.down = this.addChild("down_proj", new Linear(hidden, dim, rng, { bias: false }));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.down.forward(tf.mul(silu(this.gate.forward(x)), this.up.forward(x))));
  }
}

export class GeluMLP extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(dim: number, hidden: number, rng: Rng | null) {
    super();
    this.fc1 = this.addChild("fc1", new Linear(dim, hidden, rng));
    this.fc2 = this.addChild("fc2", new Linear(hidden, dim, rng));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.fc2.forward(geluTanh(this.fc1.forward(x))));
  }
}
