// Saving and loading Qwen2 directories: exact round trip, and clear errors for checkpoints that do not
// match their config (wrong shape, missing or extra tensors, not a Qwen2 config).
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initBackend } from "../../src/core/backend.ts";
import { Rng } from "../../src/core/rng.ts";
import { FavchatError } from "../../src/core/errors.ts";
import { writeSafetensors, loadSafetensorsDir } from "../../src/core/safetensors.ts";
import { resolveQwen2Config } from "../../src/model/llm/config.ts";
import { Qwen2ForCausalLM } from "../../src/model/llm/qwen2.ts";
import { loadQwen2, saveQwen2 } from "../../src/model/llm/load.ts";

const FIX = join(import.meta.dirname, "..", "fixtures", "qwen2");

before(async () => {
  await initBackend("wasm");
});

test("save then load gives back every parameter bit for bit", async () => {
  const config = resolveQwen2Config(
    { vocab_size: 30, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, eos_token_id: 3 },
    "test",
  );
  const model = new Qwen2ForCausalLM(config, new Rng(3));
  const dir = mkdtempSync(join(tmpdir(), "favchat-qwen2-"));
  await saveQwen2(model, dir);
  const back = await loadQwen2(dir);
  const a = model.stateDict();
  const b = back.stateDict();
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  for (const [name, t] of a) assert.deepEqual(b.get(name)!.data, t.data, name);
  assert.deepEqual(back.config, model.config);
  model.dispose();
  back.dispose();
});

async function brokenCopy(mutate: (w: Map<string, { shape: number[]; data: Float32Array }>, cfg: Record<string, unknown>) => void): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "favchat-qwen2-bad-"));
  cpSync(join(FIX, "gqa"), dir, { recursive: true });
  const weights = new Map([...(await loadSafetensorsDir(dir))].map(([k, v]) => [k, { shape: v.shape, data: v.data }]));
  const cfg = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, unknown>;
  mutate(weights, cfg);
  await writeSafetensors(join(dir, "model.safetensors"), weights);
  writeFileSync(join(dir, "config.json"), JSON.stringify(cfg));
  return dir;
}

test("checkpoints that do not match their config are refused with the tensor named", async () => {
  const cases: [string, Parameters<typeof brokenCopy>[0], RegExp][] = [
    ["wider config", (_w, c) => (c.intermediate_size = 96), /mlp\.gate_proj\.weight has shape \[64, 32\] but the config expects \[96, 32\]/],
    ["missing tensor", (w) => w.delete("model.norm.weight"), /1 parameter\(s\) missing.*model\.norm\.weight/],
    ["extra tensor", (w) => w.set("model.layers.2.mlp.up_proj.weight", { shape: [2], data: new Float32Array(2) }), /not used by a Qwen2 model/],
    ["not qwen2", (_w, c) => (c.model_type = "llama"), /model_type "llama" is not a Qwen2-architecture LLM/],
    ["bad head count", (_w, c) => (c.num_key_value_heads = 3), /must be a multiple of num_key_value_heads 3/],
  ];
  for (const [name, mutate, message] of cases) {
    const dir = await brokenCopy(mutate);
    await assert.rejects(loadQwen2(dir), (e: unknown) => e instanceof FavchatError && message.test(e.message), name);
  }
});
