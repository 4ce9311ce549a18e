// Feed-forward blocks: SwiGLU (Qwen2: gate_proj, up_proj, down_proj) and GELU (SigLIP: fc1, fc2).
import { tf } from "../core/backend.ts";
import type { Rng } from "../core/rng.ts";
import { Module } from "./module.ts";
import { Linear } from "./linear.ts";

/**
 * GELU, tanh approximation (SigLIP's gelu_pytorch_tanh), from plain ops so autodiff covers it. Written as
 * x * sigmoid(2u), which equals 0.5 * x * (1 + tanh(u)) exactly: sigmoid is 4x faster than tanh on wasm, and
 * x * x * x beats tf.pow (GELU's forward+backward 26 ms -> 13 ms on [784, 512]).
 */
export function geluTanh(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const u = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.mul(x, tf.mul(x, x)))));
    return tf.mul(x, tf.sigmoid(tf.mul(2, u)));
  });
}

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
