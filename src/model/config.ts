// FavchatConfig: one sub-config per part (vision tower, facial encoder, CA², Q-Formers, adapters, LLM), the ablation
// switches, and the <video> placeholder id; `resolveFavchatConfig` is the one place a config.json (or a training
// config naming a preset plus overrides) is validated. Presets: tiny (trains on 2 CPU cores), small, and paper
// (SigLIP-so400m + Qwen2.5-7B widths; defined and constructible in principle, not run here).
import { VIDEO_POSITIONS, type VideoPosition } from "../data/chat-format.ts";
import { FavchatError } from "../core/errors.ts";
import { resolveSiglipVisionConfig, siglipVisionConfigToJson, SIGLIP_VISION_PRESETS, type SiglipVisionConfig } from "./vision/config.ts";
import {
  faceEncoderConfigToJson,
  resolveFaceEncoderConfig,
  FACE_ENCODER_PRESETS,
  type FaceEncoderConfig,
  type FaceEncoderConfigInput,
} from "./face/config.ts";
import { qwen2ConfigToJson, resolveQwen2Config, type Qwen2Config } from "./llm/config.ts";
import { CA2_DEFAULTS, type CA2Config } from "./prompt/ca2.ts";
import { QFORMER_DEFAULTS, type QFormerConfig } from "./prompt/qformer.ts";
import { ADAPTER_DEFAULTS, type AdapterConfig } from "./prompt/adapter.ts";
import type { AttributeSchema } from "./attribute-readout.ts";
import { EMOTIONS7 } from "../data/records.ts";
import { ATTRIBUTE_VALUES } from "../data/faceworld/identity.ts";

export const FAVCHAT_MODEL_TYPE = "favchat";

/** The paper's ablation rows (DESIGN 1). Each removes its part's parameters, not just its effect. */
export interface AblationSwitches {
  /** No facial encoder: no CA², no face Q-Former, no adapters; V = LayerNorm(F_g), weights [1, 0]. */
  readonly noFaceEncoder: boolean;
  /** No CA²: the face Q-Former reads the top facial block's projected tokens only. */
  readonly noCA2: boolean;
  /** Q-Formers without prompt tokens in their self-attention. */
  readonly qformerWithoutPrompt: boolean;
  /** Fixed 0.5/0.5 branch weights instead of the adapters. */
  readonly fixedWeights: boolean;
}

export interface FavchatConfig {
  readonly vision: SiglipVisionConfig;
  readonly face: FaceEncoderConfig;
  readonly ca2: CA2Config;
  /** Shared by both Q-Formers (general and face). */
  readonly qformer: QFormerConfig;
  readonly adapter: AdapterConfig;
  readonly llm: Qwen2Config;
  /** Frames the temporal embeddings cover: the most frames one clip may bring. */
  readonly maxFrames: number;
  /**
   * Id of the `<video>` placeholder: a single token in the input ids (one per sample) that the Q visual tokens
   * replace. It is an added special token of the model's tokenizer, so text can never produce it by accident.
   */
  readonly videoTokenId: number;
  /** The placeholder's text in the tokenizer (what the chat template writes). */
  readonly videoToken: string;
  readonly ablation: AblationSwitches;
  /**
   * Two more visual tokens after the Q-Formers' Q, read from the encoders without the question (ours;
   * src/model/summary-tokens.ts): V has Q + 2 tokens (Q + 1 without the facial encoder). Absent: false.
   */
  readonly summaryTokens: boolean;
  /** Where the chat puts the `<video>` placeholder, before or after the first question (src/data/chat-format.ts). Absent: before. */
  readonly videoPosition: VideoPosition;
  /**
   * One more visual token after the others, saying whether the AU the question names occurs, as a linear head reads
   * it from V (ours; src/model/au-readout.ts). Absent: false.
   */
  readonly auReadout: boolean;
  /**
   * One more visual token, first in V, carrying the value of the attribute the question asks about as a head reads it
   * from the encoders (ours; src/model/attribute-readout.ts): each attribute's values. Absent: null (no token).
   */
  readonly attributeReadout: AttributeSchema | null;
  /**
   * One more visual token, after the AU read-out's, carrying the clip's emotion as a head reads it from the encoders'
   * per-frame features pooled by a learnt attention over frames (ours; src/model/emotion-readout.ts): the classes.
   * Absent: null (no token).
   */
  readonly emotionReadout: readonly string[] | null;
  /**
   * The visual path reads the question through a token table of its own (ours), not the LLM's: a copy of the LLM's
   * table as stage 0 left it, frozen from then on, so the prompt CA², the Q-Formers, the adapters and the read-outs
   * learnt in stage connector does not drift while stages 1-3 train the LLM's table. Absent: false (the LLM's table).
   */
  readonly promptTable: boolean;
}

export type FavchatPresetName = "tiny" | "small" | "paper";
export const FAVCHAT_PRESET_NAMES: readonly FavchatPresetName[] = ["tiny", "small", "paper"];

type Json = Record<string, unknown>;

const PRESETS: Record<FavchatPresetName, Json> = {
  // tiny: what trains on 2 CPU cores within the hour (issue 5): 8 frames of 64 px for the general encoder
  // (4x4 patches of 16 px, 2 layers) and 8 face crops of 64 px (8 px patches: 8x8 -> 4x4 -> 2x2 -> 1x1 tokens),
  // Q = 16 visual tokens, a 4-layer 128-wide decoder. Measured forward+backward at batch 4 (stage 2): 0.8 s, against
  // 5.1 s with 16 frames of 112 px. The vocabulary size is a placeholder until the tokenizer is known (the
  // training run sets it from the vocabulary it learns).
  tiny: {
    max_frames: 8,
    vision_config: { ...siglipVisionConfigToJson(SIGLIP_VISION_PRESETS.tiny), image_size: 64, num_hidden_layers: 2 },
    face_config: { ...faceEncoderConfigToJson(FACE_ENCODER_PRESETS.tiny), imageSize: 64, patchSize: 8, windowSizes: [0, 0, 0, 0] },
    ca2_config: { dim: 128, num_heads: 4, read_blocks: 3 },
    qformer_config: { num_queries: 16, dim: 128, num_heads: 4, num_layers: 2, mlp_dim: 256 },
    adapter_config: { hidden: 64 },
    llm_config: {
      vocab_size: 4096, hidden_size: 128, intermediate_size: 384, num_hidden_layers: 4, num_attention_heads: 4,
      num_key_value_heads: 2, tie_word_embeddings: true, max_position_embeddings: 2048, rope_theta: 10000,
    },
    video_token_id: 4095,
  },
  small: {
    max_frames: 16,
    vision_config: siglipVisionConfigToJson(SIGLIP_VISION_PRESETS.small),
    face_config: faceEncoderConfigToJson(FACE_ENCODER_PRESETS.small),
    ca2_config: { dim: 256, num_heads: 8 },
    qformer_config: { num_queries: 16, dim: 256, num_heads: 8, num_layers: 2, mlp_dim: 1024 },
    adapter_config: { hidden: 128 },
    llm_config: {
      vocab_size: 8192, hidden_size: 384, intermediate_size: 1024, num_hidden_layers: 6, num_attention_heads: 6,
      num_key_value_heads: 2, tie_word_embeddings: true, max_position_embeddings: 4096, rope_theta: 10000,
    },
    video_token_id: 8191,
  },
  // paper: SigLIP-so400m-patch14-384 and Qwen2.5-7B-Instruct's config.json values; the placeholder is Qwen2.5's
  // own <|video_pad|> token (id 151656), so a real Qwen2.5 tokenizer works unchanged.
  paper: {
    max_frames: 16,
    vision_config: siglipVisionConfigToJson(SIGLIP_VISION_PRESETS.paper),
    face_config: faceEncoderConfigToJson(FACE_ENCODER_PRESETS.paper),
    ca2_config: { dim: 1024, num_heads: 16 },
    qformer_config: { num_queries: 16, dim: 768, num_heads: 12, num_layers: 6, mlp_dim: 3072 },
    adapter_config: { hidden: 1024 },
    llm_config: {
      vocab_size: 152064, hidden_size: 3584, intermediate_size: 18944, num_hidden_layers: 28, num_attention_heads: 28,
      num_key_value_heads: 4, tie_word_embeddings: false, max_position_embeddings: 32768, rope_theta: 1000000,
      rms_norm_eps: 1e-6, bos_token_id: 151643, eos_token_id: 151645,
    },
    video_token_id: 151656,
    video_token: "<|video_pad|>",
  },
};

const SUB_CONFIGS = ["vision_config", "face_config", "ca2_config", "qformer_config", "adapter_config", "llm_config"] as const;
const TOP_KEYS = new Set<string>([
  "model_type", "architectures", "preset", "max_frames", "video_token_id", "video_token", "ablation", "summary_tokens", "video_position", "au_readout", "attribute_readout", "emotion_readout", "prompt_table", "torch_dtype", ...SUB_CONFIGS,
]);
const ABLATION_KEYS = { no_face_encoder: "noFaceEncoder", no_ca2: "noCA2", qformer_without_prompt: "qformerWithoutPrompt", fixed_weights: "fixedWeights" } as const;

/** A preset as config.json fields (a copy: edit freely, then resolve). */
export function favchatPresetJson(name: FavchatPresetName): Json {
  if (!FAVCHAT_PRESET_NAMES.includes(name)) {
    throw new FavchatError(`unknown favchat preset "${String(name)}"; choose one of ${FAVCHAT_PRESET_NAMES.join(", ")}`);
  }
  return structuredClone({ model_type: FAVCHAT_MODEL_TYPE, ...PRESETS[name] });
}

/**
 * Resolves config.json fields. With `"preset": "tiny" | "small" | "paper"` the given fields are merged over that
 * preset, one level deep (a sub-config's fields replace the preset's one by one), so a training config can say
 * `{"preset": "tiny", "llm_config": {"vocab_size": 1200}, "ablation": {"no_ca2": true}}`. Unknown keys are errors
 * (a typo would otherwise fall back to a default). `source` names the file in messages.
 */
export function resolveFavchatConfig(raw: Json, source: string): FavchatConfig {
  const fail = (what: string): never => {
    throw new FavchatError(`${source}: ${what}`);
  };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail("a favchat config must be a JSON object");
  if (raw.model_type !== undefined && raw.model_type !== FAVCHAT_MODEL_TYPE) {
    fail(`model_type "${String(raw.model_type)}" is not a favchat model (expected "${FAVCHAT_MODEL_TYPE}")`);
  }
  for (const key of Object.keys(raw)) {
    if (!TOP_KEYS.has(key)) fail(`unknown field "${key}"; known fields: ${[...TOP_KEYS].join(", ")}`);
  }
  if (raw.preset !== undefined && !FAVCHAT_PRESET_NAMES.includes(raw.preset as FavchatPresetName)) {
    fail(`unknown preset ${JSON.stringify(raw.preset)}; choose one of ${FAVCHAT_PRESET_NAMES.join(", ")}`);
  }
  const c = raw.preset === undefined ? raw : mergeOver(favchatPresetJson(raw.preset as FavchatPresetName), raw);
  const sub = (key: (typeof SUB_CONFIGS)[number]): Json => {
    const v = c[key];
    if (v === undefined) fail(`"${key}" is missing; give it or name a preset ("preset": "tiny")`);
    if (typeof v !== "object" || v === null || Array.isArray(v)) fail(`"${key}" must be an object, got ${JSON.stringify(v)}`);
    return v as Json;
  };
  const where = (key: string) => `${source} (${key})`;

  const vision = resolveSiglipVisionConfig(sub("vision_config"), where("vision_config"));
  const face = resolveFaceEncoderConfig(sub("face_config") as Partial<FaceEncoderConfigInput>, where("face_config"));
  const llm = resolveQwen2Config(sub("llm_config"), where("llm_config"));
  const ca2Raw = sub("ca2_config");
  const qfRaw = sub("qformer_config");
  const adRaw = sub("adapter_config");
  const ints = (obj: Json, key: string, fields: Record<string, number>) => {
    for (const k of Object.keys(obj)) if (!(k in fields)) fail(`${key}: unknown field "${k}"; known fields: ${Object.keys(fields).join(", ")}`);
    const out: Record<string, number> = {};
    for (const [k, dflt] of Object.entries(fields)) {
      const v = obj[k] ?? dflt;
      if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) fail(`${key}.${k} must be a positive integer, got ${JSON.stringify(v)}`);
      out[k] = v as number;
    }
    return out;
  };
  // read_blocks absent: 1, what model directories written before the field existed were trained with; frame_tokens
  // absent: false, likewise; frame_deltas absent: false.
  const { frame_tokens: frameTokens = false, frame_deltas: frameDeltas = false, ...ca2Ints } = ca2Raw;
  if (typeof frameTokens !== "boolean") fail(`ca2_config.frame_tokens must be true or false, got ${JSON.stringify(frameTokens)}`);
  if (typeof frameDeltas !== "boolean") fail(`ca2_config.frame_deltas must be true or false, got ${JSON.stringify(frameDeltas)}`);
  if (frameDeltas && !frameTokens) fail("ca2_config.frame_deltas needs frame_tokens: true (each frame token's MLP reads the frame's delta)");
  const ca2i = ints(ca2Ints, "ca2_config", { dim: CA2_DEFAULTS.dim, num_heads: CA2_DEFAULTS.numHeads, read_blocks: CA2_DEFAULTS.readBlocks });
  const qfi = ints(qfRaw, "qformer_config", {
    num_queries: QFORMER_DEFAULTS.numQueries, dim: QFORMER_DEFAULTS.dim, num_heads: QFORMER_DEFAULTS.numHeads,
    num_layers: QFORMER_DEFAULTS.numLayers, mlp_dim: QFORMER_DEFAULTS.mlpDim,
  });
  const adi = ints(adRaw, "adapter_config", { hidden: ADAPTER_DEFAULTS.hidden });
  if (ca2i.dim % ca2i.num_heads !== 0) fail(`ca2_config.dim ${ca2i.dim} is not divisible by num_heads ${ca2i.num_heads}`);
  if (qfi.dim % qfi.num_heads !== 0) fail(`qformer_config.dim ${qfi.dim} is not divisible by num_heads ${qfi.num_heads}`);

  const maxFrames = c.max_frames ?? 16;
  if (typeof maxFrames !== "number" || !Number.isInteger(maxFrames) || maxFrames <= 0) fail(`"max_frames" must be a positive integer, got ${JSON.stringify(maxFrames)}`);
  const videoTokenId = c.video_token_id;
  if (typeof videoTokenId !== "number" || !Number.isInteger(videoTokenId) || videoTokenId < 0 || videoTokenId >= llm.vocabSize) {
    fail(`"video_token_id" must be a token id below llm_config.vocab_size ${llm.vocabSize}, got ${JSON.stringify(videoTokenId)}; ` +
      `set it to the id of the <video> special token of the model's tokenizer`);
  }
  const videoToken = c.video_token ?? "<video>";
  if (typeof videoToken !== "string" || videoToken.length === 0) fail(`"video_token" must be a non-empty string, got ${JSON.stringify(videoToken)}`);

  const abRaw = c.ablation ?? {};
  if (typeof abRaw !== "object" || abRaw === null || Array.isArray(abRaw)) fail(`"ablation" must be an object, got ${JSON.stringify(abRaw)}`);
  const ablation: Record<string, boolean> = {};
  for (const k of Object.keys(abRaw as Json)) {
    if (!(k in ABLATION_KEYS)) fail(`ablation: unknown switch "${k}"; known switches: ${Object.keys(ABLATION_KEYS).join(", ")}`);
  }
  for (const [k, field] of Object.entries(ABLATION_KEYS)) {
    const v = (abRaw as Json)[k] ?? false;
    if (typeof v !== "boolean") fail(`ablation.${k} must be true or false, got ${JSON.stringify(v)}`);
    ablation[field] = v as boolean;
  }

  // Absent: false, what model directories written before the field existed have.
  const summaryTokens = c.summary_tokens ?? false;
  if (typeof summaryTokens !== "boolean") fail(`"summary_tokens" must be true or false, got ${JSON.stringify(summaryTokens)}`);
  const videoPosition = c.video_position ?? "before_question";
  if (!VIDEO_POSITIONS.includes(videoPosition as VideoPosition)) {
    fail(`"video_position" must be ${VIDEO_POSITIONS.map((p) => `"${p}"`).join(" or ")}, got ${JSON.stringify(videoPosition)}`);
  }
  const auReadout = c.au_readout ?? false;
  if (typeof auReadout !== "boolean") fail(`"au_readout" must be true or false, got ${JSON.stringify(auReadout)}`);
  const attributeReadout = attributeSchemaOf(c.attribute_readout ?? false, fail);
  const emotionReadout = emotionClassesOf(c.emotion_readout ?? false, fail);
  const promptTable = c.prompt_table ?? false;
  if (typeof promptTable !== "boolean") fail(`"prompt_table" must be true or false, got ${JSON.stringify(promptTable)}`);

  return {
    vision,
    face,
    ca2: { dim: ca2i.dim, numHeads: ca2i.num_heads, readBlocks: ca2i.read_blocks, frameTokens: frameTokens as boolean, frameDeltas: frameDeltas as boolean },
    qformer: { numQueries: qfi.num_queries, dim: qfi.dim, numHeads: qfi.num_heads, numLayers: qfi.num_layers, mlpDim: qfi.mlp_dim },
    adapter: { hidden: adi.hidden },
    llm,
    maxFrames: maxFrames as number,
    videoTokenId: videoTokenId as number,
    videoToken: videoToken as string,
    ablation: ablation as unknown as AblationSwitches,
    summaryTokens: summaryTokens as boolean,
    videoPosition: videoPosition as VideoPosition,
    auReadout: auReadout as boolean,
    attributeReadout,
    emotionReadout,
    promptTable: promptTable as boolean,
  };
}

/**
 * "attribute_readout": false (none), true (FaceWorld's attributes, ATTRIBUTE_VALUES), or an object from each
 * attribute's name to its values (at least two, distinct).
 */
function attributeSchemaOf(v: unknown, fail: (msg: string) => never): AttributeSchema | null {
  if (v === false) return null;
  if (v === true) return ATTRIBUTE_VALUES;
  const bad = () => fail(`"attribute_readout" must be true, false, or an object from each attribute to its values (two or more distinct strings), got ${JSON.stringify(v)}`);
  if (typeof v !== "object" || v === null || Array.isArray(v) || Object.keys(v).length === 0) bad();
  for (const values of Object.values(v as Json)) {
    if (!Array.isArray(values) || values.length < 2 || values.some((x) => typeof x !== "string") || new Set(values).size !== values.length) bad();
  }
  return v as AttributeSchema;
}

/** "emotion_readout": false (none), true (FaceWorld's seven emotions), or a list of two or more distinct class names. */
function emotionClassesOf(v: unknown, fail: (msg: string) => never): readonly string[] | null {
  if (v === false) return null;
  if (v === true) return EMOTIONS7;
  if (!Array.isArray(v) || v.length < 2 || v.some((x) => typeof x !== "string" || x === "") || new Set(v).size !== v.length) {
    fail(`"emotion_readout" must be true, false, or a list of two or more distinct emotion names, got ${JSON.stringify(v)}`);
  }
  return v as string[];
}

/** A preset, resolved; `overrides` are config.json fields merged over it (see resolveFavchatConfig). */
export function favchatPreset(name: FavchatPresetName, overrides: Json = {}): FavchatConfig {
  return resolveFavchatConfig({ ...overrides, preset: name }, `favchat preset "${name}"`);
}

/** config.json of a resolved config: every field written out (no preset), Hugging Face names where they exist. */
export function favchatConfigToJson(c: FavchatConfig): Json {
  return {
    model_type: FAVCHAT_MODEL_TYPE,
    architectures: ["FavChat"],
    max_frames: c.maxFrames,
    video_token_id: c.videoTokenId,
    video_token: c.videoToken,
    ablation: Object.fromEntries(Object.entries(ABLATION_KEYS).map(([k, field]) => [k, c.ablation[field]])),
    summary_tokens: c.summaryTokens,
    video_position: c.videoPosition,
    au_readout: c.auReadout,
    attribute_readout: c.attributeReadout ?? false,
    ...(c.emotionReadout && { emotion_readout: [...c.emotionReadout] }),
    ...(c.promptTable && { prompt_table: true }),
    vision_config: siglipVisionConfigToJson(c.vision),
    face_config: faceEncoderConfigToJson(c.face),
    ca2_config: { dim: c.ca2.dim, num_heads: c.ca2.numHeads, read_blocks: c.ca2.readBlocks, frame_tokens: c.ca2.frameTokens, ...(c.ca2.frameDeltas && { frame_deltas: true }) },
    qformer_config: {
      num_queries: c.qformer.numQueries, dim: c.qformer.dim, num_heads: c.qformer.numHeads, num_layers: c.qformer.numLayers, mlp_dim: c.qformer.mlpDim,
    },
    adapter_config: { hidden: c.adapter.hidden },
    llm_config: qwen2ConfigToJson(c.llm),
    torch_dtype: "float32",
  };
}

/** base with over's fields on top; object-valued fields (sub-configs, ablation) merge one level deep. */
export function mergeOver(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (k === "preset") continue;
    const b = out[k];
    const bothObjects = [b, v].every((x) => typeof x === "object" && x !== null && !Array.isArray(x));
    out[k] = bothObjects ? { ...(b as Json), ...(v as Json) } : v;
  }
  return out;
}
