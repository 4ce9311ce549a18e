// Words the builder's templates share: plain-language names of action units and their intensity grades,
// emotion synonyms, attribute phrases, and small helpers that pick one of several wordings with a seeded
// Rng, so a model cannot learn one fixed sentence per question type.
import type { Rng } from "../../core/rng.ts";
import type { Action, ClipRecord } from "../records.ts";

export const AU_WORDS: Record<string, string> = {
  AU1: "inner brow raiser", AU2: "outer brow raiser", AU4: "brow lowerer", AU5: "upper lid raiser",
  AU6: "cheek raiser", AU7: "lid tightener", AU9: "nose wrinkler", AU10: "upper lip raiser",
  AU12: "lip corner puller", AU15: "lip corner depressor", AU17: "chin raiser", AU20: "lip stretcher",
  AU23: "lip tightener", AU25: "lips part", AU26: "jaw drop", AU43: "eyes closed",
};

/** Each AU's words as a whole-phrase, any-case pattern (built once: questions are read on every training step). */
const AU_WORD_PATTERNS = Object.entries(AU_WORDS).map(([au, words]) => [au, new RegExp(`\\b${words}\\b`, "i")] as const);

/** The AUs a question mentions by number ("AU12", any case) and by words ("lip corner puller", any case). */
export function auMentions(question: string): { readonly byNumber: ReadonlySet<string>; readonly byWords: ReadonlySet<string> } {
  return {
    byNumber: new Set([...question.matchAll(/\bAU(\d+)\b/gi)].map((m) => `AU${m[1]}`)),
    byWords: new Set(AU_WORD_PATTERNS.filter(([, re]) => re.test(question)).map(([au]) => au)),
  };
}

/**
 * The one AU a question names, by its number ("AU12") or its words ("lip corner puller", any case), or null when it
 * names none, several, or an AU outside AU_WORDS ("Is AU99 active?" names none).
 */
export function auNamedIn(question: string): string | null {
  const { byNumber, byWords } = auMentions(question);
  const named = new Set([...byNumber, ...byWords]);
  const [only] = named;
  return named.size === 1 && only in AU_WORDS ? only : null;
}

/** What each AU looks like, for summaries and reasoning chains. */
export const AU_LOOKS: Record<string, string[]> = {
  AU1: ["the inner ends of the brows lift", "the inner brows are drawn up"],
  AU2: ["the outer brows rise", "the outer ends of the eyebrows arch up"],
  AU4: ["the brows are pulled down and together", "the brows knit into a frown"],
  AU5: ["the upper lids open wide", "the eyes widen"],
  AU6: ["the cheeks lift and crinkle the outer eye corners", "the cheeks rise"],
  AU7: ["the lids tighten", "the eyes narrow"],
  AU9: ["the nose wrinkles", "lines appear across the bridge of the nose"],
  AU10: ["the upper lip is raised", "the upper lip curls up"],
  AU12: ["the lip corners pull up", "the mouth corners turn upward"],
  AU15: ["the lip corners are pulled down", "the mouth corners droop"],
  AU17: ["the chin pushes the lower lip up", "the chin wrinkles"],
  AU20: ["the lips stretch sideways", "the mouth is pulled wide"],
  AU23: ["the lips tighten", "the lips press thin"],
  AU25: ["the lips part", "the mouth opens slightly"],
  AU26: ["the jaw drops", "the mouth falls open"],
  AU43: ["the eyes close", "the eyelids shut"],
};

/** FACS intensity grades A-E as words. */
export function auGrade(v: number): string {
  if (v < 0.1) return "absent";
  if (v < 0.2) return "trace";
  if (v < 0.4) return "slight";
  if (v < 0.6) return "marked";
  if (v < 0.8) return "severe";
  return "maximum";
}
export const AU_GRADES = ["absent", "trace", "slight", "marked", "severe", "maximum"];

export const EMOTION_ADJ: Record<string, string[]> = {
  happy: ["happy", "joyful", "pleased"], sad: ["sad", "sorrowful", "downcast"], neutral: ["neutral", "calm", "expressionless"],
  angry: ["angry", "irritated", "annoyed"], surprise: ["surprised", "astonished", "startled"],
  disgust: ["disgusted", "repulsed", "revolted"], fear: ["fearful", "afraid", "frightened"],
  contempt: ["contemptuous", "scornful"], anxiety: ["anxious", "worried"], helplessness: ["helpless", "powerless"],
  disappointment: ["disappointed", "let down"],
};
export const emotionAdj = (rng: Rng, e: string): string => rng.pick(EMOTION_ADJ[e] ?? [e]);

export const ordinal = (n: number): string => ["zero", "once", "twice", "three times", "four times", "five times"][n] ?? `${n} times`;
export const numberWord = (n: number): string => ["no", "one", "two", "three", "four", "five", "six"][n] ?? String(n);

/** Frames are 0-based in records and 1-based in text (people count from 1). */
export const frameText = (t: number): string => `frame ${t + 1}`;

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return rng.pick(items);
}

/** Fills `{name}` slots in one of several templates. */
export function fill(rng: Rng, templates: readonly string[], slots: Record<string, string | number>): string {
  return rng.pick(templates).replace(/\{(\w+)\}/g, (_, k: string) => String(slots[k] ?? `{${k}}`));
}

export const a = (word: string): string => (/^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`);

/** A short appearance phrase from whatever attributes a record has (FaceWorld names or data set names). */
export function describeAppearance(rng: Rng, attrs: ClipRecord["labels"]["attributes"]): string[] {
  const s: string[] = [];
  const g = (k: string): string | undefined => (typeof attrs[k] === "string" ? (attrs[k] as string) : undefined);
  const shape = g("face_shape");
  const skin = g("skin_tone");
  if (shape && skin) s.push(rng.pick([`the person has ${a(shape)} face and ${skin} skin`, `${a(shape)} face with ${skin} skin fills the centre of the frame`]));
  const style = g("hair_style");
  if (style) s.push(style === "bald" ? "they are bald" : `their hair is ${g("hair_colour") ?? ""} and ${style === "bun" ? "tied in a bun" : style === "curly" ? "curly" : style === "buzz cut" ? "cut very short" : style}`.replace("  ", " "));
  if (g("eyebrows") && g("eye_colour")) s.push(`with ${g("eyebrows")} eyebrows and ${g("eye_colour")} eyes`);
  if (g("nose") && g("mouth")) s.push(`${a(g("nose")!)} nose and ${g("mouth")}`);
  if (g("glasses") && g("glasses") !== "none") s.push(`they wear ${g("glasses")}`);
  if (g("beard") && g("beard") !== "none") s.push(rng.pick([`a ${g("beard")} covers part of the lower face`, `they have ${a(g("beard")!)}`]));
  if (g("clothes")) s.push(`they are dressed in ${a(g("clothes_colour") ?? "plain")} ${g("clothes")}`);
  // Boolean attributes (CelebV-HQ style): list the true ones.
  const flags = Object.entries(attrs).filter(([, v]) => v === true).map(([k]) => k.replace(/_/g, " "));
  if (flags.length) s.push(`visible attributes: ${flags.slice(0, 8).join(", ")}`);
  return s;
}

/** A short phrase per action: "blinks twice", "speaks from frame 3 to frame 9", "turns the head to the left". */
export function describeAction(act: Action): string | null {
  const span = act.spans?.[0];
  switch (act.name) {
    case "blink":
      return act.count ? `blinks ${ordinal(act.count)}` : "does not blink";
    case "speak":
      return span ? `speaks from ${frameText(span[0])} to ${frameText(span[1])}` : "speaks";
    case "nod":
      return `nods ${ordinal(act.count ?? 1)}`;
    case "head_turn":
      return `turns the head to the ${act.detail ?? "side"}${span ? ` around ${frameText(span[0])}` : ""}`;
    default:
      return act.name.replace(/_/g, " ");
  }
}
