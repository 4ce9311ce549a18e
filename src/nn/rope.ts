// Rotary position embedding, Qwen2/Llama flavour: rotate_half over the two halves of each head
// (not interleaved pairs), inv_freq = theta^(-2i/Dh). Tables are built on the host per call.
import { tf } from "../core/backend.ts";
import { swapHalves } from "../core/wasm-kernels.ts";

/** cos and sin tables [T, Dh] for positions offset..offset+T-1. */
export function ropeTables(T: number, headDim: number, theta: number, offset = 0): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
  const half = headDim / 2;
  const cos = new Float32Array(T * headDim);
  const sin = new Float32Array(T * headDim);
  for (let t = 0; t < T; t++) {
    const pos = offset + t;
    for (let i = 0; i < half; i++) {
      // Computed in float64 then rounded, as the reference does in fp32 from an fp32 inv_freq.
      const invFreq = Math.fround(1 / Math.pow(theta, (2 * i) / headDim));
      const angle = Math.fround(pos * invFreq);
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      cos[t * headDim + i] = c;
      cos[t * headDim + i + half] = c;
      sin[t * headDim + i] = s;
      sin[t * headDim + i + half] = s;
    }
  }
  return { cos: tf.tensor2d(cos, [T, headDim]), sin: tf.tensor2d(sin, [T, headDim]) };
}

/**
 * x [B, H, T, Dh] rotated by tables [T, Dh]: x*cos + rotate_half(x)*sin. rotate_half(x) is x with its halves
 * swapped and the first negated, so it is written as the swap times a sin table with the sign folded in
 * (exact). The swap is its own inverse, which gives the explicit gradient dx = dy*cos + swap(dy*sinSigned):
 * four ops each way instead of slices, a negation, a concat and their gradients.
 */
export function applyRope(x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor {
  const dh = x.shape[3] as number;
  const half = dh / 2;
  return tf.tidy(() => {
    const sign = tf.tensor1d(Array.from({ length: dh }, (_, i) => (i < half ? -1 : 1))); // [Dh]
    const sinSigned = tf.mul(sin, sign); // [T, Dh]
    // customGrad's typing wants (...inputs: (Tensor | GradSaveFunc)[]); the cast keeps the signature readable.
    const rotate = tf.customGrad(((xi: tf.Tensor, save: tf.GradSaveFunc) => {
      save([cos, sinSigned]);
      return {
        value: tf.add(tf.mul(xi, cos), tf.mul(swapHalves(xi), sinSigned)), // [B, H, T, Dh]
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [c, s] = saved;
          return tf.add(tf.mul(dy, c), swapHalves(tf.mul(dy, s)));
        },
      };
    }) as any) as (xi: tf.Tensor) => tf.Tensor;
    return rotate(x);
  });
}
