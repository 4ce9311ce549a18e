// Shared by the encoder tests: random pixels, and the parameters a finite-difference check should skip.
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../../src/core/rng.ts";

/**
 * A key-projection bias adds the same amount to every score of a query, which softmax cancels: its true gradient
 * is exactly 0, so a finite difference there compares float32 noise with 0. Checked everywhere else.
 */
export function withoutKeyBias(vars: Map<string, tf.Variable>): Map<string, tf.Variable> {
  return new Map([...vars].filter(([n]) => !n.endsWith("self_attn.k_proj.bias")));
}

export function randomPixels(rng: Rng, shape: number[]): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => rng.next()), shape, "float32");
}
