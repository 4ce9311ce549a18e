// Shared parsing for the label files real facial-video data sets ship: CSV or whitespace-separated lines
// of "<video> <label>", an optional header, labels given as names or as 1-based/0-based indices.
import { readFileSync } from "node:fs";
import { FavchatError } from "../../core/errors.ts";

export interface LabelLine {
  line: number;
  video: string;
  label: string;
}

export function readLabelLines(file: string): LabelLine[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new FavchatError(`cannot read label file ${file}: ${(err as Error).message}`, { cause: err });
  }
  const out: LabelLine[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const s = raw.trim();
    if (!s || s.startsWith("#")) return;
    const parts = s.includes(",") ? s.split(",").map((p) => p.trim()) : s.split(/\s+/);
    if (parts.length < 2) throw new FavchatError(`${file}:${i + 1}: expected "<video> <label>", got "${s}"`);
    // A header line names its columns; skip it.
    if (i === 0 && /^(video|name|path|clip)/i.test(parts[0]) && /label|emotion|class/i.test(parts[parts.length - 1])) return;
    out.push({ line: i + 1, video: parts[0], label: parts[parts.length - 1] });
  });
  return out;
}

/** Maps a label given as a name (any case) or an index (`base` 0 or 1) to a class name. */
export function mapLabel(label: string, classes: readonly string[], base: 0 | 1, where: string, aliases: Record<string, string> = {}): string {
  const lower = label.toLowerCase();
  if (aliases[lower]) return aliases[lower];
  if (classes.includes(lower)) return lower;
  if (/^\d+$/.test(label)) {
    const k = Number(label) - base;
    if (k >= 0 && k < classes.length) return classes[k];
  }
  throw new FavchatError(`${where}: unknown label "${label}"; expected one of ${classes.join(", ")} or an index ${base}..${classes.length - 1 + base}`);
}
