// FaVChat's loss: next-token cross-entropy on the target tokens of the spliced sequence, where the single
// <video> id became Q visual positions (which have no target and predict nothing).
import { tf } from "../core/backend.ts";
import { maskedCrossEntropy } from "./loss.ts";

/**
 * Targets and mask [B, T-1+Q] for logits over the spliced sequence. Position j predicts spliced token j+1;
 * it counts when that token is a target token of the original text.
 */
export function splicedTargets(
  ids: readonly (readonly number[])[],
  targetMask: readonly (readonly number[])[],
  videoPositions: readonly number[],
  Q: number,
): { targets: number[][]; mask: number[][] } {
  const targets: number[][] = [];
  const mask: number[][] = [];
  ids.forEach((row, b) => {
    const p = videoPositions[b];
    // -1 marks a visual position: no token to predict there.
    const tokens = [...row.slice(0, p), ...new Array<number>(Q).fill(-1), ...row.slice(p + 1)];
    const isTarget = [...targetMask[b].slice(0, p), ...new Array<number>(Q).fill(0), ...targetMask[b].slice(p + 1)];
    targets.push(tokens.map((_, j) => (j + 1 < tokens.length && tokens[j + 1] >= 0 ? tokens[j + 1] : 0)));
    mask.push(tokens.map((_, j) => (j + 1 < tokens.length ? isTarget[j + 1] : 0)));
  });
  return { targets, mask };
}

/** Mean cross-entropy over target tokens; `logits` [B, T-1+Q, V]. */
export function favchatLoss(
  logits: tf.Tensor,
  ids: readonly (readonly number[])[],
  targetMask: readonly (readonly number[])[],
  videoPositions: readonly number[],
  Q: number,
): tf.Scalar {
  const { targets, mask } = splicedTargets(ids, targetMask, videoPositions, Q);
  const B = targets.length;
  const T = targets[0].length;
  return tf.tidy(() =>
    maskedCrossEntropy(logits, tf.tensor2d(targets, [B, T], "int32"), tf.tensor2d(mask, [B, T], "float32")),
  );
}
