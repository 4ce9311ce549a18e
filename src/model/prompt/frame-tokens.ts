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
 * With `flatten` = P (ca2_config.frame_tokens, ours), the MLP reads each frame's P tokens as one vector [P*Din] and
 * gives one token per frame: [B*F, P, Din] -> [B, F, Dout]. Each input position keeps its own weights, so the face's
 * layout survives (where on the face a feature fires is what tells an AU), which attention over per-position tokens
 * without a spatial embedding loses. Measured on cached features of the tiny recipe's encoders (visual_emotion_acc
 * of the label heads on V after 400 connector steps): 0.45 with frame tokens, 0.37 with per-position tokens.
 * With `deltas` (ca2_config.frame_deltas, ours; needs flatten), the MLP reads [x_f, x_f - mean_t x_t]: the frame and
 * how it differs from the clip's mean frame, i.e. the expression with the person's appearance taken out. Why: encoders
 * pretrained with attribute_weight 4 carry appearance so strongly that, with the frame alone, the label heads on V read
 * emotion at 0.41 / 0.33 after 400 / 500 connector steps (session 21's encoders: 0.69 / 0.69), while a linear probe on
 * the same features' largest deviation from the first frame reads it at 0.76 on held-out identities (frame mean:
 * 0.65). With the deltas: 0.55 / 0.48, and 0.77 after the recipe's 1,500 steps (session 23).
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
    /** 0: one token per position; P: the frame's P tokens flattened into one. */
    readonly flatten = 0,
    /** With flatten: also read each frame's difference from the clip's mean frame. */
    readonly deltas = false,
  ) {
    super();
    if (deltas && flatten === 0) throw new Error("FrameTokenProjector: deltas need flattened frame tokens");
    this.fc1 = this.addChild("fc1", new Linear(inDim * Math.max(1, flatten) * (deltas ? 2 : 1), outDim, rng));
    this.fc2 = this.addChild("fc2", new Linear(outDim, outDim, rng));
    this.temporal = this.addParam("temporal_embedding", normal(rng, [maxFrames, outDim], 0.02));
  }

  /** block [B*F, P, Din] -> [B, F*P, Dout] (or [B, F, Dout] when flattening). */
  forward(block: tf.Tensor, batch: number, frames: number): tf.Tensor {
    const [N, P, D] = block.shape as number[];
    if (block.rank !== 3 || D !== this.inDim || (this.flatten > 0 && P !== this.flatten)) {
      const want = this.flatten > 0 ? `[N, ${this.flatten}, ${this.inDim}]` : `[N, P, ${this.inDim}]`;
      throw new Error(`FrameTokenProjector(${this.inDim}->${this.outDim}): expected block ${want}, got [${block.shape.join(", ")}]`);
    }
    return tf.tidy(() => {
      let x = this.flatten > 0 ? block.reshape([N, 1, P * D]) : block; // [B*F, P', Din'] with P' = 1 when flattening
      if (this.deltas) {
        if (N !== batch * frames) throw new Error(`FrameTokenProjector: ${N} frames' blocks for ${batch} clips of ${frames}`);
        const clip = x.reshape([batch, frames, P * D]); // [B, F, P*D]
        const delta = clip.sub(tf.mean(clip, 1, true)); // [B, F, P*D]
        x = tf.concat([clip, delta], 2).reshape([N, 1, 2 * P * D]); // [B*F, 1, 2*P*D]
      }
      const h = this.fc2.forward(geluTanh(this.fc1.forward(x))); // [B*F, P', Dout]
      return addTemporalEmbedding(h, this.temporal, batch, frames, "FrameTokenProjector"); // [B, F*P', Dout]
    });
  }
}
