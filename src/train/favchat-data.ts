// The examples of each training stage, joined to their clips (DESIGN 2):
//   stage 0 (ours): the tiny LLM learns the language of the data first, as the paper starts from a pretrained Qwen
//   stage 1 align: video-summary pairs       stage 2 QA: fine-grained QA of every category (and, with the stage
//   setting attribute_conversations, one conversation per clip asking every attribute)
//   stage 3 emotion: emotion questions with reasoning, plus some QA replayed so stage 2's skills stay
//   connector (ours): stage 2's questions, as the prompts that steer the visual path (the answers are not used)
// Records point at videos; clip records give the raw frames and face boxes that training reads.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { FavchatError } from "../core/errors.ts";
import type { Rng } from "../core/rng.ts";
import { readClipRecords, readQaRecords, readSummaryRecords, type ClipRecord, type OnBadLine } from "../data/records.ts";
import { questionText, targetText, type Question, type Target, type Turn } from "../data/chat-format.ts";
import { attributeQuestions, qaContext } from "../data/builder/qa.ts";

/**
 * 0 language (ours), "encoders" encoder pretraining (ours), "connector" the visual path's pretraining (ours),
 * 1 align, 2 QA, 3 emotion: in the order they run.
 */
export type Stage = 0 | "encoders" | "connector" | 1 | 2 | 3;
export const STAGES: readonly Stage[] = [0, "encoders", "connector", 1, 2, 3];
/** A stage as written on the command line and in config files ("0", "encoders", ...), or null when it is none. */
export function parseStage(text: string): Stage | null {
  return STAGES.find((s) => String(s) === text) ?? null;
}
export type Split = "train" | "val" | "test";

export interface ClipRef {
  readonly id: string;
  /** Absolute paths. */
  readonly video: string;
  readonly raw: string | null;
  readonly record: ClipRecord;
}

export interface Example {
  readonly clip: ClipRef;
  readonly question: Question;
  readonly target: Target;
  readonly category: string;
  /** More questions about the same video after the first, each answered in its own assistant turn (a conversation). */
  readonly followUps?: readonly Turn[];
}

/** Describe-the-video requests for stage 1, varied so the model cannot key on one sentence. */
const DESCRIBE = [
  "Describe the person in the video and what their face does.",
  "Summarise this video: who is in it, how they look, and how their expression changes.",
  "Give a detailed description of the face and its movements in this clip.",
  "What can you see in this video? Describe the person's appearance, expression and actions.",
];

export interface StageDataOptions {
  /** Directory with summaries.jsonl and qa.jsonl (`favchat data build` output). */
  readonly dataDir: string;
  /** Clip records; default: clips.jsonl in dataDir or its parent. */
  readonly clipsFile?: string;
  readonly onBadLine?: OnBadLine;
  /**
   * Stage 3: examples of the other categories replayed beside every emotion and reasoning example, as a fraction of
   * those (default 0.25).
   */
  readonly replay?: number;
  /** Stage 2: conversations per clip asking every attribute in turn (attributeConversations); default 0. */
  readonly attributeConversations?: number;
  /** Stages 2 and 3: single questions per clip about further attributes (attributeExtras); default 0. */
  readonly attributeQuestions?: number;
}

/** Stage 3's default replay: a quarter as many other examples as emotion and reasoning ones. */
export const STAGE3_REPLAY = 0.25;

/** Finds the clip records beside a built data directory. */
export function clipsFileFor(o: StageDataOptions): string {
  if (o.clipsFile) return o.clipsFile;
  for (const candidate of [join(o.dataDir, "clips.jsonl"), join(o.dataDir, "..", "clips.jsonl")]) if (existsSync(candidate)) return candidate;
  throw new FavchatError(`no clips.jsonl in ${o.dataDir} or its parent; pass --clips FILE (the clip records that favchat synth or data import wrote)`);
}

/** Clip records by the absolute path of their video. */
export function indexClips(clipsFile: string, onBadLine: OnBadLine = "fail"): Map<string, ClipRef> {
  const base = dirname(resolve(clipsFile));
  const byVideo = new Map<string, ClipRef>();
  for (const record of readClipRecords(clipsFile, { onBadLine }).records) {
    const video = resolve(base, record.video);
    byVideo.set(video, { id: record.id, video, raw: record.frames ? resolve(base, record.frames) : null, record });
  }
  return byVideo;
}

/** The examples of `stage` whose clips are in `split`. */
export function stageExamples(stage: Exclude<Stage, "encoders">, split: Split, o: StageDataOptions, rng: Rng): Example[] {
  const clips = indexClips(clipsFileFor(o), o.onBadLine);
  const clipOf = (video: string, file: string): ClipRef => {
    const ref = clips.get(resolve(o.dataDir, video));
    if (!ref) throw new FavchatError(`${file}: video ${video} has no clip record in ${clipsFileFor(o)}; build the records from the same clips`);
    return ref;
  };
  const inSplit = (c: ClipRef) => (c.record.split ?? "train") === split;
  const out: Example[] = [];
  if (stage === 0 || stage === 1) {
    const file = join(o.dataDir, "summaries.jsonl");
    for (const s of readSummaryRecords(file, { onBadLine: o.onBadLine }).records) {
      const clip = clipOf(s.video, file);
      if (inSplit(clip)) out.push({ clip, question: { question: rng.pick(DESCRIBE) }, target: { answer: s.summary }, category: "summary" });
    }
  }
  if (stage === 0 || stage === "connector" || stage === 2 || stage === 3) {
    const file = join(o.dataDir, "qa.jsonl");
    const qa: Example[] = [];
    for (const r of readQaRecords(file, { onBadLine: o.onBadLine }).records) {
      // A same/different-person question needs two videos in one prompt, which the model does not take yet.
      if (r.category === "identity") continue;
      const clip = clipOf(r.video, file);
      if (!inSplit(clip)) continue;
      const reason = r.category === "reasoning";
      qa.push({ clip, question: { question: r.question, options: r.options, reason }, target: { answer: r.answer, think: r.think }, category: r.category });
    }
    if (stage === 3) {
      // Emotion-heavy: every emotion and reasoning item, and `replay` times as many other items replayed.
      const emotion = qa.filter((e) => e.category === "emotion" || e.category === "reasoning");
      const other = rng.shuffle(qa.filter((e) => e.category !== "emotion" && e.category !== "reasoning"));
      out.push(...emotion, ...other.slice(0, Math.ceil(emotion.length * (o.replay ?? STAGE3_REPLAY))));
    } else {
      out.push(...qa);
    }
    if (stage === 2 && (o.attributeConversations ?? 0) > 0) out.push(...attributeConversations([...clips.values()], split, o.attributeConversations!, rng.fork("conversations")));
    if ((stage === 2 || stage === 3) && (o.attributeQuestions ?? 0) > 0) out.push(...attributeExtras([...clips.values()], split, o.attributeQuestions!, rng.fork("attribute questions")));
  }
  if (out.length === 0) throw new FavchatError(`stage ${stage} has no ${split} examples in ${o.dataDir}; check the split of the clips and that favchat data build ran`);
  return out;
}

/**
 * `perClip` conversations for every clip of `split` with attributes: each asks every attribute once, in a random
 * order, in the single questions' phrasing and options (src/data/builder/qa.ts), category "attribute". One clip's
 * visual pass then serves a dozen answers, where stage 2's single attribute question per clip gives the LLM about 70
 * answers per attribute. Measured (README, the shipped model): 2 per clip with summary tokens left single-question
 * attribute accuracy at 0.31 and cost emotion and AU accuracy, so the recipe does not use them.
 */
export function attributeConversations(clips: readonly ClipRef[], split: Split, perClip: number, rng: Rng): Example[] {
  const pools = qaContext(clips.map((c) => c.record)).pools;
  const out: Example[] = [];
  for (const clip of clips) {
    if ((clip.record.split ?? "train") !== split) continue;
    for (let n = 0; n < perClip; n++) {
      const [first, ...rest] = attributeQuestions(clip.record, rng.fork(clip.id, n), pools).map((q) => ({
        question: { question: q.question, options: q.options },
        target: { answer: q.answer },
      }));
      if (first) out.push({ clip, ...first, category: "attribute", followUps: rest });
    }
  }
  return out;
}

/**
 * `perClip` single questions for every clip of `split` with attributes, about `perClip` different attributes (a random
 * pick; one may be the attribute qa.jsonl asks about), each its own example of category "attribute", phrased and
 * with options as qa.jsonl's. Stage 2 otherwise draws ~70-90 answers per attribute in the shipped recipe's budget,
 * and the tiny LLM needed ~1,600 to read one attribute from V (README, the shipped model).
 */
export function attributeExtras(clips: readonly ClipRef[], split: Split, perClip: number, rng: Rng): Example[] {
  const pools = qaContext(clips.map((c) => c.record)).pools;
  return clips
    .filter((clip) => (clip.record.split ?? "train") === split)
    .flatMap((clip) =>
      attributeQuestions(clip.record, rng.fork(clip.id), pools)
        .slice(0, perClip)
        .map((q): Example => ({ clip, question: { question: q.question, options: q.options }, target: { answer: q.answer }, category: "attribute" })),
    );
}

/**
 * The examples with each category's weight applied (stage setting category_weights): weight w keeps floor(w)
 * copies of every example of that category, and one more with probability w - floor(w) (seeded by `rng`).
 * A weight naming no category of the examples is an error (a typo must not silently do nothing).
 */
export function weighCategories(examples: readonly Example[], weights: Readonly<Record<string, number>>, rng: Rng): Example[] {
  const present = new Set(examples.map((e) => e.category));
  const unknown = Object.keys(weights).filter((c) => !present.has(c));
  if (unknown.length) {
    throw new FavchatError(`category_weights: no training examples of ${unknown.map((c) => `"${c}"`).join(", ")}; the categories here are ${[...present].sort().join(", ")}`);
  }
  const out: Example[] = [];
  examples.forEach((e, i) => {
    const w = weights[e.category] ?? 1;
    const copies = Math.floor(w) + (rng.fork("weight", i).bool(w - Math.floor(w)) ? 1 : 0);
    for (let k = 0; k < copies; k++) out.push(e);
  });
  return out;
}

/**
 * The texts a tokenizer learns its merges from: each user turn and each assistant turn as the chat shows them
 * (questionText, targetText). Apart, because an answer starts its turn without a leading space: joined into one line
 * ("... question? grey"), the merges learnt " grey" and left "grey", the form the model must write, in 2-3 pieces
 * (with 1,024 tokens, 88 of FaceWorld's 106 short answers were split; the model then wrote "gred" for "grey").
 */
export function corpusTexts(examples: readonly Example[]): string[] {
  return examples.flatMap((e) => [e, ...(e.followUps ?? [])].flatMap((t) => [questionText(t.question), targetText(t.question, t.target)]));
}
