// From records to tensors: the chat format marks exactly the answer for the loss, face crops land on the face,
// frames are sampled evenly, and batches are padded with masks that say so.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initBackend, tf } from "../../src/core/backend.ts";
import { trainByteLevelBpe, writeTokenizerDir } from "../../src/text/bpe-train.ts";
import { loadTokenizer, type TextTokenizer } from "../../src/text/tokenizer.ts";
import { encodeConversation, encodeExample, encodeQuestion, parseReply, THINK_TOKENS, VIDEO_TOKEN } from "../../src/data/chat-format.ts";
import { Rng } from "../../src/core/rng.ts";
import { cropJitter, pixelsFromRaw, uniformIndices } from "../../src/data/clip-pixels.ts";
import { collate } from "../../src/data/collate.ts";

let tok: TextTokenizer;
before(async () => {
  await initBackend("wasm");
  const dir = mkdtempSync(join(tmpdir(), "favchat-tok-"));
  const corpus = ["What is the dominant emotion on the face?", "happy sad angry neutral", "AU12 rises at frame 5"];
  writeTokenizerDir(dir, trainByteLevelBpe(corpus, { vocabSize: 300, specialTokens: ["<|endoftext|>", "<|im_start|>", "<|im_end|>", VIDEO_TOKEN], addedTokens: [...THINK_TOKENS] }));
  tok = loadTokenizer(dir);
});

test("the target mask covers the answer and its end-of-turn, nothing else", () => {
  const q = { question: "What is the dominant emotion on the face?" };
  const ex = encodeExample(tok, q, { answer: "happy" });
  const masked = ex.ids.filter((_, i) => ex.targetMask[i] === 1);
  assert.equal(tok.decode(masked), "happy<|im_end|>");
  assert.equal(ex.ids.filter((id) => id === tok.encode(VIDEO_TOKEN)[0]).length, 1);
  assert.equal(tok.decode(ex.promptIds), q.question);
  // The question alone is exactly the unmasked prefix: what generation starts from.
  const prefix = encodeQuestion(tok, q).ids;
  assert.deepEqual(ex.ids.slice(0, prefix.length), prefix);
  assert.ok(ex.targetMask.slice(0, prefix.length).every((m) => m === 0));

  const r = encodeExample(tok, { ...q, reason: true, options: ["happy", "sad"] }, { answer: "sad", think: "AU15 at frame 5." });
  const target = tok.decode(r.ids.filter((_, i) => r.targetMask[i] === 1));
  assert.equal(target, "<think>AU15 at frame 5.</think><answer>sad</answer><|im_end|>");
  assert.match(tok.decode(r.promptIds), /Options: happy, sad\. Look at the face closely/);
});

test("a conversation: the video in the first turn only, every answer and its end-of-turn learnt, the first question as the prompt", () => {
  const turns = [
    { question: { question: "What is the dominant emotion on the face?" }, target: { answer: "happy" } },
    { question: { question: "AU12 rises at frame 5?", options: ["happy", "sad"] }, target: { answer: "sad" } },
    { question: { question: "What is the dominant emotion?" }, target: { answer: "angry" } },
  ];
  const c = encodeConversation(tok, turns);
  assert.deepEqual(encodeConversation(tok, turns.slice(0, 1)), encodeExample(tok, turns[0].question, turns[0].target), "one turn is encodeExample's exchange");
  assert.equal(c.ids.filter((id) => id === tok.encode(VIDEO_TOKEN)[0]).length, 1);
  assert.equal(tok.decode(c.ids.filter((_, i) => c.targetMask[i] === 1)), "happy<|im_end|>sad<|im_end|>angry<|im_end|>");
  assert.equal(tok.decode(c.promptIds), turns[0].question.question);
  // Each later user turn (its question and options) is context, not target; the ids end at the last end-of-turn.
  const text = tok.decode(c.ids);
  assert.match(text, /^<\|im_start\|>user\n<video>\nWhat is the dominant emotion on the face\?<\|im_end\|>/);
  assert.match(text, /<\|im_start\|>user\nAU12 rises at frame 5\? Options: happy, sad\.<\|im_end\|>/);
  assert.ok(text.endsWith("angry<|im_end|>"));
  assert.throws(() => encodeConversation(tok, []), /at least one question/);
});

test("video_position after_question: the placeholder follows the first question; the same target and prompt", () => {
  const turns = [
    { question: { question: "What is the dominant emotion on the face?" }, target: { answer: "happy" } },
    { question: { question: "AU12 rises at frame 5?" }, target: { answer: "sad" } },
  ];
  const before = encodeConversation(tok, turns);
  const after = encodeConversation(tok, turns, "after_question");
  assert.match(tok.decode(after.ids), /^<\|im_start\|>user\nWhat is the dominant emotion on the face\?\n<video><\|im_end\|>\n<\|im_start\|>assistant\nhappy<\|im_end\|>/);
  assert.equal(tok.decode(after.ids.filter((_, i) => after.targetMask[i] === 1)), "happy<|im_end|>sad<|im_end|>");
  assert.deepEqual(after.promptIds, before.promptIds);
  assert.equal(after.ids.length, before.ids.length);
  const prefix = encodeQuestion(tok, turns[0].question, "after_question").ids;
  assert.deepEqual(after.ids.slice(0, prefix.length), prefix, "generation starts from the exchange's prefix");
  assert.deepEqual(encodeExample(tok, turns[0].question, turns[0].target, "after_question"), encodeConversation(tok, turns.slice(0, 1), "after_question"));
});

test("parseReply reads think and answer, with or without tags", () => {
  assert.deepEqual(parseReply("<think>brows up</think><answer>surprise</answer>"), { think: "brows up", answer: "surprise" });
  assert.deepEqual(parseReply("<think>x</think><answer>fear"), { think: "x", answer: "fear" });
  assert.deepEqual(parseReply("  happy "), { think: null, answer: "happy" });
});

test("uniform frame indices", () => {
  assert.deepEqual(uniformIndices(16, 16), [...Array(16).keys()]);
  assert.deepEqual(uniformIndices(16, 4), [2, 6, 10, 14]);
  assert.deepEqual(uniformIndices(2, 4), [0, 0, 1, 1]);
  assert.throws(() => uniformIndices(0, 4), /no frames/);
});

test("face crops come from the face box; frames keep the whole picture", () => {
  // 2 frames of 64x64: black, with a white 20x20 "face" whose ground-truth box is larger (hair), as in FaceWorld.
  const W = 64;
  const data = new Uint8Array(2 * W * W * 3);
  for (let f = 0; f < 2; f++) for (let y = 30; y < 50; y++) for (let x = 10; x < 30; x++) data.fill(255, ((f * W + y) * W + x) * 3, ((f * W + y) * W + x) * 3 + 3);
  const raw = { frames: 2, height: W, width: W, channels: 3, fps: 8, data };
  const box: [number, number, number, number] = [8, 26, 24, 26]; // around the white square
  const px = pixelsFromRaw(raw, [box, box], { frames: 2, frameSize: 32, faceSize: 16, margin: 0 });
  assert.equal(px.frames.length, 2 * 32 * 32 * 3);
  assert.equal(px.faces.length, 2 * 16 * 16 * 3);
  const mean = (a: Uint8Array) => a.reduce((s, v) => s + v, 0) / a.length;
  assert.ok(mean(px.faces.subarray(0, 16 * 16 * 3)) > 200, `face crop mean ${mean(px.faces)} should be mostly the white face`);
  assert.ok(Math.abs(mean(px.frames) - (255 * 400) / (64 * 64)) < 10, "frames show the whole picture");
});

test("crop jitter: one shift for the clip's frames; a shift or a turn moves the crop, not the frames", () => {
  const W = 64;
  const data = new Uint8Array(2 * W * W * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37) % 251; // texture, so any shift changes the crop
  const raw = { frames: 2, height: W, width: W, channels: 3, fps: 8, data };
  const box: [number, number, number, number] = [16, 16, 32, 32];
  const o = { frames: 2, frameSize: 16, faceSize: 16 };
  const plain = pixelsFromRaw(raw, [box, box], o);
  const jitter = cropJitter(new Rng(3), 2);
  assert.equal(jitter.length, 2);
  assert.deepEqual(jitter[0], jitter[1], "all frames alike");
  const moved = pixelsFromRaw(raw, [box, box], o, jitter);
  assert.notDeepEqual(moved.faces, plain.faces);
  assert.deepEqual(moved.frames, plain.frames, "whole frames are not moved");
  const turned = pixelsFromRaw(raw, [box, box], o, [0, 1].map(() => ({ dx: 0, dy: 0, scale: 1, angle: 0.1 })));
  assert.notDeepEqual(turned.faces, plain.faces);
  assert.throws(() => pixelsFromRaw(raw, [box, box], o, jitter.slice(1)), /for 1 frames given for 2/);
});

test("collate pads text, scales pixels and keeps the masks", () => {
  const q = { question: "What is the dominant emotion on the face?" };
  const raw = { frames: 4, height: 8, width: 8, channels: 3, fps: 8, data: new Uint8Array(4 * 8 * 8 * 3).fill(255) };
  const px = pixelsFromRaw(raw, undefined, { frames: 4, frameSize: 8, faceSize: 4 });
  const a = encodeExample(tok, q, { answer: "happy" });
  const b = encodeExample(tok, q, { answer: "AU12 rises at frame 5" });
  const batch = collate([{ pixels: px, text: a }, { pixels: px, text: b }], 0);
  const T = Math.max(a.ids.length, b.ids.length);
  assert.deepEqual(batch.ids.shape, [2, T]);
  assert.deepEqual(batch.frames.shape, [2, 4, 8, 8, 3]);
  assert.deepEqual(batch.faces.shape, [2, 4, 4, 4, 3]);
  assert.equal(batch.frames.max().dataSync()[0], 1);
  assert.equal(batch.attentionMask[0].reduce((s, v) => s + v, 0), a.ids.length);
  assert.equal(batch.targetMask[0].length, T);
  tf.dispose([batch.frames, batch.faces, batch.ids, batch.promptIds]);
});
