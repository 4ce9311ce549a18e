// Non-overlapping patches of an image-like tensor by reshape + transpose: the data movement of a stride-p
// Conv2d (SigLIP's patch embedding) and of 2x2 patch merging (the face pyramid), so both become one fast 2-D
// matmul on wasm instead of a conv (DESIGN 5).
import { tf } from "../../core/backend.ts";

/**
 * x [N, H, W, C] -> [N, gh*gw, p*p*C] with gh = floor(H/p), gw = floor(W/p); patches in row-major order, each
 * patch's features in (row, column, channel) order. Trailing rows/columns that do not fill a patch are dropped,
 * as a Conv2d without padding does.
 */
export function patchify(x: tf.Tensor, p: number): tf.Tensor {
  const [N, H, W, C] = x.shape as number[];
  const gh = Math.floor(H / p);
  const gw = Math.floor(W / p);
  return tf.tidy(() => {
    const cropped = gh * p === H && gw * p === W ? x : tf.slice(x, [0, 0, 0, 0], [N, gh * p, gw * p, C]); // [N, gh*p, gw*p, C]
    return cropped
      .reshape([N, gh, p, gw, p, C]) // [N, gh, p, gw, p, C]
      .transpose([0, 1, 3, 2, 4, 5]) // [N, gh, gw, p, p, C]
      .reshape([N, gh * gw, p * p * C]); // [N, P, p*p*C]
  });
}
