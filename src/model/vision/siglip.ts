// The SigLIP vision tower (the general encoder of DESIGN 1): patch embedding + learned positions, pre-norm
// transformer layers, post_layernorm; parameter names are Hugging Face's (vision_model.*) so a local
// siglip-* checkpoint loads by name. The Conv2d patch embedding runs as reshape-to-patches + one 2-D matmul.
import { tf } from "../../core/backend.ts";
import { FavchatError } from "../../core/errors.ts";
import type { Rng } from "../../core/rng.ts";
import { Module } from "../../nn/module.ts";
import { Embedding } from "../../nn/embedding.ts";
import { linear } from "../../nn/linear.ts";
import { LayerNorm } from "../../nn/norm.ts";
import { TransformerBlock } from "../../nn/block.ts";
import { normal, zeros } from "../../nn/init.ts";
import type { SiglipVisionConfig } from "./config.ts";
import { patchify } from "./patches.ts";

/**
 * Conv2d(C, D, kernel p, stride p) as a linear map of non-overlapping patches. The weight stays in the
 * checkpoint's layout [D, C, p, p]: then the ordinary Module state dict round-trips it exactly wherever the
 * tower sits in a bigger model, and the per-call transpose to [p*p*C, D] is D*C*p*p floats (0.7 M for so400m,
 * under a millisecond) beside a forward of billions of FLOPs.
 */
export class PatchEmbedding extends Module {
  readonly weight: tf.Variable; // [D, C, p, p], Conv2d layout
  readonly bias: tf.Variable; // [D]

  constructor(
    readonly channels: number,
    readonly dim: number,
    readonly patch: number,
    rng: Rng | null,
  ) {
    super();
    // LeCun normal, as SigLIP initialises its patch embedding.
    this.weight = this.addParam("weight", normal(rng, [dim, channels, patch, patch], Math.sqrt(1 / (channels * patch * patch))));
    this.bias = this.addParam("bias", zeros([dim]));
  }

  /** x [N, H, W, C] -> [N, floor(H/p)*floor(W/p), D], as Conv2d(stride p, no padding) flattened row-major. */
  forward(x: tf.Tensor): tf.Tensor {
    const p = this.patch;
    const C = this.channels;
    return tf.tidy(() => {
      const patches = patchify(x, p); // [N, P, p*p*C], features in (row, column, channel) order
      const wT = this.weight.transpose([2, 3, 1, 0]).reshape([p * p * C, this.dim]); // [p*p*C, D], same order
      return linear(patches, wT, this.bias, "PatchEmbedding"); // [N, P, D]
    });
  }
}

export class SiglipVisionEmbeddings extends Module {
  readonly patchEmbedding: PatchEmbedding;
  readonly positionEmbedding: Embedding;

  constructor(c: SiglipVisionConfig, rng: Rng | null) {
    super();
    this.patchEmbedding = this.addChild("patch_embedding", new PatchEmbedding(c.numChannels, c.hiddenSize, c.patchSize, rng));
    // One position per patch (no class token); SigLIP initialises them with std 1/sqrt(D).
    this.positionEmbedding = this.addChild("position_embedding", new Embedding(c.numPatches, c.hiddenSize, rng, 1 / Math.sqrt(c.hiddenSize)));
  }

  /** pixels [N, H, W, C] already normalised -> [N, P, D]. */
  forward(pixels: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.patchEmbedding.forward(pixels).add(this.positionEmbedding.weight)); // [N, P, D] + [P, D]
  }
}

export class SiglipEncoder extends Module {
  readonly layers: TransformerBlock[] = [];

  constructor(c: SiglipVisionConfig, rng: Rng | null) {
    super();
    for (let i = 0; i < c.numLayers; i++) {
      const block = new TransformerBlock({ dim: c.hiddenSize, numHeads: c.numHeads, mlpDim: c.intermediateSize, eps: c.layerNormEps }, rng);
      this.layers.push(this.addChild(`layers.${i}`, block));
    }
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.layers.reduce((h, layer) => layer.forward(h), x));
  }
}

/** transformers' SiglipVisionTransformer without the pooling head (favchat uses the patch tokens). */
export class SiglipVisionTransformer extends Module {
  readonly embeddings: SiglipVisionEmbeddings;
  readonly encoder: SiglipEncoder;
  readonly postLayernorm: LayerNorm;

  constructor(c: SiglipVisionConfig, rng: Rng | null) {
    super();
    this.embeddings = this.addChild("embeddings", new SiglipVisionEmbeddings(c, rng));
    this.encoder = this.addChild("encoder", new SiglipEncoder(c, rng));
    this.postLayernorm = this.addChild("post_layernorm", new LayerNorm(c.hiddenSize, c.layerNormEps));
  }
}

/** SigLIP's image processor normalisation: mean 0.5, std 0.5 on every channel, i.e. x * 2 - 1. */
const PIXEL_MEAN = 0.5;
const PIXEL_STD = 0.5;

export class SiglipVisionTower extends Module {
  readonly visionModel: SiglipVisionTransformer;

  constructor(
    readonly config: SiglipVisionConfig,
    rng: Rng | null,
  ) {
    super();
    this.visionModel = this.addChild("vision_model", new SiglipVisionTransformer(config, rng));
  }

  /** D of the output tokens. */
  get dim(): number {
    return this.config.hiddenSize;
  }

  /** pixels [N, H, W, C] in [0, 1] (before SigLIP's normalisation) -> patch tokens [N, P, D] after post_layernorm. */
  forward(pixels: tf.Tensor): tf.Tensor {
    const { imageSize: S, numChannels: C } = this.config;
    const [, H, W, ch] = pixels.shape;
    if (pixels.rank !== 4 || H !== S || W !== S || ch !== C) {
      throw new FavchatError(
        `SiglipVisionTower: expected pixels [N, ${S}, ${S}, ${C}] (image_size ${S}), got [${pixels.shape.join(", ")}]; ` +
          `resize frames to ${S}x${S} first`,
      );
    }
    if (pixels.dtype !== "float32") throw new FavchatError(`SiglipVisionTower: pixels must be float32 in [0, 1], got ${pixels.dtype}`);
    const vm = this.visionModel;
    return tf.tidy(() => {
      const x = tf.div(tf.sub(pixels, PIXEL_MEAN), PIXEL_STD); // [N, S, S, C] in [-1, 1]
      const h = vm.encoder.forward(vm.embeddings.forward(x)); // [N, P, D]
      return vm.postLayernorm.forward(h); // [N, P, D]
    });
  }
}
