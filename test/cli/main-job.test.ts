// The README's main job, exactly as written there: the shipped model answers a question about the shipped example
// clip. Guards the front door: the committed model loads, its tokenizer matches, the example's face is found, and the
// answer is the clip's emotion (greedy decoding: the same answer every run).
import { test } from "node:test";
import assert from "node:assert/strict";
import { favchat } from "../helpers/cli.ts";

test("favchat chat --video examples/sad.mp4 answers with the shipped model", async () => {
  const r = await favchat(["chat", "--video", "examples/sad.mp4", "--json", "What is the dominant emotion on the face?"]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { answer: string; w_general: number; w_face: number; faces_detected: number; frames: unknown[] };
  assert.equal(out.answer.trim(), "sad", "the shipped model names the example clip's emotion");
  assert.equal(out.frames.length, 8);
  assert.equal(out.faces_detected, 8);
  assert.ok(Math.abs(out.w_general + out.w_face - 1) < 1e-5);
});

test("favchat chat without a question: a conversation, every piped question answered in turn", async () => {
  const questions = ["What is the dominant emotion on the face?", "Is the person wearing glasses?", "How many times does the person blink?"];
  const r = await favchat(["chat", "--video", "examples/sad.mp4"], 120_000, questions.join("\n") + "\n");
  assert.equal(r.code, 0, r.stderr);
  const answers = r.stdout.split("\n").filter((l) => l.startsWith("favchat> "));
  assert.equal(answers.length, 3, `one answer per question, got: ${r.stdout}`);
  assert.equal(answers[0], "favchat> sad");
  assert.match(r.stderr, /ask a question/);
});
