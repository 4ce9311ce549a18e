// Which frames to take from a video (issue 3): N frames spread uniformly from the first frame to the last
// (default 16), or one frame every 1/fps seconds. Times, not indices, so variable frame rate video samples evenly.
// The same plan drives ffmpeg's `select` filter (video files) and the index choice for a folder of images.
import { FavchatError } from "../core/errors.ts";

export type SampleSpec =
  /** `frames` frames spread evenly over the video, the first and last frame included. */
  | { readonly mode: "uniform"; readonly frames: number }
  /** One frame every 1/`fps` seconds from the start, at most `maxFrames`. */
  | { readonly mode: "fps"; readonly fps: number; readonly maxFrames: number };

export const DEFAULT_SAMPLE: SampleSpec = { mode: "uniform", frames: 16 };

/** Targets t_k = offsetSec + k * stepSec (seconds after the first frame), k < count. */
export interface SamplePlan {
  readonly offsetSec: number;
  readonly stepSec: number;
  readonly count: number;
}

export function checkSampleSpec(spec: SampleSpec): void {
  if (spec.mode === "uniform") {
    if (!Number.isInteger(spec.frames) || spec.frames < 1 || spec.frames > 4096) {
      throw new FavchatError(`frames to sample must be a whole number from 1 to 4096, got ${spec.frames}`);
    }
  } else {
    if (!(spec.fps > 0) || spec.fps > 1000) throw new FavchatError(`sampling fps must be above 0 and at most 1000, got ${spec.fps}`);
    if (!Number.isInteger(spec.maxFrames) || spec.maxFrames < 1) {
      throw new FavchatError(`maxFrames must be a positive whole number, got ${spec.maxFrames}`);
    }
  }
}

/**
 * The sampling plan for a video whose last frame starts `lastFrameSec` after its first.
 * One target for a single frame (or a single-frame video) sits in the middle of the video.
 */
export function planSamples(spec: SampleSpec, lastFrameSec: number): SamplePlan {
  checkSampleSpec(spec);
  const last = Math.max(0, lastFrameSec);
  if (spec.mode === "uniform") {
    if (spec.frames === 1 || last === 0) return { offsetSec: last / 2, stepSec: 1, count: 1 };
    return { offsetSec: 0, stepSec: last / (spec.frames - 1), count: spec.frames };
  }
  const step = 1 / spec.fps;
  return { offsetSec: 0, stepSec: step, count: Math.min(spec.maxFrames, Math.floor(last / step + 1e-6) + 1) };
}

export function sampleTimes(plan: SamplePlan): number[] {
  return Array.from({ length: plan.count }, (_, k) => plan.offsetSec + k * plan.stepSec);
}

/**
 * ffmpeg `select` expression: a frame is taken when its time reaches the next unfilled target. Once past a
 * gap (variable frame rate), the following frames fill the skipped targets, so N frames still come out.
 * The 1e-3 step tolerance keeps a frame stamped a hair before its target from being missed.
 */
export function selectExpression(plan: SamplePlan): string {
  const f = (v: number) => v.toFixed(6);
  return `select='gte((t-start_t-${f(plan.offsetSec)})/${f(plan.stepSec)}+0.001,selected_n)'`;
}

/** For a folder of images at `fps`: the image index for each target (repeats removed, order kept). */
export function imageIndices(plan: SamplePlan, fps: number, imageCount: number): number[] {
  const out: number[] = [];
  for (const t of sampleTimes(plan)) {
    const i = Math.min(imageCount - 1, Math.max(0, Math.round(t * fps)));
    if (out[out.length - 1] !== i) out.push(i);
  }
  return out;
}
