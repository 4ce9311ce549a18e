// The synth and data commands through the real CLI entry point: they run, and bad input exits 2 with a
// message naming the problem.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { main } from "../../src/cli/main.ts";

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    return { code: await main(argv), out, err };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}

test("favchat synth then data build, from the CLI", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fv-cli-"));
  const s = await capture(["synth", "--out", dir, "--clips", "4", "--seed", "2", "--frames", "4", "--size", "48"]);
  assert.equal(s.code, 0, s.err);
  assert.match(s.out, /wrote 4 clips/);
  assert.ok(existsSync(join(dir, "clips", "fw-000003.mp4")));
  const b = await capture(["data", "build", "--clips", join(dir, "clips.jsonl"), "--out", join(dir, "built")]);
  assert.equal(b.code, 0, b.err);
  assert.match(b.out, /wrote 4 summaries/);
});

test("bad input: exit 2 and a message, no stack", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fv-cli-bad-"));
  const r = await capture(["synth", "--out", dir, "--clips", "3", "--split", "0.5:0.5"]);
  assert.equal(r.code, 2);
  assert.match(r.err, /--split must look like 0\.8:0\.1:0\.1, got "0\.5:0\.5"/);
  writeFileSync(join(dir, "c.jsonl"), '{"id":"a"}\n');
  const b = await capture(["data", "build", "--clips", join(dir, "c.jsonl"), "--out", dir]);
  assert.equal(b.code, 2);
  assert.match(b.err, /c\.jsonl:1: video: .*--on-bad-line skip/);
  assert.doesNotMatch(b.err, /at .*\.ts:\d+/);
  const s = await capture(["data", "build", "--clips", join(dir, "c.jsonl"), "--out", dir, "--on-bad-line", "skip"]);
  assert.equal(s.code, 2);
  assert.match(s.err, /skipped .*c\.jsonl:1/);
  assert.match(s.err, /has no valid clip records/);
});
