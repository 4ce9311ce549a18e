// Length-grouped batches: groups by length range, batches from one group, every example equally likely.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/core/rng.ts";
import { drawGrouped, lengthGroups } from "../../src/train/length-groups.ts";

test("lengthGroups: indices by length range, groups in length order", () => {
  assert.deepEqual(lengthGroups([5, 40, 17, 3, 31, 16], 16), [[0, 3], [2, 4, 5], [1]]);
  assert.deepEqual(lengthGroups([], 16), []);
  assert.throws(() => lengthGroups([1], 0), /width/);
});

test("drawGrouped: one group per batch, each example drawn about equally often", () => {
  const lengths = [...Array.from({ length: 90 }, (_, i) => 20 + (i % 10)), ...Array.from({ length: 10 }, (_, i) => 170 + i)];
  const groups = lengthGroups(lengths, 16);
  const rng = new Rng(7);
  const counts = new Array<number>(lengths.length).fill(0);
  const draws = 20000;
  for (let s = 0; s < draws; s++) {
    const batch = drawGrouped(groups, 8, rng);
    const spread = Math.max(...batch.map((i) => lengths[i])) - Math.min(...batch.map((i) => lengths[i]));
    assert.ok(spread < 16, `batch lengths spread ${spread}`);
    for (const i of batch) counts[i]++;
  }
  const expected = (draws * 8) / lengths.length;
  for (const [i, c] of counts.entries()) assert.ok(Math.abs(c - expected) < 0.15 * expected, `example ${i}: ${c} draws, expected ${expected}`);
  assert.throws(() => drawGrouped([], 2, rng), /no examples/);
});
