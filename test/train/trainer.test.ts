// The trainer survives a kill: a run SIGKILLed mid-way and resumed from its last checkpoint ends with the same
// loss and weights as a run never stopped. The killed and resumed runs use 2 threads (a worker computes every
// other micro-batch), the straight one 1: the numbers must not depend on it. Also: refusing to overwrite, refusing
// a changed config, a truncated checkpoint reported clearly, and a worker's failure reaching the caller.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, truncateSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSafetensors } from "../../src/core/safetensors.ts";

const SCRIPT = join(import.meta.dirname, "fixtures", "train-tiny-lm.ts");

interface RunResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

function runTraining(outDir: string, resume: boolean, killAtStep?: number, extra: string[] = []): Promise<RunResult> {
  return new Promise((resolve) => {
    const args = ["--import", "tsx", SCRIPT, outDir, ...(resume ? ["--resume"] : []), ...extra];
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
  const killed = await runTraining(killedDir, false, 12, ["--threads", "2"]);
  assert.equal(killed.signal, "SIGKILL", "the first run should have been killed");
  assert.doesNotMatch(killed.stdout, /final/);
  const resumed = await runTraining(killedDir, true, undefined, ["--threads", "2"]);
  assert.equal(resumed.code, 0, resumed.stderr);
  // Every step's loss and gradient norm, bit for bit, with 1 thread and with 2.
  const lines = (dir: string) => readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { loss: number; grad_norm: number });
  assert.deepEqual(lines(killedDir).map((m) => [m.loss, m.grad_norm]), lines(straightDir).map((m) => [m.loss, m.grad_norm]));
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

test("workers started before the main thread's task give the same run; a failure before they are used still ends them", async () => {
  const dir = mkdtempSync(join(tmpdir(), "favchat-train-e-"));
  const early = await runTraining(join(dir, "early"), false, undefined, ["--threads", "2", "--spawn-early"]);
  assert.equal(early.code, 0, early.stderr);
  const late = await runTraining(join(dir, "late"), false, undefined, ["--threads", "2"]);
  assert.equal(finalLoss(early), finalLoss(late));
  // The same out directory again without --resume is refused before the loop takes the workers: the process must
  // still end (a live worker would keep it running) with the refusal.
  const again = await runTraining(join(dir, "early"), false, undefined, ["--threads", "2", "--spawn-early"]);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /already holds a checkpoint/);
});

test("a training worker's failure stops the run with the worker's message", async () => {
  const dir = mkdtempSync(join(tmpdir(), "favchat-train-w-"));
  const r = await runTraining(dir, false, undefined, ["--threads", "2", "--fail-in-worker"]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /this worker was told to fail/);
  assert.doesNotMatch(r.stdout, /step 1 loss/, "no step runs without its worker");
});

test("a training worker releases its task when the run ends (task.dispose: e.g. its feature cache's open files)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "favchat-train-d-"));
  const marker = join(dir, "disposed.txt");
  const r = await runTraining(join(dir, "out"), false, undefined, ["--threads", "2", "--dispose-marker", marker]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(marker, "utf8"), "worker\n", "the worker's task was disposed once; the main thread's task is its caller's");
});
