// Rotary position embedding, Qwen2/Llama flavour: rotate_half over the two halves of each head
// (not interleaved pairs), inv_freq = theta^(-2i/Dh). Tables are built on the host per call.
import { tf } from "../core/backend.ts";

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

/** x [B, H, T, Dh] rotated by tables [T, Dh]: x*cos + rotate_half(x)*sin. */
export function applyRope(x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const dh = x.shape[3] as number;
    const half = dh / 2;
    const x1 = tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, half]);
    const x2 = tf.slice(x, [0, 0, 0, half], [-1, -1, -1, half]);
    const rotated = tf.concat([tf.neg(x2), x1], 3); // [B, H, T, Dh]
    return tf.add(tf.mul(x, cos), tf.mul(rotated, sin));
  });
}
