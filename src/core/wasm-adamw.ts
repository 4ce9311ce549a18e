// A fused AdamW kernel for tfjs-backend-wasm (issue 2), and a one-pass sum of squares for the gradients' norm. The
// op form in src/train/optimizer.ts runs 11 kernels per parameter, each a pass over memory with a fresh output; the
// fused one reads parameter, gradient and both moments once and writes the three results (src/core/adamw.wat, SIMD;
// bit-identical to the op form). The module is
// instantiated over tfjs-wasm's own heap, so no data is copied. On other backends, or a threaded (shared-memory)
// wasm build, `fusedAdamW` returns null and the caller uses the op form. The same module holds the SIMD transpose
// and batched matmul that src/core/wasm-kernels.ts registers (`kernelsFor`, `heapOffset`).
import * as tf from "@tensorflow/tfjs";
import { ADAMW_WASM_BASE64 } from "./wasm-adamw-bytes.ts";

export const FUSED_ADAMW = "FavchatAdamW";

/** Scalars of one update, as the op form computes them (float64, applied as float32). */
export interface AdamWScalars {
  readonly beta1: number;
  readonly beta2: number;
  readonly bc2Sqrt: number;
  readonly eps: number;
  readonly stepSize: number;
  readonly shrink: number;
  /** Factor the gradient is multiplied by first (gradient clipping's; 1 for none). */
  readonly gradScale: number;
}

export interface WasmBackendLike {
  wasm: { asm?: { memory?: WebAssembly.Memory } };
  dataIdMap: { get(id: tf.DataId): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

interface Kernels {
  adamw(...args: number[]): void;
  sumsq(ptr: number, n: number): number;
  transpose(src: number, dst: number, rows: number, cols: number): void;
  matmul(a: number, b: number, c: number, m: number, k: number, p: number): void;
}
let kernels: Kernels | null | undefined;

/** Where tensor `t`'s data starts in the backend's heap (bytes): what the module's kernels take as a pointer. */
export function heapOffset(backend: WasmBackendLike, t: tf.TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset;
}

/** The compiled kernels over the backend's heap; null where they cannot run (no exported memory, shared memory). */
export function kernelsFor(backend: WasmBackendLike): Kernels | null {
  if (kernels !== undefined) return kernels;
  const memory = backend.wasm.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory) || !(memory.buffer instanceof ArrayBuffer)) return (kernels = null);
  const module = new WebAssembly.Module(Buffer.from(ADAMW_WASM_BASE64, "base64"));
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return (kernels = instance.exports as unknown as Kernels);
}

tf.registerKernel({
  kernelName: FUSED_ADAMW,
  backendName: "wasm",
  kernelFunc: ({ inputs, backend, attrs }) => {
    const b = backend as unknown as WasmBackendLike;
    const run = kernelsFor(b)!.adamw;
    const { p, g, m, v } = inputs as Record<string, tf.TensorInfo>;
    const s = attrs as unknown as AdamWScalars;
    const outs = [b.makeOutput(p.shape, "float32"), b.makeOutput(p.shape, "float32"), b.makeOutput(p.shape, "float32")];
    const at = (t: tf.TensorInfo) => heapOffset(b, t);
    const n = p.shape.reduce((a, d) => a * d, 1);
    run(at(p), at(g), at(m), at(v), at(outs[0]), at(outs[1]), at(outs[2]), n, s.beta1, 1 - s.beta1, s.beta2, 1 - s.beta2, s.bc2Sqrt, s.eps, s.stepSize, s.shrink, s.gradScale);
    return outs;
  },
});

/** Whether `fusedAdamW` can run on the current backend. */
export function fusedAdamWAvailable(): boolean {
  if (tf.getBackend() !== "wasm") return false;
  return kernelsFor(tf.backend() as unknown as WasmBackendLike) !== null;
}

/**
 * The sum of squares of every element of `tensors` (float32), accumulated in float64 in one pass over each, read
 * without copying; null where the kernel cannot run.
 */
export function fusedSumOfSquares(tensors: Iterable<tf.Tensor>): number | null {
  if (!fusedAdamWAvailable()) return null;
  const b = tf.backend() as unknown as WasmBackendLike;
  const { sumsq } = kernelsFor(b)!;
  let total = 0;
  for (const t of tensors) {
    if (t.dtype !== "float32") return null;
    total += sumsq(heapOffset(b, t), t.size);
  }
  return total;
}

/** [param', m', v'] for one parameter, or null where the fused kernel cannot run (use the op form). */
export function fusedAdamW(p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, s: AdamWScalars): [tf.Tensor, tf.Tensor, tf.Tensor] | null {
  if (!fusedAdamWAvailable()) return null;
  return tf.engine().runKernel(FUSED_ADAMW, { p, g, m, v }, s as unknown as tf.NamedAttrMap) as unknown as [tf.Tensor, tf.Tensor, tf.Tensor];
}
