// LayerNorm (SigLIP, Q-Former) and RMSNorm (Qwen2), over the last dimension, written with plain ops so
// autodiff covers them on every backend.
import { tf } from "../core/backend.ts";
import { Module } from "./module.ts";
import { ones, zeros } from "./init.ts";

export class LayerNorm extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    readonly dim: number,
    readonly eps = 1e-5,
  ) {
    super();
    this.weight = this.addParam("weight", ones([dim]));
    this.bias = this.addParam("bias", zeros([dim]));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const mean = tf.mean(x, -1, true); // [..., 1]
      const centered = tf.sub(x, mean);
      const variance = tf.mean(tf.square(centered), -1, true); // [..., 1]
      const normed = tf.mul(centered, tf.rsqrt(tf.add(variance, this.eps)));
      return tf.add(tf.mul(normed, this.weight), this.bias);
    });
  }
}

export class RMSNorm extends Module {
  readonly weight: tf.Variable;

  constructor(
    readonly dim: number,
    readonly eps = 1e-6,
  ) {
    super();
    this.weight = this.addParam("weight", ones([dim]));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const ms = tf.mean(tf.square(x), -1, true); // [..., 1]
      return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, this.eps))), this.weight);
    });
  }
}
