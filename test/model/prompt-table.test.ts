// The visual path's own prompt table (config prompt_table): read from config.json and written back, absent = false;
// a copy of the LLM's token table after syncPromptTable; what CA², the Q-Formers and the read-outs read, so V does not
// move when the LLM's table does; never trained by any freeze plan; saved and loaded with the model.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initBackend, tf } from "../../src/core/backend.ts";
import { Rng } from "../../src/core/rng.ts";
import { FavchatError } from "../../src/core/errors.ts";
import { favchatConfigToJson, resolveFavchatConfig } from "../../src/model/config.ts";
import { FavChat } from "../../src/model/favchat.ts";
import { applyFreezePlan, TRAINING_STAGES } from "../../src/model/freeze.ts";
import { loadFavchat, saveFavchat } from "../../src/model/load.ts";
import { disposeInputs, microConfigJson, microInputs } from "./favchat-helpers.ts";

let root = "";
before(async () => {
  await initBackend("wasm");
  root = await mkdtemp(join(tmpdir(), "favchat-prompt-table-"));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const withTable = () => resolveFavchatConfig({ ...microConfigJson(), au_readout: true, prompt_table: true }, "test");

test("prompt_table: read, written, false when absent; another value is a clear error", () => {
  const c = withTable();
  assert.equal(c.promptTable, true);
  assert.equal(favchatConfigToJson(c).prompt_table, true);
  assert.deepEqual(resolveFavchatConfig(favchatConfigToJson(c), "round trip"), c);
  const without = resolveFavchatConfig(microConfigJson(), "test");
  assert.equal(without.promptTable, false);
  assert.equal("prompt_table" in favchatConfigToJson(without), false, "a model without one writes config.json as before");
  assert.throws(() => resolveFavchatConfig({ ...microConfigJson(), prompt_table: "yes" }, "test"), (e: Error) => e instanceof FavchatError && /"prompt_table" must be true or false/.test(e.message));
});

test("V reads the prompt table, not the LLM's: moving the LLM's token table leaves V as it was", () => {
  const model = new FavChat(withTable(), new Rng(3));
  assert.ok(model.namedParams().has("prompt_table.weight"));
  model.syncPromptTable();
  const llmTable = model.llm.model.embedTokens.weight;
  assert.deepEqual(Array.from(model.promptTable!.weight.dataSync()), Array.from(llmTable.dataSync()));
  const x = microInputs(5);
  const before = model.encodeVideo(x).tokens;
  const shifted = tf.tidy(() => llmTable.add(tf.randomNormal(llmTable.shape, 0, 0.5, "float32", 7)));
  llmTable.assign(shifted);
  const afterMove = model.encodeVideo(x).tokens;
  assert.deepEqual(Array.from(afterMove.dataSync()), Array.from(before.dataSync()));
  // The same change moves V of a model that reads the LLM's table (the check above can fail).
  const plain = new FavChat(resolveFavchatConfig({ ...microConfigJson(), au_readout: true }, "test"), new Rng(3));
  const v0 = plain.encodeVideo(x).tokens;
  plain.llm.model.embedTokens.weight.assign(shifted);
  const v1 = plain.encodeVideo(x).tokens;
  assert.ok(tf.tidy(() => v1.sub(v0).abs().max().dataSync()[0]) > 1e-4);
  tf.dispose([before, afterMove, shifted, v0, v1]);
  disposeInputs(x);
  model.dispose();
  plain.dispose();
});

test("no freeze plan trains the prompt table, not even one that freezes nothing", () => {
  const model = new FavChat(withTable(), new Rng(1));
  for (const stage of TRAINING_STAGES) {
    const s = applyFreezePlan(model, stage);
    assert.ok(!model.trainableVariables().has("prompt_table.weight"), `stage ${String(stage)}`);
    assert.ok(s.frozen.includes("prompt table"));
  }
  applyFreezePlan(model, 2, []);
  assert.ok(!model.trainableVariables().has("prompt_table.weight"));
  assert.ok(model.trainableVariables().has("llm.model.embed_tokens.weight"));
  model.dispose();
});

test("save then load keeps the prompt table bit for bit", async () => {
  const model = new FavChat(withTable(), new Rng(2));
  model.syncPromptTable();
  const dir = join(root, "m");
  await saveFavchat(model, dir);
  const back = await loadFavchat(dir);
  assert.equal(back.config.promptTable, true);
  assert.deepEqual(Array.from(back.promptTable!.weight.dataSync()), Array.from(model.promptTable!.weight.dataSync()));
  model.dispose();
  back.dispose();
});
