// The spliced targets: the <video> id became Q visual positions; text positions keep predicting the next text
// token, the last visual position predicts what followed the placeholder, and only target tokens count.
import { test } from "node:test";
import assert from "node:assert/strict";
import { splicedTargets } from "../../src/train/favchat-loss.ts";

test("table: targets and mask around the video placeholder", () => {
  // ids: a <v> b c d, answer = c d; Q = 3 visual tokens replace <v> (id 9) at position 1.
  const ids = [[1, 9, 2, 3, 4]];
  const targetMask = [[0, 0, 0, 1, 1]];
  const { targets, mask } = splicedTargets(ids, targetMask, [1], 3);
  // spliced: a v v v b c d -> position j predicts spliced[j+1]
  assert.deepEqual(targets, [[9, 0, 0, 2, 3, 4, 0]]);
  assert.deepEqual(mask, [[0, 0, 0, 0, 1, 1, 0]]);
});
