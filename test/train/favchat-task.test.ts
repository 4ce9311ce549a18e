// Question augmentation of the training tasks: a question loses its trailing format instruction ("Answer with one
// word.") and, where it reads whole without them, its options in about HINT_DROP of training draws, never in
// validation; the answer is the same either way.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../../src/core/rng.ts";
import { THINK_TOKENS } from "../../src/data/chat-format.ts";
import { trainByteLevelBpe, writeTokenizerDir } from "../../src/text/bpe-train.ts";
import { loadTokenizer } from "../../src/text/tokenizer.ts";
import { corpusTexts, type Example } from "../../src/train/favchat-data.ts";
import { encodeAll, HINT_DROP, trainingText, plainExample } from "../../src/train/favchat-task.ts";
import { SPECIAL_TOKENS } from "../../src/train/run-stage.ts";

const ex = (question: string, options?: string[], category = "emotion"): Example =>
  ({ clip: null, question: { question, ...(options ? { options } : {}), reason: false }, target: { answer: "happy" }, category }) as unknown as Example;

test("plainExample drops a trailing format instruction, and the options of questions that read whole without them", () => {
  assert.equal(plainExample(ex("What is the dominant emotion on the face? Answer with one word."))?.question.question, "What is the dominant emotion on the face?");
  assert.equal(plainExample(ex("Does the brow lowerer (AU4) appear in this video? Answer yes or no."))?.question.question, "Does the brow lowerer (AU4) appear in this video?");
  assert.equal(plainExample(ex("How many times does the person blink? Answer with a number."))?.question.question, "How many times does the person blink?");
  const mc = plainExample(ex("What is the dominant emotion on the face? Choose one option.", ["happy", "sad"]));
  assert.deepEqual(mc?.question, { question: "What is the dominant emotion on the face?", reason: false });
  const attribute = plainExample(ex("What colour is the person's hair?", ["grey", "red", "black"], "attribute"));
  assert.deepEqual(attribute?.question, { question: "What colour is the person's hair?", reason: false });
  assert.equal(attribute?.target.answer, "happy", "the answer stays");
  assert.equal(plainExample(ex("How strong is the cheek raiser (AU6) at its peak?", ["trace", "slight"], "au_intensity")), null, "grades keep their scale");
  assert.equal(plainExample(ex("Do you see AU12, the lip corner puller?")), null);
  // plain_options false (the session-12 recipe): a question with options is always asked as written.
  assert.equal(plainExample(ex("What colour is the person's hair?", ["grey", "red"], "attribute"), false), null);
  assert.equal(plainExample(ex("What is the dominant emotion on the face? Choose one option.", ["happy", "sad"]), false), null);
  assert.equal(plainExample(ex("What is the dominant emotion on the face? Answer with one word."), false)?.question.question, "What is the dominant emotion on the face?");
});

test("training draws use the plain question about HINT_DROP of the time, validation never; the answer tokens are the same", () => {
  const examples = [ex("What is the dominant emotion on the face? Answer with one word."), ex("Classify the facial expression in the clip.")];
  const dir = mkdtempSync(join(tmpdir(), "favchat-hint-"));
  try {
    writeTokenizerDir(dir, trainByteLevelBpe(corpusTexts(examples), { vocabSize: 300, specialTokens: SPECIAL_TOKENS, addedTokens: [...THINK_TOKENS] }));
    const [withHint, noHint] = encodeAll(loadTokenizer(dir), examples);
    assert.ok(withHint.plain && noHint.plain === null);
    assert.ok(withHint.plain.ids.length < withHint.full.ids.length);
    const answer = (e: { ids: number[]; targetMask: number[] }) => e.ids.filter((_, t) => e.targetMask[t] === 1);
    assert.deepEqual(answer(withHint.plain), answer(withHint.full));
    const rng = new Rng(4);
    let plain = 0;
    const draws = 2000;
    for (let s = 0; s < draws; s++) {
      const r = rng.fork("batch", s);
      if (trainingText(withHint, 0, r) === withHint.plain) plain++;
      assert.equal(trainingText(noHint, 1, r), noHint.full);
      assert.equal(trainingText(withHint, 0, null), withHint.full, "validation keeps the question as written");
    }
    assert.ok(Math.abs(plain / draws - HINT_DROP) < 0.04, `plain in ${plain} of ${draws} draws`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("encodeAll encodes an example's follow-up turns: every answer is a target, the plain variant drops only the first hint", () => {
  const conv: Example = {
    ...ex("What is the dominant emotion on the face? Answer with one word."),
    followUps: [{ question: { question: "What colour is the person's hair?", options: ["grey", "red"] }, target: { answer: "grey" } }],
  };
  const dir = mkdtempSync(join(tmpdir(), "favchat-conv-"));
  try {
    const tok = loadTokenizer((writeTokenizerDir(dir, trainByteLevelBpe(corpusTexts([conv]), { vocabSize: 300, specialTokens: SPECIAL_TOKENS, addedTokens: [...THINK_TOKENS] })), dir));
    const [e] = encodeAll(tok, [conv]);
    const answer = (x: { ids: number[]; targetMask: number[] }) => tok.decode(x.ids.filter((_, t) => x.targetMask[t] === 1));
    assert.equal(answer(e.full), "happy<|im_end|>grey<|im_end|>");
    assert.ok(e.plain);
    assert.equal(answer(e.plain), "happy<|im_end|>grey<|im_end|>");
    assert.match(tok.decode(e.plain.ids), /What is the dominant emotion on the face\?<\|im_end\|>[\s\S]*What colour is the person's hair\? Options: grey, red\./);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("encodeAll gives each example what encoding it alone gives, with repeated exchanges encoded once", () => {
  const q = "What is the dominant emotion on the face? Answer with one word.";
  const sad: Example = { ...ex(q), target: { answer: "sad" } };
  const examples = [ex(q), sad, ex(q), ex("Classify the facial expression in the clip."), sad, ex(q, ["happy", "sad"])];
  const dir = mkdtempSync(join(tmpdir(), "favchat-memo-"));
  try {
    const tok = loadTokenizer((writeTokenizerDir(dir, trainByteLevelBpe(corpusTexts(examples), { vocabSize: 300, specialTokens: SPECIAL_TOKENS, addedTokens: [...THINK_TOKENS] })), dir));
    const all = encodeAll(tok, examples, true, "after_question");
    examples.forEach((x, i) => assert.deepEqual(all[i], encodeAll(tok, [x], true, "after_question")[0], `example ${i}`));
    assert.equal(all[0].full, all[2].full, "the same exchange shares one encoding");
    assert.notDeepEqual(all[0].full.ids, all[1].full.ids, "another answer is another encoding");
    assert.notDeepEqual(all[0].full.ids, all[5].full.ids, "options are part of the exchange");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
