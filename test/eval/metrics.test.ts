// Classification, multi-label and attribute metrics: table tests with hand-computed values.
import assert from "node:assert/strict";
import { test } from "node:test";
import { FavchatError } from "../../src/core/errors.ts";
import {
  UNMAPPED, attributeAccuracy, classificationMetrics, confusionMatrix, decisionsFromSets, multiLabelF1,
} from "../../src/eval/metrics.ts";

const close = (a: number | null, b: number | null) => {
  if (a === null || b === null) return assert.equal(a, b);
  assert.ok(Math.abs(a - b) < 1e-12, `${a} != ${b}`);
};

test("confusion matrix: rows truth, columns prediction, unknown and null predictions in the unmapped column", () => {
  const cm = confusionMatrix(["a", "a", "b", "b", "c"], ["a", "b", "b", null, "zzz"], ["a", "b", "c"]);
  assert.deepEqual(cm.columns, ["a", "b", "c", UNMAPPED]);
  assert.deepEqual(cm.counts, [
    [1, 1, 0, 0],
    [0, 1, 0, 1],
    [0, 0, 0, 1],
  ]);
});

test("WAR / UAR / per-class table", () => {
  interface Case { name: string; truth: string[]; pred: (string | null)[]; labels: string[]; war: number; uar: number; recall: (number | null)[]; precision: (number | null)[] }
  const cases: Case[] = [
    { name: "perfect", truth: ["a", "b", "c"], pred: ["a", "b", "c"], labels: ["a", "b", "c"], war: 1, uar: 1, recall: [1, 1, 1], precision: [1, 1, 1] },
    // majority-class predictor on imbalanced data: WAR high, UAR = 1/2
    { name: "majority", truth: ["a", "a", "a", "b"], pred: ["a", "a", "a", "a"], labels: ["a", "b"], war: 3 / 4, uar: 1 / 2, recall: [1, 0], precision: [3 / 4, null] },
    // class c has no support: excluded from UAR, its recall is null, its precision 0 (predicted once, wrong)
    { name: "absent class", truth: ["a", "a", "b", "b"], pred: ["a", "c", "b", "b"], labels: ["a", "b", "c"], war: 3 / 4, uar: (1 / 2 + 1) / 2, recall: [1 / 2, 1, null], precision: [1, 1, 0] },
    // unmapped answers are wrong
    { name: "unmapped", truth: ["a", "b"], pred: [null, "b"], labels: ["a", "b"], war: 1 / 2, uar: 1 / 2, recall: [0, 1], precision: [null, 1] },
  ];
  for (const c of cases) {
    const m = classificationMetrics(c.truth, c.pred, c.labels);
    close(m.war, c.war);
    close(m.uar, c.uar);
    m.perClass.forEach((s, i) => {
      close(s.recall, c.recall[i]);
      close(s.precision, c.precision[i]);
    });
    assert.equal(m.n, c.truth.length, c.name);
  }
});

test("per-class F1 and counts", () => {
  // a: tp 2, predicted 2, support 3 -> P 1, R 2/3, F1 0.8; b: tp 1, predicted 2, support 1 -> P 1/2, R 1, F1 2/3
  const m = classificationMetrics(["a", "a", "a", "b"], ["a", "a", "b", "b"], ["a", "b"]);
  const [a, b] = m.perClass;
  assert.deepEqual([a.support, a.predicted, a.correct], [3, 2, 2]);
  assert.deepEqual([b.support, b.predicted, b.correct], [1, 2, 1]);
  close(a.f1, 0.8);
  close(b.f1, 2 / 3);
  assert.equal(m.unmapped, 0);
});

test("classification bad input: unknown truth, length mismatch, empty, duplicate or reserved class", () => {
  assert.throws(() => classificationMetrics(["a", "x"], ["a", "a"], ["a", "b"]), (e: unknown) => e instanceof FavchatError && /item 1: true class "x" is not one of the 2 classes \(a, b\)/.test(e.message));
  assert.throws(() => classificationMetrics(["a"], [], ["a"]), /1 truths but 0 predictions/);
  assert.throws(() => classificationMetrics([], [], ["a"]), /predictions are empty/);
  assert.throws(() => classificationMetrics(["a"], ["a"], ["a", "a"]), /listed twice/);
  assert.throws(() => classificationMetrics(["a"], ["a"], ["a", UNMAPPED]), /cannot be a class name/);
  assert.throws(() => classificationMetrics(["a"], ["a"], []), /class set is empty/);
});

test("multi-label F1: per label, micro, macro (hand-computed)", () => {
  // AU12: truth [1,1,0,0] pred [1,0,1,0] -> tp1 fn1 fp1 tn1 -> F1 1/2
  // AU4:  truth [1,0,0,0] pred [1,0,0,0] -> tp1 -> F1 1
  // AU9:  never present, never predicted -> F1 null, left out of macro
  const truth = [["AU12", "AU4"], ["AU12"], [], []];
  const pred = [["AU12", "AU4"], [], ["AU12"], []];
  const m = multiLabelF1(decisionsFromSets(truth, pred, ["AU12", "AU4", "AU9"]), ["AU12", "AU4", "AU9"]);
  assert.deepEqual(m.perLabel.map((l) => [l.label, l.tp, l.fp, l.fn, l.tn]), [["AU12", 1, 1, 1, 1], ["AU4", 1, 0, 0, 3], ["AU9", 0, 0, 0, 4]]);
  assert.deepEqual(m.perLabel.map((l) => l.f1), [0.5, 1, null]);
  close(m.macroF1, 0.75);
  // micro: tp 2, fp 1, fn 1 -> 4 / 6
  close(m.micro.f1, 2 / 3);
  close(m.micro.precision, 2 / 3);
  assert.equal(m.decisions, 12);
});

test("multi-label: an unusable answer counts as the wrong decision; spurious predictions of an absent AU score 0", () => {
  const m = multiLabelF1([
    { label: "AU1", truth: true, predicted: null }, // miss
    { label: "AU1", truth: false, predicted: null }, // false alarm
    { label: "AU2", truth: false, predicted: true },
  ]);
  assert.deepEqual(m.perLabel.map((l) => [l.tp, l.fp, l.fn]), [[0, 1, 1], [0, 1, 0]]);
  assert.deepEqual(m.perLabel.map((l) => l.f1), [0, 0]);
  assert.equal(m.macroF1, 0);
  assert.equal(m.micro.precision, 0);
});

test("multi-label bad input", () => {
  assert.throws(() => multiLabelF1([]), /predictions are empty/);
  assert.throws(() => multiLabelF1([{ label: "AU99", truth: true, predicted: true }], ["AU1"]), /"AU99" is not one of AU1/);
  assert.throws(() => decisionsFromSets([["AU1"]], [], ["AU1"]), /1 truth sets but 0 predicted/);
  assert.throws(() => decisionsFromSets([["AU3"]], [[]], ["AU1"]), /item 0: label "AU3"/);
});

test("attribute accuracy: overall and per attribute, case/underscore-insensitive, null is wrong", () => {
  const m = attributeAccuracy([
    { attribute: "hair_colour", truth: "dark_brown", predicted: "Dark brown" },
    { attribute: "hair_colour", truth: "blond", predicted: "black" },
    { attribute: "glasses", truth: "round", predicted: "round" },
    { attribute: "glasses", truth: "none", predicted: null },
    { attribute: "glasses", truth: "none", predicted: "round" },
    { attribute: "glasses", truth: "none", predicted: "round" },
  ]);
  assert.equal(m.accuracy, 2 / 6);
  assert.deepEqual(m.perAttribute, [
    { attribute: "hair_colour", n: 2, correct: 1, accuracy: 0.5, commonestAnswer: "dark brown", commonestAnswerShare: 0.5, majorityBaseline: 0.5 },
    // Three of four answers "round", and "none" (3 of 4 true values) is what the question alone would score.
    { attribute: "glasses", n: 4, correct: 1, accuracy: 0.25, commonestAnswer: "round", commonestAnswerShare: 0.75, majorityBaseline: 0.75 },
  ]);
  assert.equal(m.majorityBaseline, (1 + 3) / 6);
  assert.throws(() => attributeAccuracy([]), /empty/);
});
