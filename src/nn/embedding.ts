// Token embedding with a gradient that works on wasm: tfjs's gather gradient needs UnsortedSegmentSum,
// which the wasm backend lacks, so the backward is a ScatterNd (duplicates are summed).
import { tf } from "../core/backend.ts";
import type { Rng } from "../core/rng.ts";
import { Module } from "./module.ts";
import { normal } from "./init.ts";

/** table [V, D] gathered at ids (int32, any shape S) -> [...S, D]. */
export function embed(table: tf.Tensor, ids: tf.Tensor): tf.Tensor {
  const [V, D] = table.shape as number[];
  const flat = ids.reshape([-1]); // [N]
  // The ids go through `save` so the backward pass still has them after the forward's tidy scopes end.
  const gather = tf.customGrad(((t: tf.Tensor, save: tf.GradSaveFunc) => {
    save([flat]);
    return {
      value: tf.gather(t, flat),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.scatterND(saved[0].expandDims(1), dy, [V, D]),
    };
  }) as any) as (t: tf.Tensor) => tf.Tensor;
  const gathered = gather(table); // [N, D]
  return gathered.reshape([...ids.shape, D]);
}

export class Embedding extends Module {
  readonly weight: tf.Variable; // [V, D]

  constructor(
    readonly numEmbeddings: number,
    readonly dim: number,
    rng: Rng | null,
    std = 0.02,
  ) {
    super();
    this.weight = this.addParam("weight", normal(rng, [numEmbeddings, dim], std));
  }

  forward(ids: tf.Tensor): tf.Tensor {
    if (ids.dtype !== "int32") throw new Error(`Embedding: ids must be int32, got ${ids.dtype}`);
    return embed(this.weight, ids);
  }
}
