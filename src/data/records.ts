// The record types of DESIGN section 3 (clip, summary, qa, rl) as zod schemas, and the JSONL reader and
// writer every stage uses. A bad line is reported as `file:line: reason` and either skipped or fatal
// (`onBadLine`), never silently dropped.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { z } from "zod";
import { FavchatError } from "../core/errors.ts";

/** The 7 DFEW classes, in DFEW's label order (1 = happy ... 7 = fear). */
export const EMOTIONS7 = ["happy", "sad", "neutral", "angry", "surprise", "disgust", "fear"] as const;
export type Emotion7 = (typeof EMOTIONS7)[number];

/** The FACS action units FaceWorld animates (DESIGN section 3). */
export const AU_NAMES = [
  "AU1", "AU2", "AU4", "AU5", "AU6", "AU7", "AU9", "AU10",
  "AU12", "AU15", "AU17", "AU20", "AU23", "AU25", "AU26", "AU43",
] as const;
export type AuName = (typeof AU_NAMES)[number];

const frameSpan = z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])
  .refine(([a, b]) => a <= b, "span start must be <= end");

export const actionSchema = z.object({
  /** e.g. "blink", "speak", "nod", "head_turn", or a CelebV-HQ action name. */
  name: z.string().min(1),
  count: z.number().int().nonnegative().optional(),
  /** Inclusive frame spans [start, end] where the action happens. */
  spans: z.array(frameSpan).optional(),
  /** e.g. "left" for a head turn. */
  detail: z.string().optional(),
});
export type Action = z.infer<typeof actionSchema>;

export const clipLabelsSchema = z.object({
  emotion: z.string().min(1).nullable(),
  /** Per-frame intensity in [0, 1] for each AU present in the clip. */
  aus: z.record(z.string().regex(/^AU\d+$/, "AU keys look like AU12"), z.array(z.number().min(0).max(1))).optional(),
  attributes: z.record(z.string(), z.union([z.string(), z.boolean(), z.number()])).default({}),
  actions: z.array(actionSchema).default([]),
  identity: z.string().min(1).nullable(),
  /** Frame index where the expression peaks. */
  apex: z.number().int().nonnegative().optional(),
  /** Peak expression intensity in [0, 1] and the intensity band FaceWorld drew. */
  intensity: z.number().min(0).max(1).optional(),
  band: z.enum(["subtle", "moderate", "strong"]).optional(),
  /** True when the apex lasts 3 frames or fewer (a short, micro-like expression). */
  short: z.boolean().optional(),
  /** Main face's box per frame, [x, y, w, h] in pixels: lets training crop without a detector. */
  faceBoxes: z.array(z.tuple([z.number(), z.number(), z.number(), z.number()])).optional(),
  /** Scene facts (background, lighting, moving objects) that the general encoder must answer. */
  scene: z.record(z.string(), z.string()).optional(),
  /** Several labels when a data set gives them (MAFW multi-label, CelebV-HQ emotion spans). */
  emotions: z.array(z.string()).optional(),
});
export type ClipLabels = z.infer<typeof clipLabelsSchema>;

export const clipRecordSchema = z.object({
  id: z.string().min(1),
  /** Video path, relative to the records file's directory unless absolute. */
  video: z.string().min(1),
  /** Optional raw-frames file (src/data/frames.ts format), relative like `video`. */
  frames: z.string().min(1).optional(),
  fps: z.number().positive().optional(),
  split: z.enum(["train", "val", "test"]).optional(),
  /** Cross-validation fold (DFEW's 5 folds) the clip is a test clip of. */
  fold: z.number().int().positive().optional(),
  source: z.string().optional(),
  labels: clipLabelsSchema,
});
export type ClipRecord = z.infer<typeof clipRecordSchema>;

export const summaryRecordSchema = z.object({
  id: z.string().min(1),
  video: z.string().min(1),
  summary: z.string().min(1),
});
export type SummaryRecord = z.infer<typeof summaryRecordSchema>;

export const QA_CATEGORIES = [
  "emotion", "au_presence", "au_intensity", "attribute", "scene", "temporal_order", "temporal_apex",
  "counting", "action", "identity", "reasoning",
] as const;

export const qaRecordSchema = z.object({
  id: z.string().min(1),
  video: z.string().min(1),
  /** The second clip of an identity same/different question (category "identity"). */
  video2: z.string().min(1).optional(),
  question: z.string().min(1),
  answer: z.string().min(1),
  think: z.string().min(1).optional(),
  category: z.enum(QA_CATEGORIES),
  options: z.array(z.string().min(1)).min(2).optional(),
});
export type QaRecord = z.infer<typeof qaRecordSchema>;

export const rlRecordSchema = z.object({
  id: z.string().min(1),
  video: z.string().min(1),
  problem: z.string().min(1),
  problem_type: z.enum(["multiple_choice", "free_form", "numerical"]),
  options: z.array(z.string().min(1)).min(2).optional(),
  solution: z.string().min(1),
  facial_attributes: z.string(),
  facial_emotion: z.string(),
  facial_action: z.string(),
});
export type RlRecord = z.infer<typeof rlRecordSchema>;

export type OnBadLine = "skip" | "fail";

export interface BadLine {
  file: string;
  line: number;
  reason: string;
}

export interface ReadOptions {
  /** "fail" (default) throws on the first bad line; "skip" drops it and reports it in `bad`. */
  onBadLine?: OnBadLine;
  /** Called for each skipped line (e.g. to print a warning). */
  onSkip?: (bad: BadLine) => void;
}

export interface ReadResult<T> {
  records: T[];
  bad: BadLine[];
}

function describeZodError(err: z.ZodError): string {
  return err.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join(".") : "(record)"}: ${i.message}`)
    .join("; ");
}

/** Parses JSONL text; each non-blank line must be a JSON object that `schema` accepts. */
export function parseJsonl<T>(text: string, file: string, schema: z.ZodType<T>, options: ReadOptions = {}): ReadResult<T> {
  const policy = options.onBadLine ?? "fail";
  const records: T[] = [];
  const bad: BadLine[] = [];
  const seenIds = new Map<string, number>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (raw === "") continue;
    let reason: string | null = null;
    let value: T | undefined;
    try {
      const parsed = schema.safeParse(JSON.parse(raw));
      if (parsed.success) value = parsed.data;
      else reason = describeZodError(parsed.error);
    } catch (err) {
      reason = `not valid JSON (${(err as Error).message})`;
    }
    if (reason === null && value !== undefined) {
      const id = (value as { id?: unknown }).id;
      if (typeof id === "string") {
        const first = seenIds.get(id);
        if (first !== undefined) reason = `duplicate id "${id}" (first on line ${first})`;
        else seenIds.set(id, i + 1);
      }
    }
    if (reason !== null) {
      const entry = { file, line: i + 1, reason };
      if (policy === "fail") {
        throw new FavchatError(`${file}:${i + 1}: ${reason}; fix the line or pass --on-bad-line skip`);
      }
      bad.push(entry);
      options.onSkip?.(entry);
      continue;
    }
    records.push(value as T);
  }
  return { records, bad };
}

/** Reads and validates a JSONL file (see parseJsonl). */
export function readJsonl<T>(file: string, schema: z.ZodType<T>, options: ReadOptions = {}): ReadResult<T> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new FavchatError(`cannot read records file ${file}: ${(err as Error).message}`, { cause: err });
  }
  return parseJsonl(text, file, schema, options);
}

export const readClipRecords = (file: string, o: ReadOptions = {}): ReadResult<ClipRecord> =>
  readJsonl(file, clipRecordSchema, o);
export const readSummaryRecords = (file: string, o: ReadOptions = {}): ReadResult<SummaryRecord> =>
  readJsonl(file, summaryRecordSchema, o);
export const readQaRecords = (file: string, o: ReadOptions = {}): ReadResult<QaRecord> =>
  readJsonl(file, qaRecordSchema, o);
export const readRlRecords = (file: string, o: ReadOptions = {}): ReadResult<RlRecord> =>
  readJsonl(file, rlRecordSchema, o);

/** Serialises records one per line (validated first, so a writer bug never produces an unreadable file). */
export function toJsonl<T>(records: readonly T[], schema: z.ZodType<T>, what: string): string {
  let out = "";
  records.forEach((r, i) => {
    const parsed = schema.safeParse(r);
    if (!parsed.success) throw new Error(`internal: ${what} record ${i} is invalid: ${describeZodError(parsed.error)}`);
    out += JSON.stringify(r) + "\n";
  });
  return out;
}

export function writeJsonl<T>(file: string, records: readonly T[], schema: z.ZodType<T>, what: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, toJsonl(records, schema, what));
}
