// Training tasks over FaVChat for the trainer: a batch is B examples of similar length drawn (seeded by step) from the stage's pool,
// their clips read as raw frames with lightly jittered face crops, encoded in the one chat format, collated.
import { tf } from "../core/backend.ts";
import { FavchatError } from "../core/errors.ts";
import type { Rng } from "../core/rng.ts";
import { plainQuestion } from "../data/builder/qa.ts";
import { readRawClip } from "../data/frames.ts";
import { cropJitter, pixelsFromRaw, type ClipPixels } from "../data/clip-pixels.ts";
import { encodeConversation, encodeExample, type EncodedExample, type VideoPosition } from "../data/chat-format.ts";
import { collate, collateText, type ChatTextBatch } from "../data/collate.ts";
import type { EncoderFeatures, FavChat, VisualTokens } from "../model/favchat.ts";
import type { FeatureCache } from "./feature-cache.ts";
import type { TextTokenizer } from "../text/tokenizer.ts";
import type { ClipRef, Example } from "./favchat-data.ts";
import { emptyTally, tallyMetrics, type Readouts, type VisualAuxModel } from "./visual-aux.ts";
import { askedAu } from "../model/au-readout.ts";
import { favchatLoss } from "./favchat-loss.ts";
import { maskedCrossEntropy } from "./loss.ts";
import type { TrainTask } from "./trainer.ts";
import { drawGrouped, lengthGroups } from "./length-groups.ts";

/** Token-length width of the groups training batches are drawn from (src/train/length-groups.ts). */
export const LENGTH_GROUP_WIDTH = 16;

/**
 * Share of training draws that ask a question as people would (plainQuestion, src/data/builder/qa.ts): without its
 * format instruction and, where it reads whole without them, its options; same answer. A model that only ever saw
 * the instructions answered plain emotion questions "yes", and one that saw attribute questions only with options
 * answered them with words of other questions ("white bird").
 */
export const HINT_DROP = 0.3;

/**
 * The example with its question as people would ask it, or null when that is the question as written;
 * `options` false keeps the options (stage setting plain_options).
 */
export function plainExample(e: Example, options = true): Example | null {
  const q = plainQuestion(e.question, e.category, options);
  return q ? { ...e, question: q } : null;
}

export interface TaskOptions {
  readonly batchSize: number;
  /** Frames per clip fed to the model (at most the model's maxFrames). */
  readonly frames: number;
  /** Jitter face crops (position +-3%, scale +-6%) in training batches. */
  readonly augment: boolean;
  /** Held-out examples for the validation loss, and how many batches of them to use. */
  readonly val?: readonly Example[];
  readonly valBatches?: number;
  /** Label heads on the visual tokens and the weight of their loss (src/train/visual-aux.ts); none by default. */
  readonly aux?: { readonly heads: VisualAuxModel; readonly weight: number };
  /**
   * The encoders' outputs per clip, for a stage whose encoders are frozen (src/train/feature-cache.ts): batches then
   * carry features instead of pixels; with `augment`, each row reads one of the cache's crop variants at random.
   */
  readonly cache?: FeatureCache;
  /** Whether a question's plain form drops its options too (plainExample); true by default. */
  readonly plainOptions?: boolean;
}

/** A batch's visual side: pixels, or the encoders' outputs from a feature cache. */
export type VisualPart = { readonly frames: tf.Tensor; readonly faces: tf.Tensor } | { readonly features: EncoderFeatures };

/** A training batch, the clips it came from (the visual heads' labels), each row's question category and answer. */
export type TaskBatch = ChatTextBatch & VisualPart & {
  readonly clips: readonly ClipRef[];
  readonly categories: readonly string[];
  readonly answers: readonly string[];
  /** The AU each row's question names (askedAu): the AU read-out's target. */
  readonly asked: readonly number[];
  /** The attribute each row's question asks about (AttributeReadout.askedIn; empty without the read-out): its target. */
  readonly askedAttribute: readonly number[];
};

/** The read-outs' outputs with the batch's targets, those the model has. */
function readoutOf(v: VisualTokens, b: TaskBatch): Readouts {
  return {
    ...(v.auLogits && v.auChoice && { au: { logits: v.auLogits, choice: v.auChoice, asked: b.asked } }),
    ...(v.attributeLogits && v.attributeChoice && { attribute: { logits: v.attributeLogits, choice: v.attributeChoice, asked: b.askedAttribute } }),
    ...(v.emotionLogits && { emotion: v.emotionLogits }),
  };
}

/** The read-outs' tensors of a forward pass (undefined where the model has none). */
const readoutTensors = (v: VisualTokens) => [v.auLogits, v.auChoice, v.attributeLogits, v.attributeChoice, v.emotionLogits, v.emotionFrameWeights];

export function disposeTaskBatch(b: TaskBatch): void {
  tf.dispose([b.ids, b.promptIds]);
  if ("features" in b) tf.dispose([b.features.patches, ...b.features.blocks]);
  else tf.dispose([b.frames, b.faces]);
}

/** Frames and face crops of an example's clip at the model's input sizes. */
export function examplePixels(model: FavChat, ex: Example, frames: number, rng: Rng | null): ClipPixels {
  if (!ex.clip.raw) {
    throw new FavchatError(`clip ${ex.clip.id} has no raw frames file; training reads raw frames (favchat synth writes them; for real videos, extract them first)`);
  }
  const raw = readRawClip(ex.clip.raw);
  const jitter = rng ? cropJitter(rng, frames) : undefined;
  return pixelsFromRaw(raw, ex.clip.record.labels.faceBoxes, { frames, frameSize: model.config.vision.imageSize, faceSize: model.config.face.imageSize }, jitter);
}

/** Each example encoded as written, and (`plain`) without its format instruction where it has one. */
export interface Encoded {
  readonly full: EncodedExample;
  readonly plain: EncodedExample | null;
}

export function encodeAll(tok: TextTokenizer, examples: readonly Example[], plainOptions = true, position: VideoPosition = "before_question"): Encoded[] {
  // Clips share questions and answers (stage 2 of the recipe: 124k examples, one distinct exchange in 12), and
  // encoding is pure, so each distinct exchange is encoded once and its (read-only) ids shared: stage 2's set-up on
  // each thread went from about a minute to seconds.
  const seen = new Map<string, EncodedExample>();
  const encode = (x: Example) => {
    const turns = [{ question: x.question, target: x.target }, ...(x.followUps ?? [])];
    const key = JSON.stringify(turns);
    let e = seen.get(key);
    if (!e) seen.set(key, (e = encodeConversation(tok, turns, position)));
    return e;
  };
  return examples.map((e) => {
    const p = plainExample(e, plainOptions);
    return { full: encode(e), plain: p ? encode(p) : null };
  });
}

/** Index lists of the first `valBatches` (default 4) consecutive batches of a validation set of n examples. */
function validationBatches(n: number, o: Pick<TaskOptions, "batchSize" | "valBatches">): number[][] {
  const out: number[][] = [];
  for (let k = 0; k < (o.valBatches ?? 4) && k * o.batchSize < n; k++) {
    out.push(Array.from({ length: Math.min(o.batchSize, n - k * o.batchSize) }, (_, i) => k * o.batchSize + i));
  }
  return out;
}

/** Row i's text: with rng (training), without its format instruction HINT_DROP of the time; as written otherwise. */
export function trainingText(e: Encoded, i: number, rng: Rng | null): EncodedExample {
  return rng && e.plain && rng.fork("hint", i).bool(HINT_DROP) ? e.plain : e.full;
}

/**
 * Batches of examples `idx` of `pool`: pixels read (and jittered when rng is given) and text collated; with a
 * feature cache, the clips' encoder features instead of pixels (a random crop variant per row when rng is given).
 */
function batcher(model: FavChat, tok: TextTokenizer, frames: number, cache?: FeatureCache) {
  const padId = tok.padId ?? 0;
  return (idx: readonly number[], pool: readonly Example[], enc: readonly Encoded[], rng: Rng | null): TaskBatch => {
    const labels = { clips: idx.map((i) => pool[i].clip), categories: idx.map((i) => pool[i].category), answers: idx.map((i) => pool[i].target.answer), asked: idx.map((i) => askedAu(pool[i].question.question)), askedAttribute: idx.map((i) => model.attributeReadout?.askedIn(pool[i].question.question) ?? -1) };
    if (!cache) {
      return { ...collate(idx.map((i) => ({ pixels: examplePixels(model, pool[i], frames, rng?.fork("pixels", i) ?? null), text: trainingText(enc[i], i, rng) })), padId), ...labels };
    }
    const variants = idx.map((i) => (rng ? rng.fork("variant", i).int(cache.variants) : 0));
    const text = collateText(idx.map((i) => trainingText(enc[i], i, rng)), padId);
    return { ...text, features: cache.features(labels.clips, variants), ...labels };
  };
}

/** The model's visual input from a batch: its pixels, or its cached features. */
function visualOf(b: TaskBatch) {
  const prompt = { promptIds: b.promptIds, promptMask: b.promptMask };
  return "features" in b ? { ...prompt, features: b.features } : { ...prompt, frames: b.frames, faces: b.faces };
}

/** Stages 1-3: the full model, loss on the answer tokens. */
export function favchatTask(model: FavChat, tok: TextTokenizer, examples: readonly Example[], o: TaskOptions): TrainTask<TaskBatch> {
  const encoded = encodeAll(tok, examples, o.plainOptions, model.config.videoPosition); // once: each example's text, with and without its format instruction
  const groups = lengthGroups(encoded.map((e) => e.full.ids.length), LENGTH_GROUP_WIDTH);
  /** Language loss, and the visual heads' loss when they are on. */
  const lossesOf = (batch: TaskBatch): { lm: tf.Scalar; visual: tf.Scalar | null } => {
    const out = model.forward({ ...visualOf(batch), ids: batch.ids, attentionMask: batch.attentionMask });
    const lm = favchatLoss(out.logits, batch.ids.arraySync() as number[][], batch.targetMask, out.videoPositions, model.numVisualTokens);
    const visual = o.aux ? o.aux.heads.loss(out.tokens, batch.clips, batch.categories, batch.answers, readoutOf(out, batch)) : null;
    tf.dispose([out.logits, out.tokens, out.weights, ...readoutTensors(out)]);
    return { lm, visual };
  };
  const lossOf = (batch: TaskBatch): tf.Scalar => {
    const { lm, visual } = lossesOf(batch);
    return visual && o.aux ? (tf.add(lm, tf.mul(visual, o.aux.weight)) as tf.Scalar) : lm;
  };
  const batchOf = batcher(model, tok, o.frames, o.cache);
  const val = o.val ?? [];
  const valEncoded = encodeAll(tok, val, true, model.config.videoPosition);
  return {
    model: o.aux?.heads ?? model,
    makeBatch: (_step, _micro, rng) => batchOf(drawGrouped(groups, o.batchSize, rng), examples, encoded, o.augment ? rng : null),
    loss: lossOf,
    disposeBatch: disposeTaskBatch,
    evaluate: val.length === 0 ? undefined : async () => {
      let sum = 0;
      let visualSum = 0;
      let n = 0;
      for (const idx of validationBatches(val.length, o)) {
        const batch = batchOf(idx, val, valEncoded, null);
        const [lm, visual] = tf.tidy(() => {
          const l = lossesOf(batch);
          return [l.lm, l.visual ?? tf.scalar(0)];
        });
        sum += (await lm.data())[0];
        visualSum += (await visual.data())[0];
        tf.dispose([lm, visual]);
        disposeTaskBatch(batch);
        n++;
      }
      const metrics: Record<string, number> = { val_loss: sum / n };
      if (o.aux) metrics.val_visual_loss = visualSum / n;
      return metrics;
    },
  };
}

/**
 * Stage "connector" (ours): the visual path (CA², Q-Formers, adapters) learns the clips' labels through the heads on
 * V before the LLM reads V (BLIP-2's first stage); the LLM does not run. The questions still steer V: each batch
 * brings its examples' questions as the prompt.
 */
export function visualTask(heads: VisualAuxModel, tok: TextTokenizer, examples: readonly Example[], o: Omit<TaskOptions, "aux">): TrainTask<TaskBatch> {
  const model = heads.favchat;
  const encoded = encodeAll(tok, examples, o.plainOptions, model.config.videoPosition);
  const batchOf = batcher(model, tok, o.frames, o.cache);
  // One question per validation clip: the heads score clips, and a clip's questions come one after another.
  const val = [...new Map((o.val ?? []).map((e) => [e.clip.id, e])).values()];
  const valEncoded = encodeAll(tok, val, true, model.config.videoPosition);
  const tokensOf = (b: TaskBatch) => model.encodeVideo(visualOf(b));
  return {
    model: heads,
    makeBatch: (_step, _micro, rng) => batchOf(Array.from({ length: o.batchSize }, () => rng.int(examples.length)), examples, encoded, o.augment ? rng : null),
    loss: (b) => {
      const v = tokensOf(b);
      const loss = heads.loss(v.tokens, b.clips, b.categories, b.answers, readoutOf(v, b));
      tf.dispose([v.tokens, v.weights, ...readoutTensors(v)]);
      return loss;
    },
    disposeBatch: disposeTaskBatch,
    evaluate: val.length === 0 ? undefined : async () => {
      const tally = emptyTally();
      let sum = 0;
      let n = 0;
      for (const idx of validationBatches(val.length, o)) {
        const batch = batchOf(idx, val, valEncoded, null);
        const v = tokensOf(batch);
        const readout = readoutOf(v, batch);
        const loss = heads.loss(v.tokens, batch.clips, batch.categories, batch.answers, readout);
        sum += (await loss.data())[0];
        await heads.score(v.tokens, batch.clips, tally, batch.answers, readout);
        tf.dispose([v.tokens, v.weights, loss, ...readoutTensors(v)]);
        disposeTaskBatch(batch);
        n++;
      }
      return { val_visual_loss: sum / n, ...tallyMetrics(tally) };
    },
  };
}

interface TextBatch {
  readonly ids: tf.Tensor;
  readonly targets: tf.Tensor;
  readonly mask: tf.Tensor;
}

/** Stage 0: the LLM alone on the exchanges' text (the video placeholder dropped), loss on every token. */
export function textTask(model: FavChat, tok: TextTokenizer, examples: readonly Example[], o: Pick<TaskOptions, "batchSize">): TrainTask<TextBatch> {
  const videoId = model.config.videoTokenId;
  const padId = tok.padId ?? 0;
  // Always the default layout, placeholder dropped: stage 0's text is the same whatever config.videoPosition says.
  const seen = new Map<string, number[]>(); // one encoding per distinct exchange, as in encodeAll
  const seqs = examples.map((e) => {
    const key = JSON.stringify([e.question, e.target]);
    let ids = seen.get(key);
    if (!ids) seen.set(key, (ids = encodeExample(tok, e.question, e.target).ids.filter((id) => id !== videoId)));
    return ids;
  });
  return {
    model,
    makeBatch: (_step, _micro, rng) => {
      const rows = Array.from({ length: o.batchSize }, () => seqs[rng.int(seqs.length)]);
      const T = Math.max(...rows.map((r) => r.length)) - 1;
      const pad = (r: number[]) => [...r, ...new Array<number>(T + 1 - r.length).fill(padId)];
      return {
        ids: tf.tensor2d(rows.map((r) => pad(r).slice(0, T)), [rows.length, T], "int32"),
        targets: tf.tensor2d(rows.map((r) => pad(r).slice(1)), [rows.length, T], "int32"),
        mask: tf.tensor2d(rows.map((r) => Array.from({ length: T }, (_, t) => (t + 1 < r.length ? 1 : 0))), [rows.length, T], "float32"),
      };
    },
    loss: (b) => maskedCrossEntropy(model.llm.forward({ ids: b.ids }), b.targets, b.mask),
    disposeBatch: (b) => tf.dispose([b.ids, b.targets, b.mask]),
  };
}
