// The FaVChat composition on a micro config: exact output dims, the splice (visual tokens exactly at the
// placeholder, text around it, padding carried over), per-sample branch weights, each ablation switch removing its
// part, every parameter reached by the gradient, clear errors for bad inputs, and a flat tensor count over
// training steps.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { initBackend, tf } from "../../src/core/backend.ts";
import { Rng } from "../../src/core/rng.ts";
import { FavchatError } from "../../src/core/errors.ts";
import { FavChat, expandAt, expandTargetsAt, findVideoPlaceholders } from "../../src/model/favchat.ts";
import { AdamW } from "../../src/train/optimizer.ts";
import { generate } from "../../src/model/llm/generate.ts";
import { maskedCrossEntropy } from "../../src/train/loss.ts";
import { trackTensorCount } from "../helpers/tensor_count.ts";
import { VIDEO_ID, disposeInputs, microConfig, microInputs } from "./favchat-helpers.ts";
import { scoreCandidates } from "../../src/model/answer.ts";
import { favchatLoss } from "../../src/train/favchat-loss.ts";

before(async () => {
  await initBackend("wasm");
});

const Q = 3, D = 16, V = 32, T = 7;

test("forward: logits [B, T-1+Q, V], visual tokens [B, Q, D], weights [B, 2] summing to 1 per sample", () => {
  const model = new FavChat(microConfig(), new Rng(1));
  const x = microInputs(1);
  const out = model.forward(x);
  assert.deepEqual(out.logits.shape, [2, T - 1 + Q, V]);
  assert.deepEqual(out.tokens.shape, [2, Q, D]);
  assert.deepEqual(out.weights.shape, [2, 2]);
  for (const [wg, wf] of out.weights.arraySync() as number[][]) assert.ok(Math.abs(wg + wf - 1) < 1e-6 && wg > 0 && wf > 0);
  assert.deepEqual(out.videoPositions, [2, 0]);
  assert.deepEqual(out.keyPadding, [
    [1, 1, 1, 1, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 1, 1, 0, 0],
  ]);
  assert.ok(Number.isFinite(tf.sum(out.logits).dataSync()[0]));
  tf.dispose([out.logits, out.tokens, out.weights]);
  disposeInputs(x);
  model.dispose();
});

test("splice: V sits exactly where the placeholder was, the text embeddings around it", () => {
  const model = new FavChat(microConfig(), new Rng(2));
  const x = microInputs(2);
  const visual = tf.tensor(new Rng(3).normalArray(2 * Q * D), [2, Q, D]);
  const { embeds, keyPadding, videoPositions } = model.spliceEmbeds(x.ids, visual, x.attentionMask);
  assert.deepEqual(embeds.shape, [2, T - 1 + Q, D]);
  const e = embeds.arraySync() as number[][][];
  const text = model.llm.embed(x.ids).arraySync() as number[][][];
  const v = visual.arraySync() as number[][][];
  for (let b = 0; b < 2; b++) {
    const p = videoPositions[b];
    const want = [...text[b].slice(0, p), ...v[b], ...text[b].slice(p + 1)];
    assert.deepEqual(e[b], want, `row ${b}`);
  }
  assert.deepEqual(keyPadding[1], expandAt(x.attentionMask![1], 0, Q, 1));
  tf.dispose([visual, embeds]);
  disposeInputs(x);
  model.dispose();
});

test("expandAt / expandTargetsAt keep per-position rows and next-token targets aligned with the spliced sequence", () => {
  // ids a b <v> c d, targets b <v> c d e: after splicing (Q = 3) the last visual position predicts c.
  assert.deepEqual(expandAt(["a", "b", "<v>", "c", "d"], 2, 3, "V"), ["a", "b", "V", "V", "V", "c", "d"]);
  assert.deepEqual(expandTargetsAt(["b", "<v>", "c", "d", "e"], 2, 3, "-"), ["b", "<v>", "-", "-", "c", "d", "e"]);
  assert.deepEqual(findVideoPlaceholders([[1, VIDEO_ID], [VIDEO_ID, 0]], VIDEO_ID), [1, 0]);
});

test("generation from the spliced embeddings continues the same sequence the training forward scores", async () => {
  const model = new FavChat(microConfig(), new Rng(11));
  const x = microInputs(11);
  const one = { ...x, frames: x.frames.slice([0], [1]), faces: x.faces!.slice([0], [1]), promptIds: x.promptIds.slice([0], [1]), promptMask: [x.promptMask[0]], ids: x.ids.slice([0], [1]), attentionMask: undefined };
  const { tokens } = model.encodeVideo(one);
  const { embeds } = model.spliceEmbeds(one.ids, tokens);
  const ids = (one.ids.arraySync() as number[][])[0];
  const res = await generate(model.llm, ids, { promptEmbeds: embeds, maxTokens: 3, stopTokens: [] });
  // Teacher-forced: append the generated ids and check each was the argmax of the full forward at its position.
  const all = [...ids, ...res.newIds];
  const out = model.forward({ ...one, ids: tf.tensor2d([all], [1, all.length], "int32") });
  const argmax = (tf.argMax(out.logits, -1).arraySync() as number[][])[0];
  const at = T - 1 + Q - 1; // last prompt position of the spliced sequence
  assert.deepEqual(res.newIds, argmax.slice(at, at + 3));
  tf.dispose([tokens, embeds, out.logits, out.tokens, out.weights, one.frames, one.faces, one.promptIds, one.ids]);
  disposeInputs(x);
  model.dispose();
});

test("bad inputs are FavchatErrors that say what to fix", () => {
  const model = new FavChat(microConfig(), new Rng(4));
  const x = microInputs(4);
  const run = (over: Partial<typeof x>) => () => {
    const out = model.forward({ ...x, ...over });
    tf.dispose([out.logits, out.tokens, out.weights]);
  };
  const errs: [() => void, RegExp][] = [
    [run({ ids: tf.tensor2d([[1, 2, 3], [VIDEO_ID, 1, 2]], [2, 3], "int32"), attentionMask: undefined }), /row 0 has 0 video placeholders .*id 31/],
    [run({ ids: tf.tensor2d([[VIDEO_ID, VIDEO_ID], [VIDEO_ID, 1]], [2, 2], "int32"), attentionMask: undefined }), /row 0 has 2 video placeholders/],
    [run({ ids: tf.tensor2d([[VIDEO_ID, 40], [VIDEO_ID, 1]], [2, 2], "int32"), attentionMask: undefined }), /ids row 0 has id 40 .*vocabulary of 32/],
    [run({ attentionMask: [[1, 1, 1]] }), /attention mask must be 2 rows of 7/],
    [run({ attentionMask: [[1, 1, 1, 1, 1, 1, 1], [0, 1, 1, 1, 1, 1, 1]] }), /placeholder at position 0 is marked as padding/],
    [run({ faces: undefined }), /has a facial encoder; pass the face crops/],
    [run({ promptMask: [[1, 1, 1], [0, 0, 0]] }), /row 1 has no real token/],
    [run({ frames: tf.zeros([2, 5, 16, 16, 3]) }), /5 frames per clip .* cover 4/],
    [run({ frames: tf.zeros([2, 2, 8, 8, 3]) }), /expected pixels \[N, 16, 16, 3\]/],
  ];
  for (const [f, msg] of errs) assert.throws(f, (e: Error) => e instanceof FavchatError && msg.test(e.message), String(msg));
  disposeInputs(x);
  model.dispose();
});

test("ablation switches remove their parts' parameters and effects", () => {
  const names = (ab: Record<string, boolean>) => {
    const m = new FavChat(microConfig(ab), new Rng(5));
    const n = [...m.namedParams().keys()];
    m.dispose();
    return n;
  };
  const has = (n: string[], prefix: string) => n.some((k) => k.startsWith(prefix));
  const full = names({});
  for (const p of ["face_encoder.", "ca2.", "qformer_f.", "fusion.adapter_g.", "qformer_g.prompt_proj.", "qformer_f.prompt_proj."]) assert.ok(has(full, p), p);
  assert.ok(!has(full, "face_proj."));
  const noFace = names({ no_face_encoder: true });
  for (const p of ["face_encoder.", "ca2.", "face_proj.", "qformer_f.", "fusion.adapter_"]) assert.ok(!has(noFace, p), `no_face_encoder keeps ${p}`);
  const noCA2 = names({ no_ca2: true });
  assert.ok(!has(noCA2, "ca2.") && has(noCA2, "face_proj.") && has(noCA2, "face_encoder."));
  const noPrompt = names({ qformer_without_prompt: true });
  assert.ok(!noPrompt.some((k) => k.startsWith("qformer_") && k.includes("prompt")));
  const fixed = names({ fixed_weights: true });
  assert.ok(!has(fixed, "fusion.adapter_") && has(fixed, "qformer_f."));

  // Effects: fixed weights are 0.5/0.5, no face branch is 1/0 and needs no faces; with no face branch and
  // prompt-free Q-Formers the visual tokens do not depend on the question at all, while the full model's do.
  const x = microInputs(6);
  const other = { ...x, promptIds: tf.tensor2d([[20, 21, 22], [23, 0, 0]], [2, 3], "int32"), promptMask: [[1, 1, 1], [1, 0, 0]] };
  const visual = (ab: Record<string, boolean>, inputs: typeof x) => {
    const m = new FavChat(microConfig(ab), new Rng(7));
    const out = m.encodeVideo(inputs);
    const r = { tokens: out.tokens.arraySync() as number[][][], weights: out.weights.arraySync() as number[][] };
    tf.dispose([out.tokens, out.weights]);
    m.dispose();
    return r;
  };
  assert.deepEqual(visual({ fixed_weights: true }, x).weights, [[0.5, 0.5], [0.5, 0.5]]);
  const g = visual({ no_face_encoder: true, qformer_without_prompt: true }, { ...x, faces: undefined });
  assert.deepEqual(g.weights, [[1, 0], [1, 0]]);
  assert.deepEqual(visual({ no_face_encoder: true, qformer_without_prompt: true }, { ...other, faces: undefined }).tokens, g.tokens);
  assert.notDeepEqual(visual({}, other).tokens, visual({}, x).tokens);
  const rows: Record<string, boolean>[] = [{ no_ca2: true }, { no_face_encoder: true }, { qformer_without_prompt: true, fixed_weights: true }];
  for (const ab of rows) {
    const m = new FavChat(microConfig(ab), new Rng(8));
    const out = m.forward(x);
    assert.deepEqual(out.logits.shape, [2, T - 1 + Q, V], JSON.stringify(ab));
    tf.dispose([out.logits, out.tokens, out.weights]);
    m.dispose();
  }
  tf.dispose(other.promptIds);
  disposeInputs(x);
});

/** Answer-token loss over the spliced sequence: next-token targets of the text, visual positions ignored. */
function lossOf(model: FavChat, x: ReturnType<typeof microInputs>): tf.Scalar {
  const ids = x.ids.arraySync() as number[][];
  const out = model.forward(x);
  const targets = ids.map((r, b) => expandTargetsAt([...r.slice(1), 0], out.videoPositions[b], Q, 0));
  const mask = ids.map((r, b) => expandTargetsAt(r.map((_, t) => (t >= 3 && t < 4 + b ? 1 : 0)), out.videoPositions[b], Q, 0));
  const tt = tf.tensor2d(targets, [2, T - 1 + Q], "int32");
  const mm = tf.tensor2d(mask, [2, T - 1 + Q], "float32");
  const loss = maskedCrossEntropy(out.logits, tt, mm);
  tf.dispose([tt, mm, out.tokens, out.weights]);
  return loss as tf.Scalar;
}

test("every parameter of the full model receives a gradient from an answer-token loss", () => {
  const model = new FavChat(microConfig(), new Rng(9));
  const x = microInputs(9);
  const vars = model.trainableVariables();
  const { value, grads } = tf.variableGrads(() => lossOf(model, x), [...vars.values()]);
  const dead = [...vars].filter(([, v]) => !grads[v.name] || tf.tidy(() => tf.max(tf.abs(grads[v.name])).dataSync()[0]) === 0).map(([n]) => n);
  assert.deepEqual(dead, [], `parameters with no gradient: ${dead.join(", ")}`);
  tf.dispose([value, ...Object.values(grads)]);
  disposeInputs(x);
  model.dispose();
});

test("tensor count stays flat over forward + backward + AdamW steps", async () => {
  const model = new FavChat(microConfig(), new Rng(10));
  const x = microInputs(10);
  const vars = model.trainableVariables();
  const opt = new AdamW(vars, { lr: 1e-3 });
  const byVar = new Map([...vars].map(([n, v]) => [v.name, n]));
  const losses: number[] = [];
  const report = await trackTensorCount(
    () => {
      const { value, grads } = tf.variableGrads(() => lossOf(model, x), [...vars.values()]);
      losses.push(value.dataSync()[0]);
      opt.step(new Map(Object.entries(grads).map(([k, g]) => [byVar.get(k) as string, g])), 1e-2);
      tf.dispose([value, ...Object.values(grads)]);
    },
    { steps: 3, warmup: 1 },
  );
  assert.ok(report.flat, report.message);
  assert.ok(losses[3] < losses[0], `loss should fall on a fixed batch: ${losses.join(", ")}`);
  opt.dispose();
  disposeInputs(x);
  model.dispose();
});

test("dispose frees every tensor the model holds, the inference head cache included", () => {
  const before = tf.memory().numTensors;
  const model = new FavChat(microConfig(), new Rng(12));
  model.llm.freezeForInference();
  model.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test("scoreCandidates: each reply's log-likelihood is minus the training loss summed over its tokens", async () => {
  const model = new FavChat(microConfig(), new Rng(21));
  const x = microInputs(22, 2);
  const one = (t: tf.Tensor) => tf.slice(t, [0], [1]);
  const frames = one(x.frames);
  const faces = one(x.faces!);
  const promptIds = [12, 13, 14];
  // Same prompt, two replies of different lengths (ids after the placeholder; the mask marks the reply).
  const candidates = [
    { ids: [1, 2, VIDEO_ID, 4, 5, 6], targetMask: [0, 0, 0, 0, 1, 1] },
    { ids: [1, 2, VIDEO_ID, 4, 9, 10, 11], targetMask: [0, 0, 0, 0, 1, 1, 1] },
  ];
  const { scores, wGeneral, wFace } = await scoreCandidates(model, { frames, faces, promptIds }, candidates);
  assert.ok(Math.abs(wGeneral + wFace - 1) < 1e-5);
  for (const [i, c] of candidates.entries()) {
    const ids = tf.tensor2d([c.ids], [1, c.ids.length], "int32");
    const out = model.forward({ frames, faces, promptIds: tf.tensor2d([promptIds], [1, 3], "int32"), promptMask: [[1, 1, 1]], ids });
    const mean = favchatLoss(out.logits, [c.ids], [c.targetMask], out.videoPositions, model.numVisualTokens);
    const n = c.targetMask.filter((m) => m === 1).length;
    const want = -(await mean.data())[0] * n;
    assert.ok(Math.abs(scores[i] - want) < 1e-4, `candidate ${i}: ${scores[i]} vs ${want}`);
    tf.dispose([ids, out.logits, out.tokens, out.weights, mean]);
  }
  assert.notEqual(scores[0], scores[1]);
  tf.dispose([frames, faces]);
  disposeInputs(x);
  model.dispose();
});

test("promptGrad false: same forward values, and no gradient reaches the token embeddings through the visual path", () => {
  const model = new FavChat(microConfig(), new Rng(12));
  const x = microInputs(12);
  const embedding = [...model.llm.namedParams()].find(([n]) => n.includes("embed_tokens"))![1].variable;
  // A loss of V alone reaches the embeddings only through the prompt the visual path reads.
  const visualLoss = () => {
    const { tokens, weights } = model.encodeVideo(x);
    weights.dispose();
    return tf.tidy(() => tf.sum(tf.square(tokens))) as tf.Scalar;
  };
  const gradNorm = () => {
    const { value, grads } = tf.variableGrads(visualLoss, [embedding]);
    const g = grads[embedding.name];
    const norm = g ? tf.tidy(() => tf.sum(tf.abs(g))).dataSync()[0] : 0;
    tf.dispose([value, ...Object.values(grads)]);
    return norm;
  };
  const lossWith = (promptGrad: boolean) => {
    model.promptGrad = promptGrad;
    const l = lossOf(model, x);
    const v = l.dataSync()[0];
    l.dispose();
    return v;
  };
  assert.equal(lossWith(false), lossWith(true));
  model.promptGrad = true;
  assert.ok(gradNorm() > 0, "with promptGrad the prompt path should carry a gradient to the embeddings");
  model.promptGrad = false;
  assert.throws(gradNorm, /Cannot find a connection between any variable/); // V has no recorded path to the embeddings
  // The LLM's own path still trains the embeddings.
  const { value, grads } = tf.variableGrads(() => lossOf(model, x), [embedding]);
  assert.ok(tf.tidy(() => tf.sum(tf.abs(grads[embedding.name]))).dataSync()[0] > 0);
  tf.dispose([value, ...Object.values(grads)]);
  disposeInputs(x);
  model.dispose();
});
