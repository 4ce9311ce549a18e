// Attribute read-out token (ours; config.json "attribute_readout"): one more visual token, first in V, that says the
// value of the appearance attribute the question asks about. A linear head reads every attribute's value (a softmax
// per attribute over its values) from what the summary tokens are made of (the encoders' pooled features, averaged
// over the clip's frames), and a choice reads which attribute the question asks about from the question's token
// embeddings (questionChoice: one learnt query per attribute and one for "no attribute"). The token is
// LayerNorm(e + sum_a choice_a sum_v p_{a,v} u_{a,v}): one learnt vector per value, so the LLM answers "What eyewear
// does the person have?" by naming the vector the token carries, not by finding the attribute in the summary tokens.
// The head reads the features, and the choice the question's embeddings, as constants: neither the read-out's loss
// nor the LLM's through the token reaches the encoders or the LLM's token table.
// Why: with the summary tokens alone, which attributes the LLM learnt to read depended on stage 2's draw order, from
// the same V: glasses 0.19 with seed 0 and 0.81 with seed 1, clothes colour 0.56 and 0.16 (session 19), though linear
// heads on the encoders' features read clothes colour 0.996, glasses 0.98, face shape 0.86 on unseen identities (r14).
import { tf } from "../core/backend.ts";
import type { Rng } from "../core/rng.ts";
import { Module } from "../nn/module.ts";
import { Linear } from "../nn/linear.ts";
import { LayerNorm } from "../nn/norm.ts";
import { normal } from "../nn/init.ts";
import { attributeAskedIn } from "../data/builder/qa.ts";
import { questionChoice } from "./au-readout.ts";
import type { Prompt } from "./prompt/prompt.ts";

/** Each attribute's values, in the head's order (config.json "attribute_readout"). */
export type AttributeSchema = Readonly<Record<string, readonly string[]>>;

/** How many tokens the read-out adds. */
export const ATTRIBUTE_READOUT_TOKENS = 1;

export interface AttributeReadoutOutput {
  /** [B, 1, D]. */
  readonly tokens: tf.Tensor;
  /** The head's logits [B, total values]: each attribute's values in turn, in the schema's order. */
  readonly logits: tf.Tensor;
  /** The choice's scores [B, attributes + 1] (softmax gives which attribute the question asks about; the last: none). */
  readonly choice: tf.Tensor;
}

/** Parameter names: input_norm.*, head.*, key.*, previous.*, queries, identity, values, norm.*. */
export class AttributeReadout extends Module {
  readonly inputNorm: LayerNorm;
  readonly head: Linear;
  readonly key: Linear;
  /** The key's term for the token before each question token. */
  readonly previous: Linear;
  /** One query per attribute and one for "none" [A + 1, D]. */
  readonly queries: tf.Variable;
  /** e [1, D]. */
  readonly identity: tf.Variable;
  /** u: one vector per value [total values, D], in the head's order. */
  readonly values: tf.Variable;
  readonly norm: LayerNorm;
  readonly attributes: readonly string[];
  /** Where each attribute's values start in the head's logits (and one more: the total). */
  readonly offsets: readonly number[];

  constructor(
    /** Width of the encoders' pooled features (clipSummaryFeatures, concatenated). */
    readonly featureDim: number,
    readonly dim: number,
    readonly schema: AttributeSchema,
    rng: Rng | null,
  ) {
    super();
    const fork = (name: string) => rng?.fork(name) ?? null;
    this.attributes = Object.keys(schema);
    this.offsets = this.attributes.reduce((acc, a) => [...acc, acc[acc.length - 1] + schema[a].length], [0]);
    const total = this.offsets[this.offsets.length - 1];
    // The encoders' features are not normalised (their scales differ between the branches): normalised first, so the
    // head learns at the same rate as the other heads.
    this.inputNorm = this.addChild("input_norm", new LayerNorm(featureDim));
    this.head = this.addChild("head", new Linear(featureDim, total, fork("head")));
    this.key = this.addChild("key", new Linear(dim, dim, fork("key")));
    this.previous = this.addChild("previous", new Linear(dim, dim, fork("previous")));
    this.queries = this.addParam("queries", normal(fork("queries"), [this.attributes.length + 1, dim], 1));
    // Unit scale, as LayerNorm makes V's other tokens.
    this.identity = this.addParam("identity", normal(fork("identity"), [1, dim], 1));
    this.values = this.addParam("values", normal(fork("values"), [total, dim], 1));
    this.norm = this.addChild("norm", new LayerNorm(dim));
  }

  /** The encoders' pooled features [B, featureDim] and the question -> the read-out token, the head's logits and the choice's scores. */
  forward(features: tf.Tensor, prompt: Prompt): AttributeReadoutOutput {
    return tf.tidy(() => {
      // A tensor made from the values has no path back (tfjs has no stop-gradient).
      const logits = this.head.forward(this.inputNorm.forward(tf.tensor(features.dataSync(), features.shape, "float32"))); // [B, total]
      const choice = questionChoice(prompt, this.key, this.previous, this.queries); // [B, A + 1]
      const chosen = tf.softmax(choice); // [B, A + 1]
      // Each value's probability within its attribute, times the choice of that attribute ("none" adds nothing).
      const parts = this.attributes.map((_, a) => {
        const n = this.offsets[a + 1] - this.offsets[a];
        return tf.mul(tf.softmax(logits.slice([0, this.offsets[a]], [-1, n]), -1), chosen.slice([0, a], [-1, 1]));
      });
      const weights = tf.concat(parts, 1); // [B, total]; row sums 1 - choice_none
      const tokens = this.norm.forward(tf.add(this.identity, tf.matMul(weights, this.values))).expandDims(1); // [B, 1, D]
      return { tokens, logits, choice };
    });
  }

  /** Which attribute a question asks about (its index; attributeAskedIn), or the number of attributes for none: the choice's target. */
  askedIn(question: string): number {
    const k = attributeAskedIn(question, this.attributes);
    return k === null ? this.attributes.length : this.attributes.indexOf(k);
  }

  /** Each clip's value index of attribute a (-1 where the clip has no such label or a value outside the schema). */
  targets(a: number, attributes: readonly Readonly<Record<string, unknown>>[]): number[] {
    const name = this.attributes[a];
    return attributes.map((attrs) => (name in attrs ? this.schema[name].indexOf(String(attrs[name])) : -1));
  }

  /** One question's head logits and choice scores -> its report (what `favchat chat --json` shows). */
  report(logits: readonly number[], choice: readonly number[]): AttributeReadoutReport {
    const chosen = softmax(choice);
    const k = chosen.indexOf(Math.max(...chosen));
    const values = Object.fromEntries(
      this.attributes.map((name, a) => {
        const p = softmax(logits.slice(this.offsets[a], this.offsets[a + 1]));
        const top = p.indexOf(Math.max(...p));
        return [name, { value: this.schema[name][top], probability: p[top] }];
      }),
    );
    return { asked: k < this.attributes.length ? this.attributes[k] : null, askedProbability: chosen[k], values };
  }
}

/** What the read-out says for one question. */
export interface AttributeReadoutReport {
  /** The attribute the choice picks, or null when its top class is "none". */
  readonly asked: string | null;
  readonly askedProbability: number;
  /** The head's most likely value of every attribute and its probability, whatever the question. */
  readonly values: Readonly<Record<string, { readonly value: string; readonly probability: number }>>;
}

export function softmax(x: readonly number[]): number[] {
  const top = Math.max(...x);
  const e = x.map((v) => Math.exp(v - top));
  const z = e.reduce((s, v) => s + v, 0);
  return e.map((v) => v / z);
}
