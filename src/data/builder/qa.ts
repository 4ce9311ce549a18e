// Stages 2-3 data: question-answer pairs across categories (emotion, AU presence and intensity,
// attribute, scene, temporal order and apex timing, counting, action, identity same/different, and
// reasoning whose `think` cites the AU evidence). Only questions a record's labels can answer are asked.
import type { Rng } from "../../core/rng.ts";
import { AU_NAMES, EMOTIONS7, type ClipRecord, type QaRecord } from "../records.ts";
import { action, auFacts, expressionAus, frameCount } from "./clip-facts.ts";
import { AU_GRADES, AU_LOOKS, AU_WORDS, auGrade, fill, frameText } from "./phrasing.ts";

type Qa = Omit<QaRecord, "id" | "video">;

/** Format instructions the questions end with; people ask without them ("What is the dominant emotion on the face?"). */
export const FORMAT_HINTS = [" Answer with one word.", " Answer yes or no.", " Answer with a number.", " Choose one option."] as const;

/**
 * Categories whose questions read whole without their options ("What colour is the person's hair?", "Which way does
 * the person turn their head?"). AU intensity is not one: its options name the grade scale the answer is on.
 */
export const OPEN_CATEGORIES: ReadonlySet<string> = new Set(["attribute", "emotion", "action", "temporal_apex", "temporal_order"]);

/**
 * A question as people would ask it: without its trailing format instruction and, in OPEN_CATEGORIES, without its
 * options (the answer is the same; `withOptions` false keeps every question's options); null when nothing would
 * change (no instruction, or options that must stay).
 */
export function plainQuestion<Q extends { readonly question: string; readonly options?: readonly string[] }>(q: Q, category: string, withOptions = true): Q | null {
  const dropOptions = withOptions && !!q.options?.length && OPEN_CATEGORIES.has(category);
  if (q.options?.length && !dropOptions) return null;
  const hint = FORMAT_HINTS.find((h) => q.question.endsWith(h));
  if (!hint && !dropOptions) return null;
  const { options: _dropped, ...rest } = q;
  return { ...(dropOptions ? rest : q), question: hint ? q.question.slice(0, -hint.length) : q.question } as Q;
}

function options(rng: Rng, answer: string, pool: readonly string[], n = 4): string[] {
  const others = rng.shuffle(pool.filter((p) => p !== answer)).slice(0, n - 1);
  return rng.shuffle([answer, ...others]);
}

const EMOTION_Q = [
  "What emotion does the person show in this video?", "Which emotion best describes this facial expression?",
  "How does the person feel, judging by their face?", "Classify the facial expression in the clip.",
  "What is the dominant emotion on the face?",
];

function emotionQa(rec: ClipRecord, rng: Rng): Qa[] {
  const e = rec.labels.emotion;
  if (!e) return [];
  const pool = (EMOTIONS7 as readonly string[]).includes(e) ? EMOTIONS7 : [e, ...EMOTIONS7];
  const mc = rng.bool(0.5);
  return [{
    question: rng.pick(EMOTION_Q) + (mc ? " Choose one option." : " Answer with one word."),
    answer: e, category: "emotion", ...(mc ? { options: options(rng, e, pool) } : {}),
  }];
}

/** What the questions of one clip may depend on beyond the clip: the other clips' values and rates (qaContext). */
export interface QaContext {
  /** Every value seen per attribute (distractor options). */
  readonly pools: ReadonlyMap<string, ReadonlySet<string>>;
  /** Per AU, the fraction of the clips with AU labels in which it occurs. */
  readonly auRates: ReadonlyMap<string, number>;
}

/** The context of a set of clips (all the clips a build or an evaluation asks about). */
export function qaContext(clips: readonly ClipRecord[]): QaContext {
  const pools = new Map<string, Set<string>>();
  for (const r of clips) {
    for (const [k, v] of Object.entries(r.labels.attributes)) if (typeof v === "string") pools.set(k, (pools.get(k) ?? new Set()).add(v));
  }
  const labelled = clips.filter((r) => r.labels.aus);
  const counts = new Map<string, number>();
  for (const r of labelled) for (const f of auFacts(r)) counts.set(f.au, (counts.get(f.au) ?? 0) + 1);
  return { pools, auRates: new Map(AU_NAMES.map((au) => [au, labelled.length ? (counts.get(au) ?? 0) / labelled.length : 0])) };
}

/**
 * AU presence questions: by the AU's number and its words, by the number alone ("Is AU12 active?") and by the words
 * alone, so that the AU read-out's choice (src/model/au-readout.ts) learns each way of naming an AU: trained on the
 * first three only, it picked the wrong AU for "Is AU12 active?" (AU43 at 0.25, session 17).
 */
export const AU_PRESENCE_Q = [
  "Is {au} ({w}) active at any point in the clip?", "Does the {w} ({au}) appear in this video? Answer yes or no.", "Do you see {au}, the {w}?",
  "Is {au} active at any point in the clip?", "Does {au} occur in this video? Answer yes or no.",
  "Is the {w} visible at any point in the clip?", "Does the person show the {w} in this video? Answer yes or no.",
] as const;

/** AU intensity questions, named the same three ways. */
export const AU_INTENSITY_Q = [
  "How intense is {au} ({w}) at its peak?", "At its strongest, how strong is the {w} ({au})?",
  "How intense is {au} at its peak?", "At its strongest, how strong is the {w}?",
] as const;

/** AU presence questions per clip (different AUs). */
export const AU_QUESTIONS = 4;

function auQa(rec: ClipRecord, rng: Rng, rates: ReadonlyMap<string, number>): Qa[] {
  if (!rec.labels.aus) return [];
  const facts = auFacts(rec);
  const present = new Set(facts.map((f) => f.au));
  const out: Qa[] = [];
  // For every AU, "yes" and "no" equally often over the clips, so the AU's name says nothing about the answer: AU k
  // (occurring in a fraction p of the clips) is kept with probability min(p, 1-p)/p when the clip shows it and
  // min(p, 1-p)/(1-p) when not. Balanced overall only (half the questions about an active AU), AU43 was "yes" 94%
  // of the time and AU10 "no" 77%: answering each AU's usual answer scored 0.68 without looking at the video.
  const asked = new Set<string>();
  for (let tries = 0; tries < 64 && asked.size < AU_QUESTIONS; tries++) {
    const au = rng.pick(AU_NAMES);
    const p = rates.get(au) ?? 0;
    const has = present.has(au);
    const keep = p <= 0 || p >= 1 ? 0 : Math.min(p, 1 - p) / (has ? p : 1 - p);
    if (asked.has(au) || !rng.bool(keep)) continue;
    asked.add(au);
    out.push({
      question: fill(rng, AU_PRESENCE_Q, { au, w: AU_WORDS[au] }),
      answer: has ? "yes" : "no", category: "au_presence",
    });
  }
  if (facts.length) {
    const f = rng.pick(facts);
    out.push({
      question: fill(rng, AU_INTENSITY_Q, { au: f.au, w: AU_WORDS[f.au] }),
      answer: auGrade(f.peak), category: "au_intensity", options: AU_GRADES.slice(1),
    });
  }
  return out;
}

/**
 * How each attribute is asked, several ways each: the attribute read-out's choice learns which attribute a question
 * asks from these words alone, and with one or two wordings it missed people's own ("What colour is their shirt?"
 * chose the clothes' kind, "What shape is the face?" no attribute; session 21), and "color" spelt the American way
 * chose the hair style (session 21), so the colours are also asked so (session 22). No wording contains another
 * attribute's (attributeAskedIn matches by inclusion).
 */
export const ATTR_Q: Readonly<Record<string, readonly string[]>> = {
  hair_colour: ["What colour is the person's hair?", "Describe the hair colour.", "What is the person's hair colour?", "What colour hair does the person have?", "What color is the person's hair?"],
  hair_style: ["How is the person's hair styled?", "What hairstyle does the person have?", "Describe the person's hairstyle.", "How does the person wear their hair?"],
  eye_colour: ["What colour are the person's eyes?", "What is the person's eye colour?", "What colour eyes does the person have?", "What color are the person's eyes?"],
  glasses: ["Is the person wearing glasses, and of what kind?", "What eyewear does the person have?", "Does the person wear glasses? If so, what kind?", "What kind of glasses is the person wearing, if any?"],
  beard: ["What facial hair does the person have?", "Describe the person's beard, if any.", "What kind of beard does the person have, if any?"],
  clothes: ["What is the person wearing?", "What kind of top does the person wear?", "What type of clothing is the person wearing?", "Describe the person's clothing."],
  clothes_colour: ["What colour are the person's clothes?", "What colour is the person's top?", "What colour is the person's clothing?", "What colour is the person wearing?", "What color are the person's clothes?"],
  face_shape: ["What shape is the person's face?", "What is the shape of the person's face?", "Describe the person's face shape.", "What is the person's face shape?"],
  skin_tone: ["How would you describe the person's skin tone?", "What is the person's skin tone?", "What skin tone does the person have?"],
  eyebrows: ["What are the person's eyebrows like?", "Describe the person's eyebrows.", "What kind of eyebrows does the person have?"],
  nose: ["How would you describe the person's nose?", "What is the person's nose like?", "What kind of nose does the person have?"],
  mouth: ["How would you describe the person's lips or mouth?", "What are the person's lips like?", "Describe the person's mouth."],
};

/**
 * Yes/no questions about an attribute (session 24): whether the person has one at all ("Does the person wear
 * glasses?": yes unless the value is "none") or whether it has a given value ("Is the person's hair red?"; {v} is
 * the value asked about). Asked as people ask; with the value questions alone, "Does this person wear glasses?" was
 * answered "no" on a clip whose read-out said round glasses (0.96): the LLM had never answered yes or no about an
 * attribute. attributeAskedIn finds each wording's attribute (tested for every value).
 */
export const ATTR_CHECK_Q: Readonly<Record<string, readonly string[]>> = {
  glasses: ["Does the person wear glasses?", "Is the person wearing glasses?", "Does this person have glasses on?"],
  beard: ["Does the person have facial hair?", "Has the person got any facial hair?"],
  hair_colour: ["Is the person's hair {v}?", "Does the person have {v} hair?"],
  eye_colour: ["Are the person's eyes {v}?", "Does the person have {v} eyes?"],
  clothes_colour: ["Is the person's top {v}?", "Is the person dressed in {v}?"],
  clothes: ["Is the person wearing a {v}?"],
};

/** Whether `question` contains `wording` with some value in place of its {v}. */
function matchesWording(question: string, wording: string): boolean {
  const at = wording.indexOf("{v}");
  if (at < 0) return false;
  const [head, tail] = [wording.slice(0, at), wording.slice(at + 3)];
  const start = question.indexOf(head);
  return start >= 0 && question.indexOf(tail, start + head.length + 1) >= 0;
}

/**
 * Which of `keys` (attribute names) an attribute question built here asks about: the attribute whose wording
 * (ATTR_Q or ATTR_CHECK_Q, or "What is the person's <name>?" for others) the question contains; null for any other
 * question. The wordings without a value are looked for before those with one: "Does the person have facial hair?"
 * also reads as "Does the person have {v} hair?".
 */
export function attributeAskedIn(question: string, keys: readonly string[]): string | null {
  return (
    keys.find((k) => (ATTR_Q[k] ?? [`What is the person's ${k.replace(/_/g, " ")}?`]).some((q) => question.includes(q))) ??
    keys.find((k) => (ATTR_CHECK_Q[k] ?? []).some((q) => !q.includes("{v}") && question.includes(q))) ??
    keys.find((k) => (ATTR_CHECK_Q[k] ?? []).some((q) => matchesWording(question, q))) ??
    null
  );
}

/** Share of the training-time attribute questions (attributeQuestions) asked as yes/no checks where ATTR_CHECK_Q has some. */
export const ATTR_CHECK_SHARE = 0.2;

/**
 * A yes/no question about attribute `k` of value `v`: for glasses and facial hair whether there are any; for the
 * others whether the value is one drawn from `pool` (the true one half the time). Options yes and no.
 */
function attributeCheck(k: string, v: string, rng: Rng, pool: readonly string[]): Qa {
  const wording = rng.pick(ATTR_CHECK_Q[k]);
  if (!wording.includes("{v}")) return { question: wording, answer: v === "none" ? "no" : "yes", category: "attribute", options: ["yes", "no"] };
  const others = pool.filter((p) => p !== v);
  const asked = others.length === 0 || rng.bool(0.5) ? v : rng.pick(others);
  return { question: wording.replace("{v}", asked), answer: asked === v ? "yes" : "no", category: "attribute", options: ["yes", "no"] };
}

/** One clip's question about one of its attributes (options drawn from `pools` where it has two values or more). */
function attributeQuestion(k: string, v: string | boolean | number, rng: Rng, pools: ReadonlyMap<string, ReadonlySet<string>>): Qa {
  if (typeof v === "boolean") {
    return { question: `Does the person have this attribute: ${k.replace(/_/g, " ")}? Answer yes or no.`, answer: v ? "yes" : "no", category: "attribute" };
  }
  const pool = [...(pools.get(k) ?? new Set([String(v)]))];
  const q = ATTR_Q[k] ? rng.pick(ATTR_Q[k]) : `What is the person's ${k.replace(/_/g, " ")}?`;
  return { question: q, answer: String(v), category: "attribute", ...(pool.length >= 2 ? { options: options(rng, String(v), pool) } : {}) };
}

function attributeQa(rec: ClipRecord, rng: Rng, pools: ReadonlyMap<string, ReadonlySet<string>>): Qa[] {
  const entries = Object.entries(rec.labels.attributes);
  if (!entries.length) return [];
  const [k, v] = rng.pick(entries);
  return [attributeQuestion(k, v, rng, pools)];
}

/**
 * One yes/no check about one of the clip's attributes that ATTR_CHECK_Q has wordings for (a seeded pick), with the
 * attribute's name; none when the clip has no such attribute. What `favchat eval --task attribute-check` asks.
 */
export function attributeCheckQa(rec: ClipRecord, rng: Rng, pools: ReadonlyMap<string, ReadonlySet<string>>): { qa: Qa; attribute: string }[] {
  const entries = Object.entries(rec.labels.attributes).filter(([k, v]) => ATTR_CHECK_Q[k] && typeof v === "string");
  if (!entries.length) return [];
  const [k, v] = rng.pick(entries);
  return [{ qa: attributeCheck(k, String(v), rng, [...(pools.get(k) ?? [])]), attribute: k }];
}

/**
 * A question about every attribute of the clip, in a random order (the turns of an attribute conversation); where
 * ATTR_CHECK_Q has wordings for the attribute, a share ATTR_CHECK_SHARE of them as yes/no checks.
 */
export function attributeQuestions(rec: ClipRecord, rng: Rng, pools: ReadonlyMap<string, ReadonlySet<string>>): Qa[] {
  return rng.shuffle(Object.entries(rec.labels.attributes)).map(([k, v], i) => {
    const r = rng.fork("attribute", i);
    return ATTR_CHECK_Q[k] && typeof v === "string" && r.bool(ATTR_CHECK_SHARE) ? attributeCheck(k, v, r, [...(pools.get(k) ?? [])]) : attributeQuestion(k, v, r, pools);
  });
}

function sceneQa(rec: ClipRecord, rng: Rng): Qa[] {
  const s = rec.labels.scene;
  if (!s) return [];
  const out: Qa[] = [];
  if (s.object) out.push({ question: rng.pick(["What object moves in the background?", "Besides the person, what moves in the scene? Answer 'none' if nothing does."]), answer: s.object, category: "scene" });
  if (s.background) out.push({ question: rng.pick(["What is behind the person?", "Describe the background of the video."]), answer: s.background, category: "scene" });
  return [rng.pick(out)];
}

function temporalQa(rec: ClipRecord, rng: Rng): Qa[] {
  const out: Qa[] = [];
  const aus = expressionAus(rec);
  const n = frameCount(rec);
  if (rec.labels.apex !== undefined && aus.length && n) {
    const third = Math.min(2, Math.floor((rec.labels.apex * 3) / n));
    const ans = ["beginning", "middle", "end"][third];
    out.push(rng.bool(0.5)
      ? { question: `The clip has ${n} frames, numbered from 1. At which frame is the expression strongest? Answer with the frame number.`, answer: String(rec.labels.apex + 1), category: "temporal_apex" }
      : { question: "Does the expression peak at the beginning, in the middle or at the end of the clip?", answer: ans, category: "temporal_apex", options: ["beginning", "middle", "end"] });
  }
  const distinct = aus.filter((f, i) => aus.findIndex((g) => g.onset === f.onset) === i);
  if (distinct.length >= 2) {
    const [x, y] = rng.shuffle(distinct).slice(0, 2);
    const first = x.onset < y.onset ? x : y;
    out.push({
      question: fill(rng, ["Which starts first: {a} ({aw}) or {b} ({bw})?", "Does the {aw} ({a}) begin before or after the {bw} ({b})? Name the one that starts first."], { a: x.au, aw: AU_WORDS[x.au], b: y.au, bw: AU_WORDS[y.au] }),
      answer: first.au, category: "temporal_order", options: [x.au, y.au],
    });
  }
  const events = rec.labels.actions.filter((a) => a.spans?.length).map((a) => ({ name: a.name, start: a.spans![0][0] }));
  if (events.length >= 2) {
    const [a, b] = rng.shuffle(events).slice(0, 2);
    if (a.start !== b.start) {
      const words = (s: string): string => s.replace("head_turn", "head turn").replace("speak", "speaking").replace("blink", "first blink").replace(/^nod$/, "first nod");
      out.push({ question: `Which happens first, the ${words(a.name)} or the ${words(b.name)}?`, answer: words(a.start < b.start ? a.name : b.name), category: "temporal_order", options: [words(a.name), words(b.name)] });
    }
  }
  return out.length ? [rng.pick(out)] : [];
}

function countingQa(rec: ClipRecord, rng: Rng): Qa[] {
  const counted = rec.labels.actions.filter((a) => a.count !== undefined && (a.name === "blink" || a.name === "nod"));
  if (!counted.length) return [];
  const a = rng.pick(counted);
  const q = a.name === "blink"
    ? rng.pick(["How many times does the person blink?", "Count the blinks in this video.", "How many blinks are there?"])
    : rng.pick(["How many times does the person nod?", "Count the nods."]);
  return [{ question: q + " Answer with a number.", answer: String(a.count), category: "counting" }];
}

function actionQa(rec: ClipRecord, rng: Rng): Qa[] {
  const out: Qa[] = [];
  const speak = action(rec, "speak");
  if (rec.labels.aus) out.push({ question: rng.pick(["Is the person speaking?", "Does the person talk in this clip?"]), answer: speak ? "yes" : "no", category: "action" });
  const turn = action(rec, "head_turn");
  if (turn?.detail) out.push({ question: "Which way does the person turn their head?", answer: turn.detail, category: "action", options: ["left", "right"] });
  const named = rec.labels.actions.filter((a) => !["blink", "speak", "nod", "head_turn"].includes(a.name));
  if (named.length) out.push({ question: "What is the person doing in the video?", answer: named.map((a) => a.name.replace(/_/g, " ")).join(", "), category: "action" });
  return out.length ? [rng.pick(out)] : [];
}

/** The explainable-reasoning item: `think` walks through the AU evidence frame by frame, then names the emotion. */
export function reasoningChain(rec: ClipRecord, rng: Rng): string | null {
  const e = rec.labels.emotion;
  const aus = expressionAus(rec);
  if (!e || !rec.labels.aus) return null;
  const steps: string[] = [];
  steps.push(`At ${frameText(0)} the face is close to rest.`);
  if (!aus.length) {
    steps.push("No action unit linked to an emotion rises above a trace at any frame.");
    const blink = action(rec, "blink");
    if (blink?.count) steps.push(`The eyes close ${blink.count} time(s) (AU43), which is blinking, not emotion.`);
    if (action(rec, "speak")) steps.push("The mouth opens and closes (AU25/AU26) because the person is speaking.");
    steps.push("So the expression is neutral.");
    return steps.join(" ");
  }
  for (const f of aus.slice(0, 4)) {
    steps.push(`${f.au} (${AU_WORDS[f.au]}) rises from ${frameText(f.onset)} to ${f.peak.toFixed(2)} at ${frameText(f.peakFrame)}: ${rng.pick(AU_LOOKS[f.au] ?? [AU_WORDS[f.au]])}.`);
  }
  const top = aus[0];
  if (top.peak <= 0.3) steps.push(`The peak is weak (${top.peak.toFixed(2)}), so the cue is subtle and only visible against ${frameText(0)}.`);
  steps.push(`Together these match the prototype of ${e}.`);
  return steps.join(" ");
}

function reasoningQa(rec: ClipRecord, rng: Rng): Qa[] {
  const think = reasoningChain(rec, rng);
  if (!think || !rec.labels.emotion) return [];
  return [{
    question: rng.pick([
      "What emotion does the person express? Explain which facial movements show it.",
      "Think about the facial action units frame by frame, then give the emotion.",
      "Which emotion is shown, and what evidence on the face supports it?",
    ]),
    think, answer: rec.labels.emotion, category: "reasoning",
  }];
}

/** All single-clip QA for one record, in the context of the clips it is asked among (qaContext). */
export function clipQa(rec: ClipRecord, rng: Rng, context: QaContext): Qa[] {
  return [
    ...emotionQa(rec, rng), ...auQa(rec, rng, context.auRates), ...attributeQa(rec, rng, context.pools), ...sceneQa(rec, rng),
    ...temporalQa(rec, rng), ...countingQa(rec, rng), ...actionQa(rec, rng), ...reasoningQa(rec, rng),
  ];
}

/** Identity same/different questions over pairs of clips from the same split (no leak across splits). */
export function identityQa(records: readonly ClipRecord[], rng: Rng, perClip = 0.5): QaRecord[] {
  const withId = records.filter((r) => r.labels.identity);
  const out: QaRecord[] = [];
  const bySplit = new Map<string, ClipRecord[]>();
  for (const r of withId) bySplit.set(r.split ?? "all", [...(bySplit.get(r.split ?? "all") ?? []), r]);
  for (const group of bySplit.values()) {
    const byPerson = new Map<string, ClipRecord[]>();
    for (const r of group) byPerson.set(r.labels.identity!, [...(byPerson.get(r.labels.identity!) ?? []), r]);
    const n = Math.round(group.length * perClip);
    for (let i = 0; i < n; i++) {
      const a = rng.pick(group);
      const mates = byPerson.get(a.labels.identity!)!.filter((r) => r !== a);
      const same = mates.length > 0 && rng.bool(0.5);
      const others = group.filter((r) => r.labels.identity !== a.labels.identity);
      if (!same && !others.length) continue;
      const b = same ? rng.pick(mates) : rng.pick(others);
      out.push({
        id: `${a.id}~${b.id}#identity`, video: a.video, video2: b.video, category: "identity",
        question: rng.pick(["Do these two videos show the same person?", "Is the person in the first clip the same as in the second? Answer yes or no.", "Same identity or different people?"]),
        answer: same ? "yes" : "no",
      });
    }
  }
  // Pairs can repeat by chance; ids must be unique in the file.
  const seen = new Set<string>();
  return out.filter((q) => (seen.has(q.id) ? false : (seen.add(q.id), true)));
}
