// The Qwen2 decoder (RMSNorm, RoPE, grouped-query attention with q/k/v biases, SwiGLU, optional tied
// embeddings), with Hugging Face parameter names so a local Qwen2/Qwen2.5 checkpoint loads by name.
import { tf } from "../../core/backend.ts";
import type { Rng } from "../../core/rng.ts";
import { Module } from "../../nn/module.ts";
import { Embedding } from "../../nn/embedding.ts";
import { Linear, linear } from "../../nn/linear.ts";
import { RMSNorm } from "../../nn/norm.ts";
import { Attention } from "../../nn/attention.ts";
import { SwiGLU } from "../../nn/mlp.ts";
import { attentionBias } from "../../nn/mask.ts";
import { ropeTables } from "../../nn/rope.ts";
import type { KVCache } from "../../nn/kv-cache.ts";
import type { Qwen2Config } from "./config.ts";

export class Qwen2DecoderLayer extends Module {
  readonly inputNorm: RMSNorm;
  readonly attn: Attention;
  readonly postNorm: RMSNorm;
  readonly mlp: SwiGLU;

  constructor(c: Qwen2Config, rng: Rng | null) {
    super();
    this.inputNorm = this.addChild("input_layernorm", new RMSNorm(c.hiddenSize, c.rmsNormEps));
    this.attn = this.addChild(
      "self_attn",
      new Attention({ dim: c.hiddenSize, numHeads: c.numHeads, numKvHeads: c.numKvHeads, qkvBias: true, outBias: false }, rng),
    );
    this.postNorm = this.addChild("post_attention_layernorm", new RMSNorm(c.hiddenSize, c.rmsNormEps));
    this.mlp = this.addChild("mlp", new SwiGLU(c.hiddenSize, c.intermediateSize, rng));
  }

  forward(x: tf.Tensor, bias: tf.Tensor, rope: { cos: tf.Tensor; sin: tf.Tensor }, cache?: { store: KVCache; layer: number }): tf.Tensor {
    const h = x.add(this.attn.forward(this.inputNorm.forward(x), { bias, rope, cache }));
    return h.add(this.mlp.forward(this.postNorm.forward(h)));
  }
}

export class Qwen2Model extends Module {
  readonly embedTokens: Embedding;
  readonly layers: Qwen2DecoderLayer[] = [];
  readonly norm: RMSNorm;

  constructor(c: Qwen2Config, rng: Rng | null) {
    super();
    this.embedTokens = this.addChild("embed_tokens", new Embedding(c.vocabSize, c.hiddenSize, rng));
    for (let i = 0; i < c.numLayers; i++) this.layers.push(this.addChild(`layers.${i}`, new Qwen2DecoderLayer(c, rng)));
    this.norm = this.addChild("norm", new RMSNorm(c.hiddenSize, c.rmsNormEps));
  }
}

export interface LlmForwardOptions {
  /** Token ids [B, T] (int32); or give `embeds`. */
  ids?: tf.Tensor;
  /** Input embeddings [B, T, D], e.g. text with visual tokens spliced in. */
  embeds?: tf.Tensor;
  /** Per batch row, 1 for a real token and 0 for padding, over cache + new tokens. */
  keyPadding?: readonly (readonly number[])[];
  /** Generation cache; positions continue from its length. */
  cache?: KVCache;
  /** Return logits for the last position only ([B, 1, V]): what generation needs. */
  lastOnly?: boolean;
}

export class Qwen2ForCausalLM extends Module {
  readonly model: Qwen2Model;
  readonly lmHead: Linear | null;
  /** Inference-only copy of the tied head's transpose [D, V]; see `freezeForInference`. */
  private headT: tf.Tensor | null = null;

  constructor(
    readonly config: Qwen2Config,
    rng: Rng | null,
  ) {
    super();
    this.model = this.addChild("model", new Qwen2Model(config, rng));
    this.lmHead = config.tieWordEmbeddings ? null : this.addChild("lm_head", new Linear(config.hiddenSize, config.vocabSize, rng, { bias: false }));
  }

  /** Token embeddings [B, T, D] for ids [B, T]. */
  embed(ids: tf.Tensor): tf.Tensor {
    return this.model.embedTokens.forward(ids);
  }

  /** Final hidden states [B, T, D] (after the last RMSNorm). */
  hidden(opts: LlmForwardOptions): tf.Tensor {
    return tf.tidy(() => {
      const x0 = opts.embeds ?? (opts.ids ? this.embed(opts.ids) : null);
      if (!x0) throw new Error("Qwen2ForCausalLM: give ids or embeds");
      const [, T, D] = x0.shape as number[];
      if (D !== this.config.hiddenSize) throw new Error(`Qwen2ForCausalLM: embeds width ${D}, expected ${this.config.hiddenSize}`);
      const past = opts.cache?.length ?? 0;
      if (past + T > this.config.maxPositionEmbeddings) {
        throw new Error(`Qwen2ForCausalLM: ${past + T} positions exceed max_position_embeddings ${this.config.maxPositionEmbeddings}`);
      }
      const rope = ropeTables(T, this.config.headDim, this.config.ropeTheta, past);
      const bias = attentionBias({ queries: T, keys: past + T, causal: true, keyPadding: opts.keyPadding }); // [B|1, 1, T, S]
      let x = x0;
      this.model.layers.forEach((layer, i) => {
        x = layer.forward(x, bias, rope, opts.cache ? { store: opts.cache, layer: i } : undefined);
      });
      return this.model.norm.forward(x);
    });
  }

  /** Logits [B, T, V] (or [B, 1, V] with lastOnly). */
  forward(opts: LlmForwardOptions): tf.Tensor {
    return tf.tidy(() => {
      let h = this.hidden(opts); // [B, T, D]
      if (opts.lastOnly) {
        const T = h.shape[1] as number;
        h = tf.slice(h, [0, T - 1, 0], [-1, 1, -1]); // [B, 1, D]
      }
      return this.head(h);
    });
  }

  /** Hidden [..., D] -> logits [..., V]. */
  head(h: tf.Tensor): tf.Tensor {
    if (this.lmHead) return this.lmHead.forward(h);
    const table = this.model.embedTokens.weight; // [V, D]
    return linear(h, this.headT ?? tf.transpose(table), undefined, "lm_head(tied)");
  }

  /**
   * Caches the tied head's transpose for generation (a V x D copy per token otherwise).
   * Call again (or `thawForTraining`) after the weights change.
   */
  freezeForInference(): void {
    this.headT?.dispose();
    this.headT = this.lmHead ? null : tf.keep(tf.transpose(this.model.embedTokens.weight));
  }

  thawForTraining(): void {
    this.headT?.dispose();
    this.headT = null;
  }

  override dispose(): void {
    this.thawForTraining();
    super.dispose();
  }
}
