// Wall-clock time per (wasm kernel, input shapes), for the profiling scripts (kernel-profile.ts, stage-profile.ts):
// wraps every wasm kernel's function with a timer while `on` is true (wasm kernels run synchronously, so the time is
// the kernel's own). tf.profile's kernel times add its own per-kernel overhead; this does not.
import { tf } from "../src/core/backend.ts";

export function timeKernels(): { spent: Map<string, { ms: number; n: number }>; setOn(on: boolean): void } {
  const spent = new Map<string, { ms: number; n: number }>();
  let timing = false;
  for (const k of tf.getKernelsForBackend("wasm")) {
    const run = k.kernelFunc;
    (k as { kernelFunc: tf.KernelFunc }).kernelFunc = (args) => {
      if (!timing) return run(args);
      const t0 = performance.now();
      const out = run(args);
      const key = `${k.kernelName} ${Object.values(args.inputs).map((t) => `[${(t as tf.TensorInfo).shape}]`).join("x")}`;
      const s = spent.get(key) ?? { ms: 0, n: 0 };
      spent.set(key, { ms: s.ms + performance.now() - t0, n: s.n + 1 });
      return out;
    };
  }
  return { spent, setOn: (on) => (timing = on) };
}
