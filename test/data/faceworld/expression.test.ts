// Expression timing and intensity: curves rise, hold and fall where the plan says; subtle means a peak
// of at most 0.3 and short means an apex of at most 3 frames; prototypes name real AUs.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../../../src/core/rng.ts";
import { BAND_RANGES, curveAt, EMOTION_PROTOTYPES, planExpression, sampleTiming } from "../../../src/data/faceworld/expression.ts";
import { AU_NAMES, EMOTIONS7 } from "../../../src/data/records.ts";

test("curveAt follows onset, apex and offset", () => {
  const timing = { onset: 2, apexStart: 4, apexEnd: 5, offsetEnd: 8 };
  const v = Array.from({ length: 10 }, (_, t) => curveAt(t, timing, 0.2));
  assert.deepEqual(v.slice(0, 2), [0, 0]);
  assert.ok(v[2] > 0 && v[2] < v[3] && v[3] < 1);
  assert.deepEqual(v.slice(4, 6), [1, 1]);
  assert.ok(v[6] < 1 && v[7] < v[6]);
  assert.deepEqual(v.slice(8), [0.2, 0.2]);
});

test("short timings hold the apex 3 frames or fewer; subtle peaks stay at or under 0.3", () => {
  const rng = new Rng(11);
  for (let i = 0; i < 300; i++) {
    const t = sampleTiming(rng, 16, true);
    assert.ok(t.apexEnd - t.apexStart + 1 <= 3, JSON.stringify(t));
    assert.ok(t.onset >= 1, "a neutral first frame to compare against");
    const e = planExpression(rng, "happy", "subtle", false, 16);
    assert.ok(e.peak >= BAND_RANGES.subtle[0] && e.peak <= 0.3);
  }
});

test("every emotion but neutral has a prototype of known AUs", () => {
  for (const e of EMOTIONS7) {
    const units = EMOTION_PROTOTYPES[e];
    assert.equal(units.length === 0, e === "neutral", e);
    for (const [au] of units) assert.ok((AU_NAMES as readonly string[]).includes(au));
  }
});
