// Free-text answers to labels (issue 5 item 5): the 7 DFEW emotions and MAFW's 11 with their synonyms and
// word forms, yes/no answers (AU presence) and attribute values. Each mapper reads the <answer> part, ignores
// negated mentions ("not happy"), takes an option letter ("(B)") when options were given, and returns
// "multiple" when the answer names several different labels: such an answer is wrong, never its first label.
import { EMOTIONS7 } from "../data/records.ts";
import { BREAK, answerPart, answerTokens, buildLexicon, findMentions, optionLetters, type Lexicon, type Mention } from "./answer-text.ts";

/** MAFW's 11 classes, named as the records name them (DFEW's 7 first, in DFEW's order). */
export const EMOTIONS11 = [...EMOTIONS7, "contempt", "anxiety", "helplessness", "disappointment"] as const;

export type LabelMatch =
  | { readonly kind: "label"; readonly label: string }
  /** Several different labels (or an option letter that disagrees with the words): counts as wrong. */
  | { readonly kind: "multiple"; readonly labels: readonly string[] }
  | { readonly kind: "none"; readonly reason: string };

/** The label, or null for "multiple" and "none" (the confusion matrix's unmapped column). */
export const labelOf = (m: LabelMatch): string | null => (m.kind === "label" ? m.label : null);

/**
 * Words and phrases for each of the 11 emotions. Ambiguous words are left out on purpose: "upset" (sad or
 * angry), "frowning" (angry, sad or concentrating), "content" (happy, or the noun), "tense".
 */
export const EMOTION_WORDS: Readonly<Record<string, readonly string[]>> = {
  happy: ["happy", "happiness", "happily", "joy", "joyful", "joyous", "glad", "cheerful", "delighted", "pleased", "elated",
    "amused", "smile", "smiles", "smiled", "smiling", "smiley", "grin", "grinning", "laugh", "laughing", "laughter"],
  sad: ["sad", "sadness", "sadly", "unhappy", "unhappiness", "sorrow", "sorrowful", "downcast", "depressed", "gloomy",
    "grief", "grieving", "melancholy", "melancholic", "crying", "tearful", "weeping", "dejected", "miserable"],
  neutral: ["neutral", "neutrality", "calm", "expressionless", "emotionless", "impassive", "deadpan", "blank expression",
    "blank face", "poker face", "straight face", "relaxed", "composed"],
  angry: ["angry", "anger", "angrily", "angered", "furious", "fury", "rage", "raging", "enraged", "mad", "irritated",
    "irritation", "annoyed", "annoyance", "irate", "outraged", "hostile"],
  surprise: ["surprise", "surprised", "surprising", "astonished", "astonishment", "amazed", "amazement", "shocked",
    "shock", "startled", "stunned"],
  disgust: ["disgust", "disgusted", "disgusting", "repulsed", "revolted", "revulsion", "repelled", "grossed out"],
  fear: ["fear", "fearful", "fearfully", "afraid", "scared", "frightened", "terrified", "terror", "fright", "panicked",
    "panic", "horrified"],
  contempt: ["contempt", "contemptuous", "scorn", "scornful", "disdain", "disdainful", "sneer", "sneering"],
  anxiety: ["anxiety", "anxious", "anxiously", "worried", "worry", "worrying", "nervous", "nervousness", "uneasy", "apprehensive"],
  helplessness: ["helpless", "helplessness", "powerless", "powerlessness"],
  disappointment: ["disappointed", "disappointment", "disappointing", "let down"],
};

const EMOTION_LEXICON: Lexicon = buildLexicon(EMOTION_WORDS);
/** "shows no emotion", "without any expression" -> neutral. */
const NO_EMOTION = { words: new Set(["emotion", "emotions", "expression", "expressions", "feeling", "feelings", "emotional"]), label: "neutral" };

export interface MapOptions {
  /** The classes answers are scored against (default the 7 DFEW emotions; EMOTIONS11 for MAFW). */
  readonly classes?: readonly string[];
  /** The question's options in order (A, B, C...), when it was a multiple-choice question. */
  readonly options?: readonly string[];
}

/** The distinct labels of the non-negated mentions, in order of first appearance. */
const positives = (mentions: readonly Mention[]): string[] => [...new Set(mentions.filter((m) => !m.negated).map((m) => m.label))];

function fromWords(text: string, lexicon: Lexicon, what: string, negatedMeans?: typeof NO_EMOTION): LabelMatch {
  const mentions = findMentions(text, lexicon, negatedMeans ? { negatedMeans } : {});
  const labels = positives(mentions);
  if (labels.length === 1) return { kind: "label", label: labels[0] };
  if (labels.length > 1) return { kind: "multiple", labels };
  if (mentions.length) return { kind: "none", reason: `only negated ${what} (${[...new Set(mentions.map((m) => m.label))].join(", ")})` };
  return { kind: "none", reason: `names no ${what}` };
}

/**
 * Combines option letters with the words of the answer: the letters' options are mapped by `mapText`; a
 * letter and words that disagree, or two letters, make "multiple".
 */
function withOptions(answer: string, options: readonly string[] | undefined, mapText: (t: string) => LabelMatch): LabelMatch {
  const letters = optionLetters(answer);
  const words = mapText(answer);
  if (!letters.length) return words;
  if (!options?.length) {
    return words.kind === "none" ? { kind: "none", reason: `an option letter (${letters.join(", ")}) but the question had no options` } : words;
  }
  const picked: string[] = [];
  for (const l of letters) {
    const index = l.charCodeAt(0) - 65;
    if (index >= options.length) {
      return { kind: "none", reason: `option (${l}) but the question has only ${options.length} options (A-${String.fromCharCode(64 + options.length)})` };
    }
    const m = mapText(options[index]);
    if (m.kind !== "label") return { kind: "none", reason: `option (${l}) "${options[index]}" ${m.kind === "none" ? m.reason : "names several labels"}` };
    if (!picked.includes(m.label)) picked.push(m.label);
  }
  // Words that only repeat the option letter's text ("(B) sad" where B is sad) agree with it.
  const all = words.kind === "label" ? [...new Set([...picked, words.label])] : words.kind === "multiple" ? [...new Set([...picked, ...words.labels])] : picked;
  return all.length === 1 ? { kind: "label", label: all[0] } : { kind: "multiple", labels: all };
}

/**
 * Maps a free-text emotion answer to one of `classes`. An emotion outside the class set ("worried" when
 * scoring the 7 DFEW classes) is "none", and still makes "multiple" when another emotion is named too.
 */
export function mapEmotion(text: string, options: MapOptions = {}): LabelMatch {
  const classes = options.classes ?? EMOTIONS7;
  const answer = answerPart(text);
  if (!answer) return { kind: "none", reason: "empty answer" };
  const m = withOptions(answer, options.options, (t) => fromWords(t, EMOTION_LEXICON, "emotion", NO_EMOTION));
  if (m.kind === "label" && !classes.includes(m.label)) {
    return { kind: "none", reason: `"${m.label}" is not one of the ${classes.length} classes (${classes.join(", ")})` };
  }
  return m;
}

// ---- yes / no ----

const YES_WORDS = new Set(["yes", "yeah", "yep", "true", "correct"]);
const NO_WORDS = new Set(["nope", "false", "incorrect"]);
/** Predicates that answer a presence question without a yes or no ("AU12 is present", "it does not appear"). */
const PRESENCE = buildLexicon({
  yes: ["present", "active", "visible", "appears", "appear", "occurs", "occur", "shows", "show", "detected"],
  no: ["absent", "inactive", "not at all"],
});

/**
 * Maps a yes/no answer to "yes" or "no". Explicit answer words decide ("Yes, ...", "No.", "definitely yes";
 * "no" only where it stands alone, since "there is no AU12" uses it as negation); without them, presence
 * predicates do, a negated one flipping ("not present" = no, "not absent" = yes). Both yes and no: "multiple".
 */
export function mapYesNo(text: string): LabelMatch {
  const answer = answerPart(text);
  if (!answer) return { kind: "none", reason: "empty answer" };
  const tokens = answerTokens(answer);
  const said = new Set<string>();
  tokens.forEach((w, i) => {
    const next = tokens[i + 1];
    if (YES_WORDS.has(w)) said.add("yes");
    else if (NO_WORDS.has(w) || (w === "no" && (next === undefined || next === BREAK || next === "and" || next === "or"))) said.add("no");
  });
  if (!said.size) {
    for (const m of findMentions(answer, PRESENCE)) said.add(m.negated ? (m.label === "yes" ? "no" : "yes") : m.label);
  }
  const labels = [...said];
  if (labels.length === 1) return { kind: "label", label: labels[0] };
  if (labels.length > 1) return { kind: "multiple", labels };
  return { kind: "none", reason: "says neither yes nor no" };
}

// ---- attribute values and other closed sets ----

export interface ChoiceOptions {
  /** Extra words per choice ({ none: ["no glasses"], blond: ["blonde"] }). */
  readonly synonyms?: Readonly<Record<string, readonly string[]>>;
  /** The question's options in order, for option letters. */
  readonly options?: readonly string[];
}

/**
 * Maps an answer to one of `choices` (e.g. the hair colours FaceWorld draws). Choices with underscores match
 * their spaced form ("dark_brown" = "dark brown"); a longer choice wins over one it contains ("dark brown"
 * over "brown").
 */
export function mapChoice(text: string, choices: readonly string[], options: ChoiceOptions = {}): LabelMatch {
  const answer = answerPart(text);
  if (!answer) return { kind: "none", reason: "empty answer" };
  const entries: Record<string, string[]> = {};
  for (const c of choices) entries[c] = [c.replace(/_/g, " "), ...(options.synonyms?.[c] ?? [])];
  const lexicon = buildLexicon(entries);
  return withOptions(answer, options.options, (t) => fromWords(t, lexicon, "choice"));
}
