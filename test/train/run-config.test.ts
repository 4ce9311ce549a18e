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
});

test("bad fields are refused with the field named", () => {
  const cases: [unknown, RegExp][] = [
    [{ stages: { "1": { steps: 5, frozen: ["LLM", "decoder"] } } }, /stages\.1\.frozen must be a list of parts/],
    [{ stages: { "1": { stpes: 5 } } }, /stages\.1: unknown field "stpes"/],
    [{ stages: { "7": { steps: 5 } } }, /unknown stage "7"/],
    [{ stages: { "2": { steps: 0 } } }, /totalSteps/],
    [{ vocab_size: 10 }, /"vocab_size" must be a whole number >= 260/],
    [{ modle: {} }, /unknown field "modle"/],
  ];
  for (const [raw, message] of cases) assert.throws(() => resolveRunConfig(raw, "cfg.json"), message);
});
