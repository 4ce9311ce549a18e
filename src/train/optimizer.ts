// AdamW (Loshchilov & Hutter: decoupled weight decay) over named tf.Variables, step for step the
// same arithmetic as torch.optim.AdamW (single-tensor path), checked against PyTorch golden values in
// test/train/optimizer.test.ts. Its state (moments and per-parameter step counts) saves to and loads
// from plain named Float32Arrays, so a checkpoint can hold it and a resumed run continues exactly.
import * as tf from "@tensorflow/tfjs";
import { check, FavchatError } from "../core/errors.ts";
import { fusedAdamW } from "../core/wasm-adamw.ts";

/** AdamW hyperparameters. Defaults are torch.optim.AdamW's, except `noDecay` (see defaultNoDecay). */
export interface AdamWConfig {
  /** Learning rate used when `step` is not given one (a schedule usually passes it per step). */
  readonly lr: number;
  /** Decay rate of the first moment (running mean of gradients). */
  readonly beta1: number;
  /** Decay rate of the second moment (running mean of squared gradients). */
  readonly beta2: number;
  /** Added to sqrt(second moment) so tiny gradients do not explode the step. */
  readonly eps: number;
  /** Decoupled weight decay: each step multiplies a decayed parameter by (1 - lr * weightDecay). */
  readonly weightDecay: number;
  /** Names of parameters that get no weight decay. */
  readonly noDecay: (name: string) => boolean;
}

/**
 * Norm scales/biases, biases and embedding tables get no weight decay (as in nanoGPT and most LLM
 * recipes): decaying them pulls norms towards zero and rare tokens' rows towards the origin.
 * Matches checkpoint-style names: `model.norm.weight`, `input_layernorm.weight`, `layer_norm1.bias`,
 * `q_proj.bias`, `embed_tokens.weight`, `embeddings.position_embedding.weight`, GPT-2's `ln_f.weight`.
 */
export function defaultNoDecay(name: string): boolean {
  return /(^|[._])bias$/.test(name) || /norm/i.test(name) || /embed/i.test(name) || /(^|\.)ln(_?[a-z0-9]+)?\./i.test(name);
}

export const ADAMW_DEFAULTS: AdamWConfig = {
  lr: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0.01,
  noDecay: defaultNoDecay,
};

/** Merges `partial` over the defaults and validates every field once. */
export function resolveAdamWConfig(partial: Partial<AdamWConfig> = {}): AdamWConfig {
  const c = { ...ADAMW_DEFAULTS, ...partial };
  checkLr(c.lr, "AdamW lr");
  check(c.beta1 >= 0 && c.beta1 < 1, `AdamW beta1 must be in [0, 1), got ${c.beta1}`);
  check(c.beta2 >= 0 && c.beta2 < 1, `AdamW beta2 must be in [0, 1), got ${c.beta2}`);
  check(c.eps > 0 && Number.isFinite(c.eps), `AdamW eps must be a positive number, got ${c.eps}`);
  check(c.weightDecay >= 0 && Number.isFinite(c.weightDecay), `AdamW weightDecay must be >= 0, got ${c.weightDecay}`);
  check(typeof c.noDecay === "function", "AdamW noDecay must be a function (name) => boolean");
  return c;
}

function checkLr(lr: number, what: string): void {
  check(Number.isFinite(lr) && lr >= 0, `${what} must be a finite number >= 0, got ${lr}`);
}

interface Slot {
  readonly param: tf.Variable;
  readonly expAvg: tf.Variable;
  readonly expAvgSq: tf.Variable;
  readonly decay: boolean;
  /** Steps this parameter has taken; a step without its gradient does not count (as in torch). */
  step: number;
}

/** Keys of the saved state for parameter `name`. */
export function adamwStateKeys(name: string): { expAvg: string; expAvgSq: string; step: string } {
  return { expAvg: `${name}.exp_avg`, expAvgSq: `${name}.exp_avg_sq`, step: `${name}.step` };
}

export class AdamW {
  readonly config: AdamWConfig;
  /**
   * Use the fused wasm kernel (src/core/wasm-adamw.ts) where it can run: one pass per parameter instead of 11
   * kernels, with bit-identical results. false: always the op form below.
   */
  fused = true;
  private readonly slots = new Map<string, Slot>();
  private disposed = false;

  /** `params` maps checkpoint names to the variables to optimize; the moments are allocated now. */
  constructor(params: ReadonlyMap<string, tf.Variable>, config: Partial<AdamWConfig> = {}) {
    this.config = resolveAdamWConfig(config);
    check(params.size > 0, "AdamW: no parameters to optimize; check the freeze plan (every parameter is frozen?)");
    for (const [name, param] of params) {
      check(param.dtype === "float32", `AdamW: parameter "${name}" is ${param.dtype}; only float32 parameters can be trained`);
      this.slots.set(name, {
        param,
        // Not trainable: tf.variableGrads() without a list would otherwise differentiate them too.
        expAvg: tf.variable(tf.zeros(param.shape), false),
        expAvgSq: tf.variable(tf.zeros(param.shape), false),
        decay: !this.config.noDecay(name),
        step: 0,
      });
    }
  }

  /** Parameter names, in the order given. */
  get names(): string[] {
    return [...this.slots.keys()];
  }

  /** Whether `name` gets weight decay. */
  decays(name: string): boolean {
    return this.slot(name, "decays").decay;
  }

  /** Steps taken by parameter `name`. */
  stepOf(name: string): number {
    return this.slot(name, "stepOf").step;
  }

  /**
   * One AdamW update of every parameter that has a gradient in `grads` (the others are left alone
   * and their step count does not advance). `lr` overrides config.lr for this step; every gradient is first
   * multiplied by `gradScale` (clipping's factor from clipFactor in gradients.ts, times e.g. 1 / micro-batches).
   * The caller keeps ownership of `grads`: nothing in it is disposed here.
   */
  step(grads: ReadonlyMap<string, tf.Tensor>, lr: number = this.config.lr, gradScale = 1): void {
    check(!this.disposed, "AdamW.step: this optimizer was disposed");
    checkLr(lr, "AdamW.step lr");
    check(Number.isFinite(gradScale) && gradScale > 0, `AdamW.step gradScale must be a finite number > 0, got ${gradScale}`);
    for (const [name, g] of grads) {
      const s = this.slots.get(name);
      if (s === undefined) {
        throw new FavchatError(
          `AdamW.step: gradient for "${name}", which is not one of this optimizer's ${this.slots.size} parameters; ` +
            "build the optimizer over every trained variable, or drop gradients of frozen ones",
        );
      }
      check(
        sameShape(g.shape, s.param.shape),
        () => `AdamW.step: gradient for "${name}" has shape [${g.shape}], the parameter has [${s.param.shape}]`,
      );
    }
    const { beta1, beta2, eps, weightDecay } = this.config;
    for (const [name, grad] of grads) {
      const s = this.slots.get(name)!;
      s.step += 1;
      // Scalars computed in float64 as torch does in Python, then applied in float32.
      const bc1 = 1 - beta1 ** s.step;
      const bc2Sqrt = Math.sqrt(1 - beta2 ** s.step);
      const stepSize = lr / bc1;
      const shrink = s.decay ? 1 - lr * weightDecay : 1;
      tf.tidy(() => {
        const fused = this.fused ? fusedAdamW(s.param, grad, s.expAvg, s.expAvgSq, { beta1, beta2, bc2Sqrt, eps, stepSize, shrink, gradScale }) : null;
        if (fused !== null) {
          s.param.assign(fused[0]);
          s.expAvg.assign(fused[1]);
          s.expAvgSq.assign(fused[2]);
          return;
        }
        const p = shrink === 1 ? s.param : tf.mul(s.param, shrink);
        const g = gradScale === 1 ? grad : tf.mul(grad, gradScale);
        const m = tf.add(tf.mul(s.expAvg, beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(s.expAvgSq, beta2), tf.mul(tf.square(g), 1 - beta2));
        const denom = tf.add(tf.div(tf.sqrt(v), bc2Sqrt), eps);
        s.param.assign(tf.sub(p, tf.mul(tf.div(m, denom), stepSize)));
        s.expAvg.assign(m);
        s.expAvgSq.assign(v);
      });
    }
  }

  /**
   * The state as named Float32Arrays (copies): for each parameter `<name>.exp_avg`,
   * `<name>.exp_avg_sq` (both with the parameter's shape, flattened) and `<name>.step` (length 1).
   */
  saveState(): Map<string, Float32Array> {
    check(!this.disposed, "AdamW.saveState: this optimizer was disposed");
    const out = new Map<string, Float32Array>();
    for (const [name, s] of this.slots) {
      const k = adamwStateKeys(name);
      out.set(k.expAvg, Float32Array.from(s.expAvg.dataSync() as Float32Array));
      out.set(k.expAvgSq, Float32Array.from(s.expAvgSq.dataSync() as Float32Array));
      out.set(k.step, Float32Array.of(s.step));
    }
    return out;
  }

  /** Restores a state written by saveState. It must cover exactly this optimizer's parameters. */
  loadState(state: ReadonlyMap<string, Float32Array>): void {
    check(!this.disposed, "AdamW.loadState: this optimizer was disposed");
    const expected = new Set<string>();
    const missing: string[] = [];
    for (const [name, s] of this.slots) {
      for (const key of Object.values(adamwStateKeys(name))) {
        expected.add(key);
        const a = state.get(key);
        if (a === undefined) {
          missing.push(key);
          continue;
        }
        const want = key.endsWith(".step") ? 1 : s.param.size;
        check(a.length === want, `AdamW.loadState: "${key}" has ${a.length} values, expected ${want} (parameter shape [${s.param.shape}])`);
      }
    }
    const extra = [...state.keys()].filter((k) => !expected.has(k));
    if (missing.length > 0 || extra.length > 0) {
      throw new FavchatError(
        "AdamW.loadState: the saved optimizer state does not match this model's trained parameters" +
          (missing.length > 0 ? `; missing ${listSome(missing)}` : "") +
          (extra.length > 0 ? `; unexpected ${listSome(extra)}` : "") +
          "; resume with the same model config and stage (freeze plan) that wrote the checkpoint",
      );
    }
    for (const [name, s] of this.slots) {
      const k = adamwStateKeys(name);
      const step = state.get(k.step)![0];
      check(Number.isInteger(step) && step >= 0, `AdamW.loadState: "${k.step}" must be a whole number >= 0, got ${step}`);
      s.step = step;
      tf.tidy(() => {
        s.expAvg.assign(tf.tensor(state.get(k.expAvg)!, s.param.shape, "float32"));
        s.expAvgSq.assign(tf.tensor(state.get(k.expAvgSq)!, s.param.shape, "float32"));
      });
    }
  }

  /** Frees the moment tensors (the parameters belong to the model and are left alone). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.slots.values()) {
      s.expAvg.dispose();
      s.expAvgSq.dispose();
    }
  }

  private slot(name: string, what: string): Slot {
    const s = this.slots.get(name);
    if (s === undefined) throw new FavchatError(`AdamW.${what}: no parameter named "${name}"`);
    return s;
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function listSome(xs: string[]): string {
  const shown = xs.slice(0, 5).map((x) => `"${x}"`).join(", ");
  return xs.length > 5 ? `${shown} and ${xs.length - 5} more` : shown;
}
