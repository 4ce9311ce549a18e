// Per-frame encoder tokens [B*F, P, D] made into one video sequence [B, F*P, D] with a learned temporal position
// embedding per frame (DESIGN 1: the general branch's tokens, and the W_i = MLP_i(block_i) that CA² reads).
import { tf } from "../../core/backend.ts";
import { FavchatError } from "../../core/errors.ts";
import type { Rng } from "../../core/rng.ts";
import { Module } from "../../nn/module.ts";
import { Linear } from "../../nn/linear.ts";
import { geluTanh } from "../../nn/mlp.ts";
import { normal } from "../../nn/init.ts";

/** tokens [B*F, P, D] plus table[f] on frame f's tokens -> [B, F*P, D]. */
export function addTemporalEmbedding(tokens: tf.Tensor, table: tf.Tensor, batch: number, frames: number, where: string): tf.Tensor {
  const [N, P, D] = tokens.shape as number[];
  const [maxFrames, Dt] = table.shape as number[];
  if (tokens.rank !== 3 || N !== batch * frames || D !== Dt) {
    throw new Error(`${where}: expected tokens [${batch}*${frames}, P, ${Dt}], got [${tokens.shape.join(", ")}]`);
  }
  if (frames > maxFrames) {
    throw new FavchatError(`${where}: ${frames} frames but the model's temporal embedding covers ${maxFrames}; sample at most ${maxFrames} frames`);
  }
  return tf.tidy(() => {
    const perFrame = tf.slice(table, [0, 0], [frames, D]).reshape([1, frames, 1, D]); // [1, F, 1, D]
    const x = tokens.reshape([batch, frames, P, D]).add(perFrame); // [B, F, P, D]
    return x.reshape([batch, frames * P, D]); // [B, F*P, D]
  });
}

/**
 * MLP_i of DESIGN 1: one facial-encoder block's tokens [B*F, P, Din] -> [B, F*P, Dout], two linear layers with
 * GELU between, then the temporal embedding (its own table, as each block's features live in their own space).
 */
export class FrameTokenProjector extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly temporal: tf.Variable; // [maxFrames, Dout]

  constructor(
    readonly inDim: number,
    readonly outDim: number,
    readonly maxFrames: number,
    rng: Rng | null,
  ) {
    super();
    this.fc1 = this.addChild("fc1", new Linear(inDim, outDim, rng));
    this.fc2 = this.addChild("fc2", new Linear(outDim, outDim, rng));
    this.temporal = this.addParam("temporal_embedding", normal(rng, [maxFrames, outDim], 0.02));
  }

  /** block [B*F, P, Din] -> [B, F*P, Dout]. */
  forward(block: tf.Tensor, batch: number, frames: number): tf.Tensor {
    const D = block.shape[2];
    if (block.rank !== 3 || D !== this.inDim) {
      throw new Error(`FrameTokenProjector(${this.inDim}->${this.outDim}): expected block [N, P, ${this.inDim}], got [${block.shape.join(", ")}]`);
    }
    return tf.tidy(() => {
      const h = this.fc2.forward(geluTanh(this.fc1.forward(block))); // [B*F, P, Dout]
      return addTemporalEmbedding(h, this.temporal, batch, frames, "FrameTokenProjector"); // [B, F*P, Dout]
    });
  }
}
