// KV cache for generation: per layer, keys and values [B, Hkv, S, Dh] of every position seen so far.
// Tensors in the cache are kept outside any tidy; `append` disposes the tensors it replaces.
import { tf } from "../core/backend.ts";

export class KVCache {
  private readonly keys: (tf.Tensor | null)[];
  private readonly values: (tf.Tensor | null)[];

  constructor(readonly numLayers: number) {
    this.keys = new Array(numLayers).fill(null);
    this.values = new Array(numLayers).fill(null);
  }

  /** Positions cached so far (layer 0's length; all layers agree between forward passes). */
  get length(): number {
    return this.keys[0]?.shape[2] ?? 0;
  }

  /** Appends k, v [B, Hkv, T, Dh] to layer i and returns the full [B, Hkv, S, Dh] pair. */
  append(layer: number, k: tf.Tensor, v: tf.Tensor): [tf.Tensor, tf.Tensor] {
    const oldK = this.keys[layer];
    const oldV = this.values[layer];
    const fullK = tf.keep(oldK ? tf.concat([oldK, k], 2) : k.clone());
    const fullV = tf.keep(oldV ? tf.concat([oldV, v], 2) : v.clone());
    oldK?.dispose();
    oldV?.dispose();
    this.keys[layer] = fullK;
    this.values[layer] = fullV;
    return [fullK, fullV];
  }

  dispose(): void {
    for (let i = 0; i < this.numLayers; i++) {
      this.keys[i]?.dispose();
      this.values[i]?.dispose();
      this.keys[i] = null;
      this.values[i] = null;
    }
  }
}
