// AdamW against PyTorch golden values (bench/reference/adamw_reference.py), exact resume from saved
// state, the no-decay predicate, and the errors people see for bad state or gradients.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { initBackend, tf } from "../../src/core/backend.ts";
import { AdamW, adamwStateKeys, defaultNoDecay, resolveAdamWConfig } from "../../src/train/optimizer.ts";
import { FavchatError } from "../../src/core/errors.ts";
import { Rng } from "../../src/core/rng.ts";
import { fusedAdamWAvailable, fusedSumOfSquares } from "../../src/core/wasm-adamw.ts";
import { clipFactor, globalNorm } from "../../src/train/gradients.ts";
import { ADAMW_WASM_BASE64 } from "../../src/core/wasm-adamw-bytes.ts";

interface Golden {
  hyper: { beta1: number; beta2: number; eps: number; weightDecay: number };
  noDecay: string[];
  initial: Record<string, { shape: number[]; data: number[] }>;
  steps: {
    lr: number;
    grads: Record<string, number[] | null>;
    after: Record<string, { param: number[]; exp_avg: number[] | null; exp_avg_sq: number[] | null; step: number }>;
  }[];
}

const golden: Golden = JSON.parse(readFileSync(new URL("../fixtures/optim/adamw_golden.json", import.meta.url), "utf8"));

before(async () => {
  await initBackend("wasm");
});

function goldenParams(): Map<string, tf.Variable> {
  const m = new Map<string, tf.Variable>();
  for (const [n, { shape, data }] of Object.entries(golden.initial)) m.set(n, tf.variable(tf.tensor(data, shape)));
  return m;
}

function goldenOptimizer(params: Map<string, tf.Variable>): AdamW {
  const noDecay = new Set(golden.noDecay);
  return new AdamW(params, { ...golden.hyper, noDecay: (n) => noDecay.has(n) });
}

function stepGolden(opt: AdamW, k: number): void {
  const s = golden.steps[k];
  const grads = new Map<string, tf.Tensor>();
  for (const [n, g] of Object.entries(s.grads)) {
    if (g !== null) grads.set(n, tf.tensor(g, golden.initial[n].shape));
  }
  opt.step(grads, s.lr);
  tf.dispose([...grads.values()]);
}

/** Largest |a - b|, and that divided by the largest |b| (relative to the tensor's scale). */
function diffs(a: ArrayLike<number>, b: readonly number[]): { abs: number; rel: number } {
  assert.equal(a.length, b.length);
  let abs = 0, scale = 0;
  for (let i = 0; i < b.length; i++) {
    abs = Math.max(abs, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return { abs, rel: scale === 0 ? abs : abs / scale };
}

test("AdamW matches torch.optim.AdamW to 1e-6 over every step, state included", () => {
  const params = goldenParams();
  const opt = goldenOptimizer(params);
  let worstParam = 0, worstStateRel = 0;
  for (let k = 0; k < golden.steps.length; k++) {
    stepGolden(opt, k);
    const state = opt.saveState();
    for (const [n, want] of Object.entries(golden.steps[k].after)) {
      const p = diffs(params.get(n)!.dataSync(), want.param);
      assert.ok(p.abs <= 1e-6, `step ${k + 1} "${n}": max |param - torch| = ${p.abs}`);
      worstParam = Math.max(worstParam, p.abs);
      const keys = adamwStateKeys(n);
      assert.equal(state.get(keys.step)![0], want.step, `step ${k + 1} "${n}": step count`);
      if (want.exp_avg === null || want.exp_avg_sq === null) continue;
      // Moments span 1e-16..1 across tensors: compare each relative to its own scale (1e-6 is about
      // 8 float32 ulps; torch fuses b1*m + (1-b1)*g into one FMA, tfjs rounds twice).
      for (const [key, ref] of [[keys.expAvg, want.exp_avg], [keys.expAvgSq, want.exp_avg_sq]] as const) {
        const d = diffs(state.get(key)!, ref);
        assert.ok(d.rel <= 1e-6, `step ${k + 1} "${key}": max relative difference ${d.rel}`);
        worstStateRel = Math.max(worstStateRel, d.rel);
      }
    }
  }
  // Skipped gradients (null in the fixture) must not advance that parameter's step.
  assert.equal(opt.stepOf("head.weight"), golden.steps.length - 1);
  opt.dispose();
  tf.dispose([...params.values()]);
  assert.ok(worstParam < 1e-6 && worstStateRel < 1e-6);
});

test("save after 3 steps, load into a fresh optimizer, 3 more steps: bit-identical to 6 straight", () => {
  const pa = goldenParams();
  const a = goldenOptimizer(pa);
  for (let k = 0; k < golden.steps.length; k++) stepGolden(a, k);

  const pb = goldenParams();
  const b1 = goldenOptimizer(pb);
  for (let k = 0; k < 3; k++) stepGolden(b1, k);
  const saved = b1.saveState();
  const savedParams = new Map([...pb].map(([n, v]) => [n, Float32Array.from(v.dataSync())]));
  b1.dispose();
  tf.dispose([...pb.values()]);

  // A "restarted process": parameters from the checkpoint, optimizer state from saveState.
  const pc = new Map([...savedParams].map(([n, d]) => [n, tf.variable(tf.tensor(d, golden.initial[n].shape))]));
  const b2 = goldenOptimizer(pc);
  b2.loadState(saved);
  for (let k = 3; k < golden.steps.length; k++) stepGolden(b2, k);
  for (const n of pa.keys()) {
    assert.deepEqual(pc.get(n)!.dataSync(), pa.get(n)!.dataSync(), `"${n}" differs after resume`);
  }
  assert.deepEqual(b2.saveState(), a.saveState());
  a.dispose();
  b2.dispose();
  tf.dispose([...pa.values(), ...pc.values()]);
});

test("weight decay is decoupled: zero gradient shrinks decayed params by (1 - lr*wd) only", () => {
  const w = tf.variable(tf.tensor([2, -4]));
  const norm = tf.variable(tf.tensor([3, 5]));
  const opt = new AdamW(new Map([["w", w], ["ln.weight", norm]]), { lr: 0.1, weightDecay: 0.5 });
  const g = new Map([["w", tf.zeros([2])], ["ln.weight", tf.zeros([2])]]);
  opt.step(g);
  // m = v = 0 so the Adam part is 0/eps = 0; only the decoupled decay acts.
  assert.deepEqual([...w.dataSync()], [2 * 0.95, -4 * 0.95].map(Math.fround));
  assert.deepEqual([...norm.dataSync()], [3, 5]);
  opt.dispose();
  tf.dispose([w, norm, ...g.values()]);
});

test("defaultNoDecay exempts norms, biases and embeddings by checkpoint name", () => {
  const table: [string, boolean][] = [
    ["model.layers.0.self_attn.q_proj.weight", false],
    ["model.layers.0.self_attn.q_proj.bias", true],
    ["model.layers.0.input_layernorm.weight", true],
    ["model.norm.weight", true],
    ["model.embed_tokens.weight", true],
    ["vision_model.embeddings.position_embedding.weight", true],
    ["vision_model.encoder.layers.0.layer_norm1.bias", true],
    ["lm_head.weight", false],
    ["qformer.query_tokens", false],
    ["mlp.down_proj.weight", false],
    ["adapter.fc_bias", true],
    ["antibias.weight", false],
    ["transformer.h.0.ln_1.weight", true],
    ["ln_f.bias", true],
    ["kiln.weight", false],
  ];
  for (const [name, want] of table) assert.equal(defaultNoDecay(name), want, name);
});

test("bad config, gradients and state give errors that say what to do", () => {
  assert.throws(() => resolveAdamWConfig({ beta2: 1 }), /beta2 must be in \[0, 1\), got 1/);
  assert.throws(() => resolveAdamWConfig({ lr: Number.NaN }), /lr must be a finite number >= 0, got NaN/);
  assert.throws(() => new AdamW(new Map()), /no parameters to optimize/);
  const w = tf.variable(tf.zeros([2, 3]));
  const opt = new AdamW(new Map([["w", w]]));
  const bad = tf.zeros([3, 2]);
  assert.throws(() => opt.step(new Map([["w", bad]])), /gradient for "w" has shape \[3,2\], the parameter has \[2,3\]/);
  assert.throws(() => opt.step(new Map([["v", bad]])), (e: unknown) => e instanceof FavchatError && /"v", which is not one/.test(e.message));
  assert.throws(() => opt.step(new Map(), -1), /lr must be a finite number >= 0, got -1/);
  assert.equal(opt.stepOf("w"), 0, "a rejected step must not count");
  const state = opt.saveState();
  state.delete("w.exp_avg");
  state.set("u.step", Float32Array.of(1));
  assert.throws(() => opt.loadState(state), /missing "w.exp_avg"; unexpected "u.step"; resume with the same model config/);
  const short = opt.saveState();
  short.set("w.exp_avg_sq", new Float32Array(5));
  assert.throws(() => opt.loadState(short), /"w.exp_avg_sq" has 5 values, expected 6/);
  const frac = opt.saveState();
  frac.set("w.step", Float32Array.of(1.5));
  assert.throws(() => opt.loadState(frac), /"w.step" must be a whole number >= 0, got 1.5/);
  opt.dispose();
  assert.throws(() => opt.step(new Map()), /disposed/);
  tf.dispose([w, bad]);
});

test("the fused wasm AdamW kernel gives the op form's numbers bit for bit (SIMD body and scalar tail, gradient scale)", () => {
  assert.ok(fusedAdamWAvailable(), "the fused kernel runs on the wasm backend");
  const rng = new Rng(5);
  // 4 x 4 + 3 elements: the SIMD loop and the tail; a decayed weight and an undecayed bias.
  const init = new Map([["w", [4, 4]], ["b", [7]], ["x.bias", [3]]] as [string, number[]][]);
  const make = () => new Map([...init].map(([n, shape]) => [n, tf.variable(tf.tensor(Array.from({ length: shape.reduce((a, d) => a * d) }, () => rng.fork(n, "p").normal(0, 1)), shape))]));
  const pa = make();
  const pb = make();
  const a = new AdamW(pa, { lr: 0.01, weightDecay: 0.1 });
  const b = new AdamW(pb, { lr: 0.01, weightDecay: 0.1 });
  b.fused = false;
  for (let step = 0; step < 5; step++) {
    const grads = new Map([...init].map(([n, shape]) => [n, tf.tensor(Array.from({ length: shape.reduce((x, d) => x * d) }, () => rng.normal(0, step === 2 ? 100 : 1)), shape)]));
    // Steps 3 and 4 with clipping's factor applied inside the step.
    const scale = step >= 3 ? 0.37 : 1;
    a.step(grads, 0.01 * (step + 1), scale);
    b.step(grads, 0.01 * (step + 1), scale);
    tf.dispose([...grads.values()]);
    for (const n of init.keys()) assert.deepEqual(pa.get(n)!.dataSync(), pb.get(n)!.dataSync(), `${n} after step ${step + 1}`);
    assert.deepEqual(a.saveState(), b.saveState());
  }
  a.dispose();
  b.dispose();
  tf.dispose([...pa.values(), ...pb.values()]);
});

test("the committed AdamW kernel bytes are what src/core/adamw.wat compiles to", async () => {
  const { compileWat, WAT_FILE } = await import("../../scripts/build-wasm.ts");
  const bytes = await compileWat(WAT_FILE);
  assert.equal(Buffer.from(bytes).toString("base64"), ADAMW_WASM_BASE64, "run node --import tsx scripts/build-wasm.ts after editing the .wat");
});

test("the fused sum of squares is the float64 sum; the global norm uses it on wasm", () => {
  const rng = new Rng(9);
  const data = [Array.from({ length: 4099 }, () => rng.normal(0, 3)), Array.from({ length: 6 }, () => rng.normal(0, 1e-3))];
  const ts = data.map((d) => tf.tensor1d(d));
  const exact = data.flat().map(Math.fround).reduce((s, x) => s + x * x, 0);
  const got = fusedSumOfSquares(ts)!;
  assert.ok(Math.abs(got - exact) / exact < 1e-12, `${got} vs ${exact}`);
  assert.ok(Math.abs(globalNorm(new Map(ts.map((t, i) => [String(i), t]))) - Math.sqrt(exact)) < 1e-9);
  assert.equal(fusedSumOfSquares([]), 0);
  tf.dispose(ts);
});

test("clipFactor gives torch's clip factor without touching the gradients", () => {
  const g = new Map([["a", tf.tensor1d([3, 4])]]);
  assert.deepEqual(clipFactor(g, 10), { norm: 5, factor: 1 });
  const { norm, factor } = clipFactor(g, 1);
  assert.equal(norm, 5);
  assert.equal(factor, 1 / (5 + 1e-6));
  assert.deepEqual([...g.get("a")!.dataSync()], [3, 4]);
  assert.throws(() => clipFactor(g, 0), /maxNorm must be a positive number/);
  tf.dispose([...g.values()]);
});
