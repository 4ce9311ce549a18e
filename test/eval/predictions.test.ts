// Prediction files and emotion scoring: round trip, file:line errors, answers mapped (synonyms, letters,
// several labels = wrong), truths checked against the class set, and the report built from the result.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { FavchatError } from "../../src/core/errors.ts";
import { EMOTIONS11 } from "../../src/eval/labels.ts";
import { emotionBandRows, emotionReport, evaluateEmotion, readPredictions, writePredictions, type Prediction } from "../../src/eval/predictions.ts";

const tmp = () => mkdtempSync(join(tmpdir(), "favchat-pred-"));

test("predictions JSONL: write and read back; a bad line is reported as file:line", () => {
  const file = join(tmp(), "preds.jsonl");
  const preds: Prediction[] = [
    { id: "a", prediction: "<think>x</think><answer>happy</answer>", answer: "happy" },
    { id: "b", prediction: "(B)", answer: "sad", options: ["happy", "sad"] },
  ];
  writePredictions(file, preds);
  assert.deepEqual(readPredictions(file).records, preds);
  writeFileSync(file, `${JSON.stringify(preds[0])}\n{"id":"c","prediction":"sad"}\n`);
  assert.throws(() => readPredictions(file), (e: unknown) => e instanceof FavchatError && e.message.startsWith(`${file}:2: answer:`));
  assert.equal(readPredictions(file, { onBadLine: "skip" }).bad.length, 1);
});

test("evaluateEmotion: hand-counted WAR, UAR, unmapped kinds and confusion", () => {
  const preds: Prediction[] = [
    { id: "1", prediction: "The person is smiling, so happy.", answer: "happy" }, // right
    { id: "2", prediction: "happy or surprised", answer: "happy" }, // several: wrong
    { id: "3", prediction: "<answer>sad</answer>", answer: "sad" }, // right
    { id: "4", prediction: "(A)", answer: "sad", options: ["happy", "sad", "fear", "angry"] }, // happy: wrong
    { id: "5", prediction: "I cannot tell", answer: "fear" }, // none: wrong
    { id: "6", prediction: "terrified", answer: "Fear" }, // right (truth case-insensitive)
  ];
  const ev = evaluateEmotion(preds);
  assert.equal(ev.metrics.n, 6);
  assert.equal(ev.metrics.correct, 3);
  assert.equal(ev.metrics.war, 0.5);
  // recall: happy 1/2, sad 1/2, fear 1/2; other classes have no support
  assert.equal(ev.metrics.uar, 0.5);
  assert.equal(ev.multiple, 1);
  assert.equal(ev.none, 1);
  const row = (c: string) => ev.metrics.confusion.counts[ev.classes.indexOf(c)];
  assert.deepEqual(row("happy"), [1, 0, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual(row("sad"), [1, 1, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(row("fear"), [0, 0, 0, 0, 0, 0, 1, 1]);

  const report = emotionReport(ev, { meta: { model: "m" } });
  assert.equal(report.overall.WAR, 0.5);
  assert.deepEqual(report.examples!.map((e) => e.id), ["2", "5"]);
  assert.match(report.examples![0].why, /several: happy, surprise/);
});

test("evaluateEmotion: MAFW classes and truth word forms", () => {
  const ev = evaluateEmotion([
    { id: "1", prediction: "worried", answer: "anxiety" },
    { id: "2", prediction: "contemptuous", answer: "contempt" },
    { id: "3", prediction: "sad", answer: "sadness" },
  ], EMOTIONS11);
  assert.equal(ev.metrics.war, 1);
});

test("evaluateEmotion bad input: empty, a truth outside the class set (with a hint), unknown truth", () => {
  assert.throws(() => evaluateEmotion([]), /predictions file is empty/);
  assert.throws(() => evaluateEmotion([{ id: "x1", prediction: "sad", answer: "contempt" }]),
    (e: unknown) => e instanceof FavchatError && /prediction "x1": the true answer "contempt" is not one of the 7 classes .*MAFW's 11/.test(e.message));
  assert.throws(() => evaluateEmotion([{ id: "x2", prediction: "sad", answer: "blue" }]), /"blue" is not one of the 7 classes/);
});

test("emotionBandRows: WAR and UAR per expression band, hand-counted; bands without clips left out", () => {
  const p = (id: string, answer: string, prediction: string): Prediction => ({ id, answer, prediction });
  const preds = [
    p("a#emotion0", "happy", "happy"), p("b#emotion0", "sad", "happy"), p("c#emotion0", "sad", "sad"), // subtle
    p("d#emotion0", "angry", "angry"), // strong
    p("e#emotion0", "neutral", "sad"), // neutral
    p("f#emotion0", "fear", "fear"), // no band
  ];
  const band = { a: "subtle", b: "subtle", c: "subtle", d: "strong", e: "neutral" } as const;
  const rows = emotionBandRows(preds, (id) => band[id.split("#")[0] as keyof typeof band]);
  assert.deepEqual(Object.keys(rows), [
    "WAR, subtle clips (n=3)", "UAR, subtle clips (n=3)", "WAR, strong clips (n=1)", "UAR, strong clips (n=1)", "WAR, neutral clips (n=1)", "UAR, neutral clips (n=1)",
  ]);
  assert.equal(rows["WAR, subtle clips (n=3)"], 2 / 3);
  assert.equal(rows["UAR, subtle clips (n=3)"], (1 + 0.5) / 2); // happy 1/1, sad 1/2
  assert.equal(rows["WAR, neutral clips (n=1)"], 0);
  assert.deepEqual(emotionBandRows(preds, () => undefined), {});
});
