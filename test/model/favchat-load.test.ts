// FaVChat model directories: save then load gives the same tensors bit for bit and the same outputs; the tokenizer
// files travel with the model; a bare Qwen2 checkpoint, weights that do not fit config.json, and a tokenizer whose
// <video> id differs are each a clear FavchatError.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initBackend, tf } from "../../src/core/backend.ts";
import { Rng } from "../../src/core/rng.ts";
import { FavchatError } from "../../src/core/errors.ts";
import { FavChat } from "../../src/model/favchat.ts";
import { loadFavchat, loadPretrainedParts, saveFavchat } from "../../src/model/load.ts";
import { saveQwen2 } from "../../src/model/llm/load.ts";
import { saveSiglipVision } from "../../src/model/vision/load.ts";
import { resolveFavchatConfig } from "../../src/model/config.ts";
import type { Module } from "../../src/nn/module.ts";
import { disposeInputs, microConfig, microConfigJson, microInputs, VIDEO_ID } from "./favchat-helpers.ts";

let root = "";
before(async () => {
  await initBackend("wasm");
  root = await mkdtemp(join(tmpdir(), "favchat-load-"));
});
test.after(async () => {
  await rm(root, { recursive: true, force: true });
});

const isFavchatError = (re: RegExp) => (e: Error) => e instanceof FavchatError && re.test(e.message);

test("save then load: identical state dict, config and outputs; tokenizer files copied", async () => {
  const model = new FavChat(microConfig({ no_ca2: true }), new Rng(1));
  const tokDir = join(root, "tok");
  await saveTokenizer(tokDir, VIDEO_ID);
  const dir = join(root, "m1");
  await saveFavchat(model, dir, { tokenizerFrom: tokDir });
  assert.ok(existsSync(join(dir, "tokenizer.json")));
  assert.equal(JSON.parse(await readFile(join(dir, "config.json"), "utf8")).model_type, "favchat");
  const back = await loadFavchat(dir);
  assert.deepEqual(back.config, model.config);
  const [a, b] = [model.stateDict(), back.stateDict()];
  assert.deepEqual([...b.keys()], [...a.keys()]);
  for (const [name, t] of a) {
    const u = b.get(name)!;
    assert.deepEqual(u.shape, t.shape, name);
    assert.ok(Buffer.from(u.data.buffer, u.data.byteOffset, u.data.byteLength).equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)), `${name} differs`);
  }
  const x = microInputs(2);
  const [oa, ob] = [model.forward(x), back.forward(x)];
  assert.deepEqual(ob.logits.arraySync(), oa.logits.arraySync());
  tf.dispose([oa.logits, oa.tokens, oa.weights, ob.logits, ob.tokens, ob.weights]);
  disposeInputs(x);
  model.dispose();
  back.dispose();
});

test("a bare Qwen2 checkpoint, a missing directory and a config without model_type are refused", async () => {
  const m = new FavChat(microConfig(), new Rng(2));
  const qwen = join(root, "qwen");
  await saveQwen2(m.llm, qwen);
  await assert.rejects(loadFavchat(qwen), isFavchatError(/model_type "qwen2": .* is not a favchat model directory/));
  await assert.rejects(loadFavchat(join(root, "nope")), isFavchatError(/does not exist/));
  const noType = join(root, "notype");
  await saveFavchat(m, noType);
  const cfg = JSON.parse(await readFile(join(noType, "config.json"), "utf8"));
  delete cfg.model_type;
  await writeFile(join(noType, "config.json"), JSON.stringify(cfg));
  await assert.rejects(loadFavchat(noType), isFavchatError(/has no model_type/));
  m.dispose();
});

test("weights that do not fit config.json: a changed size, a switched ablation, a wrong tokenizer", async () => {
  const m = new FavChat(microConfig(), new Rng(3));
  const dir = join(root, "m2");
  await saveFavchat(m, dir);
  const original = JSON.parse(await readFile(join(dir, "config.json"), "utf8"));
  const withConfig = async (edit: (c: Record<string, any>) => void) => {
    const c = structuredClone(original);
    edit(c);
    await writeFile(join(dir, "config.json"), JSON.stringify(c));
  };
  await withConfig((c) => (c.qformer_config.num_queries = 4));
  await assert.rejects(loadFavchat(dir), isFavchatError(/qformer_g.query_tokens has shape \[3, 8\] but the config expects \[4, 8\]/));
  await withConfig((c) => (c.ablation.fixed_weights = true));
  await assert.rejects(loadFavchat(dir), isFavchatError(/tensor\(s\) in model.safetensors are not parameters .* e.g. fusion.adapter_g/));
  await withConfig((c) => (c.ablation.no_ca2 = true));
  await assert.rejects(loadFavchat(dir), isFavchatError(/missing from the checkpoint, e.g. face_proj/));
  await withConfig(() => undefined);
  await saveTokenizer(dir, 7);
  await assert.rejects(loadFavchat(dir), isFavchatError(/video placeholder <video> is token 31, but tokenizer.json gives it id 7/));
  m.dispose();
});

test("pretrained parts: a Qwen2 checkpoint into the LLM, a SigLIP one into the general encoder; sizes must agree", async () => {
  const donor = new FavChat(microConfig(), new Rng(4));
  const [llmDir, visionDir] = [join(root, "qwen-part"), join(root, "siglip-part")];
  await saveQwen2(donor.llm, llmDir);
  await saveSiglipVision(donor.visionTower, visionDir);
  const fresh = new FavChat(microConfig(), new Rng(5));
  const same = (a: Module, b: Module) => [...a.stateDict()].every(([n, t]) => Buffer.from(t.data.buffer).equals(Buffer.from(b.stateDict().get(n)!.data.buffer)));
  assert.ok(!same(fresh.llm, donor.llm));
  await loadPretrainedParts(fresh, { llm: llmDir, vision: visionDir });
  assert.ok(same(fresh.llm, donor.llm) && same(fresh.visionTower, donor.visionTower));
  assert.ok(!same(fresh.qformerG, donor.qformerG), "only the named parts change");
  const json = microConfigJson();
  const other = new FavChat(resolveFavchatConfig({ ...json, llm_config: { ...(json.llm_config as object), vocab_size: 40 } }, "other"), null);
  await assert.rejects(loadPretrainedParts(other, { llm: llmDir }), isFavchatError(/does not fit this model's llm_config: vocabSize 32 \(model: 40\)/));
  await assert.rejects(loadPretrainedParts(other, { vision: llmDir }), isFavchatError(/model_type "qwen2" is not a SigLIP vision tower/));
  for (const m of [donor, fresh, other]) m.dispose();
});

/** A minimal tokenizer.json: the <video> special token at `id` (what loadFavchat cross-checks). */
async function saveTokenizer(dir: string, id: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  const json = { version: "1.0", added_tokens: [{ id, content: "<video>", special: true }], model: { type: "BPE", vocab: { a: 0 }, merges: [] } };
  await writeFile(join(dir, "tokenizer.json"), JSON.stringify(json));
}
