// Learning-rate schedule for the supervised stages and RL (DESIGN 2): linear warm-up, then cosine
// decay to minLrRatio * baseLr. A pure function of the step, so a resumed run needs only the step.

import { check } from "../core/errors.ts";

export interface CosineScheduleConfig {
  /** Peak learning rate, reached at the end of warm-up. */
  readonly baseLr: number;
  /** Steps of linear warm-up; 0 starts at the peak. */
  readonly warmupSteps: number;
  /** Steps of the whole run; the decay reaches its floor at this step. */
  readonly totalSteps: number;
  /** Floor of the decay as a fraction of baseLr, in [0, 1]. */
  readonly minLrRatio: number;
}

export const COSINE_DEFAULTS: Omit<CosineScheduleConfig, "totalSteps"> = {
  baseLr: 1e-3,
  warmupSteps: 0,
  minLrRatio: 0.1,
};

/** Merges `partial` over the defaults and validates; totalSteps has no default. */
export function resolveCosineSchedule(
  partial: Partial<CosineScheduleConfig> & Pick<CosineScheduleConfig, "totalSteps">,
): CosineScheduleConfig {
  const c = { ...COSINE_DEFAULTS, ...partial };
  check(Number.isFinite(c.baseLr) && c.baseLr >= 0, `schedule baseLr must be a finite number >= 0, got ${c.baseLr}`);
  check(Number.isInteger(c.totalSteps) && c.totalSteps >= 1, `schedule totalSteps must be a whole number >= 1, got ${c.totalSteps}`);
  check(
    Number.isInteger(c.warmupSteps) && c.warmupSteps >= 0 && c.warmupSteps <= c.totalSteps,
    `schedule warmupSteps must be a whole number in [0, totalSteps=${c.totalSteps}], got ${c.warmupSteps}`,
  );
  check(c.minLrRatio >= 0 && c.minLrRatio <= 1, `schedule minLrRatio must be in [0, 1], got ${c.minLrRatio}`);
  return c;
}

/**
 * Learning rate for the optimizer step with 0-based index `step`.
 * Warm-up: baseLr * (step + 1) / warmupSteps, so the first step already moves and step
 * warmupSteps - 1 is at the peak. Then cosine over progress = (step - warmupSteps) /
 * (totalSteps - warmupSteps), from baseLr at progress 0 to minLrRatio * baseLr at progress 1;
 * steps past totalSteps (a run extended on resume) stay at the floor.
 */
export function lrAt(step: number, c: CosineScheduleConfig): number {
  check(Number.isInteger(step) && step >= 0, `lrAt: step must be a whole number >= 0, got ${step}`);
  if (step < c.warmupSteps) return (c.baseLr * (step + 1)) / c.warmupSteps;
  const span = c.totalSteps - c.warmupSteps;
  const progress = span === 0 ? 1 : Math.min(1, (step - c.warmupSteps) / span);
  const cosine = 0.5 * (1 + Math.cos(Math.PI * progress)); // 1 -> 0
  return c.baseLr * (c.minLrRatio + (1 - c.minLrRatio) * cosine);
}
