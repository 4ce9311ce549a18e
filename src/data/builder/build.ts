// `favchat data build`: clip records in, the records of every training stage out: summaries.jsonl
// (stage 1), qa.jsonl (stages 2-3) and rl.jsonl (RL). Deterministic per seed: each clip's text comes
// from its own Rng stream, forked by clip id.
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { check } from "../../core/errors.ts";
import { Rng } from "../../core/rng.ts";
import { qaRecordSchema, readClipRecords, rlRecordSchema, summaryRecordSchema, writeJsonl, type BadLine, type ClipRecord, type OnBadLine, type QaRecord, type RlRecord, type SummaryRecord } from "../records.ts";
import { rewrite, type LlmOptions } from "./llm.ts";
import { clipQa, identityQa, qaContext } from "./qa.ts";
import { rlSamples } from "./rl.ts";
import { summarize } from "./summaries.ts";

export interface BuildOptions {
  clips: string;
  out: string;
  seed?: number;
  onBadLine?: OnBadLine;
  onSkip?: (bad: BadLine) => void;
  llm?: LlmOptions;
}

export interface BuiltRecords {
  summaries: SummaryRecord[];
  qa: QaRecord[];
  rl: RlRecord[];
}

/** The pure part: records in, records out. */
export function buildRecords(clips: readonly ClipRecord[], seed: number): BuiltRecords {
  const root = new Rng(seed);
  const context = qaContext(clips);
  const summaries: SummaryRecord[] = [];
  const qa: QaRecord[] = [];
  const rl: RlRecord[] = [];
  for (const rec of clips) {
    summaries.push(summarize(rec, root.fork("summary", rec.id)));
    clipQa(rec, root.fork("qa", rec.id), context).forEach((q, i) => qa.push({ id: `${rec.id}#qa${i}`, video: rec.video, ...q }));
    rl.push(...rlSamples(rec, root.fork("rl", rec.id)));
  }
  qa.push(...identityQa(clips, root.fork("identity")));
  return { summaries, qa, rl };
}

/** Video paths in the outputs are made relative to the output directory, so the records stay portable. */
function rebase(clips: ClipRecord[], from: string, to: string): ClipRecord[] {
  const fix = (p: string): string => (isAbsolute(p) ? p : relative(resolve(to), resolve(from, p)));
  return clips.map((c) => ({ ...c, video: fix(c.video), ...(c.frames ? { frames: fix(c.frames) } : {}) }));
}

export async function buildDataset(o: BuildOptions): Promise<BuiltRecords & { bad: BadLine[] }> {
  const seed = o.seed ?? 0;
  check(Number.isInteger(seed) && seed >= 0, `--seed must be a non-negative integer, got ${seed}`);
  const { records, bad } = readClipRecords(o.clips, { onBadLine: o.onBadLine ?? "fail", onSkip: o.onSkip });
  check(records.length > 0, `${o.clips} has no valid clip records`);
  const built = buildRecords(rebase(records, dirname(o.clips), o.out), seed);
  if (o.llm) {
    for (const s of built.summaries) s.summary = await rewrite(s.summary, o.llm);
    for (const q of built.qa) q.question = await rewrite(q.question, o.llm);
  }
  writeJsonl(join(o.out, "summaries.jsonl"), built.summaries, summaryRecordSchema, "summary");
  writeJsonl(join(o.out, "qa.jsonl"), built.qa, qaRecordSchema, "qa");
  writeJsonl(join(o.out, "rl.jsonl"), built.rl, rlRecordSchema, "rl");
  return { ...built, bad };
}
