// Label heads on the visual tokens (ours, for models trained from scratch): during alignment, linear heads read the
// clip's labels (attributes, scene, emotion, which AUs occur) from the mean of the visual tokens V, and their loss is
// added to the language loss. Measured on the tiny recipe without it: V varies across clips when stage 1 starts
// (across-clip std / mean |V| 0.59) but the language loss flattens it within 150 steps (0.012; the face Q-Former's
// output 0.08 -> 0.0007), so the LLM learns to ignore the video. The heads keep V informative while the LLM learns to
// read it, as BLIP-2 first trains its Q-Former on vision-language objectives before the LLM sees it.
import { tf } from "../core/backend.ts";
import { FavchatError } from "../core/errors.ts";
import type { Rng } from "../core/rng.ts";
import { Module } from "../nn/module.ts";
import { Linear } from "../nn/linear.ts";
import { AU_NAMES } from "../data/records.ts";
import { AU_PRESENT } from "../data/builder/clip-facts.ts";
import type { FavChat } from "../model/favchat.ts";
import type { ClipRef } from "./favchat-data.ts";
import { attributeKeys, auLoss, categoricalHeads, headLoss, labelOf, type LabelHead } from "./encoder-task.ts";

export interface VisualLabels {
  /** Categorical labels: attributes, scene (with the object's motion: V sees every frame), emotion. */
  readonly heads: LabelHead[];
  readonly withAus: boolean;
  /** The answers the answer head chooses among (sorted); none: no answer head. */
  readonly answers: readonly string[];
  /** The AU token head: visual token k says whether AU k (AU_NAMES order) occurs, along one shared direction. */
  readonly auTokens: boolean;
}

/** Extra heads beyond the clips' labels on pooled V (stage setting visual_heads). */
export interface ExtraHeads {
  readonly answers?: readonly string[];
  readonly auTokens?: boolean;
}

/**
 * The distinct answers of the question-answer examples (summaries excluded: they are paragraphs, not classes), sorted.
 * The answer head reads the row's own answer from V: V is made with the question as the prompt, so the prompt-guided
 * path must put what was asked (which AU, which attribute) where a fixed linear map finds it. Trained on the clips'
 * labels alone, V carried every AU's occurrence (heads' F1 0.81) but the LLM's answer to "Is AU12 active?" was right
 * 52% of the time (balanced yes/no): it had to pick the asked AU out of V itself.
 */
export function answerClasses(examples: readonly { readonly category: string; readonly target: { readonly answer: string } }[]): string[] {
  return [...new Set(examples.filter((e) => e.category !== "summary").map((e) => e.target.answer))].sort();
}

/** The labels the training clips support; `extra.answers` (answerClasses) adds the answer head, `auTokens` the AU token head. */
export function visualLabels(clips: readonly ClipRef[], extra: ExtraHeads = {}): VisualLabels {
  const sceneKeys = [...new Set(clips.flatMap((c) => Object.keys(c.record.labels.scene ?? {})))].sort();
  const heads = [
    ...categoricalHeads(clips, "attributes", attributeKeys(clips)),
    ...categoricalHeads(clips, "scene", sceneKeys),
    ...categoricalHeads(clips, "emotion", ["emotion"]),
  ];
  const withAus = clips.some((c) => c.record.labels.aus !== undefined);
  return { heads, withAus, answers: extra.answers ?? [], auTokens: withAus && (extra.auTokens ?? false) };
}

/** The heads, and the model beside them so one checkpoint holds both (the model directory keeps the model only). */
export class VisualAuxModel extends Module {
  readonly heads: Linear[] = [];
  readonly auHead: Linear | null;
  readonly answerHead: Linear | null;
  readonly auTokenHead: Linear | null;

  constructor(
    readonly favchat: FavChat,
    readonly labels: VisualLabels,
    rng: Rng,
    /** Weight of the groups a row's question is not about (headWeight); OFF_TOPIC_WEIGHT when undefined. */
    readonly offTopicWeight: number = OFF_TOPIC_WEIGHT,
  ) {
    super();
    this.addChild("model", favchat);
    const D = favchat.config.llm.hiddenSize;
    labels.heads.forEach((h, i) => this.heads.push(this.addChild(`visual_heads.${i}`, new Linear(D, h.classes.length, rng.fork("head", i)))));
    this.auHead = labels.withAus ? this.addChild("visual_au_head", new Linear(D, AU_NAMES.length, rng.fork("au"))) : null;
    this.answerHead = labels.answers.length > 0 ? this.addChild("visual_answer_head", new Linear(D, labels.answers.length, rng.fork("answer"))) : null;
    if (labels.auTokens && favchat.numVisualTokens < AU_NAMES.length) {
      throw new FavchatError(`the AU token head needs a visual token per AU (${AU_NAMES.length}); the model makes ${favchat.numVisualTokens} (qformer_config.num_queries)`);
    }
    this.auTokenHead = labels.auTokens ? this.addChild("visual_au_token_head", new Linear(D, 1, rng.fork("au tokens"))) : null;
  }

  /** The AU token head's logits [B, 16]: token k of V read along one direction for AU k. */
  private auTokenLogits(tokens: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const B = tokens.shape[0] as number;
      const first = tokens.slice([0, 0, 0], [B, AU_NAMES.length, -1]); // [B, 16, D]
      return (this.auTokenHead as Linear).forward(first).reshape([B, AU_NAMES.length]);
    });
  }

  /**
   * From V [B, Q, D]: per label group (attributes, scene, emotion, AU occurrence), the mean over its heads of the
   * cross-entropies of the clips' labels (for the AUs, the BCE of which AUs occur: an AU occurs when it reaches FACS
   * grade A in some frame); the loss is the mean over the groups, so the one emotion head counts as much as the
   * twelve attribute heads. Clips without a label add nothing to its term. With `categories` (each row's question
   * category), a row's terms for the groups its question is not about are scaled by offTopicWeight (OFF_TOPIC_WEIGHT
   * unless set), so V, made with the question as prompt, is asked most for what the question asks (and the adapters
   * can learn which branch serves which question). With `answers` (each row's answer) and an answer head, the
   * answer group is the cross-entropy of each row's answer among labels.answers (rows whose answer is not one add
   * nothing), at full weight for every row: it is always about the row's own question. With `readout` (the model's
   * AU read-out, config.auReadout), its head's BCE and its choice's cross-entropy (the AU each question names, every
   * row at full weight) join the AU group. With `readouts.attribute` (the model's attribute read-out,
   * config.attributeReadout), the mean over the attributes of its head's cross-entropies and its choice's cross-entropy
   * (the attribute each question asks about, or none) are added to the groups' mean: they train only the read-out,
   * which reads constants, so the other heads weigh as without it. With `readouts.emotion` (the model's emotion
   * read-out's logits, config.emotionReadout), the cross-entropy of each clip's emotion is added the same way.
   */
  loss(tokens: tf.Tensor, clips: readonly ClipRef[], categories?: readonly string[], answers?: readonly string[], readouts: Readouts = {}): tf.Scalar {
    const readout = readouts.au;
    const pooled = tf.mean(tokens, 1); // [B, D]
    const weights = (group: HeadGroup) => clips.map((_, b) => headWeight(categories?.[b], group, this.offTopicWeight));
    const groups = new Map<HeadGroup, tf.Scalar[]>();
    this.labels.heads.forEach((h, i) => {
      const group = headGroup(h);
      const term = headLoss(this.heads[i].forward(pooled), clips.map((c) => h.classes.indexOf(labelOf(c, h) ?? "\u0000")), weights(group));
      if (term) groups.set(group, [...(groups.get(group) ?? []), term]);
    });
    if (this.auHead && clips.some((c) => c.record.labels.aus)) {
      const occurs = clips.flatMap(auOccurrence);
      const known = clips.map((c): number => (c.record.labels.aus ? 1 : 0));
      const rows: [number, number] = [clips.length, 1];
      const [target, knownRows, weightRows] = [tf.tensor2d(occurs, [clips.length, AU_NAMES.length]), tf.tensor2d(known, rows), tf.tensor2d(weights("au"), rows)];
      const auTerms = [auLoss(this.auHead.forward(pooled), target, knownRows, weightRows)];
      if (this.auTokenHead) auTerms.push(auLoss(this.auTokenLogits(tokens), target, knownRows, weightRows));
      // The model's own AU read-out (config.auReadout) learns here too: its token tells the LLM what its head reads.
      if (readout) auTerms.push(auLoss(readout.logits, target, knownRows, weightRows));
      groups.set("au", auTerms);
    }
    if (this.answerHead && answers) {
      const term = headLoss(this.answerHead.forward(pooled), answers.map((a) => this.labels.answers.indexOf(a)));
      if (term) groups.set("answer", [term]);
    }
    if (readout) {
      // Which AU each question names (or none), for every row: the read-out's choice.
      const term = headLoss(readout.choice, readout.asked);
      if (term) groups.set("au", [...(groups.get("au") ?? []), term]);
    }
    const terms = [...groups.values()].map((ts) => tf.div(tf.addN(ts), ts.length) as tf.Scalar);
    const heads = (terms.length === 0 ? tf.scalar(0) : tf.div(tf.addN(terms), terms.length)) as tf.Scalar;
    const extra = [this.attributeReadoutLoss(clips, readouts.attribute), this.emotionReadoutLoss(clips, readouts.emotion)].filter((t): t is tf.Scalar => t !== null);
    return extra.length > 0 ? (tf.addN([heads, ...extra]) as tf.Scalar) : heads;
  }

  /** The emotion read-out's loss: the cross-entropy of each clip's emotion (clips without one add nothing); null without one. */
  private emotionReadoutLoss(clips: readonly ClipRef[], logits: tf.Tensor | undefined): tf.Scalar | null {
    const r = this.favchat.emotionReadout;
    if (!logits || !r) return null;
    return headLoss(logits, r.targets(clips.map((c) => c.record.labels.emotion)));
  }

  /** The emotion read-out's right emotions, added into `tally`. */
  private async scoreEmotionReadout(clips: readonly ClipRef[], tally: HeadTally, logits: tf.Tensor | undefined): Promise<void> {
    const r = this.favchat.emotionReadout;
    if (!logits || !r) return;
    const rows = (await logits.array()) as number[][];
    r.targets(clips.map((c) => c.record.labels.emotion)).forEach((y, b) => {
      if (y < 0) return;
      tally.emotionReadout.n++;
      if (rows[b].indexOf(Math.max(...rows[b])) === y) tally.emotionReadout.hit++;
    });
  }

  /** The attribute read-out's loss: the mean over attributes of its head's cross-entropy, plus its choice's; null without one. */
  private attributeReadoutLoss(clips: readonly ClipRef[], out: ReadoutOutputs | undefined): tf.Scalar | null {
    const r = this.favchat.attributeReadout;
    if (!out || !r) return null;
    const attrs = clips.map((c) => c.record.labels.attributes);
    const heads = r.attributes.flatMap((_, a) => headLoss(out.logits.slice([0, r.offsets[a]], [-1, r.offsets[a + 1] - r.offsets[a]]), r.targets(a, attrs)) ?? []);
    const choice = headLoss(out.choice, out.asked);
    const terms = [...(heads.length > 0 ? [tf.div(tf.addN(heads), heads.length) as tf.Scalar] : []), ...(choice ? [choice] : [])];
    return terms.length === 0 ? null : (tf.addN(terms) as tf.Scalar);
  }

  /** The attribute read-out's right values (per clip and labelled attribute) and right choices, added into `tally`. */
  private async scoreAttributeReadout(clips: readonly ClipRef[], tally: HeadTally, out: ReadoutOutputs | undefined): Promise<void> {
    const r = this.favchat.attributeReadout;
    if (!out || !r) return;
    const logits = (await out.logits.array()) as number[][];
    const choice = (await out.choice.array()) as number[][];
    const attrs = clips.map((c) => c.record.labels.attributes);
    const argmax = (x: readonly number[]) => x.indexOf(Math.max(...x));
    r.attributes.forEach((_, a) => {
      r.targets(a, attrs).forEach((y, b) => {
        if (y < 0) return;
        tally.attributeReadout.n++;
        if (argmax(logits[b].slice(r.offsets[a], r.offsets[a + 1])) === y) tally.attributeReadout.hit++;
      });
    });
    out.asked.forEach((y, b) => {
      tally.attributeChoice.n++;
      if (argmax(choice[b]) === y) tally.attributeChoice.hit++;
    });
  }

  /** What the heads read from V [B, Q, D] right, added into `tally`; the answer head's needs each row's `answers`. */
  async score(tokens: tf.Tensor, clips: readonly ClipRef[], tally: HeadTally, answers?: readonly string[], readouts: Readouts = {}): Promise<void> {
    const readout = readouts.au;
    await this.scoreAttributeReadout(clips, tally, readouts.attribute);
    await this.scoreEmotionReadout(clips, tally, readouts.emotion);
    const pooled = tf.mean(tokens, 1); // [B, D]
    const picks = this.heads.map((head) => tf.tidy(() => tf.argMax(head.forward(pooled), -1))); // each [B]
    const au = this.auHead ? tf.tidy(() => tf.sigmoid((this.auHead as Linear).forward(pooled))) : null; // [B, 16]
    const answered = this.answerHead && answers ? tf.tidy(() => tf.argMax((this.answerHead as Linear).forward(pooled), -1)) : null; // [B]
    const perToken = this.auTokenHead ? tf.tidy(() => tf.sigmoid(this.auTokenLogits(tokens))) : null; // [B, 16]
    pooled.dispose();
    if (readout) {
      const [p, picked] = tf.tidy(() => [tf.sigmoid(readout.logits), tf.argMax(readout.choice, -1)]);
      tallyAus(tally.auReadout, await p.data(), clips);
      const k = await picked.data();
      readout.asked.forEach((a, b) => {
        tally.auChoice.n++;
        if (k[b] === a) tally.auChoice.hit++;
      });
      tf.dispose([p, picked]);
    }
    if (perToken) {
      tallyAus(tally.auTokens, await perToken.data(), clips);
      perToken.dispose();
    }
    if (answered && answers) {
      const pred = await answered.data();
      answers.forEach((a, b) => {
        if (!this.labels.answers.includes(a)) return;
        tally.answer.n++;
        if (this.labels.answers[pred[b]] === a) tally.answer.hit++;
      });
      answered.dispose();
    }
    for (const [i, h] of this.labels.heads.entries()) {
      const pred = await picks[i].data();
      const group = headGroup(h);
      const head = (tally.heads[h.key] ??= { hit: 0, n: 0 });
      clips.forEach((c, b) => {
        const y = h.classes.indexOf(labelOf(c, h) ?? "\u0000");
        if (y < 0) return;
        tally[group].n++;
        head.n++;
        if (pred[b] === y) {
          tally[group].hit++;
          head.hit++;
        }
      });
    }
    if (au) tallyAus(tally.au, await au.data(), clips);
    tf.dispose([...picks, ...(au ? [au] : [])]);
  }
}

/**
 * A read-out's outputs (VisualTokens.auLogits and auChoice, or attributeLogits and attributeChoice) and each row's
 * choice target (askedAu; AttributeReadout.askedIn).
 */
export interface ReadoutOutputs {
  readonly logits: tf.Tensor;
  readonly choice: tf.Tensor;
  readonly asked: readonly number[];
}

/** The model's read-outs, those it has. */
export interface Readouts {
  readonly au?: ReadoutOutputs;
  readonly attribute?: ReadoutOutputs;
  /** The emotion read-out's head logits [B, classes] (it has no choice: it always says the clip's emotion). */
  readonly emotion?: tf.Tensor;
}

/** What a head reads: a clip's appearance, its scene, its emotion, or its AUs. */
export type HeadGroup = "attribute" | "scene" | "emotion" | "au" | "answer";

export const headGroup = (h: LabelHead): Exclude<HeadGroup, "au" | "answer"> => (h.source === "attributes" ? "attribute" : h.source);

/** Weight of the labels a question is not about (1 for those it is about). */
export const OFF_TOPIC_WEIGHT = 0.25;

/**
 * The label groups each QA category asks about (FaceWorld's categories, src/data/builder): an emotion question is
 * answered from the expression and its AUs, a blink count or a head turn from the face's movements (the AU head
 * covers blinks and speech), and so on. A category not listed (summaries, a new kind) weighs every group 1.
 */
const CATEGORY_GROUPS: Readonly<Record<string, readonly HeadGroup[]>> = {
  emotion: ["emotion", "au"],
  reasoning: ["emotion", "au"],
  au_presence: ["au"],
  au_intensity: ["au"],
  attribute: ["attribute"],
  scene: ["scene"],
  counting: ["au"],
  action: ["au"],
  temporal_order: ["au"],
  temporal_apex: ["emotion", "au"],
};

/** A row's weight for a head group: 1 when its question is about it (or the category is unknown), else `offTopic`. */
export function headWeight(category: string | undefined, group: HeadGroup, offTopic = OFF_TOPIC_WEIGHT): number {
  const groups = category === undefined ? undefined : CATEGORY_GROUPS[category];
  return !groups || groups.includes(group) ? 1 : offTopic;
}

/** Per AU (AU_NAMES order), 1 when it occurs in the clip (reaches FACS grade A in some frame), else 0. */
function auOccurrence(clip: ClipRef): number[] {
  return AU_NAMES.map((au) => (Math.max(0, ...(clip.record.labels.aus?.[au] ?? [0])) >= AU_PRESENT ? 1 : 0));
}

/** Counts behind the heads' validation metrics. */
export interface HeadTally {
  attribute: { hit: number; n: number };
  scene: { hit: number; n: number };
  emotion: { hit: number; n: number };
  au: { tp: number; fp: number; fn: number };
  /** The answer head: rows whose answer it picked. */
  answer: { hit: number; n: number };
  /** The AU token head. */
  auTokens: { tp: number; fp: number; fn: number };
  /** The model's AU read-out (config.auReadout): its head, and its choice of the AU each question names. */
  auReadout: { tp: number; fp: number; fn: number };
  auChoice: { hit: number; n: number };
  /** The model's attribute read-out (config.attributeReadout): its head's value per clip and attribute, and its choice. */
  attributeReadout: { hit: number; n: number };
  attributeChoice: { hit: number; n: number };
  /** The model's emotion read-out (config.emotionReadout): its head's emotion per clip. */
  emotionReadout: { hit: number; n: number };
  /** Each categorical head by its label's key (hair_colour, background, emotion, ...). */
  heads: Record<string, { hit: number; n: number }>;
}

/** Adds AU occurrence decisions (probabilities p [B, 16], AU_NAMES order) of the clips with AU labels into t. */
function tallyAus(t: { tp: number; fp: number; fn: number }, p: ArrayLike<number>, clips: readonly ClipRef[]): void {
  clips.forEach((c, b) => {
    if (!c.record.labels.aus) return;
    auOccurrence(c).forEach((occurs, k) => {
      const guess = p[b * AU_NAMES.length + k] >= 0.5;
      if (guess && occurs === 1) t.tp++;
      else if (guess) t.fp++;
      else if (occurs === 1) t.fn++;
    });
  });
}

const f1 = ({ tp, fp, fn }: { tp: number; fp: number; fn: number }): number => (tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn));

export function emptyTally(): HeadTally {
  return { attribute: { hit: 0, n: 0 }, scene: { hit: 0, n: 0 }, emotion: { hit: 0, n: 0 }, au: { tp: 0, fp: 0, fn: 0 }, answer: { hit: 0, n: 0 }, auTokens: { tp: 0, fp: 0, fn: 0 }, auReadout: { tp: 0, fp: 0, fn: 0 }, auChoice: { hit: 0, n: 0 }, attributeReadout: { hit: 0, n: 0 }, attributeChoice: { hit: 0, n: 0 }, emotionReadout: { hit: 0, n: 0 }, heads: {} };
}

/**
 * visual_emotion_acc, visual_attr_acc, visual_scene_acc, visual_au_f1 (micro), visual_answer_acc, visual_au_token_f1,
 * visual_au_readout_f1, visual_au_choice_acc, visual_attr_readout_acc, visual_attr_choice_acc and visual_emotion_readout_acc,
 * for the labels seen, then each categorical head's accuracy (visual_acc.hair_colour, ...).
 */
export function tallyMetrics(t: HeadTally): Record<string, number> {
  const out: Record<string, number> = {};
  if (t.emotion.n > 0) out.visual_emotion_acc = t.emotion.hit / t.emotion.n;
  if (t.attribute.n > 0) out.visual_attr_acc = t.attribute.hit / t.attribute.n;
  if (t.scene.n > 0) out.visual_scene_acc = t.scene.hit / t.scene.n;
  const { tp, fp, fn } = t.au;
  if (tp + fp + fn > 0) out.visual_au_f1 = f1(t.au);
  if (t.answer.n > 0) out.visual_answer_acc = t.answer.hit / t.answer.n;
  const at = t.auTokens;
  if (at.tp + at.fp + at.fn > 0) out.visual_au_token_f1 = f1(at);
  const ar = t.auReadout;
  if (ar.tp + ar.fp + ar.fn > 0) out.visual_au_readout_f1 = f1(ar);
  if (t.auChoice.n > 0) out.visual_au_choice_acc = t.auChoice.hit / t.auChoice.n;
  if (t.attributeReadout.n > 0) out.visual_attr_readout_acc = t.attributeReadout.hit / t.attributeReadout.n;
  if (t.attributeChoice.n > 0) out.visual_attr_choice_acc = t.attributeChoice.hit / t.attributeChoice.n;
  if (t.emotionReadout.n > 0) out.visual_emotion_readout_acc = t.emotionReadout.hit / t.emotionReadout.n;
  for (const [key, h] of Object.entries(t.heads)) if (h.n > 0) out[`visual_acc.${key}`] = h.hit / h.n;
  return out;
}
