// `favchat score` as a user runs it: a real process through bin/favchat.js on a predictions file made here;
// tables on stdout, a report directory with --out, and bad input as one line without a stack.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { favchat } from "../helpers/cli.ts";

test("favchat score: emotion tables, JSON and a report directory; bad input is one clear line", async () => {
  const dir = mkdtempSync(join(tmpdir(), "favchat-score-"));
  const file = join(dir, "preds.jsonl");
  const lines = [
    { id: "1", prediction: "<answer>happy</answer>", answer: "happy" },
    { id: "2", prediction: "happy or sad", answer: "sad" },
    { id: "3", prediction: "sad", answer: "sad" },
    { id: "4", prediction: "(C)", answer: "fear", options: ["happy", "sad", "fear", "angry"] },
  ];
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join("\n") + "\n");

  const out = join(dir, "report");
  const text = await favchat(["score", "--predictions", file, "--out", out]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /\| WAR \| 0\.750 \|/);
  assert.match(text.stdout, /\| sad \| 0 \| 1 \| 0 \| 0 \| 0 \| 0 \| 0 \| 1 \|/); // one right, one unmapped
  assert.ok(existsSync(join(out, "report.md")) && existsSync(join(out, "confusion.png")));

  const json = await favchat(["score", "--predictions", file, "--json"]);
  assert.equal(json.code, 0, json.stderr);
  const r = JSON.parse(json.stdout) as { overall: { UAR: number } };
  assert.equal(r.overall.UAR, (1 + 0.5 + 1) / 3);

  writeFileSync(file, `${JSON.stringify(lines[0])}\n{"id": "x"}\n`);
  const bad = await favchat(["score", "--predictions", file]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^favchat: .*preds\.jsonl:2: /);
  assert.doesNotMatch(bad.stderr, /\n\s+at /);
  const task = await favchat(["score", "--predictions", file, "--task", "captions"]);
  assert.notEqual(task.code, 0);
  assert.match(task.stderr, /--task must be one of emotion, au, attribute, qa, got "captions"/);
});
