// The prompt representation of DESIGN 1: the question's token embeddings from the LLM's own embedding table
// (no second text encoder) with a padding mask. Each consumer (the CA² stack, each Q-Former, each weight adapter)
// owns a `Projection` to its own width, and pools with `maskedMean` where it needs one vector per sample.
import { tf } from "../../core/backend.ts";
import { FavchatError } from "../../core/errors.ts";
import type { Rng } from "../../core/rng.ts";
import { Module } from "../../nn/module.ts";
import { Linear } from "../../nn/linear.ts";
import { LayerNorm } from "../../nn/norm.ts";
import { attentionBias } from "../../nn/mask.ts";

/** The question, as the LLM sees it. */
export interface Prompt {
  /** Token embeddings [B, Tq, Dllm]. */
  readonly embeds: tf.Tensor;
  /** 1 for a real token, 0 for padding, per row (length Tq): what attention biases are built from. */
  readonly padding: readonly (readonly number[])[];
  /** The same mask as a tensor [B, Tq] (float32). */
  readonly mask: tf.Tensor;
}

/**
 * Wraps prompt embeddings [B, Tq, D] and their padding rows, checking that they agree and that every row has at
 * least one real token (an empty question would make every prompt-query attention a uniform average of padding).
 * The returned `mask` is a new tensor owned by the caller (dispose it with the embeddings).
 */
export function makePrompt(embeds: tf.Tensor, padding: readonly (readonly number[])[]): Prompt {
  const [B, Tq] = embeds.shape as number[];
  if (embeds.rank !== 3) throw new FavchatError(`prompt: expected embeddings [B, Tq, D], got [${embeds.shape.join(", ")}]`);
  if (padding.length !== B) throw new FavchatError(`prompt: ${padding.length} mask rows for a batch of ${B}; give one mask row per sample`);
  padding.forEach((row, b) => {
    if (row.length !== Tq) throw new FavchatError(`prompt: mask row ${b} has ${row.length} entries, the prompt ids have ${Tq}`);
    if (row.some((m) => m !== 0 && m !== 1)) throw new FavchatError(`prompt: mask row ${b} must hold only 0 and 1, got [${row.join(", ")}]`);
    if (!row.includes(1)) throw new FavchatError(`prompt: row ${b} has no real token (mask all 0); every sample needs a question`);
  });
  const mask = tf.tensor2d(padding as number[][], [B, Tq], "float32");
  return { embeds, padding, mask };
}

/** Mean of x [B, T, D] over the positions where mask [B, T] is 1 -> [B, D]. */
export function maskedMean(x: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const m = mask.expandDims(2); // [B, T, 1]
    const sum = tf.sum(tf.mul(x, m), 1); // [B, D]
    const count = tf.maximum(tf.sum(m, 1), 1); // [B, 1]; max(., 1) keeps an all-padding row finite
    return tf.div(sum, count);
  });
}

/**
 * Additive bias [B, 1, 1, lead + Tq] for attention whose keys are `lead` always-visible tokens followed by the prompt
 * tokens (padding masked). One query row broadcasts over every query.
 */
export function promptKeyBias(padding: readonly (readonly number[])[], lead = 0): tf.Tensor {
  const rows = padding.map((row) => [...new Array<number>(lead).fill(1), ...row]);
  return attentionBias({ queries: 1, keys: rows[0].length, causal: false, keyPadding: rows });
}

/**
 * LayerNorm then Linear: maps LLM-width vectors [..., Din] to a consumer's width [..., Dout]. The norm puts the raw
 * embedding table (whose scale depends on the checkpoint) on a fixed scale before the projection.
 */
export class Projection extends Module {
  readonly norm: LayerNorm;
  readonly proj: Linear;

  constructor(
    readonly inDim: number,
    readonly outDim: number,
    rng: Rng | null,
  ) {
    super();
    this.norm = this.addChild("norm", new LayerNorm(inDim));
    this.proj = this.addChild("proj", new Linear(inDim, outDim, rng));
  }

  /** [..., Din] -> [..., Dout]. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.proj.forward(this.norm.forward(x)));
  }
}
