// Reports on disk: JSON that round-trips the numbers, Markdown tables, PNGs that decode; bad names and
// unwritable directories are clear errors.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import sharp from "sharp";
import { FavchatError } from "../../src/core/errors.ts";
import { classificationMetrics, decisionsFromSets, multiLabelF1, attributeAccuracy } from "../../src/eval/metrics.ts";
import { fmt, reportMarkdown, writeReport, type EvalReport } from "../../src/eval/report.ts";

const tmp = () => mkdtempSync(join(tmpdir(), "favchat-report-"));

function sampleReport(): EvalReport {
  const labels = ["happy", "sad", "neutral"];
  const classification = classificationMetrics(["happy", "happy", "sad", "neutral"], ["happy", null, "sad", "sad"], labels);
  return {
    title: "Emotion | test",
    task: "emotion",
    overall: { items: 4, WAR: classification.war, UAR: classification.uar },
    classification,
    multiLabel: multiLabelF1(decisionsFromSets([["AU12"], []], [["AU12"], ["AU4"]], ["AU12", "AU4"])),
    attributes: attributeAccuracy([{ attribute: "hair_colour", truth: "black", predicted: "black" }]),
    curves: [{ name: "curves", title: "Training", series: [{ name: "loss", points: [[0, 2], [1, 1], [2, 0.5]] }], logY: true, xLabel: "step" }],
    examples: [{ id: "c1", truth: "happy", prediction: "happy or sad", why: "names several: happy, sad" }],
    meta: { model: "models/favchat-tiny", clips: "test.jsonl" },
  };
}

test("fmt: ratios to 3 decimals, integers as is, undefined as a dash", () => {
  const cases: [number | string | null, string][] = [[0.8125, "0.813"], [12, "12"], [null, "–"], ["x", "x"], [1, "1"]];
  for (const [v, want] of cases) assert.equal(fmt(v), want);
});

test("writeReport: JSON, Markdown with tables, decodable PNGs", async () => {
  const dir = join(tmp(), "nested", "report");
  const r = sampleReport();
  const out = writeReport(dir, r);
  assert.deepEqual(out.images.map((f) => f.slice(dir.length + 1)), ["confusion.png", "curves.png"]);
  const json = JSON.parse(readFileSync(out.json, "utf8")) as EvalReport;
  assert.equal(json.overall.WAR, 0.5);
  assert.deepEqual(json.classification!.confusion.counts, [[1, 0, 0, 1], [0, 1, 0, 0], [0, 1, 0, 0]]);
  const md = readFileSync(out.markdown, "utf8");
  assert.match(md, /^# Emotion \| test/);
  assert.match(md, /\| WAR \| 0\.500 \|/);
  assert.match(md, /\| happy \| 2 \| 1 \| 1 \| 0\.500 \| 1 \| 0\.667 \|/); // class, support, predicted, correct, recall, precision, F1
  assert.match(md, /\| neutral \| 1 \| 0 \| 0 \| 0 \| – \| – \|/);
  assert.match(md, /\| true \\ predicted \| happy \| sad \| neutral \| unmapped \|/);
  assert.match(md, /\| sad \| 0 \| 1 \| 0 \| 0 \|/);
  assert.match(md, /!\[confusion matrix\]\(confusion\.png\)/);
  assert.match(md, /!\[Training\]\(curves\.png\)/);
  assert.match(md, /\| AU4 \| 0 \| 1 \| 0 \| 1 \|/);
  assert.match(md, /\| hair_colour \| 1 \| 1 \| 1 \|/);
  assert.match(md, /\| c1 \| happy \| happy or sad \| names several: happy, sad \|/);
  assert.match(md, /- model: models\/favchat-tiny/);
  for (const png of out.images) {
    const meta = await sharp(png).metadata();
    assert.equal(meta.format, "png");
    assert.ok((meta.width ?? 0) > 100 && (meta.height ?? 0) > 100);
  }
});

test("a report without classification has no confusion section or PNG", () => {
  const r: EvalReport = { title: "AU", task: "au", overall: { "micro F1": 0.7 } };
  const out = writeReport(tmp(), r);
  assert.deepEqual(out.images, []);
  assert.doesNotMatch(reportMarkdown(r), /Confusion/);
});

test("bad curve names and unwritable directories are clear errors", () => {
  const bad = { ...sampleReport(), curves: [{ name: "../x", title: "t", series: [{ name: "s", points: [[0, 1]] as [number, number][] }] }] };
  assert.throws(() => writeReport(tmp(), bad), (e: unknown) => e instanceof FavchatError && /curve name "\.\.\/x"/.test(e.message));
  const file = join(tmp(), "a-file");
  writeFileSync(file, "x");
  assert.throws(() => writeReport(join(file, "sub"), sampleReport()), /cannot create the report directory/);
  assert.ok(!existsSync(join(file, "sub")));
});
