// A training worker thread (src/train/workers.ts): builds its copy of the task, then for each step takes the
// trainable weights, computes the loss and gradients of the micro-batches it is given, and sends them back.
import { parentPort, workerData } from "node:worker_threads";
import { initBackend, tf, type BackendName } from "../core/backend.ts";
import { FavchatError } from "../core/errors.ts";
import { microGrads, type TrainTask } from "./trainer.ts";
import { wireOf, type FromWorker, type MicroResult, type TaskFactory, type ToWorker, type WireTensor } from "./workers.ts";

const port = parentPort;
if (!port) throw new Error("grad-worker.ts runs as a worker thread (src/train/workers.ts starts it)");
const { factory, backend } = workerData as { factory: TaskFactory; backend: BackendName };
const send = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
const fail = (e: unknown) =>
  send({ type: "error", message: e instanceof Error ? (e instanceof FavchatError ? e.message : e.stack ?? e.message) : String(e), favchat: e instanceof FavchatError });

try {
  await initBackend(backend);
  const mod = (await import(factory.module)) as { createTask(args: unknown): Promise<TrainTask<unknown>> | TrainTask<unknown> };
  const task = await mod.createTask(factory.args);
  const params = new Map([...task.model.namedParams()].map(([n, p]) => [n, p.variable]));
  const trainable = task.model.trainableVariables();
  const assign = (tensors: readonly WireTensor[]) => {
    for (const [name, data, shape] of tensors) {
      const v = params.get(name);
      if (!v) throw new Error(`no parameter "${name}" in the worker's model`);
      const t = tf.tensor(data, shape);
      v.assign(t);
      t.dispose();
    }
  };
  const step = async (m: Extract<ToWorker, { type: "step" }>) => {
    assign(m.tensors);
    const results: MicroResult[] = [];
    for (const micro of m.micros) {
      const { loss, grads } = await microGrads(task, trainable, m.seed, m.step, micro);
      results.push({ micro, loss, grads: wireOf(grads) });
      for (const g of grads.values()) g.dispose();
    }
    send({ type: "grads", results }, results.flatMap((r) => r.grads.map(([, d]) => d.buffer as ArrayBuffer)));
  };
  // One message at a time: the main thread waits for each step's answer before sending the next.
  let queue = Promise.resolve();
  port.on("message", (m: ToWorker) => {
    queue = queue.then(async () => {
      try {
        if (m.type === "weights") assign(m.tensors);
        else if (m.type === "stop") {
          task.dispose?.();
          send({ type: "stopped" });
        } else await step(m);
      } catch (e) {
        fail(e);
      }
    });
  });
  send({ type: "ready", trainable: [...trainable.keys()] });
} catch (e) {
  fail(e);
}
