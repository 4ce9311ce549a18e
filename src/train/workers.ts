// Data parallelism over worker threads (ours; DESIGN 5: wasm runs one thread per isolate, so one training process
// uses one core). Each optimizer step's micro-batches are shared round-robin between the main thread (micro 0,
// T, 2T, ...) and T-1 workers (micro w, w+T, ...). A worker holds its own copy of the task, rebuilt from a module
// and JSON arguments, receives the trainable weights at every step, and sends back each of its micro-batches'
// loss and gradients. The main thread adds the gradients in micro-batch order, so a run gives the same numbers
// whatever the thread count (the same as gradient accumulation on one thread), then clips and steps the optimizer
// alone. Batches are a pure function of (seed, step, micro), which is what lets a worker make its own.
import { Worker } from "node:worker_threads";
import { tf } from "../core/backend.ts";
import { FavchatError } from "../core/errors.ts";
import type { Module } from "../nn/module.ts";
import type { GradMap } from "./gradients.ts";

/** How a worker rebuilds the task: `module` (a file URL) exports `createTask(args)`. */
export interface TaskFactory {
  readonly module: string;
  readonly args: unknown;
}

/** One tensor across threads, in the variable's own layout. */
export type WireTensor = [name: string, data: Float32Array, shape: number[]];

export type ToWorker =
  | { type: "weights"; tensors: WireTensor[] }
  | { type: "step"; step: number; seed: number; micros: number[]; tensors: WireTensor[] }
  | { type: "stop" };

export interface MicroResult {
  readonly micro: number;
  readonly loss: number;
  readonly grads: WireTensor[];
}

export type FromWorker =
  | { type: "ready"; trainable: string[] }
  | { type: "grads"; results: MicroResult[] }
  | { type: "stopped" }
  | { type: "error"; message: string; favchat: boolean };

/** The micro-batches thread `thread` (0: the main thread) computes, of `count`, over `threads` threads. */
export function microsOf(thread: number, threads: number, count: number): number[] {
  const out: number[] = [];
  for (let m = thread; m < count; m += threads) out.push(m);
  return out;
}

/**
 * The tensors' values, ready to transfer. wasm's dataSync returns a fresh copy of the heap bytes, which can be
 * transferred as it is; the cpu backend's is its own storage, so that is copied first.
 */
export function wireOf(vars: ReadonlyMap<string, tf.Tensor>): WireTensor[] {
  const fresh = tf.getBackend() === "wasm";
  return [...vars].map(([name, v]) => {
    const d = v.dataSync() as Float32Array;
    return [name, fresh ? d : new Float32Array(d), v.shape.slice()];
  });
}

/** Workers started by GradWorkers.spawn, still building their tasks. */
export interface SpawnedWorkers {
  readonly workers: Worker[];
  readonly threads: number;
  /** Each worker's first message ("ready" once its task is built). */
  readonly ready: Promise<FromWorker[]>;
}

/** The worker threads of one training run. */
export class GradWorkers {
  private constructor(
    private readonly workers: Worker[],
    private readonly threads: number,
  ) {}

  /**
   * Starts `threads - 1` workers, each building its task from `factory` at once (a stage's set-up, mostly encoding its
   * examples, takes as long on a worker as on the main thread: start them before building the main thread's task, and
   * pass the result to `start`).
   */
  static spawn(factory: TaskFactory, threads: number): SpawnedWorkers {
    const tsxApi = import.meta.resolve("tsx/esm/api");
    const entry = new URL("./grad-worker.ts", import.meta.url).href;
    // The worker loads TypeScript through tsx, as bin/favchat does (workers do not inherit the parent's loader).
    const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
    const workers: Worker[] = [];
    for (let w = 1; w < threads; w++) workers.push(new Worker(boot, { eval: true, workerData: { factory, backend: tf.getBackend() } }));
    const ready = Promise.all(workers.map((w) => reply(w)));
    ready.catch(() => {}); // awaited in start; a failure before then must not be reported as unhandled
    return { workers, threads, ready };
  }

  /**
   * The workers of `spawned` (or new ones) once each has built the task from `factory`, given every parameter of
   * `model` (frozen ones too: a worker's own initialisation need not match). Checks that each worker trains the same
   * variables as `trainable`.
   */
  static async start(factory: TaskFactory, threads: number, model: Module, trainable: ReadonlyMap<string, tf.Variable>, spawned?: SpawnedWorkers): Promise<GradWorkers> {
    const { workers, ready: readyReplies } = spawned ?? GradWorkers.spawn(factory, threads);
    if (workers.length !== threads - 1) throw new Error(`training workers: ${workers.length} spawned for ${threads} threads`);
    const pool = new GradWorkers(workers, threads);
    try {
      const ready = await readyReplies;
      const want = [...trainable.keys()].sort().join(",");
      for (const r of ready) {
        if (r.type !== "ready") throw new Error(`training worker: expected "ready", got "${r.type}"`);
        if ([...r.trainable].sort().join(",") !== want) {
          throw new Error(`training worker trains other variables than the main thread (${r.trainable.length} vs ${trainable.size})`);
        }
      }
      const all = new Map([...model.namedParams()].map(([n, p]) => [n, p.variable as tf.Tensor]));
      for (const w of workers) w.postMessage({ type: "weights", tensors: wireOf(all) } satisfies ToWorker);
      return pool;
    } catch (e) {
      await pool.stop();
      throw e;
    }
  }

  /** Ends workers that were spawned but will not be used. */
  static async discard(spawned: SpawnedWorkers): Promise<void> {
    await new GradWorkers(spawned.workers, spawned.threads).stop();
  }

  /**
   * Sends the current trainable weights and each worker's micro-batches of this step; resolves to their
   * results (all workers), in no particular order. The main thread computes its own micro-batches meanwhile.
   */
  async run(step: number, seed: number, microCount: number, trainable: ReadonlyMap<string, tf.Variable>): Promise<MicroResult[]> {
    const weights = wireOf(trainable);
    const replies = this.workers.map((w, i) => {
      const micros = microsOf(i + 1, this.threads, microCount);
      if (micros.length === 0) return Promise.resolve<MicroResult[]>([]);
      const r = reply(w);
      // Each worker gets its own copy to own (transferring one set to two workers is impossible).
      const tensors: WireTensor[] = i === this.workers.length - 1 ? weights : weights.map(([n, d, s]) => [n, d.slice(), s]);
      w.postMessage({ type: "step", step, seed, micros, tensors } satisfies ToWorker, tensors.map(([, d]) => d.buffer as ArrayBuffer));
      return r.then((m) => {
        if (m.type !== "grads") throw new Error(`training worker: expected "grads", got "${m.type}"`);
        return m.results;
      });
    });
    return (await Promise.all(replies)).flat();
  }

  /** Asks each worker to release its task (its answer awaited at most a second: a failed worker may never give it), then ends it. */
  async stop(): Promise<void> {
    await Promise.all(
      this.workers.map(async (w) => {
        const done = reply(w).catch(() => undefined);
        w.postMessage({ type: "stop" } satisfies ToWorker);
        await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
        await w.terminate();
      }),
    );
  }
}

/** The worker's next message, or its failure as an error (a FavchatError stays one, so the CLI shows it plainly). */
function reply(w: Worker): Promise<FromWorker> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: FromWorker) => {
      off();
      if (m.type === "error") reject(m.favchat ? new FavchatError(m.message) : new Error(`training worker: ${m.message}`));
      else resolve(m);
    };
    const onError = (e: Error) => {
      off();
      reject(new Error(`training worker failed: ${e.message}`));
    };
    const onExit = (code: number) => {
      off();
      reject(new Error(`training worker exited (code ${code}) before answering`));
    };
    const off = () => {
      w.off("message", onMessage);
      w.off("error", onError);
      w.off("exit", onExit);
    };
    w.on("message", onMessage);
    w.on("error", onError);
    w.on("exit", onExit);
  });
}

/** A worker's results as gradient maps on this thread, keyed by micro-batch. */
export function resultGrads(results: readonly MicroResult[]): Map<number, { loss: number; grads: GradMap }> {
  return new Map(results.map((r) => [r.micro, { loss: r.loss, grads: new Map(r.grads.map(([n, d, s]) => [n, tf.tensor(d, s)])) }]));
}
