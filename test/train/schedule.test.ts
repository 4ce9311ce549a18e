// Table test of the warm-up + cosine schedule: values worked out by hand, and the config errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { lrAt, resolveCosineSchedule } from "../../src/train/schedule.ts";

test("warm-up then cosine: table", () => {
  // base 1e-3, 4 warm-up steps, 12 total: cosine over 8 steps down to 0.1 * base.
  const c = resolveCosineSchedule({ baseLr: 1e-3, warmupSteps: 4, totalSteps: 12, minLrRatio: 0.1 });
  const cosAt = (p: number) => 1e-3 * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * p)));
  const table: [number, number][] = [
    [0, 0.25e-3],
    [1, 0.5e-3],
    [2, 0.75e-3],
    [3, 1e-3],
    [4, 1e-3], // progress 0
    [6, 1e-3 * (0.1 + 0.9 * 0.5 * (1 + Math.SQRT1_2))], // progress 1/4: cos = sqrt(1/2)
    [8, 0.55e-3], // progress 1/2: halfway between peak and floor
    [10, 1e-3 * (0.1 + 0.9 * 0.5 * (1 - Math.SQRT1_2))],
    [11, cosAt(7 / 8)],
    [12, 0.1e-3], // progress 1: the floor
    [50, 0.1e-3], // past the end: stays at the floor
  ];
  for (const [step, want] of table) {
    const got = lrAt(step, c);
    assert.ok(Math.abs(got - want) <= 1e-15, `step ${step}: got ${got}, want ${want}`);
  }
});

test("no warm-up, no floor, one-step runs", () => {
  const c = resolveCosineSchedule({ baseLr: 2, warmupSteps: 0, totalSteps: 4, minLrRatio: 0 });
  const got = [0, 1, 2, 3, 4].map((s) => lrAt(s, c));
  const want = [2, 1 + Math.SQRT1_2, 1, 1 - Math.SQRT1_2, 0];
  got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) < 1e-15, `step ${i}: ${g} vs ${want[i]}`));
  // All warm-up: the peak is the last step, then the floor.
  const w = resolveCosineSchedule({ baseLr: 1, warmupSteps: 2, totalSteps: 2, minLrRatio: 0.5 });
  assert.deepEqual([0, 1, 2].map((s) => lrAt(s, w)), [0.5, 1, 0.5]);
});

test("the schedule is monotone: up during warm-up, down after", () => {
  const c = resolveCosineSchedule({ baseLr: 3e-4, warmupSteps: 100, totalSteps: 1000 });
  for (let s = 1; s < 1100; s++) {
    const prev = lrAt(s - 1, c), cur = lrAt(s, c);
    if (s < 100) assert.ok(cur > prev, `warm-up not rising at ${s}`);
    else assert.ok(cur <= prev, `decay rising at ${s}`);
  }
});

test("bad schedule settings name the field and value", () => {
  assert.throws(() => resolveCosineSchedule({ totalSteps: 0 }), /totalSteps must be a whole number >= 1, got 0/);
  assert.throws(() => resolveCosineSchedule({ totalSteps: 10, warmupSteps: 11 }), /warmupSteps must be a whole number in \[0, totalSteps=10\], got 11/);
  assert.throws(() => resolveCosineSchedule({ totalSteps: 10, minLrRatio: 1.5 }), /minLrRatio must be in \[0, 1\], got 1.5/);
  assert.throws(() => resolveCosineSchedule({ totalSteps: 10, baseLr: -1 }), /baseLr must be a finite number >= 0, got -1/);
  const c = resolveCosineSchedule({ totalSteps: 10 });
  assert.throws(() => lrAt(-1, c), /step must be a whole number >= 0, got -1/);
  assert.throws(() => lrAt(1.5, c), /got 1.5/);
});
