// groundingLosses: own video vs another clip's vs none. With two identical clips, swapping videos changes nothing;
// with different clips the three losses are finite and zeroing the video changes the loss of a random model.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { initBackend, tf } from "../../src/core/backend.ts";
import { Rng } from "../../src/core/rng.ts";
import { FavChat } from "../../src/model/favchat.ts";
import { groundingLosses } from "../../src/eval/grounding.ts";
import { disposeInputs, microConfig, microInputs } from "../model/favchat-helpers.ts";

before(async () => {
  await initBackend("wasm");
});

test("own, swapped and zeroed video losses", () => {
  const model = new FavChat(microConfig(), new Rng(3));
  const x = microInputs(1);
  const targetMask = [[0, 0, 0, 1, 1, 1, 1], [0, 1, 1, 1, 1, 0, 0]];
  const l = groundingLosses(model, { ...x, faces: x.faces!, promptMask: x.promptMask as number[][], attentionMask: x.attentionMask as number[][], targetMask });
  for (const v of Object.values(l)) assert.ok(Number.isFinite(v) && v > 0);
  assert.notEqual(l.own, l.zeros);
  // The same clip twice: the rotated video is the row's own video, so the loss cannot change.
  const same = { ...x, promptMask: x.promptMask as number[][], frames: tf.concat([x.frames.slice([0], [1]), x.frames.slice([0], [1])]), faces: tf.concat([x.faces!.slice([0], [1]), x.faces!.slice([0], [1])]) };
  const ids = tf.tensor2d([[1, 2, 31, 4, 5, 6, 7], [1, 2, 31, 4, 5, 6, 7]], [2, 7], "int32");
  const prompt = tf.tensor2d([[12, 13, 14], [12, 13, 14]], [2, 3], "int32");
  const s = groundingLosses(model, { ...same, ids, promptIds: prompt, promptMask: [[1, 1, 1], [1, 1, 1]], attentionMask: [[1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1]], targetMask: [[0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1, 1]] });
  assert.ok(Math.abs(s.own - s.shuffled) < 1e-6, `${s.own} vs ${s.shuffled}`);
  tf.dispose([same.frames, same.faces, ids, prompt]);
  disposeInputs(x);
  model.dispose();
});
