// Reading a model's free-text answer (issue 5, "mapped to labels robustly"): the <answer> part of a
// reasoning output, word tokens with clause breaks, phrase lookup in a lexicon with negation scopes
// ("not happy", "neither ... nor", "sad rather than angry"), and option letters such as "(B)".
// labels.ts builds the emotion, yes/no and attribute mappers on these pieces.

/** Token that ends a clause: negation never reaches past it. */
export const BREAK = "|";

/**
 * The part of a model output that holds the answer: the last complete `<answer>...</answer>` block, or the
 * text after an unclosed `<answer>`; without answer tags, the text minus `<think>...</think>` (an unclosed
 * `<think>` means the model never got to answering: empty). Chat special tokens (`<|im_end|>`) are dropped.
 */
export function answerPart(text: string): string {
  const t = text.replace(/<\|[^|>]*\|>/g, " ");
  const closed = [...t.matchAll(/<answer>([\s\S]*?)<\/answer>/gi)];
  if (closed.length) return closed[closed.length - 1][1].trim();
  const open = t.search(/<answer>(?![\s\S]*<answer>)/i);
  if (open >= 0) return t.slice(open + "<answer>".length).replace(/<\/?\w+>/g, " ").trim();
  const noThink = t.replace(/<think>[\s\S]*?<\/think>/gi, " ");
  const unclosed = noThink.search(/<think>/i);
  return (unclosed >= 0 ? noThink.slice(0, unclosed) : noThink).replace(/<\/?\w+>/g, " ").trim();
}

/** Words that end a clause like punctuation does ("not happy but sad"). */
const BREAK_WORDS = new Set(["but", "however", "although", "though", "whereas", "yet", "while", "rather", "instead", "except"]);

/**
 * Lower-cased word tokens with BREAK for clause punctuation. Negative contractions become "not"
 * ("isn't" -> "is not"), possessive and other clitics are dropped, hyphens split words ("happy-looking").
 */
export function answerTokens(text: string): string[] {
  const t = text
    .toLowerCase()
    .replace(/[\u2018\u2019`\u00b4]/g, "'")
    .replace(/\bcannot\b/g, "can not")
    .replace(/n't\b/g, " not")
    .replace(/'(s|re|ve|ll|d|m)\b/g, "");
  const out: string[] = [];
  for (const m of t.matchAll(/[a-z0-9]+|[.,;:!?()[\]\n/]/g)) out.push(/[a-z0-9]/.test(m[0]) ? m[0] : BREAK);
  return out;
}

export interface Lexicon {
  /** First token -> phrases starting with it, longest first. */
  readonly byFirst: ReadonlyMap<string, readonly { tokens: readonly string[]; label: string }[]>;
}

/** Builds a lexicon from label -> words and phrases (each tokenized like answers are). */
export function buildLexicon(entries: Readonly<Record<string, readonly string[]>>): Lexicon {
  const byFirst = new Map<string, { tokens: string[]; label: string }[]>();
  for (const [label, phrases] of Object.entries(entries)) {
    for (const p of phrases) {
      const tokens = answerTokens(p).filter((w) => w !== BREAK);
      if (!tokens.length) continue;
      const list = byFirst.get(tokens[0]) ?? [];
      list.push({ tokens, label });
      byFirst.set(tokens[0], list);
    }
  }
  for (const list of byFirst.values()) list.sort((a, b) => b.tokens.length - a.tokens.length);
  return { byFirst };
}

export interface Mention {
  readonly label: string;
  /** Inside a negation's scope ("not happy"): the answer says the label does NOT apply. */
  readonly negated: boolean;
  /** Token index where the phrase starts. */
  readonly at: number;
}

const NEGATION_CUES = new Set(["not", "no", "never", "neither", "nor", "without", "nothing", "none"]);
/** Multi-word cues that negate what follows ("sad rather than angry"). */
const NEGATION_PHRASES: readonly (readonly string[])[] = [["rather", "than"], ["instead", "of"], ["as", "opposed", "to"], ["other", "than"]];
/** Cue + next word that do not negate ("not only happy", "no doubt happy", "nothing but joy"). */
const NOT_NEGATING: readonly (readonly string[])[] = [
  ["not", "only"], ["not", "just"], ["not", "merely"], ["not", "least"], ["no", "doubt"], ["nothing", "but"], ["no", "less"], ["none", "other"],
];
/** How many words after a cue it reaches ("does not look particularly happy"), fillers not counted. */
const SCOPE_WORDS = 4;
const SCOPE_FILLERS = new Set([
  "to", "be", "is", "are", "was", "were", "been", "being", "a", "an", "the", "any", "very", "really", "at", "all",
  "look", "looks", "appear", "appears", "seem", "seems", "feel", "feels", "particularly", "so", "too", "quite",
]);

const startsWith = (tokens: readonly string[], at: number, phrase: readonly string[]): boolean =>
  phrase.every((w, k) => tokens[at + k] === w);

export interface MentionOptions {
  /**
   * Words that, negated with no labelled word in the same scope, mean `label`: "shows no emotion",
   * "does not show any particular expression" -> neutral.
   */
  readonly negatedMeans?: { readonly words: ReadonlySet<string>; readonly label: string };
}

/** Every lexicon phrase in `text`, longest match first, each marked negated when inside a negation's scope. */
export function findMentions(text: string, lexicon: Lexicon, options: MentionOptions = {}): Mention[] {
  const tokens = answerTokens(text);
  const mentions: Mention[] = [];
  let scopeLeft = 0; // words still under the current negation
  let scopeHasLabel = false;
  let scopeHasNoneWord = -1; // token index of a negatedMeans word in the open scope, or -1
  const closeScope = () => {
    if (scopeHasNoneWord >= 0 && !scopeHasLabel && options.negatedMeans) {
      mentions.push({ label: options.negatedMeans.label, negated: false, at: scopeHasNoneWord });
    }
    scopeLeft = 0;
    scopeHasLabel = false;
    scopeHasNoneWord = -1;
  };
  const openScope = () => {
    closeScope();
    scopeLeft = SCOPE_WORDS;
  };
  for (let i = 0; i < tokens.length; ) {
    const w = tokens[i];
    if (w === BREAK) {
      closeScope();
      i++;
      continue;
    }
    // 1. Cues that look like negation but are not ("no doubt", "nothing but joy").
    const pass = NOT_NEGATING.find((p) => startsWith(tokens, i, p));
    if (pass) {
      i += pass.length;
      continue;
    }
    // 2. A lexicon phrase wins over negation, so a value like "none", "no" or "no glasses" is read as a value.
    const hit = lexicon.byFirst.get(w)?.find((p) => startsWith(tokens, i, p.tokens));
    if (hit) {
      const negated = scopeLeft > 0;
      mentions.push({ label: hit.label, negated, at: i });
      if (negated) scopeHasLabel = true;
      scopeLeft = Math.max(0, scopeLeft - hit.tokens.length);
      // "not angry or sad": a disjunction carries the negation on to the next label.
      const after = tokens[i + hit.tokens.length];
      if (negated && (after === "or" || after === "nor")) scopeLeft = Math.max(scopeLeft, 2);
      if (scopeLeft === 0) closeScope();
      i += hit.tokens.length;
      continue;
    }
    // 3. Negation phrases and words open a scope; clause-break words close it.
    const phrase = NEGATION_PHRASES.find((p) => startsWith(tokens, i, p));
    if (phrase || NEGATION_CUES.has(w)) {
      openScope();
      i += phrase ? phrase.length : 1;
      continue;
    }
    if (BREAK_WORDS.has(w)) {
      closeScope();
      i++;
      continue;
    }
    // 4. Any other word uses up one word of an open scope, except verbs of seeming and fillers
    // ("does not appear to be angry").
    if (scopeLeft > 0) {
      if (options.negatedMeans?.words.has(w) && scopeHasNoneWord < 0) scopeHasNoneWord = i;
      if (!SCOPE_FILLERS.has(w)) scopeLeft--;
      if (scopeLeft === 0) closeScope();
    }
    i++;
  }
  closeScope();
  return mentions;
}

/**
 * Option letters the answer picks, upper-cased, in order of first appearance: the whole answer ("B", "(b)",
 * "B."), a leading "(B)" / "B)" / "B.", a "(B)" anywhere, or "option B" / "answer is B". A bare lower-case
 * letter inside a sentence is never read as a letter ("a happy face" is not option A).
 */
export function optionLetters(answer: string): string[] {
  const t = answer.trim();
  const found: string[] = [];
  const add = (l: string) => {
    const u = l.toUpperCase();
    if (!found.includes(u)) found.push(u);
  };
  const whole = /^\(?\s*([A-Za-z])\s*\)?[.:!]?$/.exec(t);
  if (whole) return [whole[1].toUpperCase()];
  const lead = /^(?:\(([A-Za-z])\)|([A-Z])[.):](?=\s|$))/.exec(t);
  if (lead) add(lead[1] ?? lead[2]);
  for (const m of t.matchAll(/(?:^|[^\w])\(([A-Za-z])\)/g)) add(m[1]);
  for (const m of t.matchAll(/\b(?:[Oo]ption|[Cc]hoice|[Aa]nswer(?:\s+is)?:?)\s*\(?([A-Z])\)?(?=$|[\s.,;:!)])/g)) add(m[1]);
  return found;
}
