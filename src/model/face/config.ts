// Facial-encoder configuration (DESIGN 1): a FaceXFormer-like pyramid of stages over square face crops, each
// stage a patch embedding (stage 1) or 2x2 patch merging (later stages) followed by transformer blocks.
// One documented config type, defaults, one resolve function that validates and derives, and the size presets.
import { FavchatError } from "../../core/errors.ts";

/** What a caller may set; every field has a default (the tiny sizes). */
export interface FaceEncoderConfigInput {
  /** Side of the square face crop in pixels (h = w). */
  readonly imageSize: number;
  /** Side of stage 1's patches; each later stage halves the token grid by 2x2 merging. */
  readonly patchSize: number;
  /**
   * How stage 1 turns pixels into tokens: "patch", one linear map of each p x p patch (ViT); "conv", log2(p)
   * 3x3 stride-2 convolutions, each with a LayerNorm over channels and GELU (an early-convolution stem, which
   * helps transformers trained from scratch on little data). "conv" needs p a power of 2.
   */
  readonly stem: "patch" | "conv";
  /**
   * "conv" stem only: first one 3x3 convolution at the crop's full resolution (stride 1, 16 channels, LayerNorm,
   * GELU), before the stride-2 ones. Measured on the same crops with a PyTorch CNN: downsampling in the first layer
   * cost 0.09 of emotion accuracy (scripts/emotion-ceiling.py --first-stride 2).
   */
  readonly stemFullResolution: boolean;
  /**
   * Ours, not the paper's: each crop enters with its difference from the clip's first crop as extra channels
   * (2 x numChannels in all), so one frame's tokens see how the face moved, not only how it looks. Measured with
   * the PyTorch CNN: 0.84 emotion accuracy with the difference, 0.745 without. Needs the clip's frames together
   * (FaceEncoder.forwardClips).
   */
  readonly motion: boolean;
  readonly numChannels: number;
  /** D_i, the token width of each stage (one entry per stage; the presets double it). */
  readonly widths: readonly number[];
  /** Transformer blocks per stage (at least 1: each block's output feeds CA²). */
  readonly depths: readonly number[];
  /** Attention heads per stage; each width must be divisible by its heads. */
  readonly numHeads: readonly number[];
  /**
   * Per stage: side of the square local attention windows (Swin-style, without shifts; must divide the stage's
   * token grid), or 0 for global attention over the whole grid. Windows cut stage 1's attention cost by
   * (grid / window)^2; the stages after a merge still see the whole face. Default: 8 in stage 1 when its grid
   * is a larger multiple of 8, else 0.
   */
  readonly windowSizes: readonly number[];
  /** MLP hidden width = round(mlpRatio * D_i). */
  readonly mlpRatio: number;
  readonly layerNormEps: number;
}

export interface FaceEncoderConfig extends FaceEncoderConfigInput {
  /** Derived: token-grid side per stage (imageSize / patchSize, then halved per merge). */
  readonly grids: readonly number[];
  /** Derived: D of each block output, in forward order (one entry per block of every stage). */
  readonly blockDims: readonly number[];
  /** Derived: P of each block output (grid side squared), in forward order. */
  readonly blockTokens: readonly number[];
}

/**
 * The defaults are the tiny sizes: 112 px crops, 7 px patches, 16x16 -> 8x8 -> 4x4 -> 2x2 tokens, stage 1
 * attending within 8x8 windows (four per crop), the others globally.
 */
export const FACE_ENCODER_DEFAULTS: FaceEncoderConfigInput = {
  imageSize: 112,
  patchSize: 7,
  stem: "patch",
  stemFullResolution: false,
  motion: false,
  numChannels: 3,
  widths: [32, 64, 128, 256],
  depths: [1, 1, 1, 1],
  numHeads: [1, 2, 4, 8],
  windowSizes: [8, 0, 0, 0],
  mlpRatio: 4,
  layerNormEps: 1e-6,
};

const KEYS = Object.keys(FACE_ENCODER_DEFAULTS) as (keyof FaceEncoderConfigInput)[];

/**
 * Merges `partial` over the defaults, validates, and derives the grid and block sizes. Unknown keys are an
 * error (a typo would otherwise silently fall back to a default). `source` names the config in messages.
 */
export function resolveFaceEncoderConfig(partial: Partial<FaceEncoderConfigInput> = {}, source = "face encoder config"): FaceEncoderConfig {
  const fail = (what: string): never => {
    throw new FavchatError(`${source}: ${what}`);
  };
  const derived = new Set(["grids", "blockDims", "blockTokens"]); // accepted back from a resolved config, then recomputed
  for (const key of Object.keys(partial)) {
    if (!KEYS.includes(key as keyof FaceEncoderConfigInput) && !derived.has(key)) fail(`unknown field "${key}"; known fields: ${KEYS.join(", ")}`);
  }
  const c = { ...FACE_ENCODER_DEFAULTS, ...partial };
  const posInt = (key: string, v: unknown): number => {
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) fail(`"${key}" must be a positive integer, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const intList = (key: keyof FaceEncoderConfigInput): number[] => {
    const v = c[key];
    if (!Array.isArray(v) || v.length === 0) fail(`"${key}" must be a non-empty list of positive integers, got ${JSON.stringify(v)}`);
    return (v as unknown[]).map((x, i) => posInt(`${key}[${i}]`, x));
  };
  const imageSize = posInt("imageSize", c.imageSize);
  const patchSize = posInt("patchSize", c.patchSize);
  const numChannels = posInt("numChannels", c.numChannels);
  if (c.stem !== "patch" && c.stem !== "conv") fail(`"stem" must be "patch" or "conv", got ${JSON.stringify(c.stem)}`);
  if (c.stem === "conv" && (patchSize < 2 || (patchSize & (patchSize - 1)) !== 0)) {
    fail(`stem "conv" halves the crop log2(patchSize) times, so patchSize must be a power of 2 (2, 4, 8, ...); got ${patchSize}`);
  }
  if (typeof c.stemFullResolution !== "boolean") fail(`"stemFullResolution" must be true or false, got ${JSON.stringify(c.stemFullResolution)}`);
  if (c.stemFullResolution && c.stem !== "conv") fail(`"stemFullResolution" is a layer of the conv stem; set "stem": "conv" with it`);
  if (typeof c.motion !== "boolean") fail(`"motion" must be true or false, got ${JSON.stringify(c.motion)}`);
  const widths = intList("widths");
  const depths = intList("depths");
  const numHeads = intList("numHeads");
  const S = widths.length;
  if (depths.length !== S || numHeads.length !== S) {
    fail(`widths, depths and numHeads need one entry per stage; got ${S}, ${depths.length} and ${numHeads.length}`);
  }
  widths.forEach((d, i) => {
    if (d % numHeads[i] !== 0) fail(`stage ${i + 1}: width ${d} is not divisible by its ${numHeads[i]} heads`);
  });
  if (typeof c.mlpRatio !== "number" || !(c.mlpRatio > 0) || !Number.isFinite(c.mlpRatio)) fail(`"mlpRatio" must be a positive number, got ${JSON.stringify(c.mlpRatio)}`);
  if (typeof c.layerNormEps !== "number" || !(c.layerNormEps > 0)) fail(`"layerNormEps" must be a positive number, got ${JSON.stringify(c.layerNormEps)}`);
  // Patch merging halves the grid exactly S - 1 times, so the crop must divide by patch * 2^(S-1).
  const down = patchSize * 2 ** (S - 1);
  if (imageSize % down !== 0) {
    const near = Math.max(down, Math.round(imageSize / down) * down);
    fail(
      `imageSize ${imageSize} is not divisible by the total downsampling ${down} (patchSize ${patchSize} x 2^${S - 1} merges); ` +
        `use imageSize ${near} or a patchSize p with ${imageSize} divisible by p x ${2 ** (S - 1)}`,
    );
  }
  const grids = widths.map((_, i) => imageSize / patchSize / 2 ** i);
  // Unless set: 8x8 windows in stage 1 when its grid is a larger multiple of 8 (the tiny and small presets'
  // 16x16), global attention everywhere else.
  const windowsRaw = partial.windowSizes ?? grids.map((g, i) => (i === 0 && g > 8 && g % 8 === 0 ? 8 : 0));
  if (!Array.isArray(windowsRaw)) fail(`"windowSizes" must be a list of non-negative integers, got ${JSON.stringify(windowsRaw)}`);
  const windowSizes = (windowsRaw as unknown[]).map((x, i) => (x === 0 ? 0 : posInt(`windowSizes[${i}]`, x)));
  if (windowSizes.length !== S) fail(`"windowSizes" needs one entry per stage (${S}), got ${windowSizes.length}`);
  windowSizes.forEach((w, i) => {
    if (w !== 0 && grids[i] % w !== 0) fail(`stage ${i + 1}: windowSizes[${i}] ${w} does not divide its ${grids[i]}x${grids[i]} token grid; use a divisor or 0 (global)`);
  });
  const blockDims: number[] = [];
  const blockTokens: number[] = [];
  depths.forEach((n, i) => {
    for (let j = 0; j < n; j++) {
      blockDims.push(widths[i]);
      blockTokens.push(grids[i] * grids[i]);
    }
  });
  return { imageSize, patchSize, stem: c.stem, stemFullResolution: c.stemFullResolution, motion: c.motion, numChannels, widths, depths, numHeads, windowSizes, mlpRatio: c.mlpRatio, layerNormEps: c.layerNormEps, grids, blockDims, blockTokens };
}

/** The settable fields only (what a config.json stores); resolveFaceEncoderConfig of it gives `c` back. */
export function faceEncoderConfigToJson(c: FaceEncoderConfig): FaceEncoderConfigInput {
  const { imageSize, patchSize, stem, stemFullResolution, motion, numChannels, widths, depths, numHeads, windowSizes, mlpRatio, layerNormEps } = c;
  return {
    imageSize, patchSize, stem, stemFullResolution, motion, numChannels, widths: [...widths], depths: [...depths], numHeads: [...numHeads], windowSizes: [...windowSizes], mlpRatio, layerNormEps,
  };
}

/**
 * Sizes. tiny: the defaults (1.2 M parameters; 16 crops take well under a second on 2 CPU cores).
 * small: twice the widths, a second block in stage 3 (5.7 M). paper: FaceXFormer's Swin-B backbone sizes at 224 px with
 * 4 px patches (56x56 -> 7x7 tokens) and 7x7 windows in every stage, as Swin-B (without its shifted windows);
 * defined and loadable, not run on CPU.
 */
export const FACE_ENCODER_PRESETS = {
  tiny: resolveFaceEncoderConfig({}, "FACE_ENCODER_PRESETS.tiny"),
  small: resolveFaceEncoderConfig({ widths: [64, 128, 256, 512], depths: [1, 1, 2, 1], numHeads: [2, 4, 8, 16] }, "FACE_ENCODER_PRESETS.small"),
  paper: resolveFaceEncoderConfig(
    { imageSize: 224, patchSize: 4, widths: [128, 256, 512, 1024], depths: [2, 2, 18, 2], numHeads: [4, 8, 16, 32], windowSizes: [7, 7, 7, 7] },
    "FACE_ENCODER_PRESETS.paper",
  ),
} as const;
