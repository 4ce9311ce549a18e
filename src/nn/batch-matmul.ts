// Batched matmuls for attention that stay on wasm's fast path. Its BatchMatMul kernel runs XNNPACK only for
// one 2-D, non-transposed pair; a batch (or a transpose, which autodiff's backward always uses) falls to a
// naive loop at 1-3 GFLOP/s (DESIGN 5). Here each batch entry is its own 2-D matmul, operands transposed
// explicitly first, and the custom gradients do the same, so forward and backward never take the slow path. The
// entries run in one call of src/core/wasm-kernels.ts's batchedMatMul (bit-identical to XNNPACK's 2-D matmul of each
// entry): a loop of 2-D tf.matMul calls cost N + 3 kernel calls, and in the connector stage a third of its kernel
// calls and about a seventh of its step time went to that loop's JavaScript side.
import { tf } from "../core/backend.ts";
import { batchedMatMul, unstack0 } from "../core/wasm-kernels.ts";

/**
 * Below this many rows of `a`, wasm's own batched matmul wins: each 2-D XNNPACK matmul packs its `b` first,
 * which costs more than the whole product for a handful of rows (generation: one query per step).
 */
const MIN_ROWS_PER_ENTRY = 16;

/** a [N, M, K] @ b [N, K, P] -> [N, M, P], one plain 2-D matmul per batch entry on wasm. */
function perEntry(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  // Other backends batch well.
  if (tf.getBackend() !== "wasm" || a.shape[1] < MIN_ROWS_PER_ENTRY) return tf.matMul(a, b);
  // One kernel call for all entries, the same values as the loop below, which runs where that kernel cannot.
  const batched = batchedMatMul(a, b);
  if (batched) return batched;
  const as = unstack0(a) as tf.Tensor2D[]; // N x [M, K]
  const bs = unstack0(b) as tf.Tensor2D[]; // N x [K, P]
  return tf.stack(as.map((ai, i) => tf.matMul(ai, bs[i]))) as tf.Tensor3D; // [N, M, P]
}

/** [N, R, C] -> [N, C, R]. */
function swapLast(x: tf.Tensor3D): tf.Tensor3D {
  return tf.transpose(x, [0, 2, 1]);
}

function checkShapes(name: string, a: tf.Tensor, b: tf.Tensor, bInner: number): void {
  if (a.rank !== 3 || b.rank !== 3 || a.shape[0] !== b.shape[0] || a.shape[2] !== b.shape[bInner]) {
    throw new Error(`${name}: operands do not match, got a [${a.shape.join(", ")}] and b [${b.shape.join(", ")}]`);
  }
}

/**
 * a [N, R, C1]^T @ b [N, R, C2] -> [N, C1, C2], as a^T @ b or as (b^T @ a)^T, whichever has the smaller right
 * operand: XNNPACK repacks a matmul's right operand whenever it is a new tensor (a backward pass's always are),
 * which costs more than the extra transposes (src/core/adamw.wat's). In attention's backward (dK = dS^T Q: C1 =
 * 128 keys, C2 = head dim 32) packing Q [256, 32] instead of dS [256, 128] took 2% off the LLM benchmark's step.
 */
function perEntryTA(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  const [, , C1] = a.shape;
  const C2 = b.shape[2];
  return C1 <= C2 ? swapLast(perEntry(swapLast(b), a)) : perEntry(swapLast(a), b);
}

// customGrad's typing wants (...inputs: (Tensor | GradSaveFunc)[]); the casts keep the signatures readable.
const nn = tf.customGrad(((a: tf.Tensor3D, b: tf.Tensor3D, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: perEntry(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [as, bs] = saved as tf.Tensor3D[];
      const d = dy as tf.Tensor3D; // [N, M, P]
      return [perEntry(d, swapLast(bs)), perEntryTA(as, d)]; // dA = dY B^T [N, M, K], dB = A^T dY [N, K, P]
    },
  };
}) as any) as (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor3D;

const nt = tf.customGrad(((a: tf.Tensor3D, b: tf.Tensor3D, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: perEntry(a, swapLast(b)),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [as, bs] = saved as tf.Tensor3D[];
      const d = dy as tf.Tensor3D; // [N, M, P]
      return [perEntry(d, bs), perEntryTA(d, as)]; // dA = dY B [N, M, K], dB = dY^T A [N, P, K]
    },
  };
}) as any) as (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor3D;

/** a [N, M, K] @ b [N, K, P] -> [N, M, P] (attention's probs @ values). */
export function batchMatMul(a: tf.Tensor, b: tf.Tensor): tf.Tensor3D {
  checkShapes("batchMatMul", a, b, 1);
  return nn(a as tf.Tensor3D, b as tf.Tensor3D);
}

/** a [N, M, K] @ b [N, P, K]^T -> [N, M, P] (attention's queries @ keys^T). */
export function batchMatMulBT(a: tf.Tensor, b: tf.Tensor): tf.Tensor3D {
  checkShapes("batchMatMulBT", a, b, 2);
  return nt(a as tf.Tensor3D, b as tf.Tensor3D);
}
