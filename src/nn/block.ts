// A pre-norm transformer encoder block with SigLIP's names (layer_norm1, self_attn, layer_norm2, mlp),
// the building block of the vision tower and the Q-Formers. The Qwen2 decoder layer lives in model/llm.
import type { tf } from "../core/backend.ts";
import type { Rng } from "../core/rng.ts";
import { Module } from "./module.ts";
import { LayerNorm } from "./norm.ts";
import { Attention } from "./attention.ts";
import { GeluMLP } from "./mlp.ts";

export interface BlockConfig {
  readonly dim: number;
  readonly numHeads: number;
  readonly mlpDim: number;
  readonly eps?: number;
}

export class TransformerBlock extends Module {
  readonly norm1: LayerNorm;
  readonly attn: Attention;
  readonly norm2: LayerNorm;
  readonly mlp: GeluMLP;

  constructor(config: BlockConfig, rng: Rng | null) {
    super();
    const eps = config.eps ?? 1e-6;
    this.norm1 = this.addChild("layer_norm1", new LayerNorm(config.dim, eps));
    this.attn = this.addChild(
      "self_attn",
      new Attention({ dim: config.dim, numHeads: config.numHeads, qkvBias: true, outBias: true, outName: "out_proj" }, rng),
    );
    this.norm2 = this.addChild("layer_norm2", new LayerNorm(config.dim, eps));
    this.mlp = this.addChild("mlp", new GeluMLP(config.dim, config.mlpDim, rng));
  }

  /** x [B, T, D] -> [B, T, D]; bias masks padded tokens. */
  forward(x: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
    const h = x.add(this.attn.forward(this.norm1.forward(x), { bias }));
    return h.add(this.mlp.forward(this.norm2.forward(h)));
  }
}
