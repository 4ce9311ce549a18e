// AU read-out token (ours; config.json "au_readout"): one more visual token, first in V, that says whether the AU the
// question asks about occurs. A linear head reads every AU's occurrence from V pooled over its tokens (l, 16 logits),
// and a choice reads which AU the question names from the question's token embeddings: one learnt query per AU and one
// for "no AU", each scoring the question's tokens with the token before each (a soft maximum over them), softmax over
// the 17. The token is LayerNorm(e + s u) with s = 2 p - 1, p = sum_k choice_k sigmoid(l_k) + choice_none / 2: one
// direction u for every AU, so the LLM answers "Is AU12 active?" by reading u, not by learning for each AU where in V
// it lies. The label heads' loss trains the head (the AU group) and the choice (the cross-entropy of the AU each
// question names, or none; src/train/visual-aux.ts). The head reads V, and the choice the question's embeddings, as
// constants: no gradient from the read-out reaches V or the LLM's token table, which the label heads and the LLM shape
// as without it. Why: in the tiny recipe without it, the LLM's yes/no margin on AU questions followed a
// surprise-or-anger feature whatever AU was asked (scripts/au-margin.ts), though a linear probe per AU on pooled V read
// the AUs at 0.81-0.93; and 16 read-out tokens, one per AU (session 16), did not help: the head read AU12 at AUC 0.99
// on unseen clips, yet the LLM, which had to find the asked AU's token itself, reached only 0.74.
import { tf } from "../core/backend.ts";
import type { Rng } from "../core/rng.ts";
import { Module } from "../nn/module.ts";
import { Linear } from "../nn/linear.ts";
import { LayerNorm } from "../nn/norm.ts";
import { normal } from "../nn/init.ts";
import { AU_NAMES } from "../data/records.ts";
import { auNamedIn } from "../data/builder/phrasing.ts";
import type { Prompt } from "./prompt/prompt.ts";

/** How many tokens the read-out adds. */
export const AU_READOUT_TOKENS = 1;
/** The choice's classes: each AU of AU_NAMES, then "the question names no AU". */
export const AU_CHOICES = AU_NAMES.length + 1;

export interface AuReadoutOutput {
  /** [B, 1, D]. */
  readonly tokens: tf.Tensor;
  /** The head's occurrence logits [B, 16] (AU_NAMES order). */
  readonly logits: tf.Tensor;
  /** The choice's scores [B, 17] (softmax gives which AU the question names; the last: none). */
  readonly choice: tf.Tensor;
}

/** Parameter names: head.*, key.*, previous.*, queries, identity, direction, norm.*. */
export class AuReadout extends Module {
  readonly head: Linear;
  readonly key: Linear;
  /** The key's term for the token before each question token. */
  readonly previous: Linear;
  /** One query per choice [17, D]. */
  readonly queries: tf.Variable;
  /** e [1, D]. */
  readonly identity: tf.Variable;
  /** u [1, D]. */
  readonly direction: tf.Variable;
  readonly norm: LayerNorm;

  constructor(
    readonly dim: number,
    rng: Rng | null,
  ) {
    super();
    const fork = (name: string) => rng?.fork(name) ?? null;
    this.head = this.addChild("head", new Linear(dim, AU_NAMES.length, fork("head")));
    this.key = this.addChild("key", new Linear(dim, dim, fork("key")));
    this.previous = this.addChild("previous", new Linear(dim, dim, fork("previous")));
    this.queries = this.addParam("queries", normal(fork("queries"), [AU_CHOICES, dim], 1));
    // Unit scale, as LayerNorm makes V's other tokens: the identity and the presence weigh alike in the token.
    this.identity = this.addParam("identity", normal(fork("identity"), [1, dim], 1));
    this.direction = this.addParam("direction", normal(fork("direction"), [1, dim], 1));
    this.norm = this.addChild("norm", new LayerNorm(dim));
  }

  /** V [B, N, D] and the question -> the read-out token, the head's logits and the choice's scores. */
  forward(v: tf.Tensor, prompt: Prompt): AuReadoutOutput {
    return tf.tidy(() => {
      const B = v.shape[0] as number;
      // The head reads V as a constant (tfjs has no stop-gradient: a tensor made from the values has no path back),
      // so neither its loss nor the LLM's through the token pulls V's tokens toward the AUs.
      const pooled = tf.mean(v, 1); // [B, D]
      const logits = this.head.forward(tf.tensor(pooled.dataSync(), pooled.shape, "float32")); // [B, 16]
      // Which AU the question names, from its embeddings read as constants (questionChoice). With the token first in
      // V, attributes 0.470 in the recipe (FavChat; 0.513 without a read-out, 0.443 with it last).
      const choice = questionChoice(prompt, this.key, this.previous, this.queries); // [B, 17]
      const chosen = tf.softmax(choice); // [B, 17]
      const present = tf.concat([tf.sigmoid(logits), tf.fill([B, 1], 0.5)], 1); // [B, 17]: "no AU" is undecided
      const s = tf.sub(tf.mul(tf.sum(tf.mul(chosen, present), 1, true), 2), 1); // [B, 1] in [-1, 1]
      const tokens = this.norm.forward(tf.add(this.identity, tf.mul(s, this.direction))).expandDims(1); // [B, 1, D]
      return { tokens, logits, choice };
    });
  }
}

/**
 * Which of K classes a question names: each class's query [K, D] scored against every question token's key (key of the
 * token plus previous of the token before it, zeros before the first; " AU" "12": the number alone is also a frame
 * number), a soft maximum (log-sum-exp) over the real tokens -> [B, K] (softmax: the choice). The embeddings are read
 * as constants: with them on the tape, the choice's cross-entropy (on every question) and the LLM's loss through the
 * read-out token moved the LLM's token table, which is also the prompt the frozen CA² and Q-Formers read: attributes
 * 0.401 with that path (session 16), 0.443 without it.
 */
export function questionChoice(prompt: Prompt, key: Linear, previous: Linear, queries: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [B, Tq, D] = prompt.embeds.shape as number[];
    const K = queries.shape[0] as number;
    const e = tf.tensor(prompt.embeds.dataSync(), prompt.embeds.shape, "float32"); // [B, Tq, D]
    const before = tf.pad(e, [[0, 0], [1, 0], [0, 0]]).slice([0, 0, 0], [B, Tq, D]); // token t-1, zeros before the first
    const keys = tf.add(key.forward(e), previous.forward(before)).reshape([B * Tq, D]); // 2-D: tfjs's batched matMul has no broadcast gradient
    const scores = tf.div(tf.matMul(keys, queries, false, true), Math.sqrt(D)).reshape([B, Tq, K]); // [B, Tq, K]
    const padding = tf.mul(tf.sub(1, prompt.mask), -1e9).expandDims(2); // [B, Tq, 1]
    return tf.logSumExp(tf.add(scores, padding), 1); // [B, K]
  });
}

/** Which AU a question names (its AU_NAMES index; by number or words: auNamedIn), or AU_NAMES.length when it names none or several: the choice's target. */
export function askedAu(question: string): number {
  const au = auNamedIn(question);
  return au === null ? AU_NAMES.length : (AU_NAMES as readonly string[]).indexOf(au);
}

/** What the read-out says for one question: the AU the choice picks, and the head's occurrence probabilities. */
export interface AuReadoutReport {
  /** The AU the question names by the choice's top class, or null when that class is "none". */
  readonly asked: string | null;
  /** The choice's probability of that class. */
  readonly askedProbability: number;
  /** p: the probability the token carries that the asked AU occurs (0.5 when the question names none). */
  readonly active: number;
  /** The head's occurrence probability of every AU (AU_NAMES order), whatever the question. */
  readonly aus: Readonly<Record<string, number>>;
}

/** The read-out's head logits [16] and choice scores [17] of one question -> its report (the forward's p, recomputed). */
export function readoutReport(logits: readonly number[], choice: readonly number[]): AuReadoutReport {
  const top = Math.max(...choice);
  const exp = choice.map((c) => Math.exp(c - top));
  const z = exp.reduce((s, x) => s + x, 0);
  const chosen = exp.map((x) => x / z);
  const present = [...logits.map((l) => 1 / (1 + Math.exp(-l))), 0.5];
  const k = chosen.indexOf(Math.max(...chosen));
  return {
    asked: k < AU_NAMES.length ? AU_NAMES[k] : null,
    askedProbability: chosen[k],
    active: chosen.reduce((s, c, i) => s + c * present[i], 0),
    aus: Object.fromEntries(AU_NAMES.map((au, i) => [au, present[i]])),
  };
}
