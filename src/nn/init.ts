// Parameter initialisers, all drawn from a seeded Rng (STYLE.md 4). A null Rng means "allocate only":
// building a model to load a checkpoint into should not spend seconds drawing random numbers.
import { tf } from "../core/backend.ts";
import type { Rng } from "../core/rng.ts";

/** Normal(0, std^2) from `rng`; zeros when rng is null (the weights are about to be loaded from a checkpoint). */
export function normal(rng: Rng | null, shape: number[], std: number): tf.Tensor {
  if (rng === null) return tf.zeros(shape, "float32");
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(rng.normalArray(n, std), shape, "float32");
}

export function zeros(shape: number[]): tf.Tensor {
  return tf.zeros(shape, "float32");
}

export function ones(shape: number[]): tf.Tensor {
  return tf.ones(shape, "float32");
}
