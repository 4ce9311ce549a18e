// Language-model loss: token-level cross-entropy on the positions a mask selects (answer tokens only,
// DESIGN 2). One-hot targets instead of gather: gather's gradient has no wasm kernel.
import { tf } from "../core/backend.ts";

/**
 * Mean cross-entropy of logits [B, T, V] predicting targets [B, T] (int32), over positions where
 * mask [B, T] is 1. Targets are already shifted (target t is the token after position t).
 */
export function maskedCrossEntropy(logits: tf.Tensor, targets: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const V = logits.shape[2] as number;
    const logp = tf.logSoftmax(logits, -1); // [B, T, V]
    const picked = tf.sum(tf.mul(logp, tf.oneHot(targets, V)), -1); // [B, T]
    const m = mask.toFloat();
    const count = tf.maximum(tf.sum(m), 1);
    return tf.div(tf.neg(tf.sum(tf.mul(picked, m))), count) as tf.Scalar;
  });
}
