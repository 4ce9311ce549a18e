// Backend choice at start-up (DESIGN 5): tfjs-node when the user installed it, else wasm (SIMD), else cpu.
// `initBackend("wasm")` forces one. tfjs-node is never required: it is imported only if it resolves.
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import "./wasm-kernels.ts";
import { FavchatError } from "./errors.ts";

export type BackendName = "auto" | "tensorflow" | "wasm" | "cpu";
export const BACKENDS: readonly BackendName[] = ["auto", "tensorflow", "wasm", "cpu"];

let tfjsNodeTried = false;

async function tryLoadTfjsNode(): Promise<boolean> {
  if (tfjsNodeTried) return tf.findBackend("tensorflow") !== null;
  tfjsNodeTried = true;
  try {
    // A variable specifier keeps bundlers and the type checker from requiring the package.
    const name = "@tensorflow/tfjs-node";
    await import(name);
    return tf.findBackend("tensorflow") !== null;
  } catch {
    return false;
  }
}

/** Selects and initialises a backend; returns the name in use. Idempotent. */
export async function initBackend(want: BackendName = "auto"): Promise<string> {
  if (!BACKENDS.includes(want)) {
    throw new FavchatError(`unknown backend "${want}"; choose one of ${BACKENDS.join(", ")}`);
  }
  if (want === "auto" || want === "tensorflow") {
    if (await tryLoadTfjsNode()) {
      await tf.setBackend("tensorflow");
      await tf.ready();
      return tf.getBackend();
    }
    if (want === "tensorflow") {
      throw new FavchatError(
        "backend 'tensorflow' needs @tensorflow/tfjs-node, which is not installed; install it (npm i @tensorflow/tfjs-node) or use --backend wasm",
      );
    }
    want = "wasm";
  }
  if (tf.getBackend() !== want) {
    const ok = await tf.setBackend(want);
    if (!ok) throw new FavchatError(`could not initialise the ${want} backend; try --backend cpu`);
  }
  await tf.ready();
  return tf.getBackend();
}

export { tf };
