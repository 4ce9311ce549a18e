// One language-model training step: forward, masked cross-entropy, backward, clip, AdamW.
// Everything the step allocates is released before it returns (STYLE.md 6).
import { tf } from "../core/backend.ts";
import type { Qwen2ForCausalLM } from "../model/llm/qwen2.ts";
import type { AdamW } from "./optimizer.ts";
import { clipByGlobalNorm, namedGrads } from "./gradients.ts";
import { maskedCrossEntropy } from "./loss.ts";

export interface LmBatch {
  /** Input ids [B, T] (int32). */
  readonly ids: tf.Tensor;
  /** Next-token targets [B, T] (int32). */
  readonly targets: tf.Tensor;
  /** 1 where the target counts in the loss (answer tokens), 0 elsewhere [B, T]. */
  readonly mask: tf.Tensor;
}

export interface StepResult {
  readonly loss: number;
  /** Global gradient norm before clipping. */
  readonly gradNorm: number;
  /** False when the gradient was not finite and the update was skipped. */
  readonly applied: boolean;
}

export function lmTrainStep(model: Qwen2ForCausalLM, opt: AdamW, batch: LmBatch, lr: number, maxGradNorm = 1.0): StepResult {
  const trainable = model.trainableVariables();
  const { value, grads } = tf.variableGrads(
    () => maskedCrossEntropy(model.forward({ ids: batch.ids }), batch.targets, batch.mask),
    [...trainable.values()],
  );
  const named = namedGrads(grads, trainable);
  const loss = value.dataSync()[0];
  value.dispose();
  const gradNorm = clipByGlobalNorm(named, maxGradNorm);
  const applied = Number.isFinite(gradNorm) && Number.isFinite(loss);
  if (applied) opt.step(named, lr);
  for (const g of named.values()) g.dispose();
  return { loss, gradNorm, applied };
}
