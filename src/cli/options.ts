// Parsing helpers for CLI option values: each failure names the flag, the value and what is expected.
import { FavchatError } from "../core/errors.ts";
import { initBackend, type BackendName } from "../core/backend.ts";
import type { Command } from "commander";

export function parseIntOption(flag: string, min = 0): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new FavchatError(`${flag} must be an integer >= ${min}, got "${value}"`);
    return n;
  };
}

export function parseFloatOption(flag: string, min: number, max = Infinity): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max) throw new FavchatError(`${flag} must be a number in [${min}, ${max}], got "${value}"`);
    return n;
  };
}

/** A flag whose value must be one of `allowed`. */
export function choice<T extends string>(flag: string, allowed: readonly T[]): (v: string) => T {
  return (v) => {
    if (!(allowed as readonly string[]).includes(v)) throw new FavchatError(`${flag} must be one of ${allowed.join(", ")}, got "${v}"`);
    return v as T;
  };
}

/** "1,2,3" -> [1, 2, 3]; every id a non-negative integer below `vocab` when given. */
export function parseIds(flag: string, value: string, vocab?: number): number[] {
  const parts = value.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  if (parts.length === 0) throw new FavchatError(`${flag} needs at least one token id, e.g. ${flag} 1,2,3`);
  return parts.map((p) => {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 0) throw new FavchatError(`${flag}: "${p}" is not a token id (non-negative integer)`);
    if (vocab !== undefined && n >= vocab) throw new FavchatError(`${flag}: token id ${n} is outside the vocabulary (size ${vocab})`);
    return n;
  });
}

/** Initialises the backend named by the global --backend flag. */
export async function backendFromGlobals(cmd: Command): Promise<string> {
  const name = (cmd.optsWithGlobals() as { backend?: string }).backend ?? "auto";
  return initBackend(name as BackendName);
}
