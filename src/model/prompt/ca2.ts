// CA², cross-layer prompt-query aggregation (DESIGN 1, low level): a state of one token per prompt token walks up
// the facial encoder's blocks, at each block reading that block's features over all frames, then letting the prompt
// re-read the state. H_0 = projected prompt; H_i = CA²_i(H_{i-1}, W_i, prompt); the stack returns H_n.
//
// What attends to what, and why the size stays fixed: the visual tokens W_i (F*P_i of them, a different count per
// pyramid stage) are only ever keys/values. Queries are the state (first attention) and the prompt (second), both
// Tq long, so H_i is [B, Tq, Dc] at every block whatever the resolution. Position t of the state descends from
// prompt token t (H_0 is the prompt and cross-attention keeps the query positions), which is what lets the second
// attention's output (prompt token t's read of the state) be added back to state position t as a residual.
import { tf } from "../../core/backend.ts";
import { FavchatError } from "../../core/errors.ts";
import type { Rng } from "../../core/rng.ts";
import { Module } from "../../nn/module.ts";
import { Linear } from "../../nn/linear.ts";
import { LayerNorm } from "../../nn/norm.ts";
import { Attention } from "../../nn/attention.ts";
import { Projection, promptKeyBias, type Prompt } from "./prompt.ts";
import { FrameTokenProjector } from "./frame-tokens.ts";

export interface CA2Config {
  /** Width Dc of the state and of the projected block tokens W_i. */
  readonly dim: number;
  readonly numHeads: number;
  /**
   * How many of the top blocks' tokens W_i the face Q-Former reads beside the state H_n (1: W_n alone). The top
   * block of a small pyramid is one token per frame; the blocks below it keep the face's layout (AUs are local).
   */
  readonly readBlocks: number;
  /**
   * Ours: W_i is one token per frame made from the frame's whole block i (FrameTokenProjector's flatten) instead of
   * one token per position. Needs the blocks' token counts.
   */
  readonly frameTokens: boolean;
  /**
   * Ours, with frame tokens: each frame's MLP also reads how the frame's block differs from its mean over the clip's
   * frames (FrameTokenProjector's deltas): the expression, with the person's appearance taken out.
   */
  readonly frameDeltas?: boolean;
}

export const CA2_DEFAULTS: CA2Config = { dim: 128, numHeads: 4, readBlocks: 1, frameTokens: false, frameDeltas: false };

/** One CA² module: pre-norm, residual on the state stream after each of its three steps. */
export class CA2Layer extends Module {
  readonly proj: FrameTokenProjector;
  readonly normState: LayerNorm;
  readonly normVisual: LayerNorm;
  readonly visualAttn: Attention;
  readonly normLinear: LayerNorm;
  readonly linear: Linear;
  readonly normPrompt: LayerNorm;
  readonly normKeys: LayerNorm;
  readonly promptAttn: Attention;

  constructor(config: CA2Config, blockDim: number, maxFrames: number, rng: Rng | null, blockTokens = 0) {
    super();
    const { dim, numHeads } = config;
    const attn = () => new Attention({ dim, numHeads, qkvBias: true, outBias: true, outName: "out_proj" }, rng);
    this.proj = this.addChild("proj", new FrameTokenProjector(blockDim, dim, maxFrames, rng, config.frameTokens ? blockTokens : 0, config.frameDeltas === true));
    this.normState = this.addChild("norm_state", new LayerNorm(dim));
    this.normVisual = this.addChild("norm_visual", new LayerNorm(dim));
    this.visualAttn = this.addChild("visual_attn", attn());
    this.normLinear = this.addChild("norm_linear", new LayerNorm(dim));
    this.linear = this.addChild("linear", new Linear(dim, dim, rng));
    this.normPrompt = this.addChild("norm_prompt", new LayerNorm(dim));
    this.normKeys = this.addChild("norm_keys", new LayerNorm(dim));
    this.promptAttn = this.addChild("prompt_attn", attn());
  }

  /**
   * state [B, Tq, Dc], prompt [B, Tq, Dc] (projected), promptBias [B, 1, 1, Tq] masking padded prompt positions,
   * block [B*F, P, Di] -> the new state [B, Tq, Dc] and this block's tokens W_i [B, F*P, Dc] ([B, F, Dc] with
   * frame tokens).
   */
  forward(state: tf.Tensor, prompt: tf.Tensor, promptBias: tf.Tensor, block: tf.Tensor, frames: number): { state: tf.Tensor; tokens: tf.Tensor } {
    const B = state.shape[0] as number;
    return tf.tidy(() => {
      const w = this.proj.forward(block, B, frames); // [B, F*P, Dc]
      // 1. The state reads block i over all frames (state = query, W_i = keys/values).
      let h = state.add(this.visualAttn.forward(this.normState.forward(state), { context: this.normVisual.forward(w) })); // [B, Tq, Dc]
      // 2. A linear layer on the state.
      h = h.add(this.linear.forward(this.normLinear.forward(h))); // [B, Tq, Dc]
      // 3. The prompt reads the state (prompt = query, state = keys/values; padded state positions masked, as they
      // descend from padded prompt tokens).
      h = h.add(this.promptAttn.forward(this.normPrompt.forward(prompt), { context: this.normKeys.forward(h), bias: promptBias })); // [B, Tq, Dc]
      return { state: h, tokens: w };
    });
  }
}

/** The CA² stack over the facial encoder's blocks, in order. */
export class CA2Stack extends Module {
  readonly promptProj: Projection;
  readonly layers: CA2Layer[] = [];

  constructor(
    readonly config: CA2Config,
    /** Width of each facial-encoder block output, in order. */
    readonly blockDims: readonly number[],
    promptDim: number,
    maxFrames: number,
    rng: Rng | null,
    /** Tokens per frame of each block (P_i); needed with config.frameTokens. */
    blockTokens: readonly number[] = [],
  ) {
    super();
    if (blockDims.length === 0) throw new FavchatError("CA²: the facial encoder has no blocks to aggregate");
    if (config.frameTokens && blockTokens.length !== blockDims.length) {
      throw new Error(`CA²: frame tokens need each block's token count; got ${blockTokens.length} for ${blockDims.length} blocks`);
    }
    if (config.frameDeltas && !config.frameTokens) throw new FavchatError("CA²: frame_deltas needs frame_tokens (a delta is taken per frame token)");
    this.promptProj = this.addChild("prompt_proj", new Projection(promptDim, config.dim, rng));
    blockDims.forEach((d, i) => this.layers.push(this.addChild(`layers.${i}`, new CA2Layer(config, d, maxFrames, rng, blockTokens[i] ?? 0))));
  }

  /**
   * blocks: the facial encoder's outputs [B*F, P_i, D_i], one per block -> H_n [B, Tq, Dc] and the tokens of the
   * top `config.readBlocks` blocks, concatenated: [B, F*(P_{n-k+1} + ... + P_n), Dc] (F*k tokens with frame tokens).
   */
  forward(blocks: readonly tf.Tensor[], prompt: Prompt, frames: number): { state: tf.Tensor; topTokens: tf.Tensor } {
    if (blocks.length !== this.layers.length) {
      throw new Error(`CA²: ${blocks.length} block outputs for ${this.layers.length} CA² modules`);
    }
    return tf.tidy(() => {
      const p = this.promptProj.forward(prompt.embeds); // [B, Tq, Dc]
      const bias = promptKeyBias(prompt.padding); // [B, 1, 1, Tq]
      let state = p; // H_0
      const read: tf.Tensor[] = [];
      const firstRead = this.layers.length - Math.min(this.config.readBlocks, this.layers.length);
      for (let i = 0; i < this.layers.length; i++) {
        const out = this.layers[i].forward(state, p, bias, blocks[i], frames);
        state = out.state;
        if (i >= firstRead) read.push(out.tokens); // W_i [B, F*P_i, Dc]
      }
      return { state, topTokens: read.length === 1 ? read[0] : tf.concat(read, 1) };
    });
  }
}
