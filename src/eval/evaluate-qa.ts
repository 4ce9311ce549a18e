// Scoring the two other question kinds the issue quotes numbers for: AU presence (yes/no answers, F1 per AU,
// micro and macro) and attribute QA (accuracy per attribute). Like evaluateEmotion, each maps the model's free
// text (mapYesNo, mapChoice) and returns what the report needs, unmapped answers included.
import { FavchatError } from "../core/errors.ts";
import { labelOf, mapChoice, mapYesNo, type LabelMatch } from "./labels.ts";
import { attributeAccuracy, groupMajorityShare, multiLabelF1, type AttributeAccuracy, type MultiLabelMetrics } from "./metrics.ts";
import type { Prediction } from "./predictions.ts";
import { auMentions, auNamedIn } from "../data/builder/phrasing.ts";
import { unmappedExamples, type EvalReport, type ScoredAnswer } from "./report.ts";

const count = (items: readonly ScoredAnswer[], kind: LabelMatch["kind"]) => items.filter((i) => i.mapped.kind === kind).length;

function yesNoTruth(p: Prediction): boolean {
  const t = mapYesNo(p.answer);
  if (t.kind !== "label") throw new FavchatError(`prediction "${p.id}": the true answer "${p.answer}" is not yes or no; AU presence scoring needs yes/no answers`);
  return t.label === "yes";
}

// ---- AU presence ----

export interface AuEvaluation {
  readonly metrics: MultiLabelMetrics;
  /** Share of questions answered correctly (an unmapped answer is wrong). */
  readonly accuracy: number;
  /**
   * Baselines that do not look at the video: the accuracy of answering each AU's more frequent true answer among these
   * questions (what the AU's name alone can score, at best) and the micro F1 of "yes" to everything.
   */
  readonly baselines: { readonly perAuMajority: number; readonly allYesF1: number };
  /**
   * Micro F1 and accuracy per way the questions name their AU (the builder asks all three: AU_PRESENCE_Q), for the
   * namings present; empty when the predictions carry no questions.
   */
  readonly byNaming: Readonly<Partial<Record<AuNaming, { readonly questions: number; readonly f1: number; readonly accuracy: number }>>>;
  readonly multiple: number;
  readonly none: number;
  readonly items: readonly ScoredAnswer[];
}

export type AuNaming = "number and words" | "number alone" | "words alone";

/** How a question names its AU: by "AU12", by "lip corner puller", or both; null when it names it neither way. */
export function auNaming(question: string): AuNaming | null {
  const { byNumber, byWords } = auMentions(question);
  const [number, words] = [byNumber.size > 0, byWords.size > 0];
  return number && words ? "number and words" : number ? "number alone" : words ? "words alone" : null;
}

/** The AU a prediction is about: its `label`, else the one AU its question names (by number or words: auNamedIn). */
function auOf(p: Prediction): string {
  const au = p.label ?? auNamedIn(p.question ?? "") ?? undefined;
  if (!au) throw new FavchatError(`prediction "${p.id}": cannot tell which AU it is about; give it a "label" (e.g. "AU12") or the question naming the AU`);
  return au;
}

/** F1 per AU and micro/macro over yes/no AU-presence answers. */
export function evaluateAuPresence(predictions: readonly Prediction[]): AuEvaluation {
  if (!predictions.length) throw new FavchatError("no predictions to evaluate: the predictions file is empty");
  const items = predictions.map((p) => ({ id: p.id, truth: p.answer, prediction: p.prediction, mapped: mapYesNo(p.prediction), au: auOf(p), yes: yesNoTruth(p) }));
  const labels = [...new Set(items.map((i) => i.au))].sort((a, b) => Number(a.slice(2)) - Number(b.slice(2)) || a.localeCompare(b));
  const decisions = items.map((i) => ({ label: i.au, truth: i.yes, predicted: i.mapped.kind === "label" ? i.mapped.label === "yes" : null }));
  const right = decisions.filter((d) => d.predicted === d.truth).length;
  const majority = groupMajorityShare(decisions.map((d) => ({ group: d.label, truth: String(d.truth) })));
  const yes = decisions.filter((d) => d.truth).length;
  const byNaming: Partial<Record<AuNaming, { questions: number; f1: number; accuracy: number }>> = {};
  const namings = predictions.map((p) => (p.question ? auNaming(p.question) : null));
  for (const naming of ["number and words", "number alone", "words alone"] as const) {
    const group = decisions.filter((_, i) => namings[i] === naming);
    if (!group.length) continue;
    const tp = group.filter((d) => d.truth && d.predicted === true).length;
    const wrong = group.filter((d) => d.predicted !== d.truth).length;
    byNaming[naming] = { questions: group.length, f1: tp === 0 ? 0 : (2 * tp) / (2 * tp + wrong), accuracy: 1 - wrong / group.length };
  }
  return {
    metrics: multiLabelF1(decisions, labels), accuracy: right / decisions.length,
    baselines: { perAuMajority: majority, allYesF1: yes === 0 ? 0 : (2 * yes) / (2 * yes + (decisions.length - yes)) },
    byNaming, multiple: count(items, "multiple"), none: count(items, "none"), items,
  };
}

export function auReport(ev: AuEvaluation, o: { title?: string; meta?: Record<string, string | number>; maxExamples?: number } = {}): EvalReport {
  const m = ev.metrics;
  return {
    title: o.title ?? "AU presence",
    task: "au",
    overall: {
      questions: m.decisions, "micro F1": m.micro.f1, "macro F1": m.macroF1, accuracy: ev.accuracy,
      "without the video: each AU's usual answer, accuracy": ev.baselines.perAuMajority,
      "without the video: \"yes\" to all, micro F1": ev.baselines.allYesF1,
      ...Object.fromEntries(Object.entries(ev.byNaming).flatMap(([naming, g]) => [[`AU named by ${naming}: questions`, g.questions], [`AU named by ${naming}: micro F1`, g.f1], [`AU named by ${naming}: accuracy`, g.accuracy]])),
      "unmapped (no answer)": ev.none, "unmapped (yes and no)": ev.multiple,
    },
    multiLabel: m,
    examples: unmappedExamples(ev.items, o.maxExamples ?? 20),
    ...(o.meta ? { meta: o.meta } : {}),
  };
}

// ---- attributes ----

export interface AttributeEvaluation {
  readonly metrics: AttributeAccuracy;
  readonly multiple: number;
  readonly none: number;
  readonly items: readonly ScoredAnswer[];
}

/**
 * Accuracy per attribute. Each answer is mapped onto the question's options when it had some, else onto
 * the values that attribute takes across the file's true answers (so "dark brown" is told from "brown");
 * yes/no attributes (glasses: yes) are read with mapYesNo.
 */
export function evaluateAttributes(predictions: readonly Prediction[]): AttributeEvaluation {
  if (!predictions.length) throw new FavchatError("no predictions to evaluate: the predictions file is empty");
  const values = new Map<string, Set<string>>();
  for (const p of predictions) {
    if (!p.label) throw new FavchatError(`prediction "${p.id}": attribute scoring needs "label", the attribute's name (e.g. "hair_colour")`);
    values.set(p.label, (values.get(p.label) ?? new Set()).add(p.answer));
  }
  const isYesNo = (label: string) => [...values.get(label)!].every((v) => /^(yes|no)$/i.test(v.trim()));
  const items = predictions.map((p) => {
    const label = p.label!;
    const mapped = isYesNo(label)
      ? mapYesNo(p.prediction)
      : mapChoice(p.prediction, p.options ?? [...values.get(label)!], p.options ? { options: p.options } : {});
    return { id: p.id, truth: p.answer, prediction: p.prediction, mapped, attribute: label };
  });
  const metrics = attributeAccuracy(items.map((i) => ({ attribute: i.attribute, truth: i.truth, predicted: labelOf(i.mapped) })));
  return { metrics, multiple: count(items, "multiple"), none: count(items, "none"), items };
}

export function attributeReport(ev: AttributeEvaluation, o: { title?: string; meta?: Record<string, string | number>; maxExamples?: number } = {}): EvalReport {
  return {
    title: o.title ?? "Attribute QA",
    task: "attribute",
    overall: {
      questions: ev.metrics.n, accuracy: ev.metrics.accuracy, correct: ev.metrics.correct,
      "without the video: each attribute's commonest value, accuracy": ev.metrics.majorityBaseline,
      "unmapped (no value)": ev.none, "unmapped (several values)": ev.multiple,
    },
    attributes: ev.metrics,
    examples: unmappedExamples(ev.items, o.maxExamples ?? 20),
    ...(o.meta ? { meta: o.meta } : {}),
  };
}
