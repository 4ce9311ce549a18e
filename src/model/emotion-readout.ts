// Emotion read-out token (ours; config.json "emotion_readout"): one more visual token that says which emotion the clip
// shows. Each frame's encoder features (the general encoder's mean patch token and the facial encoder's pooled blocks,
// as the summary tokens read them, but per frame) are normalised; a learnt score per frame, softmax over the clip's
// frames, pools them, so the frames where the expression shows can outweigh the neutral onset and offset; a linear head
// reads the emotion from that pool and the plain mean over frames side by side. The token is
// LayerNorm(e + sum_c p_c u_c): one learnt vector per emotion, so the LLM answers "What emotion ...?" by naming the
// vector the token carries. The head reads the features as constants: neither its loss nor the LLM's through the token
// reaches the encoders.
// Why: the tiny recipe's LLM named the emotion of 0.789 of unseen clips (WAR), though the encoders' own per-frame
// heads read the apex frame's emotion at 0.82 on validation and a CNN on the same crops 0.84 (scripts/emotion-ceiling.py):
// the label heads on V pool every token and frame alike, and V carried the emotion at 0.77 (session 26).
import { tf } from "../core/backend.ts";
import type { Rng } from "../core/rng.ts";
import { Module } from "../nn/module.ts";
import { Linear } from "../nn/linear.ts";
import { LayerNorm } from "../nn/norm.ts";
import { normal } from "../nn/init.ts";
import { pooledFaceFeatures } from "./summary-tokens.ts";
import { softmax } from "./attribute-readout.ts";

/** How many tokens the read-out adds. */
export const EMOTION_READOUT_TOKENS = 1;

export interface EmotionReadoutOutput {
  /** [B, 1, D]. */
  readonly tokens: tf.Tensor;
  /** The head's logits [B, classes]. */
  readonly logits: tf.Tensor;
  /** Each frame's share of the attention pool [B, F] (sums to 1 per clip). */
  readonly frameWeights: tf.Tensor;
}

/** What the token said about one clip (`favchat chat --json`). */
export interface EmotionReadoutReport {
  readonly emotion: string;
  readonly probability: number;
  /** Every class's probability, in the head's order. */
  readonly probabilities: Readonly<Record<string, number>>;
}

/** Each frame's encoder features, concatenated: [B*F, Dv (+ pooledFaceDim)]. */
export function frameFeatures(patches: tf.Tensor, blocks: readonly tf.Tensor[]): tf.Tensor {
  return tf.tidy(() => (blocks.length > 0 ? tf.concat([tf.mean(patches, 1), pooledFaceFeatures(blocks)], 1) : tf.mean(patches, 1)));
}

/** Parameter names: input_norm.*, score.*, head.*, identity, values, norm.*. */
export class EmotionReadout extends Module {
  readonly inputNorm: LayerNorm;
  /** One score per frame, from its normalised features. */
  readonly score: Linear;
  /** Reads [attention pool, mean] (2 * featureDim) -> the classes' logits. */
  readonly head: Linear;
  /** e [1, D]. */
  readonly identity: tf.Variable;
  /** u: one vector per class [classes, D]. */
  readonly values: tf.Variable;
  readonly norm: LayerNorm;

  constructor(
    /** Width of frameFeatures. */
    readonly featureDim: number,
    readonly dim: number,
    readonly classes: readonly string[],
    rng: Rng | null,
  ) {
    super();
    const fork = (name: string) => rng?.fork(name) ?? null;
    this.inputNorm = this.addChild("input_norm", new LayerNorm(featureDim));
    this.score = this.addChild("score", new Linear(featureDim, 1, fork("score")));
    this.head = this.addChild("head", new Linear(2 * featureDim, classes.length, fork("head")));
    // Unit scale, as LayerNorm makes V's other tokens.
    this.identity = this.addParam("identity", normal(fork("identity"), [1, dim], 1));
    this.values = this.addParam("values", normal(fork("values"), [classes.length, dim], 1));
    this.norm = this.addChild("norm", new LayerNorm(dim));
  }

  /** Each frame's features [B*F, featureDim] (frameFeatures) of B clips of F frames -> the token, the head's logits, the frames' weights. */
  forward(features: tf.Tensor, B: number, F: number): EmotionReadoutOutput {
    return tf.tidy(() => {
      // A tensor made from the values has no path back (tfjs has no stop-gradient).
      const constant = tf.tensor(features.dataSync(), features.shape, "float32");
      const x = this.inputNorm.forward(constant).reshape([B, F, this.featureDim]); // [B, F, Df]
      const frameWeights = tf.softmax(this.score.forward(x).reshape([B, F]), -1); // [B, F]
      const pooled = tf.sum(tf.mul(x, frameWeights.expandDims(2)), 1); // [B, Df]
      const logits = this.head.forward(tf.concat([pooled, tf.mean(x, 1)], 1)); // [B, C]
      const tokens = this.norm.forward(tf.add(this.identity, tf.matMul(tf.softmax(logits, -1), this.values))).expandDims(1); // [B, 1, D]
      return { tokens, logits, frameWeights };
    });
  }

  /** Each clip's class index (-1 where it has no emotion label or one outside the classes): the head's target. */
  targets(emotions: readonly (string | null | undefined)[]): number[] {
    return emotions.map((e) => (e == null ? -1 : this.classes.indexOf(e)));
  }

  /** One clip's head logits -> its report. */
  report(logits: readonly number[]): EmotionReadoutReport {
    const p = softmax(logits);
    const top = p.indexOf(Math.max(...p));
    return { emotion: this.classes[top], probability: p[top], probabilities: Object.fromEntries(this.classes.map((c, i) => [c, p[i]])) };
  }
}
