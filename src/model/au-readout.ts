// AU read-out tokens (ours; config.json "au_readout"): 16 more visual tokens after V, one per FACS AU of AU_NAMES.
// A linear head reads each AU's occurrence from V pooled over its tokens (V is made with the question as the prompt),
// and token k is LayerNorm(e_k + tanh(l_k / 2) u): a learnt identity e_k of AU k, moved along one direction u shared
// by all AUs as far as the head believes AU k occurs. The LLM then answers "Is AU12 active?" by finding AU12's token
// (a look-up by identity, what attention does well) and reading one direction, instead of learning, per AU, which
// direction of V holds it. Measured on the tiny recipe without it (session 16): the LLM's yes/no margin on AU
// questions followed a surprise-or-anger feature whatever AU was asked (AUC of the margin against the asked AU's
// presence 0.27-0.60 for AU6, AU9, AU10, AU12, AU15, AU17), though a linear probe per AU on pooled V read those AUs
// at 0.81-0.93 (scripts/au-probe.ts). The head is trained with the label heads' AU term (src/train/visual-aux.ts).
import { tf } from "../core/backend.ts";
import type { Rng } from "../core/rng.ts";
import { Module } from "../nn/module.ts";
import { Linear } from "../nn/linear.ts";
import { LayerNorm } from "../nn/norm.ts";
import { normal } from "../nn/init.ts";
import { AU_NAMES } from "../data/records.ts";

/** How many tokens the read-out adds: one per AU of AU_NAMES. */
export const AU_READOUT_TOKENS = AU_NAMES.length;

/** Parameter names: head.*, identity, direction, norm.*. */
export class AuReadout extends Module {
  readonly head: Linear;
  /** e_k, one row per AU [16, D]. */
  readonly identity: tf.Variable;
  /** u [1, D]. */
  readonly direction: tf.Variable;
  readonly norm: LayerNorm;

  constructor(
    readonly dim: number,
    rng: Rng | null,
  ) {
    super();
    this.head = this.addChild("head", new Linear(dim, AU_READOUT_TOKENS, rng?.fork("head") ?? null));
    // Unit scale, as LayerNorm makes V's other tokens: the identity and the presence weigh alike in the token.
    this.identity = this.addParam("identity", normal(rng?.fork("identity") ?? null, [AU_READOUT_TOKENS, dim], 1));
    this.direction = this.addParam("direction", normal(rng?.fork("direction") ?? null, [1, dim], 1));
    this.norm = this.addChild("norm", new LayerNorm(dim));
  }

  /** V [B, N, D] -> the AU tokens [B, 16, D] and the head's logits [B, 16] (AU_NAMES order). */
  forward(v: tf.Tensor): { tokens: tf.Tensor; logits: tf.Tensor } {
    return tf.tidy(() => {
      const logits = this.head.forward(tf.mean(v, 1)); // [B, 16]
      const presence = tf.tanh(tf.mul(logits, 0.5)).expandDims(2); // [B, 16, 1]
      const tokens = this.norm.forward(tf.add(this.identity.expandDims(0), tf.mul(presence, this.direction.expandDims(0)))); // [B, 16, D]
      return { tokens, logits };
    });
  }
}
