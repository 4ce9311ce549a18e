// Caption metrics as the coco-caption evaluation code computes them (DESIGN section 4): ROUGE-L (LCS-based
// F-measure, beta 1.2, best precision and best recall over the references) and CIDEr-D (tf-idf weighted
// n-grams 1-4 with idf from the evaluated corpus's references, clipping, a Gaussian length penalty with
// sigma 6, mean over n, divided by the number of references, times 10). No maintained npm package has CIDEr.
import { check } from "../core/errors.ts";

export interface CaptionItem {
  readonly candidate: string;
  /** One or more reference captions for the same video. */
  readonly references: readonly string[];
}

export interface CorpusScore {
  /** Mean of `scores`. */
  readonly score: number;
  /** One score per item, in input order. */
  readonly scores: readonly number[];
}

const PUNCTUATION = /[.,!?;:"`()[\]{}<>]|--+|(?<=\s|^)-(?=\s|$)|\.\.\./g;

/**
 * Lower-cases and splits into words, dropping the punctuation coco-caption's PTB tokenizer removes and
 * splitting clitics the way it does ("person's" -> "person 's", "don't" -> "do n't"); hyphenated words stay whole.
 */
export function tokenizeCaption(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/(\w)n't\b/g, "$1 n't")
    .replace(/(\w)'(s|re|ve|ll|d|m)\b/g, "$1 '$2")
    .replace(PUNCTUATION, " ")
    .split(/\s+/)
    .filter((w) => w !== "" && w !== "'" && w !== "''");
}

function checkItems(items: readonly CaptionItem[], what: string): void {
  check(items.length > 0, `${what}: no captions to score`);
  items.forEach((it, i) => check(it.references.length > 0, `${what}: item ${i} has no reference caption; every candidate needs at least one`));
}

/** Length of the longest common subsequence of two token lists (O(|a|·|b|) time, O(|b|) memory). */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  const row = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    let diag = 0; // row[j-1] of the previous i
    for (let j = 1; j <= b.length; j++) {
      const up = row[j];
      row[j] = a[i - 1] === b[j - 1] ? diag + 1 : Math.max(up, row[j - 1]);
      diag = up;
    }
  }
  return row[b.length];
}

/** ROUGE-L of one candidate: F-beta of the best precision and the best recall over the references. */
export function rougeL(candidate: string, references: readonly string[], beta = 1.2): number {
  check(references.length > 0, "ROUGE-L needs at least one reference caption");
  const c = tokenizeCaption(candidate);
  if (c.length === 0) return 0;
  let pMax = 0;
  let rMax = 0;
  for (const ref of references) {
    const r = tokenizeCaption(ref);
    if (r.length === 0) continue;
    const lcs = lcsLength(r, c);
    pMax = Math.max(pMax, lcs / c.length);
    rMax = Math.max(rMax, lcs / r.length);
  }
  if (pMax === 0 || rMax === 0) return 0;
  return ((1 + beta * beta) * pMax * rMax) / (rMax + beta * beta * pMax);
}

export function corpusRougeL(items: readonly CaptionItem[], beta = 1.2): CorpusScore {
  checkItems(items, "ROUGE-L");
  const scores = items.map((it) => rougeL(it.candidate, it.references, beta));
  return { score: scores.reduce((s, x) => s + x, 0) / scores.length, scores };
}

// ---- CIDEr-D ----

export interface CiderOptions {
  /** Longest n-gram (default 4). */
  readonly n?: number;
  /** Standard deviation of the Gaussian length penalty (default 6). */
  readonly sigma?: number;
}

type Counts = Map<string, number>;

/** n-gram counts for n = 1..maxN, keyed by the words joined with a space (words never contain spaces). */
function ngramCounts(words: readonly string[], maxN: number): Counts {
  const counts: Counts = new Map();
  for (let k = 1; k <= maxN; k++) {
    for (let i = 0; i + k <= words.length; i++) {
      const g = words.slice(i, i + k).join(" ");
      counts.set(g, (counts.get(g) ?? 0) + 1);
    }
  }
  return counts;
}

interface TfIdf {
  /** One map per n-gram order (index n-1). */
  vec: Map<string, number>[];
  norm: number[];
  /** coco-caption counts bigrams here (its `if n == 1` is the 0-based order); kept for identical scores. */
  length: number;
}

/**
 * CIDEr-D over a corpus. As in coco-caption, document frequencies come from the references of the items
 * scored together, so one item alone scores 0 (every n-gram's idf is log(1/1)); score a whole test set at once.
 */
export function ciderD(items: readonly CaptionItem[], options: CiderOptions = {}): CorpusScore {
  checkItems(items, "CIDEr-D");
  const maxN = options.n ?? 4;
  const sigma = options.sigma ?? 6;
  check(Number.isInteger(maxN) && maxN >= 1, `CIDEr-D: n must be a positive integer, got ${maxN}`);
  check(sigma > 0, `CIDEr-D: sigma must be positive, got ${sigma}`);

  // 1. n-gram counts of every caption, and in how many items' reference sets each n-gram occurs.
  const cands = items.map((it) => ngramCounts(tokenizeCaption(it.candidate), maxN));
  const refs = items.map((it) => it.references.map((r) => ngramCounts(tokenizeCaption(r), maxN)));
  const df = new Map<string, number>();
  for (const set of refs) {
    const seen = new Set<string>();
    for (const r of set) for (const g of r.keys()) seen.add(g);
    for (const g of seen) df.set(g, (df.get(g) ?? 0) + 1);
  }
  const logN = Math.log(items.length);

  // 2. tf-idf vectors; an n-gram no reference has gets df 1 (idf log N), as coco-caption does.
  const toVec = (counts: Counts): TfIdf => {
    const vec = Array.from({ length: maxN }, () => new Map<string, number>());
    const norm = new Array<number>(maxN).fill(0);
    let length = 0;
    for (const [g, tf] of counts) {
      const order = g.split(" ").length - 1;
      const w = tf * (logN - Math.log(Math.max(1, df.get(g) ?? 0)));
      vec[order].set(g, w);
      norm[order] += w * w;
      if (order === 1) length += tf;
    }
    return { vec, norm: norm.map(Math.sqrt), length };
  };

  // 3. clipped cosine similarity per order, times the length penalty; mean over orders and references, x10.
  const sim = (h: TfIdf, r: TfIdf): number => {
    const delta = h.length - r.length;
    const penalty = Math.exp(-(delta * delta) / (2 * sigma * sigma));
    let total = 0;
    for (let k = 0; k < maxN; k++) {
      let val = 0;
      for (const [g, wh] of h.vec[k]) {
        const wr = r.vec[k].get(g) ?? 0;
        val += Math.min(wh, wr) * wr;
      }
      if (h.norm[k] !== 0 && r.norm[k] !== 0) val /= h.norm[k] * r.norm[k];
      total += val * penalty;
    }
    return total;
  };
  const scores = items.map((_, i) => {
    const h = toVec(cands[i]);
    const sum = refs[i].reduce((s, r) => s + sim(h, toVec(r)), 0);
    return ((sum / maxN) / refs[i].length) * 10;
  });
  return { score: scores.reduce((s, x) => s + x, 0) / scores.length, scores };
}
