// `favchat eval`: ask the model the benchmark's questions about every clip and keep what it says. Questions come
// from the clips' labels through the dataset builder's own templates (so the wording is what the model was trained
// on, drawn with a fixed seed). Pixels come from raw frames with the labelled face boxes (fast, FaceWorld) or from
// the video through the face detector (any video: what `favchat chat` does).
import { dirname, resolve } from "node:path";
import { tf } from "../core/backend.ts";
import { FavchatError } from "../core/errors.ts";
import { Rng } from "../core/rng.ts";
import { encodeExample, encodeQuestion } from "../data/chat-format.ts";
import { pixelsFromRaw, pixelsFromVideo, type ClipPixels } from "../data/clip-pixels.ts";
import { collate } from "../data/collate.ts";
import { readRawClip } from "../data/frames.ts";
import { attributeCheckQa, clipQa, plainQuestion, qaContext } from "../data/builder/qa.ts";
import { auNamedIn } from "../data/builder/phrasing.ts";
import type { AttributeReadoutReport } from "../model/attribute-readout.ts";
import type { EmotionReadoutReport } from "../model/emotion-readout.ts";
import { EMOTIONS7, type ClipRecord } from "../data/records.ts";
import { answerVideo, scoreCandidates } from "../model/answer.ts";
import type { FavChat } from "../model/favchat.ts";
import type { TextTokenizer } from "../text/tokenizer.ts";
import type { Prediction } from "./predictions.ts";
import { mapEmotion } from "./labels.ts";

export type EvalTask = "emotion" | "au" | "attribute" | "attribute-check" | "qa";
export const EVAL_TASKS: readonly EvalTask[] = ["emotion", "au", "attribute", "attribute-check", "qa"];

const CATEGORIES: Record<EvalTask, readonly string[] | null> = {
  emotion: ["emotion"],
  au: ["au_presence"],
  attribute: ["attribute"],
  "attribute-check": null, // its own questions (attributeCheckQa), not the built ones
  qa: null, // every single-clip category
};

export interface EvalItem {
  readonly id: string;
  readonly clip: ClipRecord;
  readonly question: string;
  readonly options?: string[];
  readonly answer: string;
  readonly reason: boolean;
  readonly label?: string;
}

/**
 * The questions of `task` for each clip, from its labels (seeded: the same clips give the same questions). With
 * `plain`, each is asked as people would (plainQuestion: no format instruction, and no options where the question
 * reads whole without them); the answer is then mapped onto every value of its attribute or emotion class. Task
 * attribute-check asks one yes/no question per clip about an attribute ("Is the person's hair red?"; attributeCheckQa).
 */
export function evalItems(clips: readonly ClipRecord[], task: EvalTask, seed: number, plain = false): EvalItem[] {
  const context = qaContext(clips);
  const root = new Rng(seed);
  const keep = CATEGORIES[task];
  const out: EvalItem[] = [];
  for (const clip of clips) {
    if (task === "attribute-check") {
      for (const { qa, attribute } of attributeCheckQa(clip, root.fork("check", clip.id), context.pools)) {
        const asked = (plain && plainQuestion(qa, qa.category)) || qa;
        out.push({ id: `${clip.id}#check`, clip, question: asked.question, options: asked.options, answer: qa.answer, reason: false, label: attribute });
      }
      continue;
    }
    clipQa(clip, root.fork("qa", clip.id), context).forEach((q, i) => {
      if (keep && !keep.includes(q.category)) return;
      const label =
        q.category === "au_presence"
          ? (auNamedIn(q.question) ?? undefined)
          : q.category === "attribute"
            ? attributeOf(clip, q.answer, q.options, context.pools)
            : undefined;
      const asked = (plain && plainQuestion(q, q.category)) || q;
      out.push({ id: `${clip.id}#${q.category}${i}`, clip, question: asked.question, options: asked.options, answer: q.answer, reason: q.category === "reasoning", label });
    });
  }
  return out;
}

/**
 * Which attribute an attribute question asks about: the one whose value is the answer and whose known values include
 * every option ("none" is the value of several attributes: beard, glasses...).
 */
function attributeOf(clip: ClipRecord, answer: string, options: readonly string[] | undefined, pools: ReadonlyMap<string, ReadonlySet<string>>): string | undefined {
  const candidates = Object.entries(clip.labels.attributes).filter(([, v]) => String(v) === answer).map(([k]) => k);
  return candidates.find((k) => (options ?? []).every((o) => pools.get(k)?.has(o))) ?? candidates[0];
}

export interface PixelSource {
  /** Pixels of a clip at the model's sizes. */
  (clip: ClipRecord): Promise<ClipPixels>;
}

/** Raw frames + labelled face boxes, relative to the clip records' directory. */
export function rawPixelSource(clipsFile: string, model: FavChat): PixelSource {
  const base = dirname(resolve(clipsFile));
  return async (clip) => {
    if (!clip.frames) throw new FavchatError(`clip ${clip.id} has no raw frames file; evaluate with --faces detect to read its video instead`);
    return pixelsFromRaw(readRawClip(resolve(base, clip.frames)), clip.labels.faceBoxes, {
      frames: model.config.maxFrames,
      frameSize: model.config.vision.imageSize,
      faceSize: model.config.face.imageSize,
    });
  };
}

export interface PredictOptions {
  readonly maxTokens?: number;
  /**
   * "generate" (default): the model's free-text answer. "choose": a question with options is answered by the option
   * the model finds most likely (scoreCandidates); others are still generated.
   */
  readonly answers?: "generate" | "choose";
  readonly onItem?: (done: number, total: number) => void;
}

/** The adapters' face-branch weight per answered item (w_general = 1 - w_face). */
export interface ItemWeight {
  readonly id: string;
  readonly wFace: number;
  /** What the attribute read-out token said (generated answers of a model with one; config.attributeReadout). */
  readonly attributeReadout?: AttributeReadoutReport;
  /** What the emotion read-out token said (generated answers of a model with one; config.emotionReadout). */
  readonly emotionReadout?: EmotionReadoutReport;
}

/** Greedy answers to every item; one clip's pixels are read once for all its questions. */
export async function predict(
  model: FavChat,
  tok: TextTokenizer,
  items: readonly EvalItem[],
  pixels: PixelSource,
  o: PredictOptions = {},
): Promise<{ predictions: Prediction[]; weights: ItemWeight[]; failed: { clip: string; reason: string }[] }> {
  model.llm.freezeForInference();
  const out: Prediction[] = [];
  const weights: ItemWeight[] = [];
  const failed: { clip: string; reason: string }[] = [];
  let cached = null as { id: string; px: ClipPixels | null } | null;
  const decode = (ids: number[]) => tok.decode(ids, { skipSpecialTokens: true });
  for (const item of items) {
    if (cached?.id !== item.clip.id) {
      try {
        cached = { id: item.clip.id, px: await pixels(item.clip) };
      } catch (e) {
        // A clip the model cannot be given (no face found, unreadable video) is answered with nothing, so it counts
        // as wrong, and is listed; the other clips are still evaluated.
        if (!(e instanceof FavchatError)) throw e;
        failed.push({ clip: item.clip.id, reason: e.message });
        cached = { id: item.clip.id, px: null };
      }
    }
    if (!cached.px) {
      out.push({ id: item.id, prediction: "", answer: item.answer, question: item.question, ...(item.options ? { options: item.options } : {}), ...(item.label ? { label: item.label } : {}) });
      o.onItem?.(out.length, items.length);
      continue;
    }
    const question = { question: item.question, options: item.options, reason: item.reason };
    const text = encodeQuestion(tok, question, model.config.videoPosition);
    const batch = collate([{ pixels: cached.px, text }], tok.padId ?? 0);
    const inputs = { frames: batch.frames, faces: batch.faces, promptIds: text.promptIds };
    try {
      let answer: { prediction: string; wFace: number; attributeReadout?: AttributeReadoutReport; emotionReadout?: EmotionReadoutReport };
      if (o.answers === "choose" && item.options?.length && !item.reason) {
        const options = item.options;
        const { scores, wFace } = await scoreCandidates(model, inputs, options.map((a) => encodeExample(tok, question, { answer: a }, model.config.videoPosition)));
        answer = { prediction: options[scores.indexOf(Math.max(...scores))], wFace };
      } else {
        const r = await answerVideo(model, { ...inputs, ids: text.ids }, { maxTokens: o.maxTokens ?? (item.reason ? 200 : 48), stopTokens: tok.eosIds, decode });
        answer = { prediction: r.text, wFace: r.wFace, ...(r.attributeReadout && { attributeReadout: r.attributeReadout }), ...(r.emotionReadout && { emotionReadout: r.emotionReadout }) };
      }
      const { prediction: _, ...weight } = answer;
      weights.push({ id: item.id, ...weight });
      out.push({ id: item.id, prediction: answer.prediction, answer: item.answer, question: item.question, ...(item.options ? { options: item.options } : {}), ...(item.label ? { label: item.label } : {}) });
    } finally {
      tf.dispose([batch.frames, batch.faces, batch.ids, batch.promptIds]);
    }
    o.onItem?.(out.length, items.length);
  }
  return { predictions: out, weights, failed };
}

/** Mean face-branch weight per question category (the id's "#category" part): the adapters' choice, per kind of question. */
export function meanFaceWeight(weights: readonly ItemWeight[]): Record<string, number> {
  const acc = new Map<string, { sum: number; n: number }>();
  for (const w of weights) {
    const cat = /#([a-z_]+?)\d*$/.exec(w.id)?.[1] ?? "all";
    const a = acc.get(cat) ?? { sum: 0, n: 0 };
    a.sum += w.wFace;
    a.n++;
    acc.set(cat, a);
  }
  return Object.fromEntries([...acc].sort().map(([k, a]) => [k, a.sum / a.n]));
}

/**
 * For attribute questions of a model with the attribute read-out token: how often its choice took the question to ask
 * about the attribute it asks about, and how often its head's likeliest value of that attribute is the answer (what
 * the token offered the LLM); none without such questions or read-out reports.
 */
export function attributeReadoutRows(items: readonly EvalItem[], weights: readonly ItemWeight[]): Record<string, number> {
  const byId = new Map(weights.map((w) => [w.id, w.attributeReadout]));
  const asked = items.flatMap((it) => {
    const r = byId.get(it.id);
    return r && it.label ? [{ r, label: it.label, answer: it.answer }] : [];
  });
  if (asked.length === 0) return {};
  const share = (hit: (x: (typeof asked)[number]) => boolean) => Number((asked.filter(hit).length / asked.length).toFixed(4));
  const choice = { "read-out choice: the asked attribute": share((x) => x.r.asked === x.label) };
  // A yes/no check's answer is not a value of the attribute: the head's value is only scored for value questions.
  return asked.some((x) => x.answer === "yes" || x.answer === "no") ? choice : { ...choice, "read-out head: the asked attribute's value": share((x) => x.r.values[x.label]?.value === x.answer) };
}

/**
 * For emotion questions of a model with the emotion read-out token: how often its head's likeliest emotion is the
 * clip's (what the token offered the LLM), and how often the LLM's answer names that same emotion; none without
 * read-out reports.
 */
export function emotionReadoutRows(predictions: readonly Prediction[], weights: readonly ItemWeight[], classes: readonly string[] = EMOTIONS7): Record<string, number> {
  const byId = new Map(weights.map((w) => [w.id, w.emotionReadout]));
  const read = predictions.flatMap((p) => {
    const r = byId.get(p.id);
    return r ? [{ head: r.emotion, truth: p.answer, said: mapEmotion(p.prediction, { classes, ...(p.options ? { options: p.options } : {}) }) }] : [];
  });
  if (read.length === 0) return {};
  const share = (hit: (x: (typeof read)[number]) => boolean) => Number((read.filter(hit).length / read.length).toFixed(4));
  return {
    "read-out head: the clip's emotion": share((x) => x.head === x.truth),
    "answer names the read-out head's emotion": share((x) => x.said.kind === "label" && x.said.label === x.head),
  };
}

/** Pixels through the same path as `favchat chat`: decode the video, detect and track the face, crop. */
export function videoPixelSource(clipsFile: string, model: FavChat, load: (file: string, frames: number, faceSize: number) => Promise<{ frames: RgbFrameLike[]; faces: RgbFrameLike[] }>): PixelSource {
  const base = dirname(resolve(clipsFile));
  return async (clip) => {
    const loaded = await load(resolve(base, clip.video), model.config.maxFrames, model.config.face.imageSize);
    return pixelsFromVideo(loaded, { frames: model.config.maxFrames, frameSize: model.config.vision.imageSize, faceSize: model.config.face.imageSize });
  };
}

type RgbFrameLike = { width: number; height: number; data: Uint8Array };
