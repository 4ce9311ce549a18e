// The prompt representation: checks on the mask rows, the masked mean against a hand computation, the key bias,
// and the projection's shape and gradient.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { initBackend, tf } from "../../../src/core/backend.ts";
import { Rng } from "../../../src/core/rng.ts";
import { FavchatError } from "../../../src/core/errors.ts";
import { MASKED } from "../../../src/nn/mask.ts";
import { Projection, makePrompt, maskedMean, promptKeyBias } from "../../../src/model/prompt/prompt.ts";
import { gradcheck, gradcheckVariables } from "../../helpers/gradcheck.ts";
import { jitter, projected, randn } from "./helpers.ts";

before(async () => {
  await initBackend("wasm");
});

test("makePrompt refuses mask rows that do not fit the embeddings, and empty questions", () => {
  const e = tf.zeros([2, 3, 4]);
  assert.throws(() => makePrompt(e, [[1, 1, 1]]), (err: Error) => err instanceof FavchatError && /1 mask rows for a batch of 2/.test(err.message));
  assert.throws(() => makePrompt(e, [[1, 1], [1, 1, 1]]), /mask row 0 has 2 entries, the prompt ids have 3/);
  assert.throws(() => makePrompt(e, [[1, 1, 0], [0, 0, 0]]), /row 1 has no real token/);
  assert.throws(() => makePrompt(e, [[1, 2, 0], [1, 0, 0]]), /only 0 and 1/);
  const p = makePrompt(e, [[1, 1, 0], [1, 0, 0]]);
  assert.deepEqual(p.mask.arraySync(), [[1, 1, 0], [1, 0, 0]]);
  tf.dispose([e, p.mask]);
});

test("maskedMean averages real positions only", () => {
  const x = tf.tensor3d([[[1, 2], [3, 4], [100, 100]], [[5, 6], [-7, 8], [9, 10]]]);
  const m = tf.tensor2d([[1, 1, 0], [0, 1, 1]]);
  const got = maskedMean(x, m).arraySync() as number[][];
  assert.deepEqual(got, [[2, 3], [1, 9]]);
  tf.dispose([x, m]);
});

test("promptKeyBias: lead keys always visible, padded prompt keys masked, one row broadcast over queries", () => {
  const b = promptKeyBias([[1, 0], [1, 1]], 2);
  assert.deepEqual(b.shape, [2, 1, 1, 4]);
  assert.deepEqual(b.arraySync(), [[[[0, 0, 0, MASKED]]], [[[0, 0, 0, 0]]]]);
  b.dispose();
});

test("Projection: [B, T, Din] -> [B, T, Dout], gradients check", () => {
  const rng = new Rng(3);
  const proj = new Projection(6, 4, rng);
  jitter(proj, rng);
  const x = randn(rng, [2, 3, 6]);
  const y = proj.forward(x);
  assert.deepEqual(y.shape, [2, 3, 4]);
  const params = new Map([...proj.namedParams()].map(([n, p]) => [n, p.variable]));
  assert.deepEqual([...params.keys()], ["norm.weight", "norm.bias", "proj.weight", "proj.bias"]);
  const pr = gradcheckVariables(() => projected(proj.forward(x), 1), params);
  assert.ok(pr.passed, pr.message);
  const xr = gradcheck((xi) => projected(proj.forward(xi), 1), [x]);
  assert.ok(xr.passed, xr.message);
  tf.dispose([x, y]);
  proj.dispose();
});
