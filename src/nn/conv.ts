// A 3x3 convolution (padding 1, stride 1 or 2) with gradients the wasm backend can run. tfjs-backend-wasm has
// Conv2D (XNNPACK) but no Conv2DBackpropFilter, so tf.conv2d cannot be trained there. Here the forward pass and the
// input gradient are both Conv2D; the filter gradient is one plain matmul of the input's 3x3 neighbourhoods (built
// already transposed, so no large transpose) with the output gradient.
import { tf } from "../core/backend.ts";
import { FavchatError } from "../core/errors.ts";

/**
 * The 3x3 taps of a padded input, channels first: xpT [C, N, Hp, Wp] -> [9C, N*Ho*Wo], rows in (row, column,
 * channel) order, Ho = floor((Hp - 3) / s) + 1. Stride 2 reads every other row and column through a reshape into pairs
 * (Hp and Wp even), which copies a quarter of what slicing full windows would.
 */
function tapsTransposed(xpT: tf.Tensor, stride: 1 | 2): tf.Tensor {
  const [C, N, Hp, Wp] = xpT.shape as number[];
  const Ho = Math.floor((Hp - 3) / stride) + 1;
  const Wo = Math.floor((Wp - 3) / stride) + 1;
  const pairs = stride === 2 ? xpT.reshape([C, N, Hp / 2, 2, Wp / 2, 2]) : null;
  const taps: tf.Tensor[] = [];
  for (let a = 0; a < 3; a++) {
    for (let b = 0; b < 3; b++) {
      const tap = pairs
        ? tf.slice(pairs, [0, 0, a >> 1, a & 1, b >> 1, b & 1], [C, N, Ho, 1, Wo, 1])
        : tf.slice(xpT, [0, 0, a, b], [C, N, Ho, Wo]);
      taps.push(tap.reshape([C, N * Ho * Wo]));
    }
  }
  return tf.concat(taps, 0); // [9C, N*Ho*Wo]
}

/**
 * The gradient of a 'valid' 3x3 convolution's padded input [N, Hp, Wp, C] from its output gradient dy
 * [N, Ho, Wo, O], as one more forward convolution (XNNPACK's fast kernel; wasm's Conv2DBackpropInput is a plain
 * loop, ~5x slower here): dy spread back to the input grid (zeros between the rows and columns of a stride-2 output),
 * zero-padded by 2 (and by whatever rows and columns no output read), correlated with the filter turned by 180
 * degrees, its input and output channels swapped.
 */
function inputGradient(dy: tf.Tensor4D, f: tf.Tensor4D, shape: readonly number[], stride: 1 | 2): tf.Tensor4D {
  const [N, Ho, Wo, O] = dy.shape;
  const [, Hp, Wp] = shape;
  const spread =
    stride === 1
      ? dy
      : tf
          .pad(dy.reshape([N, Ho, 1, Wo, 1, O]), [[0, 0], [0, 0], [0, 1], [0, 0], [0, 1], [0, 0]])
          .reshape([N, 2 * Ho, 2 * Wo, O])
          .slice([0, 0, 0, 0], [N, 2 * Ho - 1, 2 * Wo - 1, O]); // [N, (Ho-1)s+1, (Wo-1)s+1, O]
  const [, U, V] = spread.shape as number[];
  const turned = tf.transpose(tf.reverse(f, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D; // [3, 3, O, C]
  return tf.conv2d(tf.pad(spread, [[0, 0], [2, Hp - U], [2, Wp - V], [0, 0]]) as tf.Tensor4D, turned, 1, "valid");
}

const validConv = (stride: 1 | 2) =>
  // customGrad's typing wants (...inputs: (Tensor | GradSaveFunc)[]); the cast keeps the signature readable.
  tf.customGrad(((xp: tf.Tensor, filter: tf.Tensor, save: tf.GradSaveFunc) => {
    save([xp, filter]);
    return {
      value: tf.conv2d(xp as tf.Tensor4D, filter as tf.Tensor4D, stride, "valid"), // [N, Ho, Wo, O]
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [x, f] = saved as tf.Tensor4D[];
        const [, , C, O] = f.shape;
        const dx = inputGradient(dy as tf.Tensor4D, f, x.shape, stride); // [N, Hp, Wp, C]
        const dw = tf.matMul(tapsTransposed(tf.transpose(x, [3, 0, 1, 2]), stride) as tf.Tensor2D, dy.reshape([-1, O]) as tf.Tensor2D); // [9C, O]
        return [dx, dw.reshape([3, 3, C, O])];
      },
    };
  }) as any) as (xp: tf.Tensor4D, filter: tf.Tensor4D) => tf.Tensor4D;

const VALID_CONV = { 1: validConv(1), 2: validConv(2) } as const;

/**
 * x [N, H, W, C] convolved with a 3x3 filter, zero padding 1, stride 1 or 2 (H and W even), plus bias [O]:
 * -> [N, H/s, W/s, O]. `weight` is [9C, O] with rows in (row, column, channel) order, a Linear's layout over
 * im2col neighbourhoods, so the same parameters serve either way.
 */
export function conv3x3(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | null, stride: 1 | 2): tf.Tensor {
  const [, H, W, C] = x.shape as number[];
  const [rows, O] = weight.shape as number[];
  if (x.rank !== 4 || rows !== 9 * C) throw new FavchatError(`conv3x3: input [${x.shape.join(", ")}] needs a [${9 * C}, O] weight, got [${weight.shape.join(", ")}]`);
  if (stride === 2 && (H % 2 !== 0 || W % 2 !== 0)) throw new FavchatError(`a stride-2 convolution needs an even input size, got ${H}x${W}`);
  return tf.tidy(() => {
    const padded = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]) as tf.Tensor4D;
    const y = VALID_CONV[stride](padded, weight.reshape([3, 3, C, O]) as tf.Tensor4D);
    return bias ? tf.add(y, bias) : y;
  });
}
