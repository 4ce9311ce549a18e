// Prediction files and emotion scoring (issue 5 item 5): one JSON object per line, `{"id", "prediction",
// "answer"}` (the model's raw text and the true answer; `options` when the question was multiple choice),
// read with the records reader (file:line errors), and evaluateEmotion, which maps every answer to a class
// and returns what the report needs: WAR, UAR, per class, the confusion matrix and the unmapped answers.
import { z } from "zod";
import { FavchatError } from "../core/errors.ts";
import { readJsonl, writeJsonl, type ReadOptions, type ReadResult } from "../data/records.ts";
import { EMOTIONS7 } from "../data/records.ts";
import { EMOTIONS11, labelOf, mapEmotion } from "./labels.ts";
import { classificationMetrics, type ClassificationMetrics } from "./metrics.ts";
import { unmappedExamples, type EvalReport, type ScoredAnswer } from "./report.ts";

export const predictionSchema = z.object({
  id: z.string().min(1),
  /** What the model said, verbatim (may hold <think>/<answer> tags). */
  prediction: z.string(),
  /** The true answer (a class name for emotion clips). */
  answer: z.string().min(1),
  /** The options shown with a multiple-choice question, in order (A, B, ...). */
  options: z.array(z.string().min(1)).min(2).optional(),
  /** The question asked (lets AU scoring find the AU it asks about). */
  question: z.string().optional(),
  /** What the question is about, where scoring groups by it: an AU ("AU12") or an attribute ("hair_colour"). */
  label: z.string().min(1).optional(),
});
export type Prediction = z.infer<typeof predictionSchema>;

export const readPredictions = (file: string, o: ReadOptions = {}): ReadResult<Prediction> => readJsonl(file, predictionSchema, o);

export function writePredictions(file: string, predictions: readonly Prediction[]): void {
  writeJsonl(file, predictions, predictionSchema, "prediction");
}

export interface EmotionEvaluation {
  readonly classes: readonly string[];
  readonly metrics: ClassificationMetrics;
  /** Answers naming several classes (wrong by rule). */
  readonly multiple: number;
  /** Answers naming no class. */
  readonly none: number;
  readonly items: readonly ScoredAnswer[];
}

/** The class a true answer names: the class itself, or a word form ("happiness"); anything else is an error. */
function truthClass(p: Prediction, classes: readonly string[]): string {
  const t = p.answer.trim().toLowerCase();
  if (classes.includes(t)) return t;
  const m = mapEmotion(p.answer, { classes });
  if (m.kind === "label") return m.label;
  const hint = classes.length === EMOTIONS7.length && mapEmotion(p.answer, { classes: EMOTIONS11 }).kind === "label"
    ? "; it is one of MAFW's 11 classes: evaluate with those"
    : "";
  throw new FavchatError(`prediction "${p.id}": the true answer "${p.answer}" is not one of the ${classes.length} classes (${classes.join(", ")})${hint}`);
}

/** Maps each prediction to a class and scores them against their true answers. */
export function evaluateEmotion(predictions: readonly Prediction[], classes: readonly string[] = EMOTIONS7): EmotionEvaluation {
  if (!predictions.length) throw new FavchatError("no predictions to evaluate: the predictions file is empty");
  const items = predictions.map((p) => ({
    id: p.id,
    truth: truthClass(p, classes),
    prediction: p.prediction,
    mapped: mapEmotion(p.prediction, { classes, ...(p.options ? { options: p.options } : {}) }),
  }));
  const metrics = classificationMetrics(items.map((i) => i.truth), items.map((i) => labelOf(i.mapped)), classes);
  return {
    classes: [...classes], metrics, items,
    multiple: items.filter((i) => i.mapped.kind === "multiple").length,
    none: items.filter((i) => i.mapped.kind === "none").length,
  };
}

/** The report of an emotion evaluation: headline numbers, tables, confusion PNG, and up to `maxExamples` unmapped answers. */
export function emotionReport(ev: EmotionEvaluation, o: { title?: string; meta?: Record<string, string | number>; maxExamples?: number } = {}): EvalReport {
  const m = ev.metrics;
  return {
    title: o.title ?? `Emotion recognition (${ev.classes.length} classes)`,
    task: "emotion",
    overall: { items: m.n, WAR: m.war, UAR: m.uar, correct: m.correct, "unmapped (no class)": ev.none, "unmapped (several classes)": ev.multiple },
    classification: m,
    examples: unmappedExamples(ev.items, o.maxExamples ?? 20),
    ...(o.meta ? { meta: o.meta } : {}),
  };
}

/** FaceWorld's expression bands, in the order the report lists them. */
export const EXPRESSION_BANDS = ["subtle", "moderate", "strong", "neutral"] as const;
export type ExpressionBand = (typeof EXPRESSION_BANDS)[number];

/**
 * WAR and UAR of the answers about each expression band's clips, as report rows ("WAR, subtle clips (n=129)"), for
 * the bands `bandOf` (prediction id -> band, undefined when the clip has none) finds; {} when it finds none.
 */
export function emotionBandRows(predictions: readonly Prediction[], bandOf: (id: string) => ExpressionBand | undefined, classes: readonly string[] = EMOTIONS7): Record<string, number> {
  const rows: Record<string, number> = {};
  for (const band of EXPRESSION_BANDS) {
    const subset = predictions.filter((p) => bandOf(p.id) === band);
    if (!subset.length) continue;
    const m = evaluateEmotion(subset, classes).metrics;
    rows[`WAR, ${band} clips (n=${m.n})`] = m.war;
    rows[`UAR, ${band} clips (n=${m.n})`] = m.uar;
  }
  return rows;
}
