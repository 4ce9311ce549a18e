// The high level of DESIGN 1: two weight adapters, each an MLP from (pooled branch tokens, pooled prompt) to a
// logit; a softmax over the two gives per-sample weights [w_g, w_f] (summing to 1), and the fused visual tokens are
// V = LayerNorm(w_g F_g + w_f F_f). Ablations: fixed 0.5/0.5 weights (no adapters), or no face branch (w = [1, 0]).
import { tf } from "../../core/backend.ts";
import type { Rng } from "../../core/rng.ts";
import { Module } from "../../nn/module.ts";
import { Linear } from "../../nn/linear.ts";
import { LayerNorm } from "../../nn/norm.ts";
import { geluTanh } from "../../nn/mlp.ts";
import { Projection, maskedMean, type Prompt } from "./prompt.ts";

export interface AdapterConfig {
  /** Hidden width of each adapter's MLP. */
  readonly hidden: number;
}

export const ADAPTER_DEFAULTS: AdapterConfig = { hidden: 64 };

/** logit = out(gelu(branch_proj(mean_Q F) + prompt_proj(masked mean of the prompt))): a two-input MLP. */
export class WeightAdapter extends Module {
  readonly branchProj: Projection;
  readonly promptProj: Projection;
  readonly out: Linear;

  constructor(dim: number, config: AdapterConfig, rng: Rng | null) {
    super();
    this.branchProj = this.addChild("branch_proj", new Projection(dim, config.hidden, rng));
    this.promptProj = this.addChild("prompt_proj", new Projection(dim, config.hidden, rng));
    this.out = this.addChild("out", new Linear(config.hidden, 1, rng));
  }

  /** tokens [B, Q, D] and the pooled prompt [B, D] -> logits [B, 1]. */
  forward(tokens: tf.Tensor, pooledPrompt: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const pooled = tf.mean(tokens, 1); // [B, D]
      const h = geluTanh(tf.add(this.branchProj.forward(pooled), this.promptProj.forward(pooledPrompt))); // [B, Dh]
      return this.out.forward(h); // [B, 1]
    });
  }
}

export type FusionMode = "adapters" | "fixed" | "general-only";

/** Branch weights and fusion. Parameter names: adapter_g.*, adapter_f.* (mode "adapters" only), norm.*. */
export class BranchFusion extends Module {
  readonly adapterG: WeightAdapter | null;
  readonly adapterF: WeightAdapter | null;
  readonly norm: LayerNorm;

  constructor(
    readonly dim: number,
    readonly mode: FusionMode,
    config: AdapterConfig,
    rng: Rng | null,
  ) {
    super();
    const withAdapters = mode === "adapters";
    this.adapterG = withAdapters ? this.addChild("adapter_g", new WeightAdapter(dim, config, rng)) : null;
    this.adapterF = withAdapters ? this.addChild("adapter_f", new WeightAdapter(dim, config, rng)) : null;
    this.norm = this.addChild("norm", new LayerNorm(dim));
  }

  /**
   * F_g [B, Q, D], F_f [B, Q, D] (null in "general-only" mode) and the prompt -> V [B, Q, D] and the weights
   * [B, 2] as [w_g, w_f] per row.
   */
  forward(fg: tf.Tensor, ff: tf.Tensor | null, prompt: Prompt): { tokens: tf.Tensor; weights: tf.Tensor } {
    const B = fg.shape[0] as number;
    if ((ff === null) !== (this.mode === "general-only")) {
      throw new Error(`BranchFusion: mode "${this.mode}" ${ff ? "takes no face tokens" : "needs the face tokens"}`);
    }
    if (ff && (ff.rank !== 3 || ff.shape.some((d, i) => d !== fg.shape[i]))) {
      throw new Error(`BranchFusion: F_g [${fg.shape.join(", ")}] and F_f [${ff.shape.join(", ")}] must have the same shape`);
    }
    return tf.tidy(() => {
      let weights: tf.Tensor; // [B, 2]
      if (this.adapterG && this.adapterF && ff) {
        const pooledPrompt = maskedMean(prompt.embeds, prompt.mask); // [B, D]
        const logits = tf.concat([this.adapterG.forward(fg, pooledPrompt), this.adapterF.forward(ff, pooledPrompt)], 1); // [B, 2]
        weights = tf.softmax(logits, -1);
      } else {
        const row = ff ? [0.5, 0.5] : [1, 0];
        weights = tf.tensor2d(Array.from({ length: B }, () => row), [B, 2], "float32");
      }
      const wg = tf.slice(weights, [0, 0], [B, 1]).reshape([B, 1, 1]); // [B, 1, 1]
      let mixed = tf.mul(fg, wg); // [B, Q, D]
      if (ff) mixed = mixed.add(tf.mul(ff, tf.slice(weights, [0, 1], [B, 1]).reshape([B, 1, 1])));
      return { tokens: this.norm.forward(mixed), weights };
    });
  }
}
