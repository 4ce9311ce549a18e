// Linear layer y = x W^T + b with a custom gradient: every matmul, forward and backward, is a plain
// non-transposed 2-D matmul, the only fast path of the wasm backend (DESIGN 5: 5.5x on a block's fwd+bwd).
import { tf } from "../core/backend.ts";
import type { Rng } from "../core/rng.ts";
import { Module } from "./module.ts";
import { normal, zeros } from "./init.ts";
import { batchedMatMul } from "../core/wasm-kernels.ts";

/** dx = dy @ w^T ([N, O] @ [O, I]) and dw = x^T @ dy ([I, N] @ [N, O]), by explicit transposes then plain matmuls. */
function linearGrads(dy: tf.Tensor2D, [x, w]: tf.Tensor2D[]): [tf.Tensor, tf.Tensor] {
  return [tf.matMul(dy, tf.transpose(w)), tf.matMul(tf.transpose(x), dy)];
}

/** x [N, I] @ w [I, O] -> [N, O], gradients by explicit transposes then plain matmuls. */
// customGrad's typing wants (...inputs: (Tensor | GradSaveFunc)[]); the cast keeps the signature readable.
const matmul2d = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => linearGrads(dy as tf.Tensor2D, saved as tf.Tensor2D[]),
  };
}) as any) as (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;

/**
 * The sum of dy [N, O] over its rows, as ones [1, N] @ dy: broadcasting's own gradient sums over axis 0, which the
 * wasm backend does as a transpose then a reduction (~8x slower). On wasm by src/core's batched matmul kernel, the
 * same values as XNNPACK's matmul of the two (each a sum in row order) without packing dy first, which made that
 * one-row product run at a fiftieth of a Linear's speed (~6% of a connector micro-batch).
 */
function sumRows(dy: tf.Tensor2D): tf.Tensor1D {
  const [n, o] = dy.shape;
  const ones = tf.ones([1, 1, n]) as tf.Tensor3D;
  const sum = batchedMatMul(ones, dy.reshape([1, n, o])) ?? tf.matMul(ones.reshape([1, n]), dy);
  return sum.reshape([o]);
}

/** x [N, I] @ w [I, O] + b [O] -> [N, O]. */
const matmul2dBias = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const db = sumRows(dy as tf.Tensor2D);
      return [...linearGrads(dy as tf.Tensor2D, saved as tf.Tensor2D[]), db];
    },
  };
}) as any) as (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor) => tf.Tensor2D;

/** x [..., I] times wT [I, O] (plus b [O]) -> [..., O]. */
export function linear(x: tf.Tensor, wT: tf.Tensor, b?: tf.Tensor, name = "linear"): tf.Tensor {
  const [inF, outF] = wT.shape as number[];
  const lead = x.shape.slice(0, -1);
  if (x.shape[x.rank - 1] !== inF) {
    throw new Error(`${name}: expected last dim ${inF}, got shape [${x.shape.join(", ")}]`);
  }
  const x2 = x.reshape([-1, inF]) as tf.Tensor2D;
  const y = b ? matmul2dBias(x2, wT as tf.Tensor2D, b) : matmul2d(x2, wT as tf.Tensor2D); // [N, O]
  return y.reshape([...lead, outF]);
}

export interface LinearOptions {
  bias?: boolean;
  /** Standard deviation of the normal initialiser (default 0.02, as GPT-2 and Qwen2). */
  std?: number;
}

export class Linear extends Module {
  readonly weight: tf.Variable; // [I, O], checkpoint layout [O, I]
  readonly bias: tf.Variable | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    rng: Rng | null,
    options: LinearOptions = {},
  ) {
    super();
    this.weight = this.addParam("weight", normal(rng, [inFeatures, outFeatures], options.std ?? 0.02), true);
    this.bias = options.bias === false ? null : this.addParam("bias", zeros([outFeatures]));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return linear(x, this.weight, this.bias ?? undefined, `Linear(${this.inFeatures}->${this.outFeatures})`);
  }
}
