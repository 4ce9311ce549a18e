// Reading a model directory's config.json: the directory and file must exist and hold a JSON object. The
// messages name the directory kind so a user knows what was expected there.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { FavchatError } from "./errors.ts";

/**
 * DIR/config.json as an object. `kind` completes "DIR does not exist; <missingDir>" and
 * "DIR has no config.json; <missingFile>" so each loader says what it wanted.
 */
export function readConfigJson(dir: string, hints: { missingDir: string; missingFile: string }): { path: string; raw: Record<string, unknown> } {
  if (!existsSync(dir)) throw new FavchatError(`${dir} does not exist; ${hints.missingDir}`);
  const path = join(dir, "config.json");
  if (!existsSync(path)) throw new FavchatError(`${dir} has no config.json; ${hints.missingFile}`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new FavchatError(`${path} is not valid JSON (${(err as Error).message})`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new FavchatError(`${path} must hold a JSON object`);
  return { path, raw: raw as Record<string, unknown> };
}
