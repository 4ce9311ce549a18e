import { test } from "node:test";
import assert from "node:assert/strict";
import { argmax, candidates, sampleToken, GREEDY } from "../../src/model/llm/sample.ts";
import { Rng } from "../../src/core/rng.ts";

const logits = [2, 1, 0, -1]; // softmax: 0.644, 0.237, 0.087, 0.032

test("candidate table: temperature, top-k, top-p", () => {
  const rows: [string, { temperature: number; topK: number; topP: number }, number[], number[]][] = [
    ["all", { temperature: 1, topK: 0, topP: 1 }, [0, 1, 2, 3], [0.6439, 0.2369, 0.0871, 0.0321]],
    ["top-k 2", { temperature: 1, topK: 2, topP: 1 }, [0, 1], [0.7311, 0.2689]],
    ["top-p 0.8", { temperature: 1, topK: 0, topP: 0.8 }, [0, 1], [0.7311, 0.2689]],
    ["top-p 0.5 keeps one", { temperature: 1, topK: 0, topP: 0.5 }, [0], [1]],
    ["temperature 2", { temperature: 2, topK: 0, topP: 1 }, [0, 1, 2, 3], [0.4551, 0.276, 0.1674, 0.1015]],
  ];
  for (const [name, opts, ids, probs] of rows) {
    const c = candidates(logits, opts);
    assert.deepEqual(c.ids, ids, name);
    c.probs.forEach((p, i) => assert.ok(Math.abs(p - probs[i]) < 1e-4, `${name}: p[${i}] = ${p}, want ${probs[i]}`));
  }
});

test("greedy is argmax; sampling follows the distribution and is seeded", () => {
  assert.equal(argmax([0, 3, 3, 1]), 1);
  assert.equal(sampleToken(logits, GREEDY, new Rng(1)), 0);
  const counts = [0, 0, 0, 0];
  const rng = new Rng(3);
  for (let i = 0; i < 4000; i++) counts[sampleToken(logits, { temperature: 1, topK: 0, topP: 1 }, rng)]++;
  assert.ok(Math.abs(counts[0] / 4000 - 0.644) < 0.03, `counts ${counts}`);
  assert.ok(Math.abs(counts[3] / 4000 - 0.032) < 0.015, `counts ${counts}`);
  const a = Array.from({ length: 20 }, (_, i) => sampleToken(logits, { temperature: 1, topK: 0, topP: 1 }, new Rng(9).fork(i)));
  const b = Array.from({ length: 20 }, (_, i) => sampleToken(logits, { temperature: 1, topK: 0, topP: 1 }, new Rng(9).fork(i)));
  assert.deepEqual(a, b);
});
