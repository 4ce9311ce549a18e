// A FaVChat model directory: config.json (model_type "favchat" with a sub-config per part), model.safetensors (every
// parameter by its checkpoint name, F32) and the tokenizer files. Saving then loading gives back the same tensors
// bit for bit; a directory of another kind, or weights that do not fit the config, is a clear error.
import { copyFile, mkdir, rename, writeFile } from "node:fs/promises";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { readConfigJson } from "../core/config-file.ts";
import { FavchatError } from "../core/errors.ts";
import { SafetensorsDir, loadSafetensorsDir, writeSafetensors } from "../core/safetensors.ts";
import { FAVCHAT_MODEL_TYPE, favchatConfigToJson, resolveFavchatConfig, type FavchatConfig } from "./config.ts";
import { FavChat } from "./favchat.ts";
import { readQwen2Config } from "./llm/load.ts";
import { readSiglipVisionConfig, loadSiglipVisionWeights } from "./vision/load.ts";

/** Tokenizer files copied with a model when present (Hugging Face names). */
export const TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json", "vocab.json", "merges.txt"];

/** Reads and resolves DIR/config.json as a favchat config. */
export function readFavchatConfig(dir: string): FavchatConfig {
  const { path, raw } = readConfigJson(dir, { missingDir: "pass --model DIR with a favchat model (e.g. models/favchat-tiny)", missingFile: "a favchat model directory holds config.json, model.safetensors and tokenizer files" });
  const modelType = raw.model_type;
  if (modelType !== FAVCHAT_MODEL_TYPE) {
    const kind = modelType === undefined ? "has no model_type" : `has model_type ${JSON.stringify(modelType)}`;
    throw new FavchatError(
      `${path} ${kind}: ${dir} is not a favchat model directory (expected model_type "${FAVCHAT_MODEL_TYPE}"). ` +
        `A bare LLM or SigLIP checkpoint can initialise a part of a new model, not be loaded as one`,
    );
  }
  if (raw.preset !== undefined) {
    throw new FavchatError(`${path} names a preset; a model directory's config.json lists every field (it is written by saveFavchat)`);
  }
  return resolveFavchatConfig(raw, path);
}

/**
 * When DIR has a tokenizer.json, its video placeholder must be the token config.json names: a mismatch would splice
 * the video at the wrong token (or nowhere) without any other symptom.
 */
export function checkVideoToken(dir: string, config: FavchatConfig): void {
  const path = join(dir, "tokenizer.json");
  if (!existsSync(path)) return;
  let tok: { added_tokens?: { id: number; content: string }[]; model?: { vocab?: Record<string, number> | unknown[] } };
  try {
    tok = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new FavchatError(`${path} is not valid JSON (${(err as Error).message})`);
  }
  const added = tok.added_tokens?.find((t) => t.content === config.videoToken);
  const vocab = tok.model?.vocab;
  const id = added?.id ?? (vocab && !Array.isArray(vocab) ? vocab[config.videoToken] : undefined);
  if (id !== config.videoTokenId) {
    throw new FavchatError(
      `${dir}: config.json says the video placeholder ${config.videoToken} is token ${config.videoTokenId}, but tokenizer.json ` +
        (id === undefined ? "has no such token" : `gives it id ${id}`) + `; the tokenizer files do not belong to this model`,
    );
  }
}

/** Builds the model from DIR/config.json and loads its weights; every tensor must be used and fit its parameter. */
export async function loadFavchat(dir: string): Promise<FavChat> {
  const config = readFavchatConfig(dir);
  checkVideoToken(dir, config);
  const store = await SafetensorsDir.open(dir);
  const model = new FavChat(config, null);
  try {
    // One tensor at a time: the model's memory, not two copies of it.
    const unused = (await model.loadFromStore(store, dir)).filter((n) => !(config.llm.tieWordEmbeddings && n === "llm.lm_head.weight"));
    if (unused.length > 0) {
      throw new FavchatError(
        `${dir}: ${unused.length} tensor(s) in model.safetensors are not parameters of a favchat model with this config.json, ` +
          `e.g. ${unused.slice(0, 3).join(", ")}; the weights and config.json (its ablation switches, sizes) disagree`,
      );
    }
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    await store.close();
  }
  return model;
}

export interface SaveOptions {
  /** A directory whose tokenizer files (TOKENIZER_FILES, those present) are copied beside the weights. */
  readonly tokenizerFrom?: string;
}

/** Writes config.json, model.safetensors (F32) and, with `tokenizerFrom`, the tokenizer files to DIR. */
export async function saveFavchat(model: FavChat, dir: string, options: SaveOptions = {}): Promise<void> {
  await mkdir(dir, { recursive: true });
  if (options.tokenizerFrom !== undefined) {
    const from = options.tokenizerFrom;
    if (!existsSync(join(from, "tokenizer.json"))) throw new FavchatError(`${from} has no tokenizer.json to copy into ${dir}`);
    for (const f of TOKENIZER_FILES) if (existsSync(join(from, f)) && join(from, f) !== join(dir, f)) await copyFile(join(from, f), join(dir, f));
  }
  await writeSafetensors(join(dir, "model.safetensors"), model.stateDict(), { format: "pt" });
  // config.json last and atomically: a directory with a config.json always has the weights it describes.
  const tmp = join(dir, `.config.json.tmp-${process.pid}`);
  await writeFile(tmp, JSON.stringify(favchatConfigToJson(model.config), null, 2) + "\n");
  await rename(tmp, join(dir, "config.json"));
}

export interface PretrainedParts {
  /** A Hugging Face Qwen2/Qwen2.5 checkpoint directory for the LLM. */
  readonly llm?: string;
  /** A Hugging Face SigLIP (or SigLIP vision-model) checkpoint directory for the general encoder. */
  readonly vision?: string;
}

/**
 * Loads pretrained weights into parts of a new FaVChat (before stage 1): the LLM from a Qwen2 checkpoint, the
 * general encoder from a SigLIP one, each by its own checkpoint names. The checkpoint's sizes must be the ones
 * in the model's config; a mismatch names the field.
 */
export async function loadPretrainedParts(model: FavChat, parts: PretrainedParts): Promise<void> {
  if (parts.llm !== undefined) {
    const dir = parts.llm;
    const have = readQwen2Config(dir);
    const want = model.config.llm;
    sameSizes(dir, "llm_config", { ...want }, { ...have }, ["vocabSize", "hiddenSize", "intermediateSize", "numLayers", "numHeads", "numKvHeads", "tieWordEmbeddings"]);
    const store = await SafetensorsDir.open(dir);
    try {
      const unused = (await model.llm.loadFromStore(store, dir)).filter((n) => !n.endsWith("rotary_emb.inv_freq") && !(want.tieWordEmbeddings && n === "lm_head.weight"));
      if (unused.length > 0) throw new FavchatError(`${dir}: ${unused.length} tensor(s) not used by the LLM, e.g. ${unused.slice(0, 3).join(", ")}`);
    } finally {
      await store.close();
    }
  }
  if (parts.vision !== undefined) {
    const dir = parts.vision;
    const have = readSiglipVisionConfig(dir);
    sameSizes(dir, "vision_config", { ...model.config.vision }, { ...have }, ["hiddenSize", "intermediateSize", "numLayers", "numHeads", "imageSize", "patchSize", "numChannels"]);
    loadSiglipVisionWeights(model.visionTower, await loadSafetensorsDir(dir), dir);
  }
}

function sameSizes(dir: string, section: string, want: Record<string, unknown>, have: Record<string, unknown>, keys: readonly string[]): void {
  const diff = keys.filter((k) => want[k] !== have[k]).map((k) => `${k} ${String(have[k])} (model: ${String(want[k])})`);
  if (diff.length > 0) {
    throw new FavchatError(`${dir} does not fit this model's ${section}: ${diff.join(", ")}; make ${section} match the checkpoint's config.json`);
  }
}
