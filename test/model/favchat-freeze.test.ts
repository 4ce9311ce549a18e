// The freeze plan of DESIGN 2, stage by stage, on a micro FaVChat: which parameter names stay trainable.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { initBackend } from "../../src/core/backend.ts";
import { Rng } from "../../src/core/rng.ts";
import { FavChat } from "../../src/model/favchat.ts";
import { applyFreezePlan, partOf } from "../../src/model/freeze.ts";
import { microConfig } from "./favchat-helpers.ts";

before(async () => {
  await initBackend("wasm");
});

test("freeze plan: stage 1 trains encoders, CA², adapters and MLPs; 2 freezes adapters; 3 and RL freeze both encoders", () => {
  const model = new FavChat(microConfig(), new Rng(1));
  const all = [...model.namedParams().keys()];
  const trainable = () => [...model.trainableVariables().keys()];
  const any = (names: string[], re: RegExp) => names.some((n) => re.test(n));

  const s1 = applyFreezePlan(model, 1);
  const t1 = trainable();
  assert.deepEqual(s1.frozen.sort(), ["LLM", "Q-Formers"]);
  assert.ok(!any(t1, /^llm\./), "stage 1 trains the LLM");
  assert.ok(!any(t1, /^qformer_[gf]\.(query_tokens|layers|prompt_proj|visual_norm)/), "stage 1 trains a Q-Former body");
  for (const re of [/^vision_tower\./, /^face_encoder\./, /^ca2\./, /^fusion\.adapter_g\./, /^fusion\.adapter_f\./, /^qformer_g\.out_mlp\./, /^qformer_f\.out_mlp\./, /^fusion\.norm\./]) {
    assert.ok(any(t1, re), `stage 1 should train ${re}`);
  }
  assert.equal(s1.trainableParams, t1.reduce((n, k) => n + model.trainableVariables().get(k)!.size, 0));

  applyFreezePlan(model, 2);
  const t2 = trainable();
  assert.ok(!any(t2, /^fusion\.adapter_/), "stage 2 trains the adapters");
  for (const re of [/^vision_tower\./, /^face_encoder\./, /^qformer_g\.layers\./, /^qformer_f\.query_tokens/, /^llm\./, /^ca2\./]) assert.ok(any(t2, re), `stage 2 should train ${re}`);
  assert.equal(t2.length, all.filter((n) => !n.startsWith("fusion.adapter_")).length);

  for (const stage of [3, "rl"] as const) {
    const s = applyFreezePlan(model, stage);
    const t = trainable();
    assert.deepEqual(s.frozen.sort(), ["facial encoder", "general encoder"]);
    assert.ok(!any(t, /^(vision_tower\.|face_encoder\.|vision_temporal_embedding$)/), `stage ${stage} trains an encoder`);
    for (const re of [/^fusion\.adapter_/, /^qformer_f\.layers\./, /^llm\./, /^ca2\./]) assert.ok(any(t, re), `stage ${stage} should train ${re}`);
  }
  const c = applyFreezePlan(model, "connector");
  const tc = trainable();
  assert.deepEqual(c.frozen.sort(), ["LLM", "facial encoder", "general encoder"]);
  assert.ok(!any(tc, /^(llm\.|vision_tower\.|face_encoder\.|vision_temporal_embedding$)/), "stage connector trains an encoder or the LLM");
  for (const re of [/^ca2\./, /^qformer_g\.layers\./, /^qformer_f\.out_mlp\./, /^fusion\.adapter_f\./]) assert.ok(any(tc, re), `stage connector should train ${re}`);
  // "LLM embeddings" can be frozen alone (the rest of the LLM trains); freezing "LLM" freezes them too.
  const e = applyFreezePlan(model, 2, ["adapters", "LLM embeddings"]);
  const te = trainable();
  assert.deepEqual(e.frozen.sort(), ["LLM embeddings", "adapters"]);
  assert.ok(!any(te, /^llm\.model\.embed_tokens\./), "the embedding table should be frozen");
  assert.ok(any(te, /^llm\.model\.layers\./), "the LLM's layers should train");
  assert.ok(e.trained.includes("LLM"));
  applyFreezePlan(model, 2, ["LLM"]);
  assert.ok(!any(trainable(), /^llm\./), "freezing the LLM freezes its embeddings too");
  // Every parameter is placed in a part on purpose.
  for (const n of all) partOf(n);
  assert.throws(() => partOf("mystery.weight"), /belongs to no part/);
  model.dispose();
});
