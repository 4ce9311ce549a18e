// Loading and saving a SigLIP vision tower in Hugging Face layout: config.json (model_type "siglip" with
// vision_config, or "siglip_vision_model") plus model.safetensors (or shards), weights named vision_model.*.
// The pooling head and a full SigLIP's text tower are not used by favchat: they are reported, never an error.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { readConfigJson } from "../../core/config-file.ts";
import { FavchatError } from "../../core/errors.ts";
import { loadSafetensorsDir, writeSafetensors } from "../../core/safetensors.ts";
import type { HostTensor } from "../../nn/module.ts";
import { resolveSiglipVisionConfig, siglipVisionConfigToJson, type SiglipVisionConfig } from "./config.ts";
import { SiglipVisionTower } from "./siglip.ts";

/** Reads and resolves DIR/config.json as a SigLIP vision tower. */
export function readSiglipVisionConfig(dir: string): SiglipVisionConfig {
  const { path, raw } = readConfigJson(dir, { missingDir: "pass a local siglip-* checkpoint directory", missingFile: "is it a Hugging Face SigLIP checkpoint directory?" });
  // A config without model_type is accepted as bare fields elsewhere (sub-configs), but a checkpoint directory
  // must say what it is: otherwise a Qwen2 or CLIP directory without the key would half-load.
  if (raw["model_type"] === undefined) {
    throw new FavchatError(`${path} has no "model_type"; a SigLIP checkpoint says "siglip" or "siglip_vision_model"`);
  }
  return resolveSiglipVisionConfig(raw, path);
}

/** Checkpoint names favchat deliberately does not use: the pooling head, the text tower, the contrastive scale. */
export function isIgnoredSiglipTensor(name: string): boolean {
  return !name.startsWith("vision_model.") || name.startsWith("vision_model.head.");
}

/**
 * Loads `weights` into `tower`; returns the names it did not use (all of them ignorable, see
 * isIgnoredSiglipTensor). Any other leftover vision_model.* tensor means the checkpoint and config disagree.
 */
export function loadSiglipVisionWeights(tower: SiglipVisionTower, weights: ReadonlyMap<string, HostTensor>, source: string): string[] {
  const unused = tower.loadStateDict(weights, source);
  const unexpected = unused.filter((n) => !isIgnoredSiglipTensor(n));
  if (unexpected.length > 0) {
    throw new FavchatError(
      `${source}: ${unexpected.length} vision tensor(s) not used by a SigLIP tower with this config, e.g. ` +
        `${unexpected.slice(0, 3).join(", ")}; the checkpoint does not match its config.json`,
    );
  }
  return unused;
}

export interface LoadedSiglipVision {
  readonly tower: SiglipVisionTower;
  /** Checkpoint tensors not used (vision_model.head.*, text_model.*, logit_scale, ...). */
  readonly unused: string[];
}

/** Builds the tower from DIR/config.json and loads its weights, with the list of unused tensors. */
export async function loadSiglipVisionWithReport(dir: string): Promise<LoadedSiglipVision> {
  const config = readSiglipVisionConfig(dir);
  const weights = await loadSafetensorsDir(dir);
  const tower = new SiglipVisionTower(config, null);
  try {
    return { tower, unused: loadSiglipVisionWeights(tower, weights, dir) };
  } catch (err) {
    tower.dispose();
    throw err;
  }
}

/** Builds the tower from DIR/config.json and loads its weights. */
export async function loadSiglipVision(dir: string): Promise<SiglipVisionTower> {
  return (await loadSiglipVisionWithReport(dir)).tower;
}

/** Writes config.json (siglip_vision_model) and model.safetensors (F32) to DIR. */
export async function saveSiglipVision(tower: SiglipVisionTower, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeSafetensors(join(dir, "model.safetensors"), tower.stateDict(), { format: "pt" });
  await writeFile(join(dir, "config.json"), JSON.stringify(siglipVisionConfigToJson(tower.config), null, 2) + "\n");
}
