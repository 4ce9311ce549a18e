// Shared bits of the prompt-module tests: seeded random inputs, a loss that weighs every output element
// differently (for gradient checks), parameter jitter (norm weights of 1 and biases of 0 hide bugs), and prompts.
import { tf } from "../../../src/core/backend.ts";
import { Rng } from "../../../src/core/rng.ts";
import type { Module } from "../../../src/nn/module.ts";
import { makePrompt, type Prompt } from "../../../src/model/prompt/prompt.ts";

export function randn(rng: Rng, shape: number[], std = 1): tf.Tensor {
  return tf.tensor(rng.normalArray(shape.reduce((a, b) => a * b, 1), std), shape, "float32");
}

/** sum(y * w) with a fixed random w: every output element reaches the loss with its own weight. */
export function projected(y: tf.Tensor, seed: number): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.mul(y, tf.tensor(new Rng(seed).normalArray(y.size), y.shape))) as tf.Scalar);
}

export function jitter(module: Module, rng: Rng, std = 0.3): void {
  for (const p of module.namedParams().values()) {
    tf.tidy(() => p.variable.assign(tf.add(p.variable, tf.tensor(rng.normalArray(p.variable.size, std), p.variable.shape))));
  }
}

/** Random prompt embeddings [B, Tq, D] with the given padding rows. */
export function randomPrompt(rng: Rng, padding: number[][], dim: number): Prompt {
  return makePrompt(randn(rng, [padding.length, padding[0].length, dim]), padding);
}

export function disposePrompt(p: Prompt): void {
  tf.dispose([p.embeds, p.mask]);
}

/** Largest |a - b| over two same-shaped tensors. */
export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}
