// The encoders-stage model of an ablation without re-running stages 0 and encoders: neither touches the parts an
// ablation removes (stage 0 trains the LLM, stage encoders the encoders), and each part's initial weights come from
// its own Rng fork, so a fresh model of the ablation's config (same seed as stage 0) with every shared parameter copied
// from the full model's encoders stage is what the ablation's own stages 0 and encoders would give. Except without the
// facial encoder: its own stage encoders would clip the gradient norm over the general encoder alone, so its general
// encoder would differ a little from the full run's, which this copies.
// The same serves any change that leaves the encoders alone (e.g. '{"ca2_config": {"frame_tokens": true}}'): the
// JSON's fields are merged over the model's config.json, sub-configs one level deep. '{"prompt_table": true}' on a
// connector-stage model gives stage 1's start of a run whose model has the visual path's own prompt table.
// Usage: node --import tsx scripts/ablation-init.ts ENCODERS_MODEL_DIR OUT_DIR CONFIG_JSON; then copy the full run's stage0/
// and encoders/ metrics and curves beside OUT (so train-tiny.ts skips those stages) and run the recipe with the
// ablation's config: node --import tsx scripts/train-tiny.ts --config configs/ablations/X.json --work runs/X
import { initBackend } from "../src/core/backend.ts";
import { Rng } from "../src/core/rng.ts";
import { loadFavchat, saveFavchat } from "../src/model/load.ts";
import { resolveFavchatConfig, favchatConfigToJson, mergeOver } from "../src/model/config.ts";
import { FavChat } from "../src/model/favchat.ts";
const [src, out, ablationJson] = process.argv.slice(2);
if (!src || !out || !ablationJson) {
  console.error(`usage: node --import tsx scripts/ablation-init.ts ENCODERS_MODEL_DIR OUT_DIR '{"ablation": {"no_ca2": true}}'`);
  process.exit(2);
}
await initBackend("wasm");
const full = await loadFavchat(src);
const json = favchatConfigToJson(full.config) as Record<string, unknown>;
const model = new FavChat(resolveFavchatConfig(mergeOver(json, JSON.parse(ablationJson) as Record<string, unknown>), "ablation"), new Rng(0).fork("init"));
const sd = full.stateDict();
let copied = 0;
const weights = new Map([...model.stateDict()].map(([name, w]) => {
  const o = sd.get(name);
  if (o && o.shape.join() === w.shape.join()) { copied++; return [name, o]; }
  return [name, w];
}));
model.loadStateDict(weights, src);
// A prompt table the source lacks ('{"prompt_table": true}') starts as the source's LLM token table, as stage 0 leaves it
// (stage connector does not train the LLM, so its model's table is still stage 0's).
if (model.promptTable && !sd.has("prompt_table.weight")) model.syncPromptTable();
console.log(`copied ${copied} of ${weights.size} parameters${model.promptTable && !sd.has("prompt_table.weight") ? "; the prompt table from the LLM's token table" : ""}`);
await saveFavchat(model, out, { tokenizerFrom: src });
