// An evaluation report on disk (DESIGN section 4): report.json (everything, machine-readable), report.md
// (tables: overall, per class, confusion matrix, per AU, per attribute, answers that mapped to no label)
// and the PNGs it links (confusion heatmap, curves), all in one directory.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FavchatError } from "../core/errors.ts";
import type { LabelMatch } from "./labels.ts";
import type { AttributeAccuracy, ClassificationMetrics, MultiLabelMetrics } from "./metrics.ts";
import { confusionPng } from "./plot/confusion.ts";
import { lineChartPng, type Series } from "./plot/line-chart.ts";

export interface ReportCurve {
  /** File stem of the PNG ("curves" -> curves.png); letters, digits, - and _ only. */
  readonly name: string;
  readonly title: string;
  readonly series: readonly Series[];
  readonly xLabel?: string;
  readonly yLabel?: string;
  readonly logY?: boolean;
}

/** An answer worth showing a person: one that mapped to no label, or to several. */
export interface ReportExample {
  readonly id: string;
  readonly truth: string;
  readonly prediction: string;
  readonly why: string;
}

/** One scored answer: the true answer, the model's text and what it mapped to. */
export interface ScoredAnswer {
  readonly id: string;
  readonly truth: string;
  readonly prediction: string;
  readonly mapped: LabelMatch;
}

/** The first `max` answers that mapped to no single label, with the reason, for a person to read. */
export function unmappedExamples(items: readonly ScoredAnswer[], max = 20): ReportExample[] {
  return items
    .filter((i) => i.mapped.kind !== "label")
    .slice(0, max)
    .map((i) => ({
      id: i.id, truth: i.truth, prediction: i.prediction.length > 200 ? `${i.prediction.slice(0, 200)}…` : i.prediction,
      why: i.mapped.kind === "multiple" ? `names several: ${i.mapped.labels.join(", ")}` : i.mapped.kind === "none" ? i.mapped.reason : "",
    }));
}

export interface EvalReport {
  readonly title: string;
  /** "emotion", "au", "attribute", "qa", "caption"... */
  readonly task: string;
  /** Headline numbers in display order, e.g. { items: 500, WAR: 0.81, UAR: 0.77 }. */
  readonly overall: Readonly<Record<string, number | string | null>>;
  readonly classification?: ClassificationMetrics;
  readonly multiLabel?: MultiLabelMetrics;
  readonly attributes?: AttributeAccuracy;
  readonly curves?: readonly ReportCurve[];
  readonly examples?: readonly ReportExample[];
  /** Where the numbers came from (model, clips file, date...), shown as a list. */
  readonly meta?: Readonly<Record<string, string | number>>;
}

export interface WrittenReport {
  readonly json: string;
  readonly markdown: string;
  readonly images: readonly string[];
}

/** Ratios to 3 decimals, counts as integers, an undefined ratio as "–". */
export function fmt(v: number | string | null | undefined): string {
  if (v === null || v === undefined) return "–";
  if (typeof v === "string") return v;
  if (!Number.isFinite(v)) return String(v);
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}

const cell = (s: string): string => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

function table(head: readonly string[], rows: readonly (readonly (number | string | null)[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map((r) => line(r.map(fmt)))].join("\n");
}

/** The Markdown page; `images` maps a role ("confusion", a curve name) to its file name beside the page. */
export function reportMarkdown(r: EvalReport, images: Readonly<Record<string, string>> = {}): string {
  const out: string[] = [`# ${r.title}`, ""];
  if (r.meta && Object.keys(r.meta).length) {
    for (const [k, v] of Object.entries(r.meta)) out.push(`- ${k}: ${v}`);
    out.push("");
  }
  out.push("## Overall", "", table(["metric", "value"], Object.entries(r.overall)), "");
  const c = r.classification;
  if (c) {
    out.push("## Per class", "", table(
      ["class", "support", "predicted", "correct", "recall", "precision", "F1"],
      c.perClass.map((s) => [s.label, s.support, s.predicted, s.correct, s.recall, s.precision, s.f1]),
    ), "");
    out.push("## Confusion matrix", "", "Rows are the true class, columns the mapped answer.", "");
    out.push(table(["true \\ predicted", ...c.confusion.columns], c.confusion.counts.map((row, i) => [c.confusion.labels[i], ...row])), "");
    if (images.confusion) out.push(`![confusion matrix](${images.confusion})`, "");
  }
  const m = r.multiLabel;
  if (m) {
    out.push("## Per label (F1)", "", `micro F1 ${fmt(m.micro.f1)}, macro F1 ${fmt(m.macroF1)} over ${m.decisions} decisions.`, "");
    const n = (l: { tp: number; fp: number; fn: number; tn: number }) => l.tp + l.fp + l.fn + l.tn;
    out.push(table(
      ["label", "TP", "FP", "FN", "TN", "precision", "recall", "F1", "accuracy", "answered yes", "truly yes"],
      m.perLabel.map((l) => [l.label, l.tp, l.fp, l.fn, l.tn, l.precision, l.recall, l.f1, (l.tp + l.tn) / n(l), (l.tp + l.fp) / n(l), (l.tp + l.fn) / n(l)]),
    ), "");
  }
  const a = r.attributes;
  if (a) {
    out.push("## Per attribute", "",
      "\"commonest answer\" is the answer given most often and its share: near 1, the model says the same whatever the video " +
      "shows. \"no video\" is the accuracy of always answering the attribute's commonest true value.", "");
    out.push(table(
      ["attribute", "items", "correct", "accuracy", "no video", "commonest answer", "its share"],
      a.perAttribute.map((x) => [x.attribute, x.n, x.correct, x.accuracy, x.majorityBaseline, x.commonestAnswer ?? "(unmapped)", x.commonestAnswerShare]),
    ), "");
  }
  for (const curve of r.curves ?? []) {
    if (images[curve.name]) out.push(`## ${curve.title}`, "", `![${curve.title}](${images[curve.name]})`, "");
  }
  if (r.examples?.length) {
    out.push("## Answers without a single label", "", table(["id", "truth", "answer", "why"], r.examples.map((e) => [e.id, e.truth, e.prediction, e.why])), "");
  }
  return out.join("\n");
}

/** Writes report.json, report.md and the PNGs into `dir` (created if missing); returns the paths written. */
export function writeReport(dir: string, r: EvalReport): WrittenReport {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new FavchatError(`cannot create the report directory ${dir}: ${(err as Error).message}; pass a writable --out directory`, { cause: err });
  }
  const images: Record<string, string> = {};
  const written: string[] = [];
  const put = (name: string, data: string | Buffer): string => {
    const file = join(dir, name);
    try {
      writeFileSync(file, data);
    } catch (err) {
      throw new FavchatError(`cannot write ${file}: ${(err as Error).message}`, { cause: err });
    }
    return file;
  };
  if (r.classification) {
    images.confusion = "confusion.png";
    written.push(put(images.confusion, confusionPng(r.classification.confusion, { title: r.title })));
  }
  for (const curve of r.curves ?? []) {
    if (!/^[\w-]+$/.test(curve.name) || curve.name === "confusion" || curve.name === "report") {
      throw new FavchatError(`report curve name "${curve.name}" is not a usable file stem; use letters, digits, - and _ (not "confusion" or "report")`);
    }
    images[curve.name] = `${curve.name}.png`;
    written.push(put(images[curve.name], lineChartPng(curve.series, curve)));
  }
  const json = put("report.json", JSON.stringify(r, null, 2) + "\n");
  const markdown = put("report.md", reportMarkdown(r, images));
  return { json, markdown, images: written };
}
