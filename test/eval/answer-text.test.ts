// Reading answers: the <answer> part, tokens with clause breaks, option letters and negation scopes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { BREAK, answerPart, answerTokens, buildLexicon, findMentions, optionLetters } from "../../src/eval/answer-text.ts";

test("answerPart table", () => {
  const cases: [string, string][] = [
    ["happy", "happy"],
    ["<think>a b</think><answer> sad </answer>", "sad"],
    ["<ANSWER>fear</ANSWER>", "fear"],
    ["<answer>x</answer> then <answer>y</answer>", "y"],
    ["<think>reasoning</think>The face is calm.", "The face is calm."],
    ["<think>still thinking, happy?", ""],
    ["<think>t</think><answer>cut off", "cut off"],
    ["sad<|im_end|>", "sad"],
    ["", ""],
  ];
  for (const [text, want] of cases) assert.equal(answerPart(text), want, text);
});

test("answerTokens: lower case, contractions to 'not', clitics dropped, punctuation as breaks", () => {
  assert.deepEqual(answerTokens("She isn't HAPPY, he's sad."), ["she", "is", "not", "happy", BREAK, "he", "sad", BREAK]);
  assert.deepEqual(answerTokens("can’t; cannot"), ["ca", "not", BREAK, "can", "not"]);
  assert.deepEqual(answerTokens("happy-looking (B)"), ["happy", "looking", BREAK, "b", BREAK]);
});

test("optionLetters table", () => {
  const cases: [string, string[]][] = [
    ["B", ["B"]], ["(c)", ["C"]], [" d. ", ["D"]], ["B) sad", ["B"]], ["A. happy", ["A"]],
    ["Option C", ["C"]], ["the answer is B.", ["B"]], ["Answer: (A)", ["A"]], ["(A) or (C)", ["A", "C"]],
    ["a happy face", []], ["A happy face", []], ["I am sure", []], ["time(s)", []], ["It is AU12", []],
  ];
  for (const [text, want] of cases) assert.deepEqual(optionLetters(text), want, text);
});

test("findMentions: negation scope ends at breaks and after four words; longest phrase wins", () => {
  const lex = buildLexicon({ x: ["red"], y: ["dark red"], z: ["blue"] });
  const m = (t: string) => findMentions(t, lex).map((k) => `${k.negated ? "!" : ""}${k.label}`);
  assert.deepEqual(m("dark red and blue"), ["y", "z"]);
  assert.deepEqual(m("not red, blue"), ["!x", "z"]);
  assert.deepEqual(m("not one two three red"), ["!x"]);
  assert.deepEqual(m("not one two three four red"), ["x"]); // five words away: out of scope
  assert.deepEqual(m("not red but blue"), ["!x", "z"]);
  assert.deepEqual(m("blue rather than red"), ["z", "!x"]);
  assert.deepEqual(m("not only red"), ["x"]);
});
