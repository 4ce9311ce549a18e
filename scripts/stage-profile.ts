// Where one micro-batch of a FaVChat training stage spends its time, kernel by kernel, on one thread: the stage's
// task as a training worker builds it (src/train/run-stage.ts createTask, the stage's feature cache when it has one),
// every wasm kernel wrapped with a wall-clock timer as in scripts/kernel-profile.ts.
//   [MAX_TEXT=N] node --import tsx scripts/stage-profile.ts CONFIG DATA/built INIT_MODEL STAGE [REPEATS=6]
// The weights are INIT_MODEL's (the cost does not depend on them, but the freeze plan and shapes do); a stage with
// feature_cache reads the cache `favchat train` would (made by an earlier stage on the same encoders and clips).
// MAX_TEXT=N counts only the micro-batches whose text is at most N tokens: the long ones (about 1 in 6 in stage 2)
// cost 2-4x a short one and make means of a few draws jump.
import { join } from "node:path";
import { initBackend, tf } from "../src/core/backend.ts";
import { readRunConfig } from "../src/train/run-config.ts";
import { createTask } from "../src/train/run-stage.ts";
import { microGrads } from "../src/train/trainer.ts";
import { timeKernels } from "./kernel-timer.ts";
import { loadFavchat } from "../src/model/load.ts";
import { favchatConfigToJson } from "../src/model/config.ts";
import { clipsFileFor, indexClips } from "../src/train/favchat-data.ts";
import { featureCacheKey } from "../src/train/feature-cache.ts";

await initBackend("wasm");
const [configPath, dataDir, init, stageArg, rep] = process.argv.slice(2);
if (!stageArg || !["1", "2", "3", "connector"].includes(stageArg)) {
  console.error("usage: node --import tsx scripts/stage-profile.ts CONFIG DATA/built INIT_MODEL 1|2|3|connector [REPEATS]");
  process.exit(2);
}
const stage = (/^\d$/.test(stageArg) ? Number(stageArg) : stageArg) as 1 | 2 | 3 | "connector";
const repeats = Number(rep ?? 6);
const config = readRunConfig(configPath);
const settings = config.stages[stage]!;
const model = await loadFavchat(init);
const cacheDir = join(dataDir, "feature-cache");
const key = settings.featureCache ? featureCacheKey(model, indexClips(clipsFileFor({ dataDir })).values(), config.frames, settings.featureCache) : undefined;
const task = createTask({ stage, config, dataDir, model: favchatConfigToJson(model.config), tokDir: init, featureCache: key ? { dir: cacheDir, key, variants: settings.featureCache! } : undefined });
const params = new Map([...task.model.namedParams()].map(([n, p]) => [n, p.variable]));
for (const [n, p] of model.namedParams()) params.get(n)?.assign(p.variable);
const { spent, setOn } = timeKernels();
let timingOn = false; // record batch shapes only for timed micro-batches
const trainable = task.model.trainableVariables();
const shapes: string[] = [];
const make = task.makeBatch;
(task as { makeBatch: typeof make }).makeBatch = (...a) => {
  const b = make(...a) as { ids?: tf.Tensor };
  if (timingOn && b.ids) shapes.push(b.ids.shape.join("x"));
  return b;
};
const micro = async (step: number) => {
  const r = await microGrads(task, trainable, settings.trainer.seed, step, 0);
  tf.dispose([...r.grads.values()]);
};
for (let i = 0; i < 3; i++) await micro(i);
setOn((timingOn = true));
const walls: number[] = [];
const maxText = Number(process.env.MAX_TEXT ?? Infinity);
const kept = new Map<string, { ms: number; n: number }>();
for (let i = 0; walls.length < repeats && i < 20 * repeats; i++) {
  spent.clear();
  const t0 = performance.now();
  await micro(100 + i);
  const wall = performance.now() - t0;
  if (Number(shapes[shapes.length - 1]?.split("x")[1]) > maxText) {
    shapes.pop();
    continue;
  }
  walls.push(wall);
  for (const [k, s] of spent) {
    const t = kept.get(k) ?? { ms: 0, n: 0 };
    kept.set(k, { ms: t.ms + s.ms, n: t.n + s.n });
  }
}
spent.clear();
for (const [k, s] of kept) spent.set(k, s);
const byName = new Map<string, number>();
const n = walls.length;
if (n === 0) throw new Error(`no micro-batch of at most MAX_TEXT=${maxText} text tokens in ${20 * repeats} draws`);
for (const [k, s] of spent) byName.set(k.split(" ")[0], (byName.get(k.split(" ")[0]) ?? 0) + s.ms / n);
const total = [...byName.values()].reduce((a, b) => a + b, 0);
const sorted = [...walls].sort((a, b) => a - b);
console.log(`walls ${walls.map((w, i) => `${w.toFixed(0)}(${shapes[i]})`).join(" ")}`);
const calls = [...spent.values()].reduce((a, s) => a + s.n, 0) / n;
console.log(`kernel calls per micro-batch ${calls.toFixed(0)}`);
console.log(`stage ${stage}: wall per micro-batch median ${sorted[Math.floor(n / 2)].toFixed(1)} ms (mean ${(walls.reduce((a, b) => a + b, 0) / n).toFixed(1)}) of ${n}, kernels ${total.toFixed(1)} ms`);
for (const [name, ms] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`  ${name.padEnd(24)} ${ms.toFixed(1)}`);
console.log("costliest (ms per micro-batch, calls, kernel and input shapes):");
for (const [k, s] of [...spent].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(process.env.TOP ?? 40))) console.log(`  ${(s.ms / n).toFixed(2).padStart(7)} x${(s.n / n).toFixed(1)} ${k}`);
const callsByName = new Map<string, number>();
for (const [k, s] of spent) callsByName.set(k.split(" ")[0], (callsByName.get(k.split(" ")[0]) ?? 0) + s.n / n);
console.log("calls per micro-batch by kernel:");
for (const [name, c] of [...callsByName].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`  ${name.padEnd(24)} ${c.toFixed(0)}`);
