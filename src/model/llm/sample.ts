// Choosing the next token from a row of logits: greedy, temperature, top-k and top-p (nucleus).
// Pure functions on host arrays; randomness from the Rng passed in.
import type { Rng } from "../../core/rng.ts";

export interface SamplingOptions {
  /** 0 means greedy (argmax). */
  readonly temperature: number;
  /** Keep the k most likely tokens; 0 keeps all. */
  readonly topK: number;
  /** Keep the smallest set whose probability reaches p; 1 keeps all. */
  readonly topP: number;
}

export const GREEDY: SamplingOptions = { temperature: 0, topK: 0, topP: 1 };

export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/** Candidate tokens and their renormalised probabilities after temperature, top-k and top-p. */
export function candidates(logits: ArrayLike<number>, opts: SamplingOptions): { ids: number[]; probs: number[] } {
  const V = logits.length;
  const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
  const k = opts.topK > 0 ? Math.min(opts.topK, V) : V;
  const kept = order.slice(0, k);
  const maxLogit = logits[kept[0]];
  const weights = kept.map((i) => Math.exp((logits[i] - maxLogit) / opts.temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  const probs = weights.map((w) => w / total);
  // Nucleus: keep tokens until the cumulative probability reaches topP (always at least one).
  let cut = probs.length;
  if (opts.topP < 1) {
    let cum = 0;
    for (let i = 0; i < probs.length; i++) {
      cum += probs[i];
      if (cum >= opts.topP) {
        cut = i + 1;
        break;
      }
    }
  }
  const ids = kept.slice(0, cut);
  const keptProbs = probs.slice(0, cut);
  const z = keptProbs.reduce((a, b) => a + b, 0);
  return { ids, probs: keptProbs.map((p) => p / z) };
}

/** The next token: argmax when temperature is 0, else a draw from the filtered distribution. */
export function sampleToken(logits: ArrayLike<number>, opts: SamplingOptions, rng: Rng): number {
  if (opts.temperature <= 0) return argmax(logits);
  const { ids, probs } = candidates(logits, opts);
  let u = rng.next();
  for (let i = 0; i < ids.length; i++) {
    u -= probs[i];
    if (u < 0) return ids[i];
  }
  return ids[ids.length - 1];
}
