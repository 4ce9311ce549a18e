// Leak check for training and inference loops (STYLE.md 6): run a step function many times and
// compare tf.memory() after a few warm-up steps (which may allocate lasting state, e.g. optimizer
// moments or caches) with the end.
import * as tf from "@tensorflow/tfjs";

export interface TensorCountReport {
  /** Live tensors after the warm-up steps, and after all steps. */
  readonly before: number;
  readonly after: number;
  /** The same for bytes held by tensors. */
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  /** "tensor count flat over 100 steps (57 live)" or what grew, per step. */
  readonly message: string;
  readonly flat: boolean;
}

/** Runs `step(i)` for i in [0, warmup + steps) and reports whether live tensors stayed flat. */
export async function trackTensorCount(
  step: (i: number) => void | Promise<void>,
  options: { readonly steps: number; readonly warmup?: number },
): Promise<TensorCountReport> {
  const warmup = options.warmup ?? 1;
  for (let i = 0; i < warmup; i++) await step(i);
  const m0 = tf.memory();
  for (let i = warmup; i < warmup + options.steps; i++) await step(i);
  const m1 = tf.memory();
  const flat = m1.numTensors === m0.numTensors && m1.numBytes === m0.numBytes;
  const grew = m1.numTensors - m0.numTensors;
  const message = flat
    ? `tensor count flat over ${options.steps} steps (${m1.numTensors} live, ${m1.numBytes} bytes)`
    : `live tensors went from ${m0.numTensors} to ${m1.numTensors} (${(grew / options.steps).toFixed(2)} per step) and ` +
      `bytes from ${m0.numBytes} to ${m1.numBytes} over ${options.steps} steps: something is not disposed`;
  return { before: m0.numTensors, after: m1.numTensors, bytesBefore: m0.numBytes, bytesAfter: m1.numBytes, message, flat };
}
