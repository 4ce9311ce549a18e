// Gradient handling between backward and the optimizer step: global-norm clipping and accumulation
// over micro-batches. Gradients travel as Map<name, tf.Tensor>; whoever holds the map owns its
// tensors, and every function here disposes each tensor it replaces.
import * as tf from "@tensorflow/tfjs";
import { check } from "../core/errors.ts";
import { fusedSumOfSquares } from "../core/wasm-adamw.ts";

export type GradMap = Map<string, tf.Tensor>;

/** tf.variableGrads' `grads` object as a GradMap (same tensors: ownership moves to the map). */
export function toGradMap(grads: tf.NamedTensorMap): GradMap {
  return new Map(Object.entries(grads));
}

/** tf.variableGrads keys gradients by tf variable name; this re-keys them by the checkpoint names in `trainable`. */
export function namedGrads(grads: tf.NamedTensorMap, trainable: ReadonlyMap<string, tf.Variable>): GradMap {
  const byVar = new Map([...trainable].map(([name, v]) => [v.name, name]));
  return new Map(Object.entries(grads).map(([k, g]) => [byVar.get(k) ?? k, g]));
}

/** sqrt of the sum of squares of every element of every gradient, read back as a number. */
export function globalNorm(grads: ReadonlyMap<string, tf.Tensor>): number {
  if (grads.size === 0) return 0;
  // On wasm: one pass per tensor over its memory, accumulated in float64 (src/core/adamw.wat's sumsq).
  const fused = fusedSumOfSquares(grads.values());
  if (fused !== null) return Math.sqrt(fused);
  // Sum of per-tensor squared norms: one small reduction per tensor, one read-back in all.
  const total = tf.tidy(() => tf.sqrt(tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g))))));
  const norm = total.dataSync()[0];
  total.dispose();
  return norm;
}

/**
 * The global norm of `grads` times `scale` (e.g. a sum over micro-batches and 1 / their count) and the factor
 * clipping would scale those by (torch's clip_grad_norm_: maxNorm / (norm + 1e-6) when that is below 1, else 1),
 * without scaling anything: pass factor * scale to AdamW.step, which applies it in the same pass as the update.
 * A non-finite norm gives factor 1 (the caller should skip that step).
 */
export function clipFactor(grads: ReadonlyMap<string, tf.Tensor>, maxNorm: number, scale = 1): { norm: number; factor: number } {
  check(maxNorm > 0 && Number.isFinite(maxNorm), `gradient clipping maxNorm must be a positive number, got ${maxNorm}`);
  const norm = globalNorm(grads) * scale;
  if (!Number.isFinite(norm)) return { norm, factor: 1 };
  return { norm, factor: Math.min(1, maxNorm / (norm + 1e-6)) };
}

/**
 * Scales all gradients in place so that their global norm is at most `maxNorm` (torch's
 * clip_grad_norm_: factor maxNorm / (norm + 1e-6) when that is below 1). Returns the norm before
 * clipping. A non-finite norm leaves the gradients untouched: the caller should skip that step
 * (scaling by NaN would poison every parameter) and report it.
 */
export function clipByGlobalNorm(grads: GradMap, maxNorm: number): number {
  const { norm, factor } = clipFactor(grads, maxNorm);
  if (factor >= 1) return norm;
  for (const [name, g] of grads) {
    grads.set(name, tf.mul(g, factor));
    g.dispose();
  }
  return norm;
}

/**
 * Sums gradients over micro-batches, then scales once (sum-then-scale keeps one rounding of the
 * scale, and lets a token-level loss pass 1/total_tokens instead of 1/micro_batches).
 * Usage: for each micro-batch `acc.add(toGradMap(tf.variableGrads(loss).grads))`; then
 * `const grads = acc.finish()`; optimizer step; dispose grads.
 */
export class GradAccumulator {
  private sum: GradMap = new Map();
  private added = 0;

  /** Micro-batches added since the last finish(). */
  get count(): number {
    return this.added;
  }

  /**
   * Adds one micro-batch's gradients and takes ownership of them (they are disposed here, or
   * kept as the running sum). A name absent from earlier micro-batches (a branch unused so far)
   * starts its own sum.
   */
  add(grads: ReadonlyMap<string, tf.Tensor>): void {
    // Check every shape before touching anything, so a rejected micro-batch leaves the sum intact.
    for (const [name, g] of grads) {
      const prev = this.sum.get(name);
      check(
        prev === undefined || (prev.shape.length === g.shape.length && prev.shape.every((d, i) => d === g.shape[i])),
        () => `GradAccumulator.add: gradient "${name}" has shape [${g.shape}], earlier micro-batches had [${prev!.shape}]`,
      );
    }
    for (const [name, g] of grads) {
      const prev = this.sum.get(name);
      if (prev === undefined) {
        this.sum.set(name, g);
        continue;
      }
      this.sum.set(name, tf.add(prev, g));
      prev.dispose();
      g.dispose();
    }
    this.added += 1;
  }

  /**
   * The accumulated gradients times `scale` (default 1 / count: the mean over micro-batches).
   * The caller owns the returned tensors; the accumulator is empty again.
   */
  finish(scale: number = 1 / this.added): GradMap {
    check(this.added > 0, "GradAccumulator.finish: no micro-batch was added since the last finish()");
    check(Number.isFinite(scale), `GradAccumulator.finish: scale must be a finite number, got ${scale}`);
    const out = this.sum;
    if (scale !== 1) {
      for (const [name, g] of out) {
        out.set(name, tf.mul(g, scale));
        g.dispose();
      }
    }
    this.sum = new Map();
    this.added = 0;
    return out;
  }

  /** Drops a partial accumulation (e.g. a micro-batch failed and the step is abandoned). */
  dispose(): void {
    tf.dispose([...this.sum.values()]);
    this.sum = new Map();
    this.added = 0;
  }
}
