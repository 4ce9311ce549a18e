// Caption metrics: ROUGE-L and CIDEr-D against hand-computed tiny corpora, and against values the
// coco-caption scorers' logic gives on a 4-video corpus with several references each.
import assert from "node:assert/strict";
import { test } from "node:test";
import { FavchatError } from "../../src/core/errors.ts";
import { ciderD, corpusRougeL, lcsLength, rougeL, tokenizeCaption } from "../../src/eval/captions.ts";

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

test("tokenizer: lower-case, punctuation dropped, clitics split as PTB does, hyphenated words kept", () => {
  const cases: [string, string[]][] = [
    ["A Woman smiles.", ["a", "woman", "smiles"]],
    ["The person's brows (AU1) rise!", ["the", "person", "'s", "brows", "au1", "rise"]],
    ["He doesn't smile -- at all...", ["he", "does", "n't", "smile", "at", "all"]],
    ["a well-known face", ["a", "well-known", "face"]],
    ["  ", []],
  ];
  for (const [text, want] of cases) assert.deepEqual(tokenizeCaption(text), want, text);
});

test("LCS length table", () => {
  const cases: [string, string, number][] = [
    ["a b c d", "a c d", 3], ["a b c", "d e f", 0], ["", "a b", 0], ["a b a b", "b a b a", 3], ["x", "x", 1],
  ];
  for (const [a, b, want] of cases) {
    const sa = a ? a.split(" ") : [];
    const sb = b ? b.split(" ") : [];
    assert.equal(lcsLength(sa, sb), want, `${a} | ${b}`);
    assert.equal(lcsLength(sb, sa), want, "symmetric");
  }
});

test("ROUGE-L table (hand-computed)", () => {
  const beta2 = 1.44;
  const f = (p: number, r: number) => ((1 + beta2) * p * r) / (r + beta2 * p);
  const cases: [string, string[], number][] = [
    // identical
    ["a man smiles", ["a man smiles"], 1],
    // LCS "the cat on the mat" = 5 of 6 both ways
    ["the cat sat on the mat", ["the cat is on the mat"], 5 / 6],
    // LCS 2: P = 2/3, R = 2/4
    ["a sad man", ["a very sad face"], f(2 / 3, 2 / 4)],
    // best precision (ref 2: 3/3) and best recall (ref 1: 2/2) come from different references
    ["a b c", ["a b", "a b c d e f"], 1],
    // nothing in common
    ["x y", ["a b"], 0],
    // empty candidate
    ["", ["a b"], 0],
  ];
  for (const [c, refs, want] of cases) close(rougeL(c, refs), want);
});

test("CIDEr-D: hand-computed scores (idf, clipping, length penalty, missing orders)", () => {
  const g = Math.exp(-1 / 72); // length penalty for a difference of one bigram, sigma 6
  // item 1: hyp x y vs ref x y z: unigram cos 2/sqrt(6), bigram cos 1/sqrt(2), no 3/4-grams in hyp
  // item 2: identical single word: unigram cos 1, other orders 0 -> 10 * 1/4
  const r1 = ciderD([
    { candidate: "x y", references: ["x y z"] },
    { candidate: "w", references: ["w"] },
  ]);
  close(r1.scores[0], (10 / 4) * g * (2 / Math.sqrt(6) + 1 / Math.sqrt(2)));
  close(r1.scores[1], 2.5);
  close(r1.score, (r1.scores[0] + r1.scores[1]) / 2);

  // clipping: hyp "a a a" (tf 3) against ref "a b": the dot product uses min(3L, L)·L, not 3L·L
  const r2 = ciderD([
    { candidate: "a a a", references: ["a b"] },
    { candidate: "q", references: ["r"] },
  ]);
  close(r2.scores[0], (10 / 4) * g * (1 / (3 * Math.SQRT2)));
  close(r2.scores[1], 0);

  // a 4+-word exact match scores 10 when the n-grams are rare (df 1 of 2 items)
  const r3 = ciderD([
    { candidate: "the woman raises her brows", references: ["the woman raises her brows"] },
    { candidate: "q", references: ["r"] },
  ]);
  close(r3.scores[0], 10);
});

test("CIDEr-D: n-grams in every item's references carry no weight; one item alone scores 0", () => {
  close(ciderD([{ candidate: "a man smiles", references: ["a man smiles"] }]).score, 0);
  const r = ciderD([
    { candidate: "a", references: ["a"] },
    { candidate: "a", references: ["a"] },
  ]);
  assert.deepEqual(r.scores, [0, 0]);
});

test("CIDEr-D and ROUGE-L match the coco-caption scorers on a 4-video corpus", () => {
  // Golden values: coco-caption's cider_scorer.py / rouge.py logic, run on these already-tokenized captions.
  const items = [
    { candidate: "a woman with brown hair smiles broadly", references: ["a woman with brown hair is smiling", "the woman smiles broadly at the camera", "a smiling woman with brown hair"] },
    { candidate: "a man frowns and looks angry", references: ["a bearded man frowns angrily", "the man looks angry and frowns"] },
    { candidate: "a person with glasses looks surprised", references: ["a person wearing glasses raises the brows in surprise", "surprised person with glasses", "a person with round glasses looks surprised"] },
    { candidate: "the woman looks sad", references: ["a woman with a sad face looks down"] },
  ];
  const cider = ciderD(items);
  const want = [3.916552949301016, 2.3821369247332145, 3.5822770996075515, 1.226040327929268];
  cider.scores.forEach((s, i) => close(s, want[i], 1e-9));
  close(cider.score, 2.776751825392762, 1e-9);
  const rouge = corpusRougeL(items);
  [0.7800511508951408, 0.5545454545454546, 0.9104477611940297, 0.31443298969072164].forEach((w, i) => close(rouge.scores[i], w, 1e-12));
});

test("bad input: no items, an item without references, bad options", () => {
  assert.throws(() => ciderD([]), FavchatError);
  assert.throws(() => ciderD([{ candidate: "a", references: [] }]), /item 0 has no reference/);
  assert.throws(() => corpusRougeL([{ candidate: "a", references: [] }]), /item 0 has no reference/);
  assert.throws(() => ciderD([{ candidate: "a", references: ["a"] }], { sigma: 0 }), /sigma must be positive/);
  assert.throws(() => rougeL("a", []), /at least one reference/);
});
