// FaVChat's loss: next-token cross-entropy on the target tokens of the spliced sequence, where the single
// <video> id became Q visual positions (which have no target and predict nothing).
import { tf } from "../core/backend.ts";
import { expandTargetsAt } from "../model/favchat.ts";
import { maskedCrossEntropy } from "./loss.ts";

/**
 * Targets and mask [B, T-1+Q] for logits over the spliced sequence: position j predicts spliced token j+1, and
 * counts when that token is a target token of the original text (visual positions predict nothing).
 */
export function splicedTargets(
  ids: readonly (readonly number[])[],
  targetMask: readonly (readonly number[])[],
  videoPositions: readonly number[],
  Q: number,
): { targets: number[][]; mask: number[][] } {
  const shift = (row: readonly number[]) => [...row.slice(1), 0]; // [T]: what each text position predicts
  return {
    targets: ids.map((row, b) => expandTargetsAt(shift(row), videoPositions[b], Q, 0)),
    mask: targetMask.map((row, b) => expandTargetsAt(shift(row), videoPositions[b], Q, 0)),
  };
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
