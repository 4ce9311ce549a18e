// Finite-difference gradient checker for tests: compares tf.grads / tf.variableGrads of a scalar
// function with central differences, elementwise for small tensors and along random directions.
// tfjs computes in float32 only, so f itself is float32; everything the checker adds (perturbed
// points, the differences, the dot products g·Δx) is done in float64 in JS.
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../src/core/rng.ts";

/*
 * Why eps 1e-2 and tolerance 1e-2 (float32). A central difference (f(x+h) - f(x-h)) / 2h has
 * truncation error ~ h²·f'''/6 and rounding error ~ u·|f|/h, with u = 2^-24 ≈ 6e-8 float32's unit
 * roundoff. f is a sum of many float32 terms whose rounding does not cancel between f(x+h) and
 * f(x-h), so its noise is several u·|f|: at h = 1e-3 that is ~1e-4 of a derivative, already 1% of
 * small ones (measured on a small cross-entropy, without the noise floor below: 3e-2 relative error
 * at h = 1e-3, 5e-3 at 1e-2; with it, 9e-4 and 1e-3). h = 1e-2 cuts the noise 10x while the
 * truncation term (~1e-4·f''') stays small for the smooth functions of a network; pass a smaller
 * eps for sharply curved ones. Correct gradients then measure 1e-4..3e-3, and a tolerance of 1e-2
 * still catches real bugs (a missing factor, a wrong term, a 5% scale). Three details keep float32
 * noise out of the comparison itself:
 *  - the step actually taken is the float32-rounded x±h·d, so the analytic side is g·(x₊ - x₋)
 *    from those rounded points (in float64), not g·2h·d;
 *  - random directions have unit length, so the step does not grow with the tensor's size;
 *  - the relative error's denominator has floors: floorRatio of the input's gradient scale, and
 *    the rounding noise of f over the tolerance, so a derivative that is ~0 compares on absolute
 *    noise, not 0/0.
 */

export interface GradcheckOptions {
  /** Step of the central difference, in the units of the inputs (default 1e-2; see above). */
  readonly eps?: number;
  /** Largest acceptable relative error (default 1e-2). */
  readonly tolerance?: number;
  /** Relative-error floor, as a fraction of the input's gradient scale (default 1e-2). */
  readonly floorRatio?: number;
  /**
   * Float32 roundings of f's size assumed in each evaluation (default 8): a difference within
   * noiseUlps * 2^-24 * |f| / eps is rounding noise, never a failure.
   */
  readonly noiseUlps?: number;
  /** Random unit directions per input (default 3). */
  readonly directions?: number;
  /** Inputs with at most this many elements are also checked element by element (default 64). */
  readonly maxElementwise?: number;
  /** Seed of the random directions (default 0). */
  readonly seed?: number;
}

/** One comparison: a directional derivative, analytic vs numeric. */
export interface GradcheckProbe {
  readonly input: string;
  /** "element [i,j]" or "direction k". */
  readonly probe: string;
  readonly analytic: number;
  readonly numeric: number;
  readonly relError: number;
}

export interface GradcheckReport {
  readonly passed: boolean;
  readonly maxRelError: number;
  readonly worst: GradcheckProbe;
  readonly probes: readonly GradcheckProbe[];
  /** Readable summary naming the worst probe; the assertion message when it fails. */
  readonly message: string;
}

const F32_UNIT_ROUNDOFF = 2 ** -24;

/** What the core needs from either mode: base values, analytic gradients, and f at a moved point. */
interface Subject {
  readonly name: string;
  readonly shape: readonly number[];
  readonly base: Float32Array;
  readonly grad: Float64Array;
  /** f with this subject replaced by `values` (the others at their base). */
  readonly evalAt: (values: Float32Array) => number;
}

/** Checks tf.grads(f) with respect to each of `inputs` (f must return a scalar). */
export function gradcheck(
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  inputs: readonly tf.Tensor[] | Readonly<Record<string, tf.Tensor>>,
  options: GradcheckOptions = {},
): GradcheckReport {
  const names = Array.isArray(inputs) ? inputs.map((_, i) => `input ${i}`) : Object.keys(inputs);
  const xs: tf.Tensor[] = Array.isArray(inputs) ? [...inputs] : Object.values(inputs);
  checkFloat32(xs, names);
  const grads = tf.grads((...a: tf.Tensor[]) => scalarOf(f(...a)))(xs);
  const subjects = xs.map((x, i): Subject => ({
    name: names[i],
    shape: x.shape,
    base: Float32Array.from(x.dataSync() as Float32Array),
    grad: Float64Array.from(grads[i].dataSync()),
    evalAt: (values) =>
      tf.tidy(() => {
        const moved = xs.map((y, j) => (j === i ? tf.tensor(values, y.shape, "float32") : y));
        return scalarOf(f(...moved)).dataSync()[0];
      }),
  }));
  tf.dispose(grads);
  return runChecks(subjects, options);
}

/** Checks tf.variableGrads(f) with respect to each named variable; values are restored afterwards. */
export function gradcheckVariables(
  f: () => tf.Tensor,
  variables: ReadonlyMap<string, tf.Variable>,
  options: GradcheckOptions = {},
): GradcheckReport {
  const vars = [...variables.values()];
  checkFloat32(vars, [...variables.keys()]);
  const { value, grads } = tf.variableGrads(() => scalarOf(f()), vars);
  value.dispose();
  const subjects = [...variables].map(([name, v]): Subject => {
    const base = Float32Array.from(v.dataSync() as Float32Array);
    return {
      name,
      shape: v.shape,
      base,
      // A variable f does not touch has no entry: its true gradient is zero, and the check agrees
      // only if f really ignores it.
      grad: grads[v.name] === undefined ? new Float64Array(v.size) : Float64Array.from(grads[v.name].dataSync()),
      evalAt: (values) => {
        try {
          v.assign(tf.tensor(values, v.shape, "float32"));
          return tf.tidy(() => scalarOf(f()).dataSync()[0]);
        } finally {
          v.assign(tf.tensor(base, v.shape, "float32"));
        }
      },
    };
  });
  tf.dispose(Object.values(grads));
  return runChecks(subjects, options);
}

function runChecks(subjects: readonly Subject[], options: GradcheckOptions): GradcheckReport {
  const eps = options.eps ?? 1e-2;
  const tolerance = options.tolerance ?? 1e-2;
  const floorRatio = options.floorRatio ?? 1e-2;
  const nDirections = options.directions ?? 3;
  const maxElementwise = options.maxElementwise ?? 64;
  const noiseUlps = options.noiseUlps ?? 8;
  const rng = new Rng(options.seed ?? 0);
  const probes: GradcheckProbe[] = [];

  for (const s of subjects) {
    const n = s.base.length;
    // Typical size of a derivative along one element (the largest one) and along a random unit
    // direction (|g|/sqrt(n)): the relative error's floor is a fraction of these.
    const elemScale = s.grad.reduce((m, g) => Math.max(m, Math.abs(g)), 0);
    const dirScale = Math.sqrt(s.grad.reduce((acc, g) => acc + g * g, 0) / n);
    const probeAlong = (d: Float64Array, label: string, scale: number) => {
      const plus = new Float32Array(n), minus = new Float32Array(n);
      let analyticDiff = 0;
      for (let i = 0; i < n; i++) {
        plus[i] = s.base[i] + eps * d[i];
        minus[i] = s.base[i] - eps * d[i];
        analyticDiff += s.grad[i] * (plus[i] - minus[i]);
      }
      const analytic = analyticDiff / (2 * eps);
      const fPlus = s.evalAt(plus), fMinus = s.evalAt(minus);
      const numeric = (fPlus - fMinus) / (2 * eps);
      // Rounding noise of the numeric derivative: noiseUlps roundings of f's size in each of f±.
      const noise = (noiseUlps * F32_UNIT_ROUNDOFF * Math.max(Math.abs(fPlus), Math.abs(fMinus))) / eps;
      const denom = Math.max(Math.abs(analytic), Math.abs(numeric), floorRatio * scale, noise / tolerance, 1e-12);
      const relError = Number.isFinite(numeric) && Number.isFinite(analytic) ? Math.abs(analytic - numeric) / denom : Infinity;
      probes.push({ input: s.name, probe: label, analytic, numeric, relError });
    };
    if (n <= maxElementwise) {
      for (let i = 0; i < n; i++) {
        const d = new Float64Array(n);
        d[i] = 1;
        probeAlong(d, `element [${unravel(i, s.shape)}]`, elemScale);
      }
    }
    for (let k = 0; k < nDirections; k++) {
      const d = new Float64Array(n);
      for (let i = 0; i < n; i++) d[i] = rng.normal();
      // Unit length, so the step is eps whatever the size: the truncation error then does not
      // grow with the number of elements.
      const len = Math.sqrt(d.reduce((acc, v) => acc + v * v, 0));
      for (let i = 0; i < n; i++) d[i] /= len;
      probeAlong(d, `direction ${k}`, dirScale);
    }
  }

  if (probes.length === 0) throw new Error("gradcheck: nothing to check (no inputs, or directions: 0 with large inputs)");
  const worst = probes.reduce((w, p) => (p.relError > w.relError || Number.isNaN(p.relError) ? p : w));
  const failing = probes.filter((p) => !(p.relError <= tolerance)).length;
  const passed = failing === 0;
  const where = `"${worst.input}" ${worst.probe}: analytic ${fmt(worst.analytic)}, numeric ${fmt(worst.numeric)}`;
  const message = passed
    ? `gradcheck passed: max relative error ${fmt(worst.relError)} <= ${tolerance} over ${probes.length} probes (worst at ${where}; eps ${eps})`
    : `gradcheck failed: max relative error ${fmt(worst.relError)} > tolerance ${tolerance} at ${where} ` +
      `(eps ${eps}); ${failing} of ${probes.length} probes over tolerance`;
  return { passed, maxRelError: worst.relError, worst, probes, message };
}

function scalarOf(y: tf.Tensor): tf.Scalar {
  if (y.rank !== 0) throw new Error(`gradcheck: f must return a scalar, got shape [${y.shape}]; reduce it (e.g. tf.sum) first`);
  return y as tf.Scalar;
}

function checkFloat32(xs: readonly tf.Tensor[], names: readonly string[]): void {
  xs.forEach((x, i) => {
    if (x.dtype !== "float32") throw new Error(`gradcheck: "${names[i]}" is ${x.dtype}; only float32 inputs have gradients`);
  });
}

function unravel(flat: number, shape: readonly number[]): string {
  const idx: number[] = [];
  for (let k = shape.length - 1; k >= 0; k--) {
    idx.unshift(flat % shape[k]);
    flat = Math.floor(flat / shape[k]);
  }
  return idx.join(",");
}

function fmt(x: number): string {
  return Number.isFinite(x) && x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e4) ? x.toExponential(3) : String(+x.toPrecision(4));
}
