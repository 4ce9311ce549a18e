// Record schemas and the JSONL reader: good lines parse, bad lines are reported as file:line with the
// reason, and the skip/fail policy is honoured.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { FavchatError } from "../../src/core/errors.ts";
import { parseJsonl, qaRecordSchema, readClipRecords, rlRecordSchema, summaryRecordSchema, toJsonl, clipRecordSchema } from "../../src/data/records.ts";

const clip = (id: string, extra: object = {}) =>
  JSON.stringify({ id, video: `clips/${id}.mp4`, fps: 8, labels: { emotion: "happy", aus: { AU12: [0, 0.5, 1] }, identity: "p1", ...extra } });

test("clip records: valid lines parse with defaults filled", () => {
  const { records, bad } = parseJsonl(`${clip("a")}\n\n${clip("b")}\n`, "x.jsonl", clipRecordSchema);
  assert.equal(records.length, 2);
  assert.equal(bad.length, 0);
  assert.deepEqual(records[0].labels.attributes, {});
  assert.deepEqual(records[0].labels.actions, []);
});

test("a bad line fails with file:line and the reason by default", () => {
  const text = `${clip("a")}\n{"id":"b","video":"v.mp4","labels":{"emotion":"sad","identity":null,"aus":{"AU12":[2]}}}\n`;
  assert.throws(() => parseJsonl(text, "clips.jsonl", clipRecordSchema), (err: unknown) => {
    assert.ok(err instanceof FavchatError);
    assert.match(err.message, /^clips\.jsonl:2: labels\.aus\.AU12\.0: .*--on-bad-line skip/);
    return true;
  });
});

test("skip policy drops bad lines (bad JSON, missing field, duplicate id) and reports each", () => {
  const seen: string[] = [];
  const text = [clip("a"), "{not json", JSON.stringify({ id: "c", labels: {} }), clip("a"), clip("d")].join("\n");
  const { records, bad } = parseJsonl(text, "f.jsonl", clipRecordSchema, { onBadLine: "skip", onSkip: (b) => seen.push(`${b.file}:${b.line}`) });
  assert.deepEqual(records.map((r) => r.id), ["a", "d"]);
  assert.deepEqual(seen, ["f.jsonl:2", "f.jsonl:3", "f.jsonl:4"]);
  assert.match(bad[0].reason, /not valid JSON/);
  assert.match(bad[1].reason, /video/);
  assert.match(bad[2].reason, /duplicate id "a" \(first on line 1\)/);
});

test("summary, qa and rl schemas accept their records and reject wrong categories/types", () => {
  assert.ok(summaryRecordSchema.safeParse({ id: "a", video: "v", summary: "text" }).success);
  assert.ok(qaRecordSchema.safeParse({ id: "a", video: "v", question: "q?", answer: "yes", category: "identity", video2: "w" }).success);
  assert.ok(!qaRecordSchema.safeParse({ id: "a", video: "v", question: "q?", answer: "yes", category: "weather" }).success);
  const rl = { id: "a", video: "v", problem: "p", problem_type: "multiple_choice", options: ["a", "b"], solution: "a", facial_attributes: "", facial_emotion: "happy", facial_action: "" };
  assert.ok(rlRecordSchema.safeParse(rl).success);
  assert.ok(!rlRecordSchema.safeParse({ ...rl, problem_type: "essay" }).success);
});

test("readClipRecords names an unreadable file; toJsonl refuses invalid records", () => {
  assert.throws(() => readClipRecords("/nonexistent/clips.jsonl"), /cannot read records file \/nonexistent\/clips\.jsonl/);
  const dir = mkdtempSync(join(tmpdir(), "fv-rec-"));
  writeFileSync(join(dir, "c.jsonl"), clip("z") + "\n");
  assert.equal(readClipRecords(join(dir, "c.jsonl")).records[0].id, "z");
  assert.throws(() => toJsonl([{ id: "" } as never], summaryRecordSchema, "summary"), /summary record 0 is invalid/);
});
