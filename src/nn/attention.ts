// Multi-head attention: self or cross, multi-head or grouped-query, optional RoPE, additive masks, KV cache.
// Parameter names follow the checkpoint family (Qwen2: q_proj..o_proj; SigLIP: q_proj..out_proj).
import { tf } from "../core/backend.ts";
import type { Rng } from "../core/rng.ts";
import { Module } from "./module.ts";
import { Linear } from "./linear.ts";
import { applyRope } from "./rope.ts";
import { batchMatMul, batchMatMulBT } from "./batch-matmul.ts";
import type { KVCache } from "./kv-cache.ts";

export interface AttentionConfig {
  /** Width of the query stream and of the output. */
  readonly dim: number;
  readonly numHeads: number;
  /** Key/value heads; numHeads must be a multiple (grouped-query attention). Default numHeads. */
  readonly numKvHeads?: number;
  /** Default dim / numHeads. */
  readonly headDim?: number;
  /** Width of the key/value input for cross-attention. Default dim. */
  readonly kvDim?: number;
  readonly qkvBias?: boolean;
  readonly outBias?: boolean;
  /** Name of the output projection: "o_proj" (Qwen2) or "out_proj" (SigLIP, Q-Former). */
  readonly outName?: string;
}

export interface AttentionInputs {
  /** Keys/values source [B, S, kvDim]; default: x itself (self-attention). */
  context?: tf.Tensor;
  /** Additive bias broadcastable to [B, H, T, S]. */
  bias?: tf.Tensor;
  /** RoPE tables [T, Dh] for the queries' (and new keys') positions. */
  rope?: { cos: tf.Tensor; sin: tf.Tensor };
  /** Generation cache and this module's layer index in it. */
  cache?: { store: KVCache; layer: number };
}

export class Attention extends Module {
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly o: Linear;

  constructor(
    readonly config: AttentionConfig,
    rng: Rng | null,
  ) {
    super();
    const { dim, numHeads } = config;
    this.numKvHeads = config.numKvHeads ?? numHeads;
    this.headDim = config.headDim ?? dim / numHeads;
    if (!Number.isInteger(this.headDim) || numHeads % this.numKvHeads !== 0) {
      throw new Error(`Attention: dim ${dim}, heads ${numHeads}, kv heads ${this.numKvHeads} do not divide evenly`);
    }
    const kvDim = config.kvDim ?? dim;
    const bias = config.qkvBias ?? true;
    this.q = this.addChild("q_proj", new Linear(dim, numHeads * this.headDim, rng, { bias }));
    this.k = this.addChild("k_proj", new Linear(kvDim, this.numKvHeads * this.headDim, rng, { bias }));
    this.v = this.addChild("v_proj", new Linear(kvDim, this.numKvHeads * this.headDim, rng, { bias }));
    this.o = this.addChild(config.outName ?? "o_proj", new Linear(numHeads * this.headDim, dim, rng, { bias: config.outBias ?? false }));
  }

  /** x [B, T, dim] -> [B, T, dim]. */
  forward(x: tf.Tensor, inputs: AttentionInputs = {}): tf.Tensor {
    const [B, T, D] = x.shape as number[];
    if (x.rank !== 3 || D !== this.config.dim) {
      throw new Error(`Attention: expected x [B, T, ${this.config.dim}], got [${x.shape.join(", ")}]`);
    }
    const H = this.config.numHeads;
    const Hkv = this.numKvHeads;
    const Dh = this.headDim;
    const src = inputs.context ?? x;
    const S0 = src.shape[1] as number;
    return tf.tidy(() => {
      const split = (t: tf.Tensor, len: number, heads: number) =>
        t.reshape([B, len, heads, Dh]).transpose([0, 2, 1, 3]); // [B, heads, len, Dh]
      let q = split(this.q.forward(x), T, H); // [B, H, T, Dh]
      let k = split(this.k.forward(src), S0, Hkv); // [B, Hkv, S0, Dh]
      let v = split(this.v.forward(src), S0, Hkv); // [B, Hkv, S0, Dh]
      if (inputs.rope) {
        q = applyRope(q, inputs.rope.cos, inputs.rope.sin);
        k = applyRope(k, inputs.rope.cos, inputs.rope.sin);
      }
      if (inputs.cache) [k, v] = inputs.cache.store.append(inputs.cache.layer, k, v); // [B, Hkv, S, Dh]
      const S = k.shape[2] as number;
      // Grouped-query attention without copying keys: the G = H / Hkv query heads that share a kv head are
      // consecutive, so q [B, H, T, Dh] is q [B, Hkv, G*T, Dh] by a reshape (tile is slow on wasm and has
      // no rank-5 gradient). With G = 1 this is plain multi-head attention.
      const G = H / Hkv;
      // The 1/sqrt(Dh) scale goes on the queries, the smaller operand (T x Dh rather than T x S).
      const qg = tf.mul(q, 1 / Math.sqrt(Dh)).reshape([B * Hkv, G * T, Dh]); // [B*Hkv, G*T, Dh]
      // Per-(batch, kv head) 2-D matmuls with their own gradients: wasm's batched matmul is 10x slower.
      const kf = k.reshape([B * Hkv, S, Dh]); // [B*Hkv, S, Dh]
      let scores = batchMatMulBT(qg, kf).reshape([B, H, T, S]); // [B, H, T, S]
      if (inputs.bias) scores = tf.add(scores, inputs.bias);
      const probs = tf.softmax(scores, -1).reshape([B * Hkv, G * T, S]); // [B*Hkv, G*T, S]
      const ctx = batchMatMul(probs, v.reshape([B * Hkv, S, Dh])).reshape([B, H, T, Dh]); // [B, H, T, Dh]
      const merged = ctx.transpose([0, 2, 1, 3]).reshape([B, T, H * Dh]); // [B, T, H*Dh]
      return this.o.forward(merged); // [B, T, dim]
    });
  }
}
