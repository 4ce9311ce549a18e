// The facial encoder (DESIGN 1): a FaceXFormer-like 4-stage pyramid over face crops. Stage 1 embeds p x p
// patches (plus learned positions), later stages merge 2x2 neighbours (Swin's patch merging), every stage runs
// pre-norm transformer blocks with global or local-window attention; each block's output, layer-normed, is
// returned for CA².
import { tf } from "../../core/backend.ts";
import { FavchatError } from "../../core/errors.ts";
import type { Rng } from "../../core/rng.ts";
import { Module } from "../../nn/module.ts";
import { Linear } from "../../nn/linear.ts";
import { LayerNorm } from "../../nn/norm.ts";
import { TransformerBlock } from "../../nn/block.ts";
import { normal } from "../../nn/init.ts";
import { geluTanh } from "../../nn/mlp.ts";
import { conv3x3 } from "../../nn/conv.ts";
import { patchify } from "../vision/patches.ts";
import type { FaceEncoderConfig } from "./config.ts";

/** Stage 1's input: non-overlapping p x p patches, a linear map to D_1, LayerNorm, learned absolute positions. */
export class FacePatchEmbed extends Module {
  readonly proj: Linear;
  readonly norm: LayerNorm;
  readonly posEmbed: tf.Variable; // [P_1, D_1]

  constructor(
    readonly patch: number,
    channels: number,
    dim: number,
    numTokens: number,
    eps: number,
    rng: Rng | null,
  ) {
    super();
    // LeCun-normal projection: unit-variance pixels give unit-variance tokens at any patch size.
    this.proj = this.addChild("proj", new Linear(patch * patch * channels, dim, rng, { std: Math.sqrt(1 / (patch * patch * channels)) }));
    this.norm = this.addChild("norm", new LayerNorm(dim, eps));
    // Attention is global and position-blind, so the tokens carry where they come from (merging keeps it after).
    this.posEmbed = this.addParam("pos_embed", normal(rng, [numTokens, dim], 0.02));
  }

  /** x [N, h, w, C] -> [N, P_1, D_1]. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.norm.forward(this.proj.forward(patchify(x, this.patch))).add(this.posEmbed)); // [N, P, D] + [P, D]
  }
}

/**
 * Stage 1's input with an early-convolution stem: optionally one 3x3 convolution at full resolution (16 channels),
 * then log2(p) 3x3 stride-2 convolutions (channels doubling up to D_1, at least 16), each followed by a LayerNorm
 * over channels and, except the last, GELU; then learned positions. Same output as FacePatchEmbed: one token per
 * p x p patch.
 */
export class FaceConvEmbed extends Module {
  readonly convs: Linear[] = [];
  readonly norms: LayerNorm[] = [];
  /** Per conv: its stride. */
  readonly strides: (1 | 2)[] = [];
  readonly posEmbed: tf.Variable; // [P_1, D_1]

  constructor(patch: number, channels: number, dim: number, numTokens: number, eps: number, rng: Rng | null, fullResolution = false) {
    super();
    const down = Math.round(Math.log2(patch));
    if (fullResolution) this.strides.push(1);
    for (let j = 0; j < down; j++) this.strides.push(2);
    const layers = this.strides.length;
    let cin = channels;
    for (let j = 0; j < layers; j++) {
      const cout = j === layers - 1 ? dim : Math.max(16, dim >> (layers - 1 - j));
      // He-normal for the GELU layers, LeCun-normal for the last (no nonlinearity after it).
      const std = Math.sqrt((j === layers - 1 ? 1 : 2) / (9 * cin));
      this.convs.push(this.addChild(`convs.${j}`, new Linear(9 * cin, cout, rng, { std })));
      this.norms.push(this.addChild(`norms.${j}`, new LayerNorm(cout, eps)));
      cin = cout;
    }
    this.posEmbed = this.addParam("pos_embed", normal(rng, [numTokens, dim], 0.02));
  }

  /** x [N, h, w, C] -> [N, P_1, D_1]. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let h = x;
      this.convs.forEach((conv, j) => {
        h = this.norms[j].forward(conv3x3(h, conv.weight, conv.bias, this.strides[j])); // the Linear's weight is [9 C_in, C_out]
        if (j < this.convs.length - 1) h = geluTanh(h);
      });
      const [N, g, , D] = h.shape as number[];
      return h.reshape([N, g * g, D]).add(this.posEmbed);
    });
  }
}

/** Swin's patch merging: each 2x2 group of tokens concatenated (4D), LayerNorm, linear to the next width. */
export class PatchMerging extends Module {
  readonly norm: LayerNorm;
  readonly reduction: Linear;

  constructor(
    readonly inDim: number,
    outDim: number,
    eps: number,
    rng: Rng | null,
  ) {
    super();
    this.norm = this.addChild("norm", new LayerNorm(4 * inDim, eps));
    this.reduction = this.addChild("reduction", new Linear(4 * inDim, outDim, rng, { bias: false }));
  }

  /** x [N, g*g, D] on a g x g grid -> [N, (g/2)^2, D_next]. */
  forward(x: tf.Tensor, grid: number): tf.Tensor {
    const [N, , D] = x.shape as number[];
    return tf.tidy(() => {
      const groups = patchify(x.reshape([N, grid, grid, D]), 2); // [N, (g/2)^2, 4D]
      return this.reduction.forward(this.norm.forward(groups)); // [N, (g/2)^2, D_next]
    });
  }
}

/** Channels stage 1 reads: the crop's, twice with motion (the crop and its difference from the clip's first crop). */
export const inputChannels = (c: FaceEncoderConfig): number => (c.motion ? 2 : 1) * c.numChannels;

/** One pyramid stage: its input embedding (patches or merging), blocks, and the norm applied to block outputs. */
export class FaceStage extends Module {
  readonly embed: FacePatchEmbed | FaceConvEmbed | PatchMerging;
  readonly blocks: TransformerBlock[] = [];
  readonly norm: LayerNorm;

  constructor(c: FaceEncoderConfig, i: number, rng: Rng | null) {
    super();
    const D = c.widths[i];
    const eps = c.layerNormEps;
    this.embed =
      i === 0
        ? this.addChild(
            "embed",
            c.stem === "conv"
              ? new FaceConvEmbed(c.patchSize, inputChannels(c), D, c.grids[0] ** 2, eps, rng, c.stemFullResolution)
              : new FacePatchEmbed(c.patchSize, inputChannels(c), D, c.grids[0] ** 2, eps, rng),
          )
        : this.addChild("embed", new PatchMerging(c.widths[i - 1], D, eps, rng));
    for (let j = 0; j < c.depths[i]; j++) {
      const block = new TransformerBlock({ dim: D, numHeads: c.numHeads[i], mlpDim: Math.round(c.mlpRatio * D), eps }, rng);
      this.blocks.push(this.addChild(`blocks.${j}`, block));
    }
    this.norm = this.addChild("norm", new LayerNorm(D, eps));
  }
}

/**
 * A block with attention inside win x win windows of a g x g token grid: the windows become the batch (the
 * norms and the MLP act per token, so only attention sees the split). x [N, g*g, D] -> [N, g*g, D].
 */
export function windowedBlock(block: TransformerBlock, x: tf.Tensor, g: number, win: number): tf.Tensor {
  const [N, , D] = x.shape as number[];
  const n = g / win; // windows per side
  return tf.tidy(() => {
    const windows = patchify(x.reshape([N, g, g, D]), win).reshape([N * n * n, win * win, D]); // [N*n*n, win*win, D]
    return block
      .forward(windows) // [N*n*n, win*win, D]
      .reshape([N, n, n, win, win, D]) // [N, n, n, win, win, D]
      .transpose([0, 1, 3, 2, 4, 5]) // [N, n, win, n, win, D]
      .reshape([N, g * g, D]); // [N, P, D], back in row-major grid order
  });
}

export class FaceEncoder extends Module {
  readonly stages: FaceStage[] = [];
  /** D of each block output, in the order forward returns them. */
  readonly blockDims: number[];
  /** P of each block output (tokens per crop), in the same order. */
  readonly blockTokens: number[];

  constructor(
    readonly config: FaceEncoderConfig,
    rng: Rng | null,
  ) {
    super();
    for (let i = 0; i < config.widths.length; i++) this.stages.push(this.addChild(`stages.${i}`, new FaceStage(config, i, rng)));
    this.blockDims = [...config.blockDims];
    this.blockTokens = [...config.blockTokens];
  }

  /**
   * Clips of crops faces [B, F, h, w, C] in [0, 1] -> forward's block outputs, [B*F, P_i, D_i] each; with motion,
   * each clip's first crop is the reference of all its crops.
   */
  forwardClips(faces: tf.Tensor): tf.Tensor[] {
    if (faces.rank !== 5) throw new FavchatError(`FaceEncoder: expected clips of face crops [B, F, h, w, C], got [${faces.shape.join(", ")}]`);
    const [B, F, h, w, C] = faces.shape as number[];
    return tf.tidy(() => {
      const flat = faces.reshape([B * F, h, w, C]);
      if (!this.config.motion) return this.forward(flat);
      const first = tf.slice(faces, [0, 0, 0, 0, 0], [B, 1, h, w, C]); // [B, 1, h, w, C]
      return this.forward(flat, tf.tile(first, [1, F, 1, 1, 1]).reshape([B * F, h, w, C]));
    });
  }

  /**
   * faces [N, h, w, C] in [0, 1] -> one tensor per block, in order: [N, P_i, D_i], each normed by its stage's
   * LayerNorm. The next stage merges the last (normed) output of the previous one, as SegFormer/MiT stages do.
   * With motion, `reference` [N, h, w, C] is each crop's clip's first crop (forwardClips makes it).
   */
  forward(faces: tf.Tensor, reference?: tf.Tensor): tf.Tensor[] {
    const { imageSize: S, numChannels: C, grids } = this.config;
    const [, h, w, ch] = faces.shape;
    if (faces.rank !== 4 || h !== S || w !== S || ch !== C) {
      throw new FavchatError(
        `FaceEncoder: expected face crops [N, ${S}, ${S}, ${C}] (imageSize ${S}), got [${faces.shape.join(", ")}]; crop and resize faces to ${S}x${S}`,
      );
    }
    if (faces.dtype !== "float32") throw new FavchatError(`FaceEncoder: face crops must be float32 in [0, 1], got ${faces.dtype}`);
    if (this.config.motion && (!reference || reference.shape.join() !== faces.shape.join())) {
      throw new FavchatError(`FaceEncoder: this encoder reads motion (face_config.motion); pass each crop's clip's first crop [${faces.shape.join(", ")}] as the reference (use forwardClips)`);
    }
    return tf.tidy(() => {
      const outs: tf.Tensor[] = [];
      let x = tf.div(tf.sub(faces, 0.5), 0.5); // [N, S, S, C] in [-1, 1], the same normalisation as the general encoder
      // The difference is of the [0, 1] crops, times 2 as the crops' own scaling: [-2, 2], 0 where nothing moved.
      if (this.config.motion && reference) x = tf.concat([x, tf.mul(tf.sub(faces, reference), 2)], 3); // [N, S, S, 2C]
      this.stages.forEach((stage, i) => {
        let h =
          stage.embed instanceof PatchMerging
            ? stage.embed.forward(x, grids[i - 1]) // [N, P_i, D_i]
            : stage.embed.forward(x); // [N, P_1, D_1]
        const win = this.config.windowSizes[i];
        for (const block of stage.blocks) {
          h = win > 0 && win < grids[i] ? windowedBlock(block, h, grids[i], win) : block.forward(h); // [N, P_i, D_i]
          outs.push(stage.norm.forward(h));
        }
        x = outs[outs.length - 1];
      });
      return outs;
    });
  }
}
