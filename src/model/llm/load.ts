// Loading and saving a Qwen2 checkpoint directory in Hugging Face layout: config.json plus
// model.safetensors (or shards with model.safetensors.index.json), weights by their HF names.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { readConfigJson } from "../../core/config-file.ts";
import { FavchatError } from "../../core/errors.ts";
import { SafetensorsDir, writeSafetensors } from "../../core/safetensors.ts";
import { qwen2ConfigToJson, resolveQwen2Config, type Qwen2Config } from "./config.ts";
import { Qwen2ForCausalLM } from "./qwen2.ts";

/** Reads and resolves DIR/config.json. */
export function readQwen2Config(dir: string): Qwen2Config {
  const { path, raw } = readConfigJson(dir, { missingDir: "pass --model DIR with a Hugging Face style checkpoint", missingFile: "is it a Hugging Face model directory?" });
  return resolveQwen2Config(raw, path);
}

/** Builds the model from DIR/config.json and loads its weights. */
export async function loadQwen2(dir: string): Promise<Qwen2ForCausalLM> {
  const config = readQwen2Config(dir);
  const store = await SafetensorsDir.open(dir);
  const model = new Qwen2ForCausalLM(config, null);
  try {
    const unused = (await model.loadFromStore(store, dir)).filter((n) => !(config.tieWordEmbeddings && n === "lm_head.weight"));
    // Rotary inv_freq buffers are harmless extras; anything else means the checkpoint is not what config.json says.
    const unexpected = unused.filter((n) => !n.endsWith("rotary_emb.inv_freq"));
    if (unexpected.length > 0) {
      throw new FavchatError(`${dir}: ${unexpected.length} tensor(s) not used by a Qwen2 model with this config, e.g. ${unexpected.slice(0, 3).join(", ")}`);
    }
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    await store.close();
  }
  return model;
}

/** Writes config.json and model.safetensors (F32) to DIR. */
export async function saveQwen2(model: Qwen2ForCausalLM, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeSafetensors(join(dir, "model.safetensors"), model.stateDict(), { format: "pt" });
  await writeFile(join(dir, "config.json"), JSON.stringify(qwen2ConfigToJson(model.config), null, 2) + "\n");
}
