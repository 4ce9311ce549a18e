// Scoring predictions of any task into a report: the one function `favchat score` (a file) and `favchat eval`
// (fresh predictions) share. Mixed QA is scored by exact match of the answer part, per category.
import { EMOTIONS7 } from "../data/records.ts";
import { answerPart } from "./answer-text.ts";
import { attributeReport, auReport, evaluateAttributes, evaluateAuPresence } from "./evaluate-qa.ts";
import { EMOTIONS11 } from "./labels.ts";
import { emotionReport, evaluateEmotion, type Prediction } from "./predictions.ts";
import type { EvalReport } from "./report.ts";

export type ScoreTask = "emotion" | "au" | "attribute" | "qa";

const normalise = (s: string) => answerPart(s).toLowerCase().replace(/[^a-z0-9 ]+/g, " ").replace(/\s+/g, " ").trim();

/** Exact-match accuracy of the answer part, overall and per category (the category is the id's "#category" part). */
export function qaReport(predictions: readonly Prediction[], meta: Record<string, string | number> = {}): EvalReport {
  const byCat = new Map<string, { n: number; ok: number }>();
  let ok = 0;
  for (const p of predictions) {
    const cat = /#([a-z_]+?)\d*$/.exec(p.id)?.[1] ?? "qa";
    const hit = normalise(p.prediction) === normalise(p.answer);
    ok += hit ? 1 : 0;
    const c = byCat.get(cat) ?? { n: 0, ok: 0 };
    c.n++;
    c.ok += hit ? 1 : 0;
    byCat.set(cat, c);
  }
  const overall: Record<string, number> = { items: predictions.length, accuracy: predictions.length ? ok / predictions.length : 0 };
  for (const [cat, c] of [...byCat].sort()) overall[`${cat} accuracy (n=${c.n})`] = c.ok / c.n;
  return { title: "Question answering (exact match)", task: "qa", overall, meta };
}

/** The emotion classes of `--classes`: 7 (DFEW, FERV39k, FaceWorld) or 11 (MAFW). */
export const emotionClasses = (classes: "7" | "11"): readonly string[] => (classes === "11" ? EMOTIONS11 : EMOTIONS7);

export function scorePredictions(records: readonly Prediction[], task: ScoreTask, classes: "7" | "11", meta: Record<string, string | number>): EvalReport {
  if (task === "emotion") return emotionReport(evaluateEmotion(records, emotionClasses(classes)), { meta });
  if (task === "au") return auReport(evaluateAuPresence(records), { meta });
  if (task === "attribute") return attributeReport(evaluateAttributes(records), { meta });
  return qaReport(records, meta);
}
