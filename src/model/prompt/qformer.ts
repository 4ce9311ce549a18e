// The prompt-conditioned Q-Former of DESIGN 1 (middle level), one per branch: Q learnable query tokens and the
// projected prompt tokens share each block's self-attention (InstructBLIP style: the question steers what the
// queries look for), then only the queries cross-attend to the branch's visual tokens, then an MLP. The Q query
// tokens, projected by an MLP to the LLM width, are the branch's output F [B, Q, Dllm]: thousands of visual tokens
// become Q. With `usePrompt` false (the ablation) there is no prompt projection and self-attention sees the queries
// alone, so the output does not depend on the question.
import { tf } from "../../core/backend.ts";
import type { Rng } from "../../core/rng.ts";
import { Module } from "../../nn/module.ts";
import { LayerNorm } from "../../nn/norm.ts";
import { Attention } from "../../nn/attention.ts";
import { GeluMLP, geluTanh } from "../../nn/mlp.ts";
import { Linear } from "../../nn/linear.ts";
import { attentionBias } from "../../nn/mask.ts";
import { normal } from "../../nn/init.ts";
import { Projection, promptKeyBias, type Prompt } from "./prompt.ts";

export interface QFormerConfig {
  /** Learnable query tokens Q (the number of visual tokens the LLM receives). */
  readonly numQueries: number;
  /** Width Dq of the queries. */
  readonly dim: number;
  readonly numHeads: number;
  readonly numLayers: number;
  /** Hidden width of each block's MLP. */
  readonly mlpDim: number;
}

export const QFORMER_DEFAULTS: QFormerConfig = { numQueries: 16, dim: 128, numHeads: 4, numLayers: 2, mlpDim: 512 };

/** Widths fixed by the surrounding model rather than by the Q-Former's own config. */
export interface QFormerWiring {
  /** Width of the branch's visual tokens (keys/values of the cross-attention). */
  readonly visualDim: number;
  /** Width of the prompt embeddings (the LLM's hidden size). */
  readonly promptDim: number;
  /** Output width (the LLM's hidden size). */
  readonly outDim: number;
  /** False for the "Q-Formers without the prompt" ablation. */
  readonly usePrompt: boolean;
}

export class QFormerLayer extends Module {
  readonly norm1: LayerNorm;
  readonly selfAttn: Attention;
  readonly normCross: LayerNorm;
  readonly crossAttn: Attention;
  readonly norm2: LayerNorm;
  readonly mlp: GeluMLP;

  constructor(c: QFormerConfig, visualDim: number, rng: Rng | null) {
    super();
    const { dim, numHeads } = c;
    this.norm1 = this.addChild("layer_norm1", new LayerNorm(dim));
    this.selfAttn = this.addChild("self_attn", new Attention({ dim, numHeads, qkvBias: true, outBias: true, outName: "out_proj" }, rng));
    this.normCross = this.addChild("layer_norm_cross", new LayerNorm(dim));
    this.crossAttn = this.addChild(
      "cross_attn",
      new Attention({ dim, numHeads, kvDim: visualDim, qkvBias: true, outBias: true, outName: "out_proj" }, rng),
    );
    this.norm2 = this.addChild("layer_norm2", new LayerNorm(dim));
    this.mlp = this.addChild("mlp", new GeluMLP(dim, c.mlpDim, rng));
  }

  /**
   * x [B, Q+Tq, Dq] (queries first, then prompt tokens; Tq = 0 without the prompt), selfBias over those keys,
   * visual [B, S, Dv] (already normed), visualBias over the visual keys -> [B, Q+Tq, Dq].
   */
  forward(x: tf.Tensor, numQueries: number, selfBias: tf.Tensor | undefined, visual: tf.Tensor, visualBias: tf.Tensor | undefined): tf.Tensor {
    const [B, T, D] = x.shape as number[];
    return tf.tidy(() => {
      let h = x.add(this.selfAttn.forward(this.norm1.forward(x), { bias: selfBias })); // [B, Q+Tq, Dq]
      // Only the queries read the visual tokens; the prompt tokens ride along unchanged through this step.
      let q = tf.slice(h, [0, 0, 0], [B, numQueries, D]); // [B, Q, Dq]
      q = q.add(this.crossAttn.forward(this.normCross.forward(q), { context: visual, bias: visualBias })); // [B, Q, Dq]
      h = T > numQueries ? tf.concat([q, tf.slice(h, [0, numQueries, 0], [B, T - numQueries, D])], 1) : q; // [B, Q+Tq, Dq]
      // One MLP over queries and prompt tokens together: a single matmul, and the prompt tokens of the next block's
      // self-attention get the same per-token refinement as in a BERT layer.
      return h.add(this.mlp.forward(this.norm2.forward(h))); // [B, Q+Tq, Dq]
    });
  }
}

export class QFormer extends Module {
  readonly queryTokens: tf.Variable; // [Q, Dq]
  readonly promptProj: Projection | null;
  readonly visualNorm: LayerNorm;
  readonly layers: QFormerLayer[] = [];
  readonly outNorm: LayerNorm;
  readonly outFc1: Linear;
  readonly outFc2: Linear;

  constructor(
    readonly config: QFormerConfig,
    readonly wiring: QFormerWiring,
    rng: Rng | null,
  ) {
    super();
    const { numQueries, dim } = config;
    this.queryTokens = this.addParam("query_tokens", normal(rng, [numQueries, dim], 0.02));
    this.promptProj = wiring.usePrompt ? this.addChild("prompt_proj", new Projection(wiring.promptDim, dim, rng)) : null;
    this.visualNorm = this.addChild("visual_norm", new LayerNorm(wiring.visualDim));
    for (let i = 0; i < config.numLayers; i++) this.layers.push(this.addChild(`layers.${i}`, new QFormerLayer(config, wiring.visualDim, rng)));
    this.outNorm = this.addChild("out_norm", new LayerNorm(dim));
    // The output MLP (Q-Former -> LLM width); stage 1 trains it while the Q-Former body stays frozen (DESIGN 2).
    this.outFc1 = this.addChild("out_mlp.fc1", new Linear(dim, wiring.outDim, rng));
    this.outFc2 = this.addChild("out_mlp.fc2", new Linear(wiring.outDim, wiring.outDim, rng));
  }

  /**
   * visual [B, S, Dv], the prompt (ignored without prompt conditioning), and optional padding rows over the S
   * visual tokens (1 real, 0 padding) -> F [B, Q, Dllm].
   */
  forward(visual: tf.Tensor, prompt: Prompt | null, visualPadding?: readonly (readonly number[])[]): tf.Tensor {
    const [B, S, Dv] = visual.shape as number[];
    const { numQueries: Q, dim } = this.config;
    if (visual.rank !== 3 || Dv !== this.wiring.visualDim) {
      throw new Error(`QFormer: expected visual tokens [B, S, ${this.wiring.visualDim}], got [${visual.shape.join(", ")}]`);
    }
    if (this.promptProj && !prompt) throw new Error("QFormer: this Q-Former is prompt-conditioned; pass the prompt");
    return tf.tidy(() => {
      const queries = tf.broadcastTo(this.queryTokens.expandDims(0), [B, Q, dim]); // [B, Q, Dq]
      let x = queries;
      let selfBias: tf.Tensor | undefined;
      if (this.promptProj && prompt) {
        x = tf.concat([queries, this.promptProj.forward(prompt.embeds)], 1); // [B, Q+Tq, Dq]
        selfBias = promptKeyBias(prompt.padding, Q); // [B, 1, 1, Q+Tq]
      }
      const v = this.visualNorm.forward(visual); // [B, S, Dv]
      const visualBias = visualPadding ? attentionBias({ queries: 1, keys: S, causal: false, keyPadding: visualPadding }) : undefined;
      for (const layer of this.layers) x = layer.forward(x, Q, selfBias, v, visualBias);
      const q = tf.slice(x, [0, 0, 0], [B, Q, dim]); // [B, Q, Dq]
      return this.outFc2.forward(geluTanh(this.outFc1.forward(this.outNorm.forward(q)))); // [B, Q, Dllm]
    });
  }
}
