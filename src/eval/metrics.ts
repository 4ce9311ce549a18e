// Classification metrics for evaluation (DESIGN section 4): WAR (accuracy), UAR (mean per-class recall over
// the classes present in the ground truth), per-class recall/precision/F1, the confusion matrix (rows = truth,
// columns = prediction plus "unmapped"), AU multi-label F1 (per AU, micro, macro) and attribute accuracy.
// Pure functions over plain arrays; an undefined ratio (0/0) is `null`, never NaN, so JSON keeps it.
import { FavchatError, check } from "../core/errors.ts";

/** The confusion matrix's last column: answers that map to no class (or to several, which counts as wrong). */
export const UNMAPPED = "unmapped";

/** a / b, or null when b is 0 (e.g. the precision of a class never predicted). */
export const ratio = (a: number, b: number): number | null => (b === 0 ? null : a / b);

const f1Of = (p: number | null, r: number | null): number | null =>
  p === null || r === null ? null : p + r === 0 ? 0 : (2 * p * r) / (p + r);

const mean = (xs: readonly number[]): number | null => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null);

export interface ConfusionMatrix {
  /** Row labels (the classes), in the order given. */
  readonly labels: readonly string[];
  /** Column labels: the classes, then UNMAPPED. */
  readonly columns: readonly string[];
  /** counts[i][j]: items of true class labels[i] predicted as columns[j]. */
  readonly counts: readonly (readonly number[])[];
}

export interface ClassStats {
  readonly label: string;
  /** Items whose truth is this class. */
  readonly support: number;
  /** Items predicted as this class. */
  readonly predicted: number;
  readonly correct: number;
  /** null when the class has no support. */
  readonly recall: number | null;
  /** null when the class was never predicted. */
  readonly precision: number | null;
  readonly f1: number | null;
}

export interface ClassificationMetrics {
  readonly n: number;
  readonly correct: number;
  /** Weighted average recall = accuracy over all items; unmapped answers count as wrong. */
  readonly war: number;
  /** Unweighted average recall over the classes with support > 0. */
  readonly uar: number;
  /** Items whose prediction is no class. */
  readonly unmapped: number;
  readonly perClass: readonly ClassStats[];
  readonly confusion: ConfusionMatrix;
}

function checkClassSet(labels: readonly string[]): void {
  check(labels.length > 0, "the class set is empty; pass the classes to evaluate (e.g. the 7 DFEW emotions)");
  const seen = new Set<string>();
  for (const l of labels) {
    check(l !== UNMAPPED, `"${UNMAPPED}" cannot be a class name: it is the column for answers that map to no class`);
    check(!seen.has(l), `class "${l}" is listed twice in the class set (${labels.join(", ")})`);
    seen.add(l);
  }
}

/**
 * Counts (truth, prediction) pairs. A prediction that is null or not one of `labels` lands in the UNMAPPED
 * column; a truth that is not one of `labels` is an error (the wrong class set was chosen).
 */
export function confusionMatrix(truth: readonly string[], predicted: readonly (string | null)[], labels: readonly string[]): ConfusionMatrix {
  checkClassSet(labels);
  check(truth.length === predicted.length, `confusion matrix: ${truth.length} truths but ${predicted.length} predictions; pass one prediction per item`);
  const index = new Map(labels.map((l, i) => [l, i]));
  const k = labels.length;
  const counts = labels.map(() => new Array<number>(k + 1).fill(0)); // [k, k+1]
  truth.forEach((t, i) => {
    const row = index.get(t);
    if (row === undefined) {
      throw new FavchatError(`item ${i}: true class "${t}" is not one of the ${k} classes (${labels.join(", ")}); evaluate with a class set that contains it`);
    }
    const p = predicted[i];
    const col = p === null ? undefined : index.get(p);
    counts[row][col ?? k]++;
  });
  return { labels: [...labels], columns: [...labels, UNMAPPED], counts };
}

/** Per-class and overall metrics read off a confusion matrix. */
export function metricsFromConfusion(cm: ConfusionMatrix): ClassificationMetrics {
  const k = cm.labels.length;
  let n = 0;
  let correct = 0;
  let unmapped = 0;
  const perClass: ClassStats[] = cm.labels.map((label, i) => {
    const support = cm.counts[i].reduce((s, x) => s + x, 0);
    const predicted = cm.counts.reduce((s, row) => s + row[i], 0);
    const tp = cm.counts[i][i];
    n += support;
    correct += tp;
    unmapped += cm.counts[i][k];
    const recall = ratio(tp, support);
    const precision = ratio(tp, predicted);
    return { label, support, predicted, correct: tp, recall, precision, f1: f1Of(precision, recall) };
  });
  check(n > 0, "no items to evaluate: the predictions are empty");
  const recalls = perClass.flatMap((c) => (c.recall === null ? [] : [c.recall]));
  return { n, correct, war: correct / n, uar: mean(recalls) as number, unmapped, perClass, confusion: cm };
}

/** WAR, UAR, per-class stats and the confusion matrix of single-label predictions (null = unmapped). */
export function classificationMetrics(truth: readonly string[], predicted: readonly (string | null)[], labels: readonly string[]): ClassificationMetrics {
  return metricsFromConfusion(confusionMatrix(truth, predicted, labels));
}

// ---- multi-label (AU presence) ----

/** One yes/no decision: is `label` (e.g. "AU12") present in an item? `predicted` null = no usable answer. */
export interface BinaryDecision {
  readonly label: string;
  readonly truth: boolean;
  readonly predicted: boolean | null;
}

export interface LabelF1 {
  readonly label: string;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly tn: number;
  readonly precision: number | null;
  readonly recall: number | null;
  /** null when the label was never present nor predicted (tp + fp + fn = 0): nothing to score. */
  readonly f1: number | null;
}

export interface MultiLabelMetrics {
  readonly decisions: number;
  readonly perLabel: readonly LabelF1[];
  /** F1 of the summed tp/fp/fn over all labels. */
  readonly micro: { readonly precision: number | null; readonly recall: number | null; readonly f1: number | null };
  /** Mean F1 over the labels whose F1 is defined. */
  readonly macroF1: number | null;
}

/**
 * Per-label and micro/macro F1 of yes/no decisions. An unusable answer (predicted null) counts as the wrong
 * decision: a miss when the label is present, a false alarm when it is absent. Labels are reported in the
 * order of `labels` when given, else in first-seen order.
 */
export function multiLabelF1(decisions: readonly BinaryDecision[], labels?: readonly string[]): MultiLabelMetrics {
  check(decisions.length > 0, "no decisions to score: the AU predictions are empty");
  const order = labels ? [...labels] : [...new Set(decisions.map((d) => d.label))];
  const tally = new Map(order.map((l) => [l, { tp: 0, fp: 0, fn: 0, tn: 0 }]));
  decisions.forEach((d, i) => {
    const t = tally.get(d.label);
    if (!t) throw new FavchatError(`decision ${i}: label "${d.label}" is not one of ${order.join(", ")}; add it to the label list`);
    const said = d.predicted ?? !d.truth;
    if (d.truth && said) t.tp++;
    else if (d.truth) t.fn++;
    else if (said) t.fp++;
    else t.tn++;
  });
  const perLabel: LabelF1[] = order.map((label) => {
    const { tp, fp, fn, tn } = tally.get(label)!;
    const precision = ratio(tp, tp + fp);
    const recall = ratio(tp, tp + fn);
    const f1 = tp + fp + fn === 0 ? null : (2 * tp) / (2 * tp + fp + fn);
    return { label, tp, fp, fn, tn, precision, recall, f1 };
  });
  const sum = (key: "tp" | "fp" | "fn") => perLabel.reduce((s, l) => s + l[key], 0);
  const [tp, fp, fn] = [sum("tp"), sum("fp"), sum("fn")];
  const micro = { precision: ratio(tp, tp + fp), recall: ratio(tp, tp + fn), f1: tp + fp + fn === 0 ? null : (2 * tp) / (2 * tp + fp + fn) };
  const defined = perLabel.flatMap((l) => (l.f1 === null ? [] : [l.f1]));
  return { decisions: decisions.length, perLabel, micro, macroF1: mean(defined) };
}

/** Turns per-item label sets (true and predicted AU sets) into one decision per (item, label). */
export function decisionsFromSets(truth: readonly (readonly string[])[], predicted: readonly (readonly string[] | null)[], labels: readonly string[]): BinaryDecision[] {
  check(truth.length === predicted.length, `multi-label: ${truth.length} truth sets but ${predicted.length} predicted sets`);
  const known = new Set(labels);
  const out: BinaryDecision[] = [];
  truth.forEach((t, i) => {
    for (const l of [...t, ...(predicted[i] ?? [])]) {
      check(known.has(l), `item ${i}: label "${l}" is not one of ${labels.join(", ")}`);
    }
    const p = predicted[i];
    for (const label of labels) out.push({ label, truth: t.includes(label), predicted: p === null ? null : p.includes(label) });
  });
  return out;
}

// ---- attributes ----

export interface AttributeItem {
  /** e.g. "hair_colour". */
  readonly attribute: string;
  readonly truth: string;
  /** The mapped answer, or null when the answer names no value. */
  readonly predicted: string | null;
}

export interface AttributeScore {
  readonly attribute: string;
  readonly n: number;
  readonly correct: number;
  readonly accuracy: number;
  /** The answer given most often (mapped; null when most answers mapped to nothing) and its share of the items. */
  readonly commonestAnswer: string | null;
  readonly commonestAnswerShare: number;
  /** Accuracy of answering the attribute's commonest true value every time: what the question alone can score. */
  readonly majorityBaseline: number;
}

export interface AttributeAccuracy {
  readonly n: number;
  readonly correct: number;
  readonly accuracy: number;
  /** The per-attribute majority baselines over all items (no video: each attribute's commonest true value). */
  readonly majorityBaseline: number;
  readonly perAttribute: readonly AttributeScore[];
}

const normalise = (s: string): string => s.toLowerCase().replace(/[_\s]+/g, " ").trim();

/** The commonest key of `counts` and its count. */
function commonest(counts: ReadonlyMap<string | null, number>): [string | null, number] {
  let best: [string | null, number] = [null, 0];
  for (const [k, c] of counts) if (c > best[1]) best = [k, c];
  return best;
}

/**
 * Accuracy of answering every item with its group's commonest true value (per AU, per attribute): what knowing
 * which group a question is about scores without the video.
 */
export function groupMajorityShare(items: readonly { group: string; truth: string }[]): number {
  const byGroup = new Map<string, Map<string | null, number>>();
  for (const it of items) {
    const counts = byGroup.get(it.group) ?? new Map<string | null, number>();
    counts.set(it.truth, (counts.get(it.truth) ?? 0) + 1);
    byGroup.set(it.group, counts);
  }
  return items.length === 0 ? 0 : [...byGroup.values()].reduce((sum, c) => sum + commonest(c)[1], 0) / items.length;
}

/** Overall and per-attribute accuracy; values compare case- and spacing-insensitively ("Dark_Brown" = "dark brown"). */
export function attributeAccuracy(items: readonly AttributeItem[]): AttributeAccuracy {
  check(items.length > 0, "no attribute items to score: the predictions are empty");
  const per = new Map<string, { n: number; correct: number; answers: Map<string | null, number>; truths: Map<string | null, number> }>();
  let correct = 0;
  for (const it of items) {
    const ok = it.predicted !== null && normalise(it.predicted) === normalise(it.truth);
    const a = per.get(it.attribute) ?? { n: 0, correct: 0, answers: new Map(), truths: new Map() };
    a.n++;
    if (ok) {
      a.correct++;
      correct++;
    }
    const answer = it.predicted === null ? null : normalise(it.predicted);
    a.answers.set(answer, (a.answers.get(answer) ?? 0) + 1);
    a.truths.set(normalise(it.truth), (a.truths.get(normalise(it.truth)) ?? 0) + 1);
    per.set(it.attribute, a);
  }
  const perAttribute = [...per].map(([attribute, a]) => {
    const [answer, times] = commonest(a.answers);
    return {
      attribute, n: a.n, correct: a.correct, accuracy: a.correct / a.n,
      commonestAnswer: answer, commonestAnswerShare: times / a.n, majorityBaseline: commonest(a.truths)[1] / a.n,
    };
  });
  const majority = groupMajorityShare(items.map((it) => ({ group: it.attribute, truth: normalise(it.truth) })));
  return { n: items.length, correct, accuracy: correct / items.length, majorityBaseline: majority, perAttribute };
}
