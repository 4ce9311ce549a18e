// Additive attention biases: 0 where a query may attend, a large negative number where it may not.
// A finite -1e9 (not -Infinity) keeps fully masked rows (padding queries) free of NaN.
import { tf } from "../core/backend.ts";

export const MASKED = -1e9;

export interface MaskOptions {
  /** Queries T and keys S; with a KV cache, S = past + T. */
  queries: number;
  keys: number;
  /** Query t sees keys up to (keys - queries + t): causal with a cache of past tokens. */
  causal: boolean;
  /** Per batch row, 1 for a real key and 0 for padding, length `keys`. */
  keyPadding?: readonly (readonly number[])[];
}

/** Bias [B or 1, 1, T, S] to add to attention scores. */
export function attentionBias(opts: MaskOptions): tf.Tensor4D {
  const { queries: T, keys: S, causal } = opts;
  const rows = opts.keyPadding ?? [null];
  const B = rows.length;
  const data = new Float32Array(B * T * S);
  const past = S - T;
  for (let b = 0; b < B; b++) {
    const pad = rows[b];
    if (pad && pad.length !== S) throw new Error(`attentionBias: padding row ${b} has ${pad.length} keys, expected ${S}`);
    for (let t = 0; t < T; t++) {
      for (let s = 0; s < S; s++) {
        const blocked = (causal && s > past + t) || (pad !== null && pad[s] === 0);
        data[(b * T + t) * S + s] = blocked ? MASKED : 0;
      }
    }
  }
  return tf.tensor4d(data, [B, 1, T, S]);
}
