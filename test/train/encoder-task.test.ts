// Encoder pretraining (stage "encoders"): the heads follow the clips' labels, the loss falls when the encoders
// fit a fixed batch, only the encoders (and heads) move, and no tensor leaks per step.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initBackend, tf } from "../../src/core/backend.ts";
import { Rng } from "../../src/core/rng.ts";
import { synthesize } from "../../src/data/faceworld/synth.ts";
import { FavChat } from "../../src/model/favchat.ts";
import { applyFreezePlan } from "../../src/model/freeze.ts";
import { indexClips, type ClipRef } from "../../src/train/favchat-data.ts";
import {
  EncoderPretrainer, encoderLosses, encoderTask, evaluateEncoders, frameEmotion, labelHeads, makeEncoderBatch, disposeEncoderBatch, ENCODER_FRAMES_PER_CLIP, encoderFrameIndices,
} from "../../src/train/encoder-task.ts";
import { AdamW } from "../../src/train/optimizer.ts";
import { AU_NAMES } from "../../src/data/records.ts";
import { microConfig } from "../model/favchat-helpers.ts";
import { trackTensorCount } from "../helpers/tensor_count.ts";

let clips: ClipRef[] = [];

before(async () => {
  await initBackend("wasm");
  const out = mkdtempSync(join(tmpdir(), "favchat-enc-"));
  await synthesize({ out, clips: 6, seed: 3, frames: 4, size: 64, mp4: false });
  clips = [...indexClips(join(out, "clips.jsonl")).values()];
});

function pretrainer(seed = 0): EncoderPretrainer {
  const model = new FavChat(microConfig(), new Rng(seed));
  applyFreezePlan(model, "encoders");
  return new EncoderPretrainer(model, labelHeads(clips), new Rng(seed + 1));
}

test("label heads: every attribute, the one-frame scene labels, classes sorted from the clips", () => {
  const heads = labelHeads(clips);
  const keys = heads.face.map((h) => h.key);
  assert.ok(keys.includes("hair_colour") && keys.includes("glasses"), keys.join(","));
  assert.deepEqual(heads.general.filter((h) => h.source === "scene").map((h) => h.key).sort(), ["background", "lighting", "object", "wall_colour"].filter((k) => heads.general.some((h) => h.key === k)).sort());
  assert.ok(!heads.general.some((h) => h.key === "object_motion"), "motion needs several frames");
  for (const h of [...heads.face, ...heads.general]) {
    assert.deepEqual([...h.classes], [...h.classes].sort());
    assert.ok(h.classes.length >= 2);
    for (const c of clips) {
      const bag = h.source === "attributes" ? c.record.labels.attributes : c.record.labels.scene;
      assert.ok(h.classes.includes(String(bag?.[h.key])), `${h.key} ${String(bag?.[h.key])}`);
    }
  }
});

test("frame emotion: the clip's emotion only while an expression AU shows; speech and blinks do not count", () => {
  const clip = (emotion: string | undefined, speaking: boolean) =>
    ({
      id: "x", video: "x", raw: null,
      record: {
        labels: {
          emotion,
          aus: { AU12: [0, 0.05, 0.3, 0.5], AU25: [0.4, 0.4, 0, 0], AU43: [0, 0, 0, 0] },
          attributes: {},
          actions: speaking ? [{ name: "speak", spans: [[0, 1]] }] : [],
        },
      },
    }) as unknown as ClipRef;
  assert.deepEqual([0, 1, 2, 3].map((t) => frameEmotion(clip("happy", true), t)), ["neutral", "neutral", "happy", "happy"]);
  // Without speech, AU25 (lips part) belongs to the expression.
  assert.deepEqual([0, 1, 2, 3].map((t) => frameEmotion(clip("happy", false), t)), ["happy", "happy", "happy", "happy"]);
  assert.deepEqual([0, 3].map((t) => frameEmotion(clip("neutral", false), t)), ["neutral", "neutral"]);
  assert.equal(frameEmotion(clip(undefined, false), 2), null);
});

test("batch frames: a reference early in the clip and the apex (always in evaluation, half the time in training)", () => {
  assert.deepEqual(encoderFrameIndices(16, 8, 5, null), [1, 5]); // the first of 8 evenly spread frames, the apex
  assert.deepEqual(encoderFrameIndices(16, 8, undefined, null), [1, 8]); // no apex (neutral): the middle frame
  const rng = new Rng(3);
  const draws = Array.from({ length: 400 }, () => encoderFrameIndices(16, 8, 5, rng));
  assert.ok(draws.every(([ref, t]) => ref >= 0 && ref < 2 && t >= 0 && t < 16));
  const apex = draws.filter(([, t]) => t === 5).length / draws.length;
  assert.ok(apex > 0.45 && apex < 0.62, `apex drawn ${apex}`); // 0.5 + 0.5/16
  assert.deepEqual(new Set(draws.map(([ref]) => ref)), new Set([0, 1]));
});

test("a batch: frames of each clip with the AU intensities of exactly those frames", () => {
  const p = pretrainer();
  const b = makeEncoderBatch(p, clips.slice(0, 3), new Rng(9));
  const N = 3 * ENCODER_FRAMES_PER_CLIP;
  assert.deepEqual(b.frames.shape, [3, ENCODER_FRAMES_PER_CLIP, 16, 16, 3]);
  assert.deepEqual(b.aus.shape, [N, AU_NAMES.length]);
  const aus = b.aus.arraySync() as number[][];
  // Each row's AUs are one frame of its clip's curves.
  for (let r = 0; r < N; r++) {
    const labels = clips[Math.floor(r / ENCODER_FRAMES_PER_CLIP)].record.labels.aus!;
    const frames = labels.AU1.length;
    const match = Array.from({ length: frames }, (_, t) => t).some((t) => AU_NAMES.every((au, k) => Math.abs(labels[au][t] - aus[r][k]) < 1e-6));
    assert.ok(match, `row ${r}`);
  }
  for (const col of b.face) assert.ok(col.every((y) => y >= 0));
  disposeEncoderBatch(b);
  p.dispose();
});

test("training: the loss on a fixed batch falls, only encoders and heads change, no tensor leaks", async () => {
  const p = pretrainer(1);
  const llmBefore = p.favchat.llm.stateDict();
  const faceBefore = p.favchat.faceEncoder!.stateDict();
  const batch = makeEncoderBatch(p, clips, new Rng(2));
  const vars = p.trainableVariables();
  assert.ok([...vars.keys()].every((n) => /^(model\.(vision_tower|face_encoder)\.|au_head\.|emotion_head\.|face_heads\.|general_heads\.)/.test(n)), [...vars.keys()].join(","));
  const opt = new AdamW(vars, { lr: 1e-2, weightDecay: 0 });
  const lossOf = () => {
    const l = encoderLosses(p, batch);
    assert.ok(l.au && l.emotion && l.face && l.general, "every term has labels");
    return tf.addN([l.au, l.emotion, l.face, l.general]) as tf.Scalar;
  };
  const first = tf.tidy(() => lossOf().dataSync()[0]);
  const step = () => {
    const { value, grads } = tf.variableGrads(lossOf, [...vars.values()]);
    value.dispose();
    opt.step(new Map([...vars.keys()].map((n) => [n, grads[vars.get(n)!.name]])), 1e-2);
    tf.dispose(Object.values(grads));
  };
  tf.tidy(() => {
    // attributeWeight scales the label heads' terms and nothing else.
    const one = encoderLosses(p, batch), three = encoderLosses(p, batch, 3);
    for (const k of ["face", "general"] as const) assert.ok(Math.abs(three[k]!.dataSync()[0] - 3 * one[k]!.dataSync()[0]) < 1e-4, k);
    for (const k of ["au", "emotion"] as const) assert.equal(three[k]!.dataSync()[0], one[k]!.dataSync()[0], k);
  });
  const report = await trackTensorCount(step, { warmup: 2, steps: 30 });
  assert.ok(report.flat, report.message);
  const last = tf.tidy(() => lossOf().dataSync()[0]);
  assert.ok(last < 0.6 * first, `loss ${first} -> ${last}`);
  const llmAfter = p.favchat.llm.stateDict();
  for (const [n, t] of llmBefore) assert.deepEqual(llmAfter.get(n)!.data, t.data, `${n} is frozen`);
  const faceAfter = p.favchat.faceEncoder!.stateDict();
  assert.ok([...faceBefore].some(([n, t]) => faceAfter.get(n)!.data.some((v, i) => v !== t.data[i])), "the facial encoder trained");
  disposeEncoderBatch(batch);
  opt.dispose();
  p.dispose();
});

test("evaluation reports AU F1 and error and head accuracies in range; the task refuses no clips", async () => {
  const p = pretrainer(4);
  const m = await evaluateEncoders(p, clips, { batchSize: 4, valBatches: 2 });
  for (const k of ["au_f1", "au_mae", "face_attr_acc", "general_acc"]) assert.ok(m[k] >= 0 && m[k] <= 1, `${k} ${m[k]}`);
  // One accuracy per head; every clip has every label here, so each group's accuracy is the mean of its heads'.
  for (const group of ["face", "general"] as const) {
    const perHead = p.heads[group].map((h) => m[`acc.${group}.${h.key}`]);
    assert.ok(perHead.every((a) => a >= 0 && a <= 1), `${group}: ${perHead.join(", ")}`);
    const mean = perHead.reduce((x, y) => x + y, 0) / perHead.length;
    assert.ok(Math.abs(mean - m[group === "face" ? "face_attr_acc" : "general_acc"]) < 1e-9, `${group}: mean of heads ${mean}`);
  }
  assert.throws(() => encoderTask(p, [], { batchSize: 2 }), /no training clips/);
  p.dispose();
});
