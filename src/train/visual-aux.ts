// Label heads on the visual tokens (ours, for models trained from scratch): during alignment, linear heads read the
// clip's labels (attributes, scene, emotion, which AUs occur) from the mean of the visual tokens V, and their loss is
// added to the language loss. Measured on the tiny recipe without it: V varies across clips when stage 1 starts
// (across-clip std / mean |V| 0.59) but the language loss flattens it within 150 steps (0.012; the face Q-Former's
// output 0.08 -> 0.0007), so the LLM learns to ignore the video. The heads keep V informative while the LLM learns to
// read it, as BLIP-2 first trains its Q-Former on vision-language objectives before the LLM sees it.
import { tf } from "../core/backend.ts";
import type { Rng } from "../core/rng.ts";
import { Module } from "../nn/module.ts";
import { Linear } from "../nn/linear.ts";
import { AU_NAMES } from "../data/records.ts";
import type { FavChat } from "../model/favchat.ts";
import type { ClipRef } from "./favchat-data.ts";
import { labelHeads } from "./encoder-task.ts";

/** One categorical label of a clip that a head on V predicts; classes sorted, from the training clips. */
export interface AuxHead {
  readonly source: "attributes" | "scene" | "emotion";
  readonly key: string;
  readonly classes: readonly string[];
}

/** An AU occurs in a clip when it reaches FACS grade A ("trace", 0.1) in some frame. */
const AU_PRESENT = 0.1;

export interface VisualLabels {
  /** Categorical labels: attributes, scene (with the object's motion: V sees every frame), emotion. */
  readonly heads: AuxHead[];
  readonly withAus: boolean;
}

function labelOf(clip: ClipRef, h: AuxHead): string | null {
  if (h.source === "attributes" || h.source === "scene") {
    const bag = h.source === "attributes" ? clip.record.labels.attributes : clip.record.labels.scene;
    const v = bag?.[h.key];
    return typeof v === "string" || typeof v === "boolean" ? String(v) : null;
  }
  return clip.record.labels.emotion ?? null;
}

/** The labels the training clips support. */
export function visualLabels(clips: readonly ClipRef[]): VisualLabels {
  const { face: attributes } = labelHeads(clips);
  const sceneKeys = [...new Set(clips.flatMap((c) => Object.keys(c.record.labels.scene ?? {})))].sort();
  const scene = sceneKeys
    .map((key): AuxHead => ({ source: "scene", key, classes: [...new Set(clips.map((c) => c.record.labels.scene?.[key]).filter((v): v is string => typeof v === "string"))].sort() }))
    .filter((h) => h.classes.length >= 2);
  const emotions = [...new Set(clips.map((c) => c.record.labels.emotion).filter((e): e is string => typeof e === "string"))].sort();
  const heads: AuxHead[] = [...attributes, ...scene, ...(emotions.length >= 2 ? [{ source: "emotion" as const, key: "emotion", classes: emotions }] : [])];
  return { heads, withAus: clips.some((c) => c.record.labels.aus !== undefined) };
}

/** The heads, and the model beside them so one checkpoint holds both (the model directory keeps the model only). */
export class VisualAuxModel extends Module {
  readonly heads: Linear[] = [];
  readonly auHead: Linear | null;

  constructor(
    readonly favchat: FavChat,
    readonly labels: VisualLabels,
    rng: Rng,
  ) {
    super();
    this.addChild("model", favchat);
    const D = favchat.config.llm.hiddenSize;
    labels.heads.forEach((h, i) => this.heads.push(this.addChild(`visual_heads.${i}`, new Linear(D, h.classes.length, rng.fork("head", i)))));
    this.auHead = labels.withAus ? this.addChild("visual_au_head", new Linear(D, AU_NAMES.length, rng.fork("au"))) : null;
  }

  /** Mean over heads of the cross-entropies (and the AU-occurrence BCE) of the clips' labels from V [B, Q, D]. */
  loss(tokens: tf.Tensor, clips: readonly ClipRef[]): tf.Scalar {
    const B = clips.length;
    const pooled = tf.mean(tokens, 1); // [B, D]
    const terms: tf.Scalar[] = [];
    this.labels.heads.forEach((h, i) => {
      const y = clips.map((c) => h.classes.indexOf(labelOf(c, h) ?? "\u0000"));
      const rows = y.flatMap((v, b) => (v >= 0 ? [b] : []));
      if (rows.length === 0) return;
      const K = h.classes.length;
      const target = new Float32Array(B * K);
      for (const b of rows) target[b * K + y[b]] = 1 / rows.length;
      const logp = tf.logSoftmax(this.heads[i].forward(pooled), -1); // [B, K]
      terms.push(tf.neg(tf.sum(tf.mul(logp, tf.tensor2d(target, [B, K])))) as tf.Scalar);
    });
    if (this.auHead) {
      const known = clips.map((c): number => (c.record.labels.aus ? 1 : 0));
      if (known.some((k) => k === 1)) {
        const y = clips.flatMap((c) => AU_NAMES.map((au) => (Math.max(0, ...(c.record.labels.aus?.[au] ?? [0])) >= AU_PRESENT ? 1 : 0)));
        const z = this.auHead.forward(pooled); // [B, 16]
        const bce = tf.mean(tf.sub(tf.softplus(z), tf.mul(tf.tensor2d(y, [B, AU_NAMES.length]), z)), 1); // [B]
        const w = tf.tensor1d(known.map((k) => k / known.reduce((a, x) => a + x, 0)));
        terms.push(tf.sum(tf.mul(bce, w)) as tf.Scalar);
      }
    }
    return (terms.length === 0 ? tf.scalar(0) : tf.div(tf.addN(terms), terms.length)) as tf.Scalar;
  }
}
