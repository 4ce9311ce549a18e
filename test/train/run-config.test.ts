// The training config file: fields validated once with the field named; a stage may override the freeze plan.
import { test } from "node:test";
import assert from "node:assert/strict";
import { resolveRunConfig } from "../../src/train/run-config.ts";

test("stage settings, defaults and the freeze override", () => {
  const c = resolveRunConfig({ stages: { "1": { steps: 5, warmup_steps: 1, batch_size: 2, frozen: ["LLM"] }, "2": { steps: 30 } } }, "cfg.json");
  assert.equal(c.frames, 16);
  assert.equal(c.vocabSize, 1024);
  assert.deepEqual(c.stages[1]?.frozen, ["LLM"]);
  assert.equal(c.stages[1]?.batchSize, 2);
  assert.equal(c.stages[1]?.trainer.totalSteps, 5);
  assert.equal(c.stages[2]?.frozen, undefined);
  assert.equal(c.stages[2]?.visualAux, 0);
  const e = resolveRunConfig({ stages: { encoders: { steps: 3, warmup_steps: 1, batch_size: 32 }, "1": { steps: 3, warmup_steps: 1, visual_aux: 0.5 } } }, "cfg.json");
  assert.equal(e.stages.encoders?.batchSize, 32);
  assert.equal(e.stages[1]?.visualAux, 0.5);
  assert.equal(e.stages[1]?.visualOffTopic, undefined, "absent: the heads' own default (OFF_TOPIC_WEIGHT)");
  assert.deepEqual(resolveRunConfig({ stages: { "2": { steps: 3, warmup_steps: 1, categories: ["au_presence"] } } }, "cfg.json").stages[2]?.categories, ["au_presence"]);
  assert.equal(e.stages[1]?.categories, undefined, "every category by default");
  assert.deepEqual(resolveRunConfig({ stages: { "2": { steps: 3, warmup_steps: 1, category_weights: { attribute: 3, scene: 0.5 } } } }, "cfg.json").stages[2]?.categoryWeights, { attribute: 3, scene: 0.5 });
  assert.equal(e.stages[1]?.categoryWeights, undefined, "every category weighs 1 by default");
  assert.equal(resolveRunConfig({ stages: { "3": { steps: 3, warmup_steps: 1, replay: 1 } } }, "cfg.json").stages[3]?.replay, 1);
  assert.equal(resolveRunConfig({ stages: { "2": { steps: 3, warmup_steps: 1, attribute_conversations: 2 } } }, "cfg.json").stages[2]?.attributeConversations, 2);
  assert.equal(e.stages[1]?.attributeConversations, undefined, "no conversations by default");
  assert.equal(resolveRunConfig({ stages: { "2": { steps: 3, warmup_steps: 1, attribute_questions: 3 } } }, "cfg.json").stages[2]?.attributeQuestions, 3);
  assert.equal(resolveRunConfig({ stages: { "3": { steps: 3, warmup_steps: 1, attribute_questions: 2 } } }, "cfg.json").stages[3]?.attributeQuestions, 2);
  assert.equal(resolveRunConfig({ stages: { connector: { steps: 3, warmup_steps: 1, feature_cache: 2 } } }, "cfg.json").stages.connector?.featureCache, 2);
  assert.equal(e.stages[1]?.featureCache, undefined, "no feature cache by default");
  assert.equal(resolveRunConfig({ stages: { "2": { steps: 3, warmup_steps: 1, plain_options: false } } }, "cfg.json").stages[2]?.plainOptions, false);
  assert.equal(resolveRunConfig({ stages: { "3": { steps: 3, warmup_steps: 1, prompt_grad: false } } }, "cfg.json").stages[3]?.promptGrad, false);
  assert.equal(resolveRunConfig({ stages: { "3": { steps: 3, warmup_steps: 1 } } }, "cfg.json").stages[3]?.promptGrad, undefined);
  assert.equal(e.stages[1]?.plainOptions, undefined, "absent: plain questions drop their options");
  assert.equal(resolveRunConfig({ stages: { connector: { steps: 3, warmup_steps: 1, visual_off_topic: 1 } } }, "cfg.json").stages.connector?.visualOffTopic, 1);
  assert.equal(resolveRunConfig({ stages: { encoders: { steps: 3, warmup_steps: 1, attribute_weight: 4 } } }, "cfg.json").stages.encoders?.attributeWeight, 4);
  assert.equal(e.stages[1]?.attributeWeight, undefined, "absent: the heads' terms weigh 1");
  assert.equal(e.stages[1]?.threads, 1, "one thread by default");
  assert.equal(resolveRunConfig({ stages: { "2": { steps: 3, warmup_steps: 1, grad_accum: 2, threads: 2 } } }, "cfg.json").stages[2]?.threads, 2);
});

test("bad fields are refused with the field named", () => {
  const cases: [unknown, RegExp][] = [
    [{ stages: { "1": { steps: 5, frozen: ["LLM", "decoder"] } } }, /stages\.1\.frozen must be a list of parts/],
    [{ stages: { "1": { stpes: 5 } } }, /stages\.1: unknown field "stpes"/],
    [{ stages: { "7": { steps: 5 } } }, /unknown stage "7"/],
    [{ stages: { "2": { steps: 0 } } }, /totalSteps/],
    [{ vocab_size: 10 }, /"vocab_size" must be a whole number >= 260/],
    [{ modle: {} }, /unknown field "modle"/],
    [{ stages: { "1": { visual_aux: -1 } } }, /stages\.1\.visual_aux must be a weight >= 0/],
    [{ stages: { "2": { categories: [] } } }, /stages\.2\.categories must be a non-empty list/],
    [{ stages: { "2": { category_weights: { attribute: -1 } } } }, /stages\.2\.category_weights must map question categories to weights >= 0/],
    [{ stages: { "2": { category_weights: ["attribute"] } } }, /stages\.2\.category_weights must map/],
    [{ stages: { "2": { replay: 0.5 } } }, /stages\.2\.replay is stage 3's share/],
    [{ stages: { "3": { replay: -1 } } }, /stages\.3\.replay is stage 3's share .* got -1/],
    [{ stages: { "3": { attribute_conversations: 1 } } }, /stages\.3\.attribute_conversations is stage 2's number of attribute conversations per training clip/],
    [{ stages: { "2": { attribute_conversations: 0.5 } } }, /stages\.2\.attribute_conversations .* a whole number >= 0 .* got 0\.5/],
    [{ stages: { connector: { visual_off_topic: 2 } } }, /stages\.connector\.visual_off_topic must be a weight from 0 to 1/],
    [{ stages: { "1": { threads: 1.5 } } }, /stages\.1\.threads must be a whole number >= 1, got 1\.5/],
    [{ stages: { encoders: { visual_aux: 1 } } }, /visual_aux applies to stages 1-3/],
    [{ stages: { "1": { attribute_questions: 2 } } }, /stages\.1\.attribute_questions is stages 2 and 3's number of extra single attribute questions/],
    [{ stages: { "2": { attribute_questions: -1 } } }, /stages\.2\.attribute_questions .* a whole number >= 0 .* got -1/],
    [{ stages: { "2": { feature_cache: 1.5 } } }, /stages\.2\.feature_cache must be a whole number of crop variants >= 0/],
    [{ stages: { encoders: { feature_cache: 1 } } }, /feature_cache applies to stages connector, 1, 2 and 3 \(the encoders must be frozen\)/],
    [{ stages: { "2": { plain_options: 1 } } }, /stages\.2\.plain_options must be true or false, got 1/],
    [{ stages: { "0": { plain_options: false } } }, /plain_options applies to stages connector, 1, 2 and 3/],
    [{ stages: { "2": { prompt_grad: "no" } } }, /stages\.2\.prompt_grad must be true or false, got "no"/],
    [{ stages: { connector: { prompt_grad: false } } }, /prompt_grad applies to stages 1, 2 and 3/],
    [{ stages: { "2": { attribute_weight: 4 } } }, /stages\.2\.attribute_weight is stage encoders' weight .* got 4 in stage 2/],
    [{ stages: { encoders: { attribute_weight: 0 } } }, /stages\.encoders\.attribute_weight .* a number > 0/],
  ];
  for (const [raw, message] of cases) assert.throws(() => resolveRunConfig(raw, "cfg.json"), message);
});

test("each ablation config is configs/tiny.json with its one ablation switch (the same budget, data and seeds)", async () => {
  const { readFileSync, readdirSync } = await import("node:fs");
  const read = (f: string) => {
    const { comment: _comment, ...rest } = JSON.parse(readFileSync(f, "utf8")) as Record<string, unknown>;
    return rest as { model: Record<string, unknown> };
  };
  const tiny = read("configs/tiny.json");
  const files = readdirSync("configs/ablations").filter((f) => f.endsWith(".json"));
  assert.ok(files.length >= 4, files.join(", "));
  for (const f of files) {
    const { ablation, ...model } = read(`configs/ablations/${f}`).model;
    assert.equal(Object.values(ablation as Record<string, boolean>).filter(Boolean).length, 1, `${f}: one switch`);
    assert.deepEqual({ ...read(`configs/ablations/${f}`), model }, tiny, `${f} differs from configs/tiny.json beyond its ablation`);
    resolveRunConfig(read(`configs/ablations/${f}`), f);
  }
});
