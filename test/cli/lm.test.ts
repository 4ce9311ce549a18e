// The `favchat lm` commands as a user runs them: a real process through bin/favchat.js, checked against the
// PyTorch fixtures; bad input exits non-zero with a one-line message and no stack trace.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { favchat, ROOT } from "../helpers/cli.ts";

const FIX = join(ROOT, "test", "fixtures", "qwen2");

test("--help lists the commands", async () => {
  const r = await favchat(["--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /lm/);
});

test("lm logits --json matches PyTorch (sharded bf16-free variant and tied variant)", async () => {
  for (const variant of ["sharded", "mha_tied"]) {
    const expected = JSON.parse(readFileSync(join(FIX, variant, "expected.json"), "utf8")) as { input_ids: number[]; logits: number[][]; text: string };
    const r = await favchat(["lm", "logits", "--model", join(FIX, variant), "--ids", expected.input_ids.join(","), "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { ids: number[]; logits: number[][] };
    assert.deepEqual(out.ids, expected.input_ids);
    let maxDiff = 0;
    expected.logits.forEach((row, t) => row.forEach((v, j) => (maxDiff = Math.max(maxDiff, Math.abs(v - out.logits[t][j])))));
    assert.ok(maxDiff < 1e-4, `${variant}: max diff ${maxDiff}`);
    // --text through the directory's tokenizer gives the same ids as the reference encoder.
    const t = await favchat(["lm", "logits", "--model", join(FIX, variant), "--text", expected.text, "--json"]);
    assert.deepEqual((JSON.parse(t.stdout) as { ids: number[] }).ids, expected.input_ids);
  }
});

test("lm generate --json gives the PyTorch greedy continuation", async () => {
  const expected = JSON.parse(readFileSync(join(FIX, "fp16", "expected.json"), "utf8")) as { input_ids: number[]; greedy: { new_ids: number[] } };
  const n = expected.greedy.new_ids.length;
  const r = await favchat(["lm", "generate", "--model", join(FIX, "fp16"), "--ids", expected.input_ids.join(","), "--max-tokens", String(n), "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { ids: number[]; text: string };
  // Greedy may legitimately stop early at an end token; the ids it did produce must match.
  const got = out.ids.slice(expected.input_ids.length);
  assert.deepEqual(out.ids.slice(0, expected.input_ids.length), expected.input_ids);
  assert.deepEqual(got, expected.greedy.new_ids.slice(0, got.length));
  assert.equal(typeof out.text, "string");
});

test("bad input: clear message, non-zero exit, no stack trace", async () => {
  const cases: [string[], RegExp][] = [
    [["lm", "logits", "--model", "/no/such/dir", "--ids", "1"], /does not exist/],
    [["lm", "logits", "--model", join(FIX, "gqa"), "--ids", "1,999"], /outside the vocabulary/],
    [["lm", "logits", "--model", join(FIX, "gqa"), "--ids", "1,x"], /not a token id/],
    [["lm", "logits", "--model", join(FIX, "gqa")], /exactly one of --text/],
    [["lm", "generate", "--model", join(FIX, "rope_yarn"), "--ids", "1"], /rope_scaling type "yarn" is not implemented/],
    [["lm", "generate", "--model", join(FIX, "gqa"), "--ids", "1", "--temperature", "-1"], /--temperature must be/],
  ];
  for (const [args, message] of cases) {
    const r = await favchat(args);
    assert.notEqual(r.code, 0, args.join(" "));
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /, `stack trace printed for ${args.join(" ")}`);
  }
});
