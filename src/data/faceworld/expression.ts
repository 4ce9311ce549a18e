// Facial expressions as FACS action units: emotion prototypes (EMFACS-style) and the intensity curve
// (onset, apex, offset) each AU follows over a clip. Subtle (peak <= 0.3) and short (apex <= 3 frames)
// expressions are first-class, so some clips can only be read by looking closely at the right frames.
import type { Rng } from "../../core/rng.ts";
import { AU_NAMES, type AuName, type Emotion7 } from "../records.ts";

/** AU prototype per emotion: [AU, relative weight]. Weights < 1 are the optional, weaker components. */
export const EMOTION_PROTOTYPES: Record<Emotion7, readonly (readonly [AuName, number])[]> = {
  happy: [["AU6", 0.9], ["AU12", 1], ["AU25", 0.4]],
  sad: [["AU1", 1], ["AU4", 0.7], ["AU15", 1], ["AU17", 0.5]],
  neutral: [],
  angry: [["AU4", 1], ["AU5", 0.5], ["AU7", 0.9], ["AU23", 1], ["AU17", 0.4]],
  surprise: [["AU1", 1], ["AU2", 1], ["AU5", 0.9], ["AU26", 0.9], ["AU25", 0.6]],
  disgust: [["AU9", 1], ["AU10", 0.9], ["AU15", 0.6], ["AU17", 0.5], ["AU4", 0.3]],
  fear: [["AU1", 1], ["AU2", 0.7], ["AU4", 0.8], ["AU5", 1], ["AU7", 0.4], ["AU20", 1], ["AU25", 0.6], ["AU26", 0.3]],
};

export type Band = "subtle" | "moderate" | "strong";

/** Peak-intensity range of each band; subtle is the "peak intensity 0.3 or less". */
export const BAND_RANGES: Record<Band, readonly [number, number]> = {
  subtle: [0.15, 0.3],
  moderate: [0.35, 0.6],
  strong: [0.65, 1.0],
};

export interface Timing {
  /** First frame of the rise. */
  onset: number;
  /** First and last frame at the peak (inclusive). */
  apexStart: number;
  apexEnd: number;
  /** Frame where the curve is back to its residual level. */
  offsetEnd: number;
}

/** Samples when an expression rises, holds and falls. `short` gives an apex of at most 3 frames. */
export function sampleTiming(rng: Rng, frames: number, short: boolean): Timing {
  // Start at frame >= 1 most of the time: a neutral first frame lets a careful reader compare against it.
  const onset = rng.int(Math.max(1, Math.floor(frames * 0.3))) + (frames > 6 ? 1 : 0);
  const rise = short ? 1 + rng.int(2) : 2 + rng.int(Math.max(1, Math.floor(frames * 0.2)));
  const hold = short ? 1 + rng.int(3) : 2 + rng.int(Math.max(1, Math.floor(frames * 0.3)));
  const fall = short ? 1 + rng.int(2) : 2 + rng.int(Math.max(1, Math.floor(frames * 0.3)));
  const apexStart = Math.min(frames - 1, onset + rise);
  const apexEnd = Math.min(frames - 1, apexStart + hold - 1);
  const offsetEnd = apexEnd + fall;
  return { onset, apexStart, apexEnd, offsetEnd };
}

const smooth = (x: number): number => (x <= 0 ? 0 : x >= 1 ? 1 : x * x * (3 - 2 * x));

/** Intensity of a unit-peak curve at frame t; `residual` is the level kept after the offset (long expressions fade slowly). */
export function curveAt(t: number, timing: Timing, residual: number): number {
  const { onset, apexStart, apexEnd, offsetEnd } = timing;
  if (t < onset) return 0;
  if (t < apexStart) return smooth((t - onset + 1) / (apexStart - onset + 1));
  if (t <= apexEnd) return 1;
  if (t < offsetEnd) return residual + (1 - residual) * (1 - smooth((t - apexEnd) / (offsetEnd - apexEnd)));
  return residual;
}

export interface ExpressionPlan {
  emotion: Emotion7;
  band: Band;
  short: boolean;
  peak: number;
  timing: Timing;
  /** Per-AU weight (prototype weight times a per-clip jitter) and frame shift. */
  units: { au: AuName; weight: number; shift: number }[];
  residual: number;
}

export function planExpression(rng: Rng, emotion: Emotion7, band: Band, short: boolean, frames: number): ExpressionPlan {
  const [lo, hi] = BAND_RANGES[band];
  const peak = rng.uniform(lo, hi);
  const timing = sampleTiming(rng, frames, short);
  const units = EMOTION_PROTOTYPES[emotion]
    // Optional components drop out now and then, as real faces do not show every prototype AU.
    .filter(([, w]) => w >= 0.8 || rng.bool(0.6))
    .map(([au, w]) => ({ au, weight: Math.min(1, w * rng.uniform(0.8, 1.15)), shift: rng.int(3) - 1 }));
  const residual = short ? 0 : rng.uniform(0, 0.35);
  return { emotion, band, short, peak, timing, units, residual };
}

export type AuFrames = Record<AuName, Float32Array>;

export function emptyAuFrames(frames: number): AuFrames {
  const out = {} as AuFrames;
  for (const au of AU_NAMES) out[au] = new Float32Array(frames);
  return out;
}

/** Adds the expression's AU curves into `aus` (values are clamped to [0, 1] later). */
export function addExpression(aus: AuFrames, plan: ExpressionPlan): void {
  const frames = aus.AU1.length;
  for (const { au, weight, shift } of plan.units) {
    // A short expression keeps its exact timing: shifting units would smear a 1-frame apex.
    const s = plan.short ? 0 : shift;
    for (let t = 0; t < frames; t++) aus[au][t] += plan.peak * weight * curveAt(t - s, plan.timing, plan.residual);
  }
}

/** Frame with the largest summed intensity of the expression's AUs (first one on ties). */
export function apexFrame(aus: AuFrames, plan: ExpressionPlan): number {
  if (plan.units.length === 0) return Math.floor(aus.AU1.length / 2);
  let best = 0;
  let bestV = -1;
  for (let t = 0; t < aus.AU1.length; t++) {
    let v = 0;
    for (const { au } of plan.units) v += aus[au][t];
    if (v > bestV + 1e-6) {
      bestV = v;
      best = t;
    }
  }
  return best;
}
