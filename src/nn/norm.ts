// LayerNorm (SigLIP, Q-Former) and RMSNorm (Qwen2), over the last dimension, each with an explicit gradient made
// of plain ops, so it runs on every backend.
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
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}

/**
 * (x - mean) / sqrt(var + eps) * weight + bias over the last dimension, with an explicit gradient: with
 * xhat = (x - mean) * r, r = 1 / sqrt(var + eps) and g = dy * weight, dx = r * (g - mean(g) - xhat * mean(g * xhat)),
 * dW = sum(dy * xhat), db = sum(dy). Fewer full-size ops than autodiff's backward, which matters where LayerNorm
 * runs on many positions (the facial encoder's conv stem normalises every pixel).
 */
export function layerNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps: number): tf.Tensor {
  // customGrad's typing wants (...inputs: (Tensor | GradSaveFunc)[]); the cast keeps the signature readable.
  const f = tf.customGrad(((xi: tf.Tensor, w: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const centered = tf.sub(xi, tf.mean(xi, -1, true));
    const r = tf.rsqrt(tf.add(tf.mean(tf.square(centered), -1, true), eps)); // [..., 1]
    const xhat = tf.mul(centered, r); // [..., D]
    save([xhat, r, w]);
    return {
      value: tf.add(tf.mul(xhat, w), b),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xh, rs, ws] = saved;
        const D = ws.shape[0] as number;
        const dy2 = tf.reshape(dy, [-1, D]);
        const dw = tf.sum(tf.mul(dy2, tf.reshape(xh, [-1, D])), 0); // [D]
        const db = tf.sum(dy2, 0); // [D]
        const g = tf.mul(dy, ws); // [..., D]
        const inner = tf.add(tf.mean(g, -1, true), tf.mul(xh, tf.mean(tf.mul(g, xh), -1, true))); // [..., D]
        return [tf.mul(tf.sub(g, inner), rs), dw, db];
      },
    };
  }) as any) as (xi: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor;
  return f(x, weight, bias);
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
    return rmsNorm(x, this.weight, this.eps);
  }
}

/**
 * x [..., D] / sqrt(mean(x^2) + eps) * weight [D], with an explicit gradient: with xhat = x * r and
 * r = 1 / sqrt(mean(x^2) + eps), dW = sum(dy * xhat) and dx = r * (g - xhat * mean(g * xhat)) for g = dy * W.
 * About half the full-size ops of autodiff's backward (which expands the mean's gradient to [..., D]).
 */
export function rmsNorm(x: tf.Tensor, weight: tf.Tensor, eps: number): tf.Tensor {
  // customGrad's typing wants (...inputs: (Tensor | GradSaveFunc)[]); the cast keeps the signature readable.
  const f = tf.customGrad(((xi: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
    const r = tf.rsqrt(tf.add(tf.mean(tf.square(xi), -1, true), eps)); // [..., 1]
    const xhat = tf.mul(xi, r); // [..., D]
    save([xhat, r, w]);
    return {
      value: tf.mul(xhat, w),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xh, rs, ws] = saved;
        const D = ws.shape[0] as number;
        const dw = tf.sum(tf.reshape(tf.mul(dy, xh), [-1, D]), 0); // [D]
        const g = tf.mul(dy, ws); // [..., D]
        const dx = tf.mul(tf.sub(g, tf.mul(xh, tf.mean(tf.mul(g, xh), -1, true))), rs); // [..., D]
        return [dx, dw];
      },
    };
  }) as any) as (xi: tf.Tensor, w: tf.Tensor) => tf.Tensor;
  return f(x, weight);
}
