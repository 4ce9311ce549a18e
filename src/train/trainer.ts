// The supervised training loop shared by every stage: micro-batches with gradient accumulation, global-norm
// clipping, AdamW with warm-up + cosine, evaluation and atomic checkpoints every N steps, metrics as JSONL,
// and resume after a kill. Batches are a pure function of (seed, step, micro-batch), so a resumed run sees
// exactly the data an uninterrupted one would.
import { existsSync, readFileSync, writeFileSync, appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { tf } from "../core/backend.ts";
import { check, FavchatError } from "../core/errors.ts";
import { Rng } from "../core/rng.ts";
import type { Module } from "../nn/module.ts";
import { AdamW } from "./optimizer.ts";
import { GradAccumulator, clipFactor, namedGrads, type GradMap } from "./gradients.ts";
import { lrAt, resolveCosineSchedule } from "./schedule.ts";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import { createProgress, type Progress } from "./progress.ts";
import { GradWorkers, microsOf, resultGrads, type SpawnedWorkers, type TaskFactory } from "./workers.ts";

/** Optimisation settings of one run. */
export interface TrainerConfig {
  /** Optimizer steps in the whole run. */
  readonly totalSteps: number;
  /** Micro-batches per optimizer step (gradient accumulation). */
  readonly gradAccum: number;
  readonly lr: number;
  readonly warmupSteps: number;
  /** Floor of the cosine decay as a fraction of lr. */
  readonly minLrRatio: number;
  readonly weightDecay: number;
  /** Global gradient-norm clip. */
  readonly maxGradNorm: number;
  readonly seed: number;
  /** Save a checkpoint every this many steps (and at the end). */
  readonly checkpointEvery: number;
  /** Run the task's evaluation every this many steps (0: only at the end). */
  readonly evalEvery: number;
}

export const TRAINER_DEFAULTS: TrainerConfig = {
  totalSteps: 100,
  gradAccum: 1,
  lr: 1e-3,
  warmupSteps: 10,
  minLrRatio: 0.1,
  weightDecay: 0.01,
  maxGradNorm: 1.0,
  seed: 0,
  checkpointEvery: 50,
  evalEvery: 0,
};

export function resolveTrainerConfig(partial: Partial<TrainerConfig>): TrainerConfig {
  const c = { ...TRAINER_DEFAULTS, ...partial };
  const whole = (k: keyof TrainerConfig, min: number) =>
    check(Number.isInteger(c[k]) && (c[k] as number) >= min, `training config "${k}" must be a whole number >= ${min}, got ${c[k]}`);
  whole("totalSteps", 1);
  whole("gradAccum", 1);
  whole("warmupSteps", 0);
  whole("checkpointEvery", 1);
  whole("evalEvery", 0);
  whole("seed", 0);
  check(c.lr > 0 && Number.isFinite(c.lr), `training config "lr" must be a positive number, got ${c.lr}`);
  check(c.maxGradNorm > 0, `training config "maxGradNorm" must be positive, got ${c.maxGradNorm}`);
  check(c.warmupSteps <= c.totalSteps, `training config "warmupSteps" (${c.warmupSteps}) exceeds totalSteps (${c.totalSteps})`);
  return c;
}

/** What a stage trains: its model, how to make a batch, and its loss. */
export interface TrainTask<B> {
  /** Checkpointed whole; only its trainable variables are optimised (set the freeze plan before). */
  readonly model: Module;
  /** Micro-batch `micro` of optimizer step `step`, from the rng given (derived from seed, step, micro). */
  makeBatch(step: number, micro: number, rng: Rng): B | Promise<B>;
  /** Scalar loss of a batch (called inside tf.variableGrads). */
  loss(batch: B): tf.Scalar;
  disposeBatch(batch: B): void;
  /** Held-out metrics, e.g. {val_loss, accuracy}. */
  evaluate?(step: number): Promise<Record<string, number>>;
  /** Releases what the task holds beyond tensors (a training worker's open files); called when its worker stops. */
  dispose?(): void;
}

export interface TrainOptions {
  readonly outDir: string;
  /** Continue from OUT/checkpoint when it exists. */
  readonly resume: boolean;
  /** Progress bar on a terminal, plain lines otherwise. */
  readonly tty: boolean;
  readonly label?: string;
  /** Where plain progress lines go (default stderr). */
  readonly log?: (line: string) => void;
  /** Called after each step (tests use it to stop a run part-way). */
  readonly onStep?: (step: number, loss: number) => void;
  /**
   * Share each step's micro-batches among this many threads (src/train/workers.ts); the numbers do not depend on
   * it. Needs `factory`, which rebuilds the task in a worker. Ignored (1) on backends other than wasm and cpu.
   */
  readonly threads?: number;
  readonly factory?: TaskFactory;
  /**
   * Workers already building the task (GradWorkers.spawn with `factory` and the threads `usableThreads` gives); train
   * takes them over, and ends them if it runs on fewer threads.
   */
  readonly spawned?: SpawnedWorkers;
}

/** The rng micro-batch `micro` of step `step` is made from (a worker makes its own batches with it). */
function batchRng(seed: number, step: number, micro: number): Rng {
  return new Rng(seed).fork("batch", step, micro);
}

/** Loss and gradients of micro-batch `micro` of step `step` (the main thread and the workers both use this). */
export async function microGrads<B>(task: TrainTask<B>, trainable: ReadonlyMap<string, tf.Variable>, seed: number, step: number, micro: number): Promise<{ loss: number; grads: GradMap }> {
  const batch = await task.makeBatch(step, micro, batchRng(seed, step, micro));
  try {
    const { value, grads } = tf.variableGrads(() => task.loss(batch), [...trainable.values()]);
    const loss = value.dataSync()[0];
    value.dispose();
    return { loss, grads: namedGrads(grads, trainable) };
  } finally {
    task.disposeBatch(batch);
  }
}

/** Threads a run can use: at most one per micro-batch, and 1 where the backend has its own threads. */
export function usableThreads(want: number, gradAccum: number, backend: string): number {
  check(Number.isInteger(want) && want >= 1, `threads must be a whole number >= 1, got ${want}`);
  if (backend !== "wasm" && backend !== "cpu") return 1;
  return Math.min(want, gradAccum);
}

export interface StepMetrics {
  step: number;
  loss: number;
  lr: number;
  grad_norm: number;
  skipped?: boolean;
  sec: number;
}

export interface TrainSummary {
  readonly startStep: number;
  readonly steps: number;
  readonly finalLoss: number;
  readonly metricsPath: string;
  readonly evals: { step: number; metrics: Record<string, number> }[];
}

export async function train<B>(task: TrainTask<B>, config: TrainerConfig, opts: TrainOptions): Promise<TrainSummary> {
  let taken = false; // whether the loop took over opts.spawned (it ends them itself from then on)
  try {
    return await runTraining(task, config, opts, () => (taken = true));
  } catch (e) {
    if (!taken && opts.spawned) await GradWorkers.discard(opts.spawned);
    throw e;
  }
}

async function runTraining<B>(task: TrainTask<B>, config: TrainerConfig, opts: TrainOptions, takeSpawned: () => void): Promise<TrainSummary> {
  // 1. Output directory, optimizer over the trainable variables, schedule.
  mkdirSync(opts.outDir, { recursive: true });
  const trainable = task.model.trainableVariables();
  if (trainable.size === 0) throw new FavchatError("nothing to train: every parameter is frozen in this stage");
  const opt = new AdamW(trainable, { lr: config.lr, weightDecay: config.weightDecay });
  const schedule = resolveCosineSchedule({ baseLr: config.lr, warmupSteps: config.warmupSteps, totalSteps: config.totalSteps, minLrRatio: config.minLrRatio });
  const metricsPath = join(opts.outDir, "metrics.jsonl");
  const configKey = JSON.stringify(config);

  // 2. Resume: weights, optimizer moments and the step; metrics past the checkpoint are dropped.
  let startStep = 0;
  if (opts.resume) {
    const ckpt = await loadCheckpoint(opts.outDir);
    if (ckpt) {
      if (JSON.stringify(ckpt.state.run.config) !== configKey) {
        throw new FavchatError(
          `cannot resume ${opts.outDir}: its checkpoint was made with another training config; use the same config, or a new --out directory`,
        );
      }
      task.model.loadStateDict(ckpt.model, join(opts.outDir, "checkpoint/model.safetensors"));
      opt.loadState(ckpt.optimizer);
      startStep = ckpt.state.step;
      truncateMetrics(metricsPath, startStep);
    }
  } else if (existsSync(join(opts.outDir, "checkpoint"))) {
    throw new FavchatError(`${opts.outDir} already holds a checkpoint; pass --resume to continue it, or choose another --out directory`);
  }
  if (startStep === 0) writeFileSync(metricsPath, "");

  // 3. The loop (with workers, thread t computes micro-batches t, t+T, ...; gradients are added in micro order).
  const threads = opts.factory ? usableThreads(opts.threads ?? 1, config.gradAccum, tf.getBackend()) : 1;
  const say = opts.log ?? ((l: string) => process.stderr.write(l + "\n"));
  if ((opts.threads ?? 1) > threads) {
    say(opts.factory
      ? `${opts.label ?? "train"}: ${threads} thread(s), not ${opts.threads}: threads share a step's grad_accum micro-batches (${config.gradAccum}), on the wasm or cpu backend (here ${tf.getBackend()})`
      : `${opts.label ?? "train"}: 1 thread, not ${opts.threads}: this task cannot be rebuilt in a worker`);
  }
  if (threads > 1) say(`${opts.label ?? "train"}: ${threads} threads share each step's ${config.gradAccum} micro-batches`);
  takeSpawned();
  if (opts.spawned && opts.spawned.threads !== threads) await GradWorkers.discard(opts.spawned);
  const spawned = opts.spawned?.threads === threads ? opts.spawned : undefined;
  const workers = threads > 1 ? await GradWorkers.start(opts.factory!, threads, task.model, trainable, spawned) : null;
  const progress: Progress = createProgress({ label: opts.label ?? "train", total: config.totalSteps, start: startStep, tty: opts.tty, write: opts.log });
  const evals: { step: number; metrics: Record<string, number> }[] = [];
  let lastLoss = NaN;
  const save = (step: number) =>
    saveCheckpoint(opts.outDir, { state: { step, run: { config } }, model: task.model.stateDict(), optimizer: opt.saveState() });
  try {
    for (let step = startStep; step < config.totalSteps; step++) {
      const t0 = performance.now();
      const remote = workers?.run(step, config.seed, config.gradAccum, trainable);
      remote?.catch(() => {}); // awaited below; a local failure first must not leave it unhandled
      const acc = new GradAccumulator();
      let lossSum = 0;
      // Gradients join the sum in micro-batch order (the same sums whatever the thread count); early arrivals wait.
      const waiting = new Map<number, { loss: number; grads: GradMap }>();
      let next = 0;
      const take = (micro: number, r: { loss: number; grads: GradMap }) => {
        waiting.set(micro, r);
        for (let q = waiting.get(next); q; q = waiting.get(next)) {
          waiting.delete(next++);
          lossSum += q.loss;
          acc.add(q.grads);
        }
      };
      for (const micro of microsOf(0, threads, config.gradAccum)) take(micro, await microGrads(task, trainable, config.seed, step, micro));
      if (remote) for (const [micro, r] of resultGrads(await remote)) take(micro, r);
      // The mean over micro-batches (1 / gradAccum) and clipping's factor are applied inside the optimizer's pass
      // (src/core/adamw.wat), not as passes of their own.
      const grads = acc.finish(1);
      const mean = 1 / config.gradAccum;
      const { norm: gradNorm, factor } = clipFactor(grads, config.maxGradNorm, mean);
      const loss = lossSum / config.gradAccum;
      const lr = lrAt(step, schedule);
      const skipped = !Number.isFinite(gradNorm) || !Number.isFinite(loss);
      if (!skipped) opt.step(grads, lr, factor * mean);
      for (const g of grads.values()) g.dispose();
      lastLoss = loss;
      const m: StepMetrics = { step: step + 1, loss, lr, grad_norm: gradNorm, sec: (performance.now() - t0) / 1000 };
      if (skipped) m.skipped = true;
      appendFileSync(metricsPath, JSON.stringify(m) + "\n");
      progress.update(step + 1, `loss ${loss.toFixed(4)} lr ${lr.toExponential(2)}`);
      const done = step + 1;
      if (task.evaluate && config.evalEvery > 0 && done % config.evalEvery === 0 && done < config.totalSteps) {
        evals.push(await runEval(task, done, metricsPath));
      }
      if (done % config.checkpointEvery === 0 || done === config.totalSteps) await save(done);
      opts.onStep?.(done, loss);
    }
    if (task.evaluate) evals.push(await runEval(task, config.totalSteps, metricsPath));
  } finally {
    progress.stop();
    opt.dispose();
    await workers?.stop();
  }
  return { startStep, steps: config.totalSteps - startStep, finalLoss: lastLoss, metricsPath, evals };
}

async function runEval<B>(task: TrainTask<B>, step: number, metricsPath: string): Promise<{ step: number; metrics: Record<string, number> }> {
  const metrics = await task.evaluate!(step);
  appendFileSync(metricsPath, JSON.stringify({ step, eval: metrics }) + "\n");
  return { step, metrics };
}

/** Keeps metric lines up to `step` (a resumed run rewrites what came after its checkpoint). */
function truncateMetrics(path: string, step: number): void {
  if (!existsSync(path)) return;
  const kept = readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => {
      if (!line.trim()) return false;
      try {
        return (JSON.parse(line) as { step: number }).step <= step;
      } catch {
        return false; // a line cut by the kill
      }
    });
  writeFileSync(path, kept.map((l) => l + "\n").join(""));
}
