// SigLIP vision-tower configuration: Hugging Face's SiglipVisionConfig fields (with its defaults), read from a
// `siglip` config.json (vision_config inside), a `siglip_vision_model` one, or a bare vision config object,
// validated once; plus the tower sizes favchat uses (tiny, small, paper = SigLIP-so400m-patch14-384).
import { FavchatError } from "../../core/errors.ts";

export interface SiglipVisionConfig {
  /** D, the token width. */
  readonly hiddenSize: number;
  /** Width of the MLP's hidden layer. */
  readonly intermediateSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  /** Square input side in pixels; frames must be resized to it. */
  readonly imageSize: number;
  readonly patchSize: number;
  readonly numChannels: number;
  readonly layerNormEps: number;
  /** Only "gelu_pytorch_tanh" (every released SigLIP) is implemented. */
  readonly hiddenAct: "gelu_pytorch_tanh";
  /** Derived: floor(imageSize / patchSize)^2, the P of the output [N, P, D]. */
  readonly numPatches: number;
}

/** SiglipVisionConfig's defaults in transformers (a config.json may omit any of these). */
export const SIGLIP_VISION_DEFAULTS = {
  hidden_size: 768,
  intermediate_size: 3072,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  num_channels: 3,
  image_size: 224,
  patch_size: 16,
  hidden_act: "gelu_pytorch_tanh",
  layer_norm_eps: 1e-6,
} as const;

/** Model types whose config.json holds a SigLIP vision tower. */
const SIGLIP_TYPES = ["siglip", "siglip_vision_model"];

/**
 * Resolves a raw config object. Accepted: a full SigLIP config (model_type "siglip", the tower's fields under
 * `vision_config`), a vision-tower config (model_type "siglip_vision_model"), or the bare fields without a
 * model_type (a sub-config of a favchat config.json). `source` names the file in error messages.
 */
export function resolveSiglipVisionConfig(raw: Record<string, unknown>, source: string): SiglipVisionConfig {
  const fail = (what: string): never => {
    throw new FavchatError(`${source}: ${what}`);
  };
  const modelType = raw["model_type"];
  if (modelType !== undefined && !SIGLIP_TYPES.includes(String(modelType))) {
    fail(`model_type "${String(modelType)}" is not a SigLIP vision tower; expected one of ${SIGLIP_TYPES.join(", ")} (a siglip-* checkpoint directory)`);
  }
  let fields = raw;
  if (modelType === "siglip") {
    const vc = raw["vision_config"];
    if (vc === undefined || vc === null) fields = {}; // transformers builds the default tower then
    else if (typeof vc !== "object" || Array.isArray(vc)) fail(`"vision_config" must be an object, got ${JSON.stringify(vc)}`);
    else fields = vc as Record<string, unknown>;
  }
  const int = (key: keyof typeof SIGLIP_VISION_DEFAULTS): number => {
    const v = fields[key] ?? SIGLIP_VISION_DEFAULTS[key];
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) fail(`"${key}" must be a positive integer, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const act = fields["hidden_act"] ?? SIGLIP_VISION_DEFAULTS.hidden_act;
  if (act !== "gelu_pytorch_tanh") fail(`hidden_act "${String(act)}" is not supported; SigLIP uses "gelu_pytorch_tanh"`);
  const eps = fields["layer_norm_eps"] ?? SIGLIP_VISION_DEFAULTS.layer_norm_eps;
  if (typeof eps !== "number" || !(eps > 0) || !Number.isFinite(eps)) fail(`"layer_norm_eps" must be a positive number, got ${JSON.stringify(eps)}`);
  // Released SigLIP towers are square; transformers allows only an int image_size too.
  if (Array.isArray(fields["image_size"])) fail(`"image_size" must be one integer (square images), got ${JSON.stringify(fields["image_size"])}`);

  const hiddenSize = int("hidden_size");
  const numHeads = int("num_attention_heads");
  const imageSize = int("image_size");
  const patchSize = int("patch_size");
  if (hiddenSize % numHeads !== 0) fail(`hidden_size ${hiddenSize} is not divisible by num_attention_heads ${numHeads}`);
  // Conv2d with stride p drops the last image_size % p rows and columns (so400m: 384 px, patch 14 -> 27x27).
  if (patchSize > imageSize) fail(`patch_size ${patchSize} is larger than image_size ${imageSize}`);
  return {
    hiddenSize,
    intermediateSize: int("intermediate_size"),
    numLayers: int("num_hidden_layers"),
    numHeads,
    imageSize,
    patchSize,
    numChannels: int("num_channels"),
    layerNormEps: eps as number,
    hiddenAct: "gelu_pytorch_tanh",
    numPatches: Math.floor(imageSize / patchSize) ** 2,
  };
}

/** The vision tower's config.json (model_type "siglip_vision_model", Hugging Face field names). */
export function siglipVisionConfigToJson(c: SiglipVisionConfig): Record<string, unknown> {
  return {
    architectures: ["SiglipVisionModel"],
    model_type: "siglip_vision_model",
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_channels: c.numChannels,
    image_size: c.imageSize,
    patch_size: c.patchSize,
    hidden_act: c.hiddenAct,
    layer_norm_eps: c.layerNormEps,
    torch_dtype: "float32",
  };
}

/**
 * Tower sizes. tiny: 16 frames of 112 px give 16 x 49 tokens, cheap enough to train on 2 CPU cores; small: a
 * ViT-S/16 at 224 px; paper: SigLIP-so400m-patch14-384, the paper's general encoder (defined, not run on CPU).
 */
export const SIGLIP_VISION_PRESETS = {
  tiny: resolveSiglipVisionConfig(
    { hidden_size: 128, intermediate_size: 512, num_hidden_layers: 3, num_attention_heads: 4, image_size: 112, patch_size: 16 },
    "SIGLIP_VISION_PRESETS.tiny",
  ),
  small: resolveSiglipVisionConfig(
    { hidden_size: 384, intermediate_size: 1536, num_hidden_layers: 6, num_attention_heads: 6, image_size: 224, patch_size: 16 },
    "SIGLIP_VISION_PRESETS.small",
  ),
  paper: resolveSiglipVisionConfig(
    { hidden_size: 1152, intermediate_size: 4304, num_hidden_layers: 27, num_attention_heads: 16, image_size: 384, patch_size: 14 },
    "SIGLIP_VISION_PRESETS.paper",
  ),
} as const;
