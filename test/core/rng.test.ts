import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng, deriveSeed } from "../../src/core/rng.ts";

test("same seed gives the same stream, different seeds differ", () => {
  const a = new Rng(42), b = new Rng(42), c = new Rng(43);
  const xa = Array.from({ length: 5 }, () => a.nextUint32());
  const xb = Array.from({ length: 5 }, () => b.nextUint32());
  const xc = Array.from({ length: 5 }, () => c.nextUint32());
  assert.deepEqual(xa, xb);
  assert.notDeepEqual(xa, xc);
});

test("forks are independent of draws on the parent", () => {
  const a = new Rng(7);
  const f1 = a.fork("sample", 3).next();
  a.next(); a.next();
  assert.equal(a.fork("sample", 3).next(), f1);
  assert.notEqual(a.fork("sample", 4).next(), f1);
  assert.notEqual(deriveSeed(1, "a", 2), deriveSeed(1, "a", 3));
});

test("uniform and normal moments are right", () => {
  const r = new Rng(1);
  const n = 20000;
  let s = 0, s2 = 0, u = 0;
  for (let i = 0; i < n; i++) { const z = r.normal(); s += z; s2 += z * z; u += r.next(); }
  assert.ok(Math.abs(s / n) < 0.03, `normal mean ${s / n}`);
  assert.ok(Math.abs(s2 / n - 1) < 0.05, `normal var ${s2 / n}`);
  assert.ok(Math.abs(u / n - 0.5) < 0.01, `uniform mean ${u / n}`);
  const counts = [0, 0, 0];
  for (let i = 0; i < 3000; i++) counts[r.int(3)]++;
  for (const c of counts) assert.ok(c > 900 && c < 1100, `int(3) counts ${counts}`);
});

test("shuffle is a permutation", () => {
  const r = new Rng(5);
  const xs = Array.from({ length: 50 }, (_, i) => i);
  const ys = r.shuffle(xs);
  assert.notDeepEqual(ys, xs);
  assert.deepEqual([...ys].sort((p, q) => p - q), xs);
});
