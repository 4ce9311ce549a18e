// AU presence and attribute QA scoring over prediction records: hand-counted F1 and accuracy, AU found
// from the question, values told apart by the file's own answers, and clear errors for what cannot be scored.
import assert from "node:assert/strict";
import { test } from "node:test";
import { FavchatError } from "../../src/core/errors.ts";
import { attributeReport, auReport, evaluateAttributes, evaluateAuPresence } from "../../src/eval/evaluate-qa.ts";
import type { Prediction } from "../../src/eval/predictions.ts";

test("AU presence: per-AU F1, micro/macro, accuracy; the AU comes from label or question", () => {
  const preds: Prediction[] = [
    { id: "1", question: "Is AU12 (lip corner puller) active at any point in the clip?", prediction: "Yes, it is.", answer: "yes" }, // tp
    { id: "2", question: "Do you see AU12, the lip corner puller?", prediction: "No.", answer: "yes" }, // fn
    { id: "3", label: "AU12", prediction: "<answer>no</answer>", answer: "no" }, // tn
    { id: "4", label: "AU4", prediction: "It is present", answer: "no" }, // fp
    { id: "5", label: "AU4", prediction: "yes", answer: "yes" }, // tp
    { id: "6", label: "AU4", prediction: "maybe", answer: "yes" }, // unmapped: counts as a miss
  ];
  const ev = evaluateAuPresence(preds);
  assert.deepEqual(ev.metrics.perLabel.map((l) => [l.label, l.tp, l.fp, l.fn, l.tn]), [["AU4", 1, 1, 1, 0], ["AU12", 1, 0, 1, 1]]);
  // AU4: 2/(2+1+1) = 0.5; AU12: 2/(2+0+1) = 2/3; micro: 4/(4+1+2)
  assert.deepEqual(ev.metrics.perLabel.map((l) => l.f1), [0.5, 2 / 3]);
  assert.equal(ev.metrics.macroF1, (0.5 + 2 / 3) / 2);
  assert.equal(ev.metrics.micro.f1, 4 / 7);
  assert.equal(ev.accuracy, 3 / 6);
  assert.equal(ev.none, 1);
  // Without the video: AU12 is yes 2 of 3 and AU4 yes 2 of 3, so each AU's usual answer gets 4 of 6; "yes" to all:
  // 4 true "yes" of 6, F1 2*4 / (2*4 + 2).
  assert.equal(ev.baselines.perAuMajority, 4 / 6);
  assert.equal(ev.baselines.allYesF1, 8 / 10);
  const r = auReport(ev);
  assert.equal(r.overall["without the video: each AU's usual answer, accuracy"], 4 / 6);
  assert.equal(r.overall["micro F1"], 4 / 7);
  assert.deepEqual(r.examples!.map((e) => e.id), ["6"]);
});

test("AU presence per naming: number and words, number alone, words alone, each scored on its own questions", () => {
  const preds = [
    { id: "a", question: "Is AU12 (lip corner puller) active at any point in the clip?", prediction: "yes", answer: "yes" },
    { id: "b", question: "Is AU12 active at any point in the clip?", prediction: "no", answer: "yes" },
    { id: "c", question: "Does AU4 occur in this video? Answer yes or no.", prediction: "no", answer: "no" },
    { id: "d", question: "Is the brow lowerer visible at any point in the clip?", prediction: "yes", answer: "yes" },
    { id: "e", question: "Is the Lip Corner Puller visible at any point in the clip?", prediction: "maybe", answer: "no" },
  ];
  const ev = evaluateAuPresence(preds);
  assert.deepEqual(ev.byNaming["number and words"], { questions: 1, f1: 1, accuracy: 1 });
  assert.deepEqual(ev.byNaming["number alone"], { questions: 2, f1: 0, accuracy: 0.5 });
  // "maybe" is unmapped: wrong, counted as a false "yes" for a "no" question (as the micro F1 counts it).
  assert.deepEqual(ev.byNaming["words alone"], { questions: 2, f1: 2 / 3, accuracy: 0.5 });
  assert.equal(auReport(ev).overall["AU named by number alone: accuracy"], 0.5);
  // Predictions without questions (a label only) have no naming to report.
  assert.deepEqual(evaluateAuPresence([{ id: "x", label: "AU1", prediction: "yes", answer: "yes" }]).byNaming, {});
});

test("AU presence bad input: no AU to group by, a truth that is not yes/no, empty", () => {
  assert.throws(() => evaluateAuPresence([{ id: "q", question: "Is the person smiling?", prediction: "yes", answer: "yes" }]),
    (e: unknown) => e instanceof FavchatError && /prediction "q": cannot tell which AU/.test(e.message));
  assert.throws(() => evaluateAuPresence([{ id: "q", label: "AU1", prediction: "yes", answer: "marked" }]), /"marked" is not yes or no/);
  assert.throws(() => evaluateAuPresence([]), /empty/);
});

test("attributes: accuracy per attribute; longest value wins; options and letters; yes/no attributes", () => {
  const preds: Prediction[] = [
    { id: "1", label: "hair_colour", prediction: "The hair is dark brown.", answer: "dark_brown" }, // right
    { id: "2", label: "hair_colour", prediction: "brown", answer: "brown" }, // right (not dark_brown)
    { id: "3", label: "hair_colour", prediction: "black or brown", answer: "black" }, // several: wrong
    { id: "4", label: "hair_colour", prediction: "brown", answer: "black" }, // wrong
    { id: "5", label: "glasses", prediction: "(B)", answer: "round", options: ["none", "round", "square"] }, // right
    { id: "6", label: "beard", prediction: "No, clean shaven.", answer: "no" }, // right (yes/no attribute)
    { id: "7", label: "beard", prediction: "It has one.", answer: "yes" }, // unmapped: wrong
  ];
  const ev = evaluateAttributes(preds);
  assert.equal(ev.metrics.correct, 4);
  assert.equal(ev.metrics.accuracy, 4 / 7);
  assert.deepEqual(ev.metrics.perAttribute.map((a) => [a.attribute, a.n, a.correct]), [["hair_colour", 4, 2], ["glasses", 1, 1], ["beard", 2, 1]]);
  assert.equal(ev.multiple, 1);
  assert.equal(ev.none, 1);
  assert.equal(attributeReport(ev).overall.accuracy, 4 / 7);
});

test("attributes need the attribute's name", () => {
  assert.throws(() => evaluateAttributes([{ id: "a", prediction: "black", answer: "black" }]), /prediction "a": attribute scoring needs "label"/);
});
