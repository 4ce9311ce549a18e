// Atomic training checkpoints: OUT/checkpoint/{model.safetensors, optimizer.safetensors, state.json}.
// A new checkpoint is written to a temporary directory and swapped in by renames, so a run killed at any
// moment leaves either the previous checkpoint or the new one, never a half-written mix.
import { existsSync, readFileSync } from "node:fs";
import { mkdir, rename, rm, writeFile, open } from "node:fs/promises";
import { join } from "node:path";
import { FavchatError } from "../core/errors.ts";
import { readSafetensors, writeSafetensors } from "../core/safetensors.ts";
import type { HostTensor } from "../nn/module.ts";

export interface CheckpointState {
  /** Optimizer steps completed. */
  readonly step: number;
  /** Anything the run needs to continue exactly (config, seed, data cursor). */
  readonly run: Record<string, unknown>;
}

export interface Checkpoint {
  readonly state: CheckpointState;
  readonly model: Map<string, HostTensor>;
  readonly optimizer: Map<string, Float32Array>;
}

const CURRENT = "checkpoint";
const OLD = "checkpoint.old";
const TMP = "checkpoint.tmp";

export async function saveCheckpoint(outDir: string, ckpt: Checkpoint): Promise<void> {
  const tmp = join(outDir, TMP);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  await writeSafetensors(join(tmp, "model.safetensors"), ckpt.model);
  const opt = new Map([...ckpt.optimizer].map(([k, v]) => [k, { shape: [v.length], data: v }]));
  await writeSafetensors(join(tmp, "optimizer.safetensors"), opt);
  const statePath = join(tmp, "state.json");
  await writeFile(statePath, JSON.stringify(ckpt.state, null, 2) + "\n");
  const fh = await open(statePath, "r");
  await fh.sync();
  await fh.close();
  // Swap: current -> old, tmp -> current, drop old. A crash between the renames leaves `old`, which load() uses.
  const cur = join(outDir, CURRENT);
  const old = join(outDir, OLD);
  await rm(old, { recursive: true, force: true });
  if (existsSync(cur)) await rename(cur, old);
  await rename(tmp, cur);
  await rm(old, { recursive: true, force: true });
}

/** The latest checkpoint under outDir, or null when there is none. */
export async function loadCheckpoint(outDir: string): Promise<Checkpoint | null> {
  const dir = existsSync(join(outDir, CURRENT)) ? join(outDir, CURRENT) : existsSync(join(outDir, OLD)) ? join(outDir, OLD) : null;
  if (dir === null) return null;
  const statePath = join(dir, "state.json");
  let state: CheckpointState;
  try {
    state = JSON.parse(readFileSync(statePath, "utf8")) as CheckpointState;
  } catch (e) {
    throw new FavchatError(`checkpoint ${statePath} is unreadable (${(e as Error).message}); delete ${dir} to start over, or restore it`, { cause: e });
  }
  if (!Number.isInteger(state.step) || state.step < 0) throw new FavchatError(`checkpoint ${statePath}: "step" must be a whole number, got ${JSON.stringify(state.step)}`);
  const model = await readSafetensors(join(dir, "model.safetensors"));
  const optRaw = await readSafetensors(join(dir, "optimizer.safetensors"));
  const optimizer = new Map([...optRaw].map(([k, v]) => [k, v.data]));
  return { state, model: new Map([...model].map(([k, v]) => [k, { shape: v.shape, data: v.data }])), optimizer };
}
