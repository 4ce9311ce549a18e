// Encoder pretraining (stage "encoders", ours): the paper's encoders arrive pretrained (SigLIP on image-text pairs, the
// facial encoder on face analysis tasks, as FaceXFormer is), so its stages only align them. The tiny model's
// encoders start from random weights; this stage gives them the same head start from the clips' own labels:
//   facial encoder  <- per-frame AU intensities (16, sigmoid), the appearance attributes (one softmax each) and
//                      each frame's emotion (the clip's emotion while its expression shows, else neutral)
//   general encoder <- the scene (background, wall colour, lighting, object) and the appearance attributes
// from linear heads on each frame's features, so what the heads need is linearly present in the tokens the CA²
// stack and the Q-Formers read. The heads are dropped after. Facial features keep the layout of the last blocks
// (an AU is local: brows are above the mouth) and the mean of the others; general features are the mean token.
import { tf } from "../core/backend.ts";
import { FavchatError } from "../core/errors.ts";
import type { Rng } from "../core/rng.ts";
import { Module } from "../nn/module.ts";
import { Linear } from "../nn/linear.ts";
import { readRawClip } from "../data/frames.ts";
import { cropJitter, pixelsFromRaw, uniformIndices } from "../data/clip-pixels.ts";
import { pixelTensors } from "../data/collate.ts";
import { AU_NAMES } from "../data/records.ts";
import { AU_PRESENT, expressionAus } from "../data/builder/clip-facts.ts";
import type { FavChat } from "../model/favchat.ts";
import { pooledFaceDim, pooledFaceFeatures } from "../model/summary-tokens.ts";
import type { ClipRef } from "./favchat-data.ts";
import type { TrainTask } from "./trainer.ts";

/**
 * Weight of the AU term. Most intensities are near 0, so its excess over the targets' own entropy is small next
 * to the attributes' cross-entropy; without the weight the AUs are learnt last.
 */
const AU_WEIGHT = 4;
/** Scene labels that one frame shows (the object's motion needs several). */
const SCENE_KEYS = ["background", "wall_colour", "lighting", "object"];

/** One categorical label a head predicts: where it comes from and its classes (sorted, from the training clips). */
export interface LabelHead {
  readonly source: "attributes" | "scene" | "emotion";
  /** The attribute or scene key ("emotion" for the emotion). */
  readonly key: string;
  readonly classes: readonly string[];
}

/** A clip's value of a head's label, or null when it has none. */
export function labelOf(clip: ClipRef, h: Pick<LabelHead, "source" | "key">): string | null {
  if (h.source === "emotion") return clip.record.labels.emotion ?? null;
  const bag = h.source === "attributes" ? clip.record.labels.attributes : clip.record.labels.scene;
  const v = bag?.[h.key];
  return typeof v === "string" || typeof v === "boolean" ? String(v) : null;
}

/** Heads for `keys` of `source` with the classes the clips show; labels with fewer than 2 classes get none. */
export function categoricalHeads(clips: readonly ClipRef[], source: LabelHead["source"], keys: readonly string[]): LabelHead[] {
  return keys
    .map((key) => ({ source, key, classes: [...new Set(clips.map((c) => labelOf(c, { source, key })).filter((v): v is string => v !== null))].sort() }))
    .filter((h) => h.classes.length >= 2);
}

/** Every string/boolean attribute key of the clips, sorted. */
export function attributeKeys(clips: readonly ClipRef[]): string[] {
  return [...new Set(clips.flatMap((c) => Object.keys(c.record.labels.attributes)))].sort();
}

/** The heads of stage encoders: categorical ones per encoder, and the per-frame emotion (null: none). */
export interface EncoderHeads {
  readonly face: LabelHead[];
  readonly general: LabelHead[];
  readonly emotion: LabelHead | null;
}

/** The heads the training clips support: every string/boolean attribute, the scene keys, the emotion. */
export function labelHeads(clips: readonly ClipRef[]): EncoderHeads {
  const attributes = categoricalHeads(clips, "attributes", attributeKeys(clips));
  const emotion = categoricalHeads(clips, "emotion", ["emotion"])[0] ?? null;
  return { face: attributes, general: [...categoricalHeads(clips, "scene", SCENE_KEYS), ...attributes], emotion: emotion?.classes.includes(NEUTRAL) ? emotion : null };
}

const NEUTRAL = "neutral";

/**
 * The emotion frame t shows: the clip's emotion where one of its expression's AUs (not blinks or speech) is
 * present, else neutral; null when the clip has no emotion or AU labels. Onset and offset frames of a subtle
 * expression look neutral, and so they are labelled.
 */
export function frameEmotion(clip: ClipRef, t: number): string | null {
  const { emotion, aus } = clip.record.labels;
  if (!emotion || !aus) return null;
  if (emotion === NEUTRAL) return NEUTRAL;
  const shows = expressionAus(clip.record).some((f) => (aus[f.au]?.[t] ?? 0) >= AU_PRESENT);
  return shows ? emotion : NEUTRAL;
}

/**
 * The heads on top of the encoders; `favchat` is a child so one checkpoint holds the model and the heads. Set the
 * freeze plan ("encoders") on `favchat` first; the heads are trainable.
 */
export class EncoderPretrainer extends Module {
  readonly auHead: Linear | null;
  readonly emotionHead: Linear | null;
  readonly faceHeads: Linear[] = [];
  readonly generalHeads: Linear[] = [];

  constructor(
    readonly favchat: FavChat,
    readonly heads: EncoderHeads,
    rng: Rng,
  ) {
    super();
    this.addChild("model", favchat);
    favchat.visionTemporal.trainable = false; // single frames here: the temporal embedding gets no gradient
    const face = favchat.faceEncoder;
    const faceDim = face ? pooledFaceDim(face.blockDims, face.blockTokens) : 0;
    const Dv = favchat.config.vision.hiddenSize;
    this.auHead = face ? this.addChild("au_head", new Linear(faceDim, AU_NAMES.length, rng.fork("au"))) : null;
    this.emotionHead = face && heads.emotion ? this.addChild("emotion_head", new Linear(faceDim, heads.emotion.classes.length, rng.fork("emotion"))) : null;
    if (face) heads.face.forEach((h, i) => this.faceHeads.push(this.addChild(`face_heads.${i}`, new Linear(faceDim, h.classes.length, rng.fork("face", i)))));
    heads.general.forEach((h, i) => this.generalHeads.push(this.addChild(`general_heads.${i}`, new Linear(Dv, h.classes.length, rng.fork("general", i)))));
  }

  /** Per-frame features: face [N, sum D_i (x P_i for small grids)] (null without a facial encoder) and general [N, Dv]. */
  features(frames: tf.Tensor, faces: tf.Tensor): { face: tf.Tensor | null; general: tf.Tensor } {
    const [B, F, H, W, C] = frames.shape as number[];
    const general = tf.mean(this.favchat.visionTower.forward(frames.reshape([B * F, H, W, C])), 1); // [B*F, Dv]
    const enc = this.favchat.faceEncoder;
    const face = enc ? pooledFaceFeatures(enc.forwardClips(faces)) : null; // [B*F, faceDim]
    return { face, general };
  }
}

/** A batch: pixels plus per-frame targets ([B*F] rows; -1 marks a clip without that label). */
export interface EncoderBatch {
  readonly frames: tf.Tensor; // [B, F, S, S, 3]
  readonly faces: tf.Tensor; // [B, F, s, s, 3]
  readonly aus: tf.Tensor; // [B*F, 16] intensities in [0, 1]
  readonly auKnown: tf.Tensor; // [B*F, 1]: 1 where the clip has AU labels
  readonly emotion: number[]; // per row: the frame's emotion class or -1
  readonly face: number[][]; // per face head, per row: class index or -1
  readonly general: number[][];
}

/**
 * Frames per clip in a batch: a reference frame early in the clip (the first a clip's F sampled frames would be,
 * give or take; with face_config.motion every frame is seen against it) and one other, the apex half the time.
 * Frames of one clip share every label but the AUs, so a batch learns most from many clips with few frames each
 * (measured: 8 clips x 8 frames reached 32% attribute accuracy after 150 steps).
 */
export const ENCODER_FRAMES_PER_CLIP = 2;

/**
 * Frame indices of a clip with `have` frames for a batch: [reference, other]. Training (rng): the reference is one
 * of the first have/F frames (where the first of F evenly spread frames falls), the other the apex half the time,
 * else any frame. Evaluation: the reference the first of F evenly spread frames, the other the apex (the middle
 * frame when the clip has none), so the second row's emotion is comparable with a classifier of apex frames.
 */
export function encoderFrameIndices(have: number, frames: number, apex: number | undefined, rng: Rng | null): number[] {
  const mid = Math.floor(have / 2);
  const peak = apex !== undefined && apex >= 0 && apex < have ? apex : mid;
  if (!rng) return [uniformIndices(have, frames)[0], peak];
  const reference = rng.int(Math.max(1, Math.floor(have / frames)));
  return [reference, rng.next() < 0.5 ? peak : rng.int(have)];
}

export interface EncoderTaskOptions {
  /** Clips per batch (each gives ENCODER_FRAMES_PER_CLIP frames). */
  readonly batchSize: number;
  /** Frames the model samples per clip in the later stages (where its reference frame falls); default 8. */
  readonly frames?: number;
  readonly val?: readonly ClipRef[];
  readonly valBatches?: number;
  /** Weight of each encoder's label-head term (attributes and scene) beside the AU and emotion terms; default 1. */
  readonly attributeWeight?: number;
}

/**
 * Mean cross-entropy of logits [N, K] against class indices (rows with -1 are skipped); null when none is known.
 * With `rowWeights`, each row's term is scaled by its weight (still divided by the number of known rows, so
 * weights below 1 shrink the term).
 */
export function headLoss(logits: tf.Tensor, labels: readonly number[], rowWeights?: readonly number[]): tf.Scalar | null {
  const rows = labels.flatMap((y, i) => (y >= 0 ? [i] : []));
  if (rows.length === 0) return null;
  const K = logits.shape[1] as number;
  const oneHot = new Float32Array(labels.length * K);
  const weight = new Float32Array(labels.length);
  for (const i of rows) {
    oneHot[i * K + labels[i]] = 1;
    weight[i] = (rowWeights?.[i] ?? 1) / rows.length;
  }
  const picked = tf.sum(tf.mul(tf.logSoftmax(logits, -1), tf.tensor2d(oneHot, [labels.length, K])), -1); // [N]
  return tf.neg(tf.sum(tf.mul(picked, tf.tensor1d(weight)))) as tf.Scalar;
}

/**
 * BCE of sigmoid(logits) [N, K] against soft targets in [0, 1], averaged over the rows marked known [N, 1]. With
 * `rowWeights` [N, 1], each row's term is scaled by its weight (still divided by the number of known rows, as headLoss).
 */
export function auLoss(logits: tf.Tensor, targets: tf.Tensor, known: tf.Tensor, rowWeights?: tf.Tensor): tf.Scalar {
  // softplus(z) - y z is the cross-entropy of sigmoid(z) with a soft target y, without overflow.
  const perRow = tf.mean(tf.sub(tf.softplus(logits), tf.mul(targets, logits)), 1, true); // [N, 1]
  const counted = rowWeights ? tf.mul(known, rowWeights) : known;
  return tf.div(tf.sum(tf.mul(perRow, counted)), tf.maximum(tf.sum(known), 1)) as tf.Scalar;
}

/** A batch of `clips`: in training (rng given) random frames of each, else frames spread evenly. */
export function makeEncoderBatch(p: EncoderPretrainer, clips: readonly ClipRef[], rng: Rng | null, frames = 8): EncoderBatch {
  const F = ENCODER_FRAMES_PER_CLIP;
  const cfg = p.favchat.config;
  const tensors: { frames: tf.Tensor; faces: tf.Tensor }[] = [];
  const aus: number[] = [];
  const auKnown: number[] = [];
  const emotion: number[] = [];
  const face = p.heads.face.map(() => [] as number[]);
  const general = p.heads.general.map(() => [] as number[]);
  clips.forEach((clip, b) => {
    if (!clip.raw) throw new FavchatError(`clip ${clip.id} has no raw frames file; encoder pretraining reads raw frames (favchat synth writes them)`);
    const raw = readRawClip(clip.raw);
    const r = rng?.fork("pixels", b) ?? null;
    const jitter = r ? cropJitter(r, F) : undefined;
    const idx = encoderFrameIndices(raw.frames, frames, clip.record.labels.apex, r);
    const pixels = pixelsFromRaw(raw, clip.record.labels.faceBoxes, { frames: F, frameSize: cfg.vision.imageSize, faceSize: cfg.face.imageSize }, jitter, idx);
    tensors.push(pixelTensors(pixels));
    const labelAus = clip.record.labels.aus;
    for (const t of idx) {
      for (const au of AU_NAMES) aus.push(labelAus?.[au]?.[t] ?? 0);
      auKnown.push(labelAus ? 1 : 0);
      emotion.push(p.heads.emotion?.classes.indexOf(frameEmotion(clip, t) ?? "\u0000") ?? -1);
      p.heads.face.forEach((h, i) => face[i].push(h.classes.indexOf(labelOf(clip, h) ?? "\u0000")));
      p.heads.general.forEach((h, i) => general[i].push(h.classes.indexOf(labelOf(clip, h) ?? "\u0000")));
    }
  });
  const N = clips.length * F;
  const batch: EncoderBatch = {
    frames: tf.concat(tensors.map((t) => t.frames), 0),
    faces: tf.concat(tensors.map((t) => t.faces), 0),
    aus: tf.tensor2d(aus, [N, AU_NAMES.length]),
    auKnown: tf.tensor2d(auKnown, [N, 1]),
    emotion,
    face,
    general,
  };
  tf.dispose(tensors.flatMap((t) => [t.frames, t.faces]));
  return batch;
}

export function disposeEncoderBatch(b: EncoderBatch): void {
  tf.dispose([b.frames, b.faces, b.aus, b.auKnown]);
}

/** The loss terms (AU BCE, frame emotion CE, mean face-head CE and mean general-head CE, each times attributeWeight) of a batch. */
export function encoderLosses(p: EncoderPretrainer, b: EncoderBatch, attributeWeight = 1): { au: tf.Scalar | null; emotion: tf.Scalar | null; face: tf.Scalar | null; general: tf.Scalar | null } {
  const { face, general } = p.features(b.frames, b.faces);
  const mean = (xs: (tf.Scalar | null)[]): tf.Scalar | null => {
    const known = xs.filter((x): x is tf.Scalar => x !== null);
    return known.length === 0 ? null : (tf.mul(tf.addN(known), attributeWeight / known.length) as tf.Scalar);
  };
  return {
    au: face && p.auHead ? (tf.mul(auLoss(p.auHead.forward(face), b.aus, b.auKnown), AU_WEIGHT) as tf.Scalar) : null,
    emotion: face && p.emotionHead ? headLoss(p.emotionHead.forward(face), b.emotion) : null,
    face: face ? mean(p.faceHeads.map((head, i) => headLoss(head.forward(face), b.face[i]))) : null,
    general: mean(p.generalHeads.map((head, i) => headLoss(head.forward(general), b.general[i]))),
  };
}

/**
 * Held-out skill of the heads: AU presence F1 (micro), AU mean absolute error, accuracy per head group and per head
 * (`acc.face.hair_colour`, `acc.general.clothes_colour`, ...).
 */
export async function evaluateEncoders(p: EncoderPretrainer, val: readonly ClipRef[], o: EncoderTaskOptions): Promise<Record<string, number>> {
  let tp = 0, fp = 0, fn = 0, absErr = 0, auCount = 0;
  const hits = { face: 0, faceN: 0, general: 0, generalN: 0, emotion: 0, emotionN: 0, apex: 0, apexN: 0 };
  const perHead: Record<string, { hits: number; n: number }> = {};
  for (let k = 0; k < (o.valBatches ?? 4) && k * o.batchSize < val.length; k++) {
    const batch = makeEncoderBatch(p, val.slice(k * o.batchSize, (k + 1) * o.batchSize), null, o.frames);
    const out = tf.tidy(() => {
      const { face, general } = p.features(batch.frames, batch.faces);
      return {
        au: face && p.auHead ? [tf.sigmoid(p.auHead.forward(face))] : [],
        emotion: face && p.emotionHead ? [tf.argMax(p.emotionHead.forward(face), -1)] : [],
        face: face ? p.faceHeads.map((h) => tf.argMax(h.forward(face), -1)) : [],
        general: p.generalHeads.map((h) => tf.argMax(h.forward(general), -1)),
      };
    });
    if (out.au.length > 0) {
      const pred = await out.au[0].data();
      const truth = await batch.aus.data();
      const known = await batch.auKnown.data();
      for (let i = 0; i < pred.length; i++) {
        if (known[Math.floor(i / AU_NAMES.length)] === 0) continue;
        absErr += Math.abs(pred[i] - truth[i]);
        auCount++;
        const yp = pred[i] >= AU_PRESENT, yt = truth[i] >= AU_PRESENT;
        if (yp && yt) tp++;
        else if (yp) fp++;
        else if (yt) fn++;
      }
    }
    if (out.emotion.length > 0) {
      const pred = await out.emotion[0].data();
      batch.emotion.forEach((y, r) => {
        if (y < 0) return;
        hits.emotionN++;
        if (pred[r] === y) hits.emotion++;
        if (r % ENCODER_FRAMES_PER_CLIP === 1) {
          hits.apexN++; // the apex frame (encoderFrameIndices), labelled with the clip's emotion
          if (pred[r] === y) hits.apex++;
        }
      });
    }
    for (const group of ["face", "general"] as const) {
      for (const [i, t] of out[group].entries()) {
        const pred = await t.data();
        const key = `${group}.${p.heads[group][i].key}`;
        const head = (perHead[key] ??= { hits: 0, n: 0 });
        batch[group][i].forEach((y, r) => {
          if (y < 0) return;
          hits[`${group}N`]++;
          head.n++;
          if (pred[r] === y) {
            hits[group]++;
            head.hits++;
          }
        });
      }
    }
    tf.dispose([...out.au, ...out.emotion, ...out.face, ...out.general]);
    disposeEncoderBatch(batch);
  }
  const metrics: Record<string, number> = {};
  if (auCount > 0) {
    metrics.au_f1 = tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
    metrics.au_mae = absErr / auCount;
  }
  if (hits.faceN > 0) metrics.face_attr_acc = hits.face / hits.faceN;
  if (hits.emotionN > 0) metrics.frame_emotion_acc = hits.emotion / hits.emotionN;
  if (hits.apexN > 0) metrics.apex_emotion_acc = hits.apex / hits.apexN;
  if (hits.generalN > 0) metrics.general_acc = hits.general / hits.generalN;
  for (const [key, h] of Object.entries(perHead)) if (h.n > 0) metrics[`acc.${key}`] = h.hits / h.n;
  return metrics;
}

/** Stage E: the encoders and their heads learn the clips' labels. Clips are drawn by the trainer's seeded rng. */
export function encoderTask(p: EncoderPretrainer, clips: readonly ClipRef[], o: EncoderTaskOptions): TrainTask<EncoderBatch> {
  if (clips.length === 0) throw new FavchatError("encoder pretraining has no training clips");
  const val = o.val ?? [];
  return {
    model: p,
    makeBatch: (_step, _micro, rng) => makeEncoderBatch(p, Array.from({ length: o.batchSize }, () => clips[rng.int(clips.length)]), rng, o.frames),
    loss: (b) => {
      const parts = Object.values(encoderLosses(p, b, o.attributeWeight)).filter((x): x is tf.Scalar => x !== null);
      if (parts.length === 0) throw new FavchatError("encoder pretraining: the clips have no AU, attribute or scene labels to learn from");
      return tf.addN(parts) as tf.Scalar;
    },
    disposeBatch: disposeEncoderBatch,
    evaluate: val.length === 0 ? undefined : () => evaluateEncoders(p, val, o),
  };
}
