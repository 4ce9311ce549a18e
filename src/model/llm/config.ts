// Qwen2 configuration: read from a Hugging Face config.json, validated once, with the derived sizes.
// Anything we do not implement (rope scaling, sliding windows, other activations) is a clear error.
import { FavchatError } from "../../core/errors.ts";

export interface Qwen2Config {
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  /** Key/value heads (grouped-query attention when fewer than numHeads). */
  readonly numKvHeads: number;
  /** hiddenSize / numHeads. */
  readonly headDim: number;
  readonly rmsNormEps: number;
  readonly ropeTheta: number;
  readonly tieWordEmbeddings: boolean;
  readonly maxPositionEmbeddings: number;
  /** Token ids from config.json, when present. */
  readonly eosTokenId: number[];
  readonly bosTokenId: number | null;
}

export const QWEN2_DEFAULTS = {
  rmsNormEps: 1e-6,
  ropeTheta: 10000,
  tieWordEmbeddings: false,
  maxPositionEmbeddings: 32768,
} as const;

const MODEL_TYPES = ["qwen2"];

/** Resolves a raw config.json object; `source` names the file in error messages. */
export function resolveQwen2Config(raw: Record<string, unknown>, source: string): Qwen2Config {
  const fail = (what: string): never => {
    throw new FavchatError(`${source}: ${what}`);
  };
  const int = (key: string, fallback?: number): number => {
    const v = raw[key] ?? fallback;
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) fail(`"${key}" must be a positive integer, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const num = (key: string, fallback: number): number => {
    const v = raw[key] ?? fallback;
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) fail(`"${key}" must be a positive number, got ${JSON.stringify(v)}`);
    return v as number;
  };

  const modelType = raw["model_type"];
  if (modelType !== undefined && !MODEL_TYPES.includes(String(modelType))) {
    fail(`model_type "${String(modelType)}" is not a Qwen2-architecture LLM; favchat's decoder supports ${MODEL_TYPES.join(", ")}`);
  }
  const ropeScaling = raw["rope_scaling"] as { type?: string; rope_type?: string } | null | undefined;
  if (ropeScaling) {
    const kind = ropeScaling.rope_type ?? ropeScaling.type ?? "unknown";
    if (kind !== "default") fail(`rope_scaling type "${kind}" is not implemented; only unscaled RoPE is supported (remove rope_scaling or use a checkpoint without it)`);
  }
  if (raw["use_sliding_window"] === true) fail(`use_sliding_window: true is not implemented; set it to false (Qwen2 checkpoints ship it false)`);
  const act = raw["hidden_act"] ?? "silu";
  if (act !== "silu") fail(`hidden_act "${String(act)}" is not supported; Qwen2 uses "silu"`);

  const hiddenSize = int("hidden_size");
  const numHeads = int("num_attention_heads");
  const numKvHeads = int("num_key_value_heads", numHeads);
  const headDim = hiddenSize / numHeads;
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) fail(`hidden_size ${hiddenSize} / num_attention_heads ${numHeads} must be an even integer`);
  if (raw["head_dim"] !== undefined && raw["head_dim"] !== headDim) fail(`head_dim ${String(raw["head_dim"])} differs from hidden_size / num_attention_heads = ${headDim}; not supported`);
  if (numHeads % numKvHeads !== 0) fail(`num_attention_heads ${numHeads} must be a multiple of num_key_value_heads ${numKvHeads}`);
  const eos = raw["eos_token_id"];
  const eosTokenId = Array.isArray(eos) ? eos.filter((x): x is number => typeof x === "number") : typeof eos === "number" ? [eos] : [];
  const bos = raw["bos_token_id"];

  return {
    vocabSize: int("vocab_size"),
    hiddenSize,
    intermediateSize: int("intermediate_size"),
    numLayers: int("num_hidden_layers"),
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: num("rms_norm_eps", QWEN2_DEFAULTS.rmsNormEps),
    ropeTheta: num("rope_theta", QWEN2_DEFAULTS.ropeTheta),
    tieWordEmbeddings: Boolean(raw["tie_word_embeddings"] ?? QWEN2_DEFAULTS.tieWordEmbeddings),
    maxPositionEmbeddings: int("max_position_embeddings", QWEN2_DEFAULTS.maxPositionEmbeddings),
    eosTokenId,
    bosTokenId: typeof bos === "number" ? bos : null,
  };
}

/** The config.json a Qwen2Config writes back (Hugging Face field names). */
export function qwen2ConfigToJson(c: Qwen2Config): Record<string, unknown> {
  return {
    architectures: ["Qwen2ForCausalLM"],
    model_type: "qwen2",
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    tie_word_embeddings: c.tieWordEmbeddings,
    max_position_embeddings: c.maxPositionEmbeddings,
    hidden_act: "silu",
    eos_token_id: c.eosTokenId.length === 1 ? c.eosTokenId[0] : c.eosTokenId,
    bos_token_id: c.bosTokenId,
    torch_dtype: "float32",
  };
}
