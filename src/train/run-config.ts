// The training config file of `favchat train` (configs/*.json): the model to build when starting from scratch,
// the tokenizer to learn, the frames per clip, and one section of optimisation settings per stage. Every field is
// documented here and validated once; unknown fields are errors (a typo must not silently fall back to a default).
import { readFileSync } from "node:fs";
import { FavchatError } from "../core/errors.ts";
import { resolveTrainerConfig, type TrainerConfig } from "./trainer.ts";
import { parseStage, STAGES, type Stage } from "./favchat-data.ts";
import { PART_NAMES } from "../model/freeze.ts";

export interface StageSettings {
  readonly trainer: TrainerConfig;
  /**
   * Parts to freeze instead of DESIGN 2's plan for this stage (names as in src/model/freeze.ts: "general encoder",
   * "facial encoder", "CA²", "Q-Formers", "MLPs", "adapters", "LLM", "LLM embeddings": the token table alone; "LLM"
   * includes it). The paper freezes parts that were pretrained;
   * a model trained from scratch may need them to learn (see README, the shipped model).
   */
  readonly frozen?: readonly string[];
  /** Only the examples of these question categories (e.g. ["au_presence", "attribute"]); all when absent. */
  readonly categories?: readonly string[];
  /**
   * How often each category's training examples are drawn, relative to the rest (e.g. {"attribute": 3}: every
   * attribute question three times in the pool; 0.5: half of them, a seeded pick). Categories not named weigh 1.
   */
  readonly categoryWeights?: Readonly<Record<string, number>>;
  /**
   * Stage 3 only: examples of the other question categories replayed beside the emotion and reasoning ones, as a
   * fraction of those (default 0.25, favchat-data.ts STAGE3_REPLAY).
   */
  readonly replay?: number;
  /**
   * Stage 2 only: conversations per training clip that ask every appearance attribute in turn, in a random order
   * (favchat-data.ts attributeConversations; category "attribute"). 0 or absent: none.
   */
  readonly attributeConversations?: number;
  /**
   * Stages 2 and 3: single questions per training clip about further attributes, each its own example (favchat-data.ts
   * attributeExtras; category "attribute"), beside qa.jsonl's one per clip (in stage 3, beside the emotion questions
   * and the replayed ones). 0 or absent: none.
   */
  readonly attributeQuestions?: number;
  /**
   * Stages connector and 1-3, with both encoders frozen: cache the encoders' outputs per clip on disk
   * (src/train/feature-cache.ts) in this many crop variants per clip (1: the crops as inference makes them; more:
   * seeded crop jitter). 0 or absent: no cache, the encoders run at every draw with a fresh jitter.
   */
  readonly featureCache?: number;
  /**
   * Stages connector and 1-3: whether the plain form of a question (asked HINT_DROP of the time in training, see
   * src/train/favchat-task.ts) also drops its options where the question reads whole without them (attribute,
   * emotion, action, timing). Absent: true. false: only the format instruction is dropped (the shipped model's
   * recipe before session 13).
   */
  readonly plainOptions?: boolean;
  /**
   * Stages 1-3: whether the language loss trains the LLM's token embeddings back through the visual path too (the
   * question's embeddings are the prompt of CA², the Q-Formers and the adapters). Absent: true. false: the visual
   * path reads the question's embeddings as constants, so backward stops at V and skips the frozen CA² and
   * Q-Former bodies (FavChat.promptGrad); the embeddings still learn through the LLM.
   */
  readonly promptGrad?: boolean;
  /** Examples per micro-batch. */
  readonly batchSize: number;
  /** Validation batches per evaluation (0: none). */
  readonly valBatches: number;
  /**
   * Stage encoders: weight of each encoder's label-head term (the mean cross-entropy of its attribute and scene
   * heads) beside the AU and emotion terms. Absent: 1.
   */
  readonly attributeWeight?: number;
  /** Weight of the label heads' loss on the visual tokens (src/train/visual-aux.ts); 0: off (stages 1-3 only). */
  readonly visualAux: number;
  /**
   * Weight of the label groups an example's question is not about, in the heads' loss (stage connector and
   * visual_aux; absent: visual-aux.ts's OFF_TOPIC_WEIGHT; 1: every group counts fully whatever the question).
   */
  readonly visualOffTopic?: number;
  /**
   * Heads on V beyond the clips' labels (src/train/visual-aux.ts), for stage connector and visual_aux: "answer" (each
   * row's answer from pooled V) and "au_tokens" (visual token k reads AU k's occurrence). None when absent.
   */
  readonly visualHeads?: readonly VisualHeadKind[];
  /**
   * Threads sharing each step's grad_accum micro-batches (src/train/workers.ts; the numbers do not depend on it).
   * At most grad_accum are used.
   */
  readonly threads: number;
}

export const VISUAL_HEAD_KINDS = ["answer", "au_tokens"] as const;
export type VisualHeadKind = (typeof VISUAL_HEAD_KINDS)[number];

export interface RunConfig {
  /** favchat config.json fields for a new model (e.g. {"preset": "tiny", "ablation": {...}}). */
  readonly model: Record<string, unknown>;
  /** Size of the byte-level BPE learnt from the data when the run starts without a model (--init). */
  readonly vocabSize: number;
  /** Frames per clip given to the model. */
  readonly frames: number;
  readonly stages: Partial<Record<Stage, StageSettings>>;
}

const STAGE_KEYS: Record<string, keyof TrainerConfig | "batch_size" | "val_batches" | "frozen" | "categories" | "category_weights" | "replay" | "attribute_conversations" | "attribute_questions" | "feature_cache" | "plain_options" | "prompt_grad" | "visual_aux" | "visual_off_topic" | "visual_heads" | "threads" | "attribute_weight"> = {
  steps: "totalSteps",
  grad_accum: "gradAccum",
  lr: "lr",
  warmup_steps: "warmupSteps",
  min_lr_ratio: "minLrRatio",
  weight_decay: "weightDecay",
  max_grad_norm: "maxGradNorm",
  seed: "seed",
  checkpoint_every: "checkpointEvery",
  eval_every: "evalEvery",
  batch_size: "batch_size",
  val_batches: "val_batches",
  frozen: "frozen",
  visual_aux: "visual_aux",
  visual_off_topic: "visual_off_topic",
  visual_heads: "visual_heads",
  categories: "categories",
  category_weights: "category_weights",
  replay: "replay",
  attribute_conversations: "attribute_conversations",
  attribute_questions: "attribute_questions",
  feature_cache: "feature_cache",
  plain_options: "plain_options",
  prompt_grad: "prompt_grad",
  threads: "threads",
  attribute_weight: "attribute_weight",
};

export function resolveRunConfig(raw: unknown, source: string): RunConfig {
  const fail = (what: string): never => {
    throw new FavchatError(`${source}: ${what}`);
  };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail("must be a JSON object");
  const r = raw as Record<string, unknown>;
  for (const k of Object.keys(r)) if (!["model", "vocab_size", "frames", "stages", "comment"].includes(k)) fail(`unknown field "${k}" (fields: model, vocab_size, frames, stages)`);
  const model = (r.model ?? { preset: "tiny" }) as Record<string, unknown>;
  if (typeof model !== "object" || Array.isArray(model)) fail(`"model" must be an object of favchat config fields`);
  const vocabSize = r.vocab_size ?? 1024;
  if (!Number.isInteger(vocabSize) || (vocabSize as number) < 260) fail(`"vocab_size" must be a whole number >= 260, got ${JSON.stringify(vocabSize)}`);
  const frames = r.frames ?? 16;
  if (!Number.isInteger(frames) || (frames as number) < 1) fail(`"frames" must be a whole number >= 1, got ${JSON.stringify(frames)}`);
  const stagesRaw = (r.stages ?? {}) as Record<string, Record<string, unknown>>;
  const stages: Partial<Record<Stage, StageSettings>> = {};
  for (const [key, s] of Object.entries(stagesRaw)) {
    const stage = parseStage(key);
    if (stage === null) fail(`stages: unknown stage "${key}" (stages are ${STAGES.join(", ")})`);
    const partial: Record<string, number> = {};
    let batchSize = 8;
    let valBatches = 4;
    let visualAux = 0;
    let visualOffTopic: number | undefined;
    let threads = 1;
    let replay: number | undefined;
    let attributeConversations: number | undefined;
    let attributeQuestions: number | undefined;
    let featureCache: number | undefined;
    let attributeWeight: number | undefined;
    let plainOptions: boolean | undefined;
    let promptGrad: boolean | undefined;
    let frozen: string[] | undefined;
    let categories: string[] | undefined;
    let categoryWeights: Record<string, number> | undefined;
    let visualHeads: VisualHeadKind[] | undefined;
    for (const [k, v] of Object.entries(s)) {
      const field = STAGE_KEYS[k];
      if (!field) fail(`stages.${key}: unknown field "${k}" (fields: ${Object.keys(STAGE_KEYS).join(", ")})`);
      if (field === "frozen") {
        if (!Array.isArray(v) || !v.every((x) => typeof x === "string" && PART_NAMES.includes(x))) {
          fail(`stages.${key}.frozen must be a list of parts from ${PART_NAMES.join(", ")}, got ${JSON.stringify(v)}`);
        }
        frozen = v as string[];
        continue;
      }
      if (field === "categories") {
        if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === "string" && x.length > 0)) {
          fail(`stages.${key}.categories must be a non-empty list of question categories (e.g. ["au_presence"]), got ${JSON.stringify(v)}`);
        }
        categories = v as string[];
        continue;
      }
      if (field === "category_weights") {
        const ok = typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length > 0 &&
          Object.values(v).every((w) => typeof w === "number" && Number.isFinite(w) && w >= 0);
        if (!ok) fail(`stages.${key}.category_weights must map question categories to weights >= 0 (e.g. {"attribute": 3}), got ${JSON.stringify(v)}`);
        categoryWeights = v as Record<string, number>;
        continue;
      }
      if (field === "plain_options") {
        if (typeof v !== "boolean") fail(`stages.${key}.plain_options must be true or false, got ${JSON.stringify(v)}`);
        if (stage === 0 || stage === "encoders") fail(`stages.${key}.plain_options applies to stages connector, 1, 2 and 3 (the stages that read questions), not stage ${key}`);
        plainOptions = v as boolean;
        continue;
      }
      if (field === "prompt_grad") {
        if (typeof v !== "boolean") fail(`stages.${key}.prompt_grad must be true or false, got ${JSON.stringify(v)}`);
        if (stage !== 1 && stage !== 2 && stage !== 3) fail(`stages.${key}.prompt_grad applies to stages 1, 2 and 3 (where the language loss trains the LLM's embeddings), not stage ${key}`);
        promptGrad = v as boolean;
        continue;
      }
      if (field === "visual_heads") {
        if (!Array.isArray(v) || !v.every((x) => (VISUAL_HEAD_KINDS as readonly unknown[]).includes(x))) {
          fail(`stages.${key}.visual_heads must be a list of ${VISUAL_HEAD_KINDS.map((x) => `"${x}"`).join(", ")}, got ${JSON.stringify(v)}`);
        }
        visualHeads = v as VisualHeadKind[];
        continue;
      }
      if (typeof v !== "number" || !Number.isFinite(v)) fail(`stages.${key}.${k} must be a number, got ${JSON.stringify(v)}`);
      if (field === "batch_size") batchSize = v as number;
      else if (field === "val_batches") valBatches = v as number;
      else if (field === "visual_aux") visualAux = v as number;
      else if (field === "visual_off_topic") visualOffTopic = v as number;
      else if (field === "threads") threads = v as number;
      else if (field === "replay") replay = v as number;
      else if (field === "attribute_conversations") attributeConversations = v as number;
      else if (field === "attribute_questions") attributeQuestions = v as number;
      else if (field === "feature_cache") featureCache = v as number;
      else if (field === "attribute_weight") attributeWeight = v as number;
      else partial[field] = v as number;
    }
    if (!Number.isInteger(batchSize) || batchSize < 1) fail(`stages.${key}.batch_size must be a whole number >= 1`);
    if (!Number.isInteger(threads) || threads < 1) fail(`stages.${key}.threads must be a whole number >= 1, got ${threads}`);
    if (visualOffTopic !== undefined && (visualOffTopic < 0 || visualOffTopic > 1)) fail(`stages.${key}.visual_off_topic must be a weight from 0 to 1, got ${visualOffTopic}`);
    if (replay !== undefined && (stage !== 3 || replay < 0)) fail(`stages.${key}.replay is stage 3's share of other questions beside the emotion ones, a number >= 0 (e.g. 0.25); got ${replay} in stage ${key}`);
    if (attributeConversations !== undefined && (stage !== 2 || !Number.isInteger(attributeConversations) || attributeConversations < 0)) {
      fail(`stages.${key}.attribute_conversations is stage 2's number of attribute conversations per training clip, a whole number >= 0 (e.g. 1); got ${attributeConversations} in stage ${key}`);
    }
    if (attributeQuestions !== undefined && ((stage !== 2 && stage !== 3) || !Number.isInteger(attributeQuestions) || attributeQuestions < 0)) {
      fail(`stages.${key}.attribute_questions is stages 2 and 3's number of extra single attribute questions per training clip, a whole number >= 0 (e.g. 3); got ${attributeQuestions} in stage ${key}`);
    }
    if (featureCache !== undefined && (!Number.isInteger(featureCache) || featureCache < 0)) fail(`stages.${key}.feature_cache must be a whole number of crop variants >= 0 (1: no jitter), got ${featureCache}`);
    if (featureCache && (stage === 0 || stage === "encoders")) fail(`stages.${key}.feature_cache applies to stages connector, 1, 2 and 3 (the encoders must be frozen), not stage ${key}`);
    if (attributeWeight !== undefined && (stage !== "encoders" || !(attributeWeight > 0))) fail(`stages.${key}.attribute_weight is stage encoders' weight of the attribute and scene heads, a number > 0 (e.g. 4); got ${attributeWeight} in stage ${key}`);
    if (visualAux < 0) fail(`stages.${key}.visual_aux must be a weight >= 0, got ${visualAux}`);
    if (visualAux > 0 && (stage === 0 || stage === "encoders" || stage === "connector")) {
      fail(`stages.${key}.visual_aux applies to stages 1-3 (the language loss runs there; stage connector trains the heads alone), not stage ${key}`);
    }
    let trainer: TrainerConfig;
    try {
      trainer = resolveTrainerConfig(partial);
    } catch (e) {
      throw new FavchatError(`${source}: stages.${key}: ${(e as Error).message}`);
    }
    stages[stage as Stage] = { trainer, batchSize, valBatches, visualAux, threads, ...(visualOffTopic !== undefined ? { visualOffTopic } : {}), ...(frozen ? { frozen } : {}), ...(categories ? { categories } : {}), ...(categoryWeights ? { categoryWeights } : {}), ...(replay !== undefined ? { replay } : {}), ...(attributeConversations ? { attributeConversations } : {}), ...(attributeQuestions ? { attributeQuestions } : {}), ...(featureCache ? { featureCache } : {}), ...(attributeWeight !== undefined ? { attributeWeight } : {}), ...(plainOptions !== undefined ? { plainOptions } : {}), ...(promptGrad !== undefined ? { promptGrad } : {}), ...(visualHeads ? { visualHeads } : {}) };
  }
  return { model, vocabSize: vocabSize as number, frames: frames as number, stages };
}

export function readRunConfig(file: string): RunConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new FavchatError(`cannot read training config ${file}: ${(e as Error).message}`);
  }
  return resolveRunConfig(raw, file);
}
