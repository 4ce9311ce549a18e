// Where one training micro-batch's time goes, kernel by kernel (issue 2): wraps every wasm kernel's function with a
// wall-clock timer (wasm kernels run synchronously, so the time is the kernel's own) and runs the LLM benchmark's
// micro-batch (bench/llm.bench.ts: 2 x 128 tokens, hidden 256, 4 layers) on one thread.
//   node --import tsx scripts/kernel-profile.ts [REPEATS=5]
// Prints the wall time per micro-batch, the kernels' total, the time per kernel name and the 40 costliest
// (kernel, input shapes) pairs. tf.profile's kernel times add its own per-kernel overhead; this does not.
import { initBackend, tf } from "../src/core/backend.ts";
import { createTask } from "../bench/llm.bench.ts";
import { microGrads } from "../src/train/trainer.ts";
import { timeKernels } from "./kernel-timer.ts";

await initBackend("wasm");
const repeats = Number(process.argv[2] ?? 5);
const { spent, setOn } = timeKernels();
const task = createTask();
const trainable = task.model.trainableVariables();
const micro = async (step: number) => {
  const r = await microGrads(task, trainable, 0, step, 0);
  tf.dispose([...r.grads.values()]);
};
for (let i = 0; i < 3; i++) await micro(i); // warm-up
setOn(true);
let wall = 0;
for (let i = 0; i < repeats; i++) {
  const t0 = performance.now();
  await micro(i);
  wall += performance.now() - t0;
}
const byName = new Map<string, number>();
for (const [key, s] of spent) byName.set(key.split(" ")[0], (byName.get(key.split(" ")[0]) ?? 0) + s.ms / repeats);
const total = [...byName.values()].reduce((a, b) => a + b, 0);
console.log(`wall per micro-batch ${(wall / repeats).toFixed(1)} ms, kernels ${total.toFixed(1)} ms`);
for (const [name, ms] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`  ${name.padEnd(24)} ${ms.toFixed(1)}`);
console.log("costliest (ms per micro-batch, calls, kernel and input shapes):");
for (const [key, s] of [...spent].sort((a, b) => b[1].ms - a[1].ms).slice(0, 40)) {
  console.log(`  ${(s.ms / repeats).toFixed(2).padStart(7)} x${s.n / repeats} ${key}`);
}
