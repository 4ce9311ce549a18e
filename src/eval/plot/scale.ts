// Axis scales for the plots: "nice" linear ticks (steps of 1, 2 or 5 times a power of ten), log-10 ticks,
// tick-label formatting without floating-point noise, and the data -> pixel mapping the charts draw with.

export interface Scale {
  /** Domain ends after rounding out to ticks. */
  readonly min: number;
  readonly max: number;
  readonly ticks: readonly number[];
  readonly log: boolean;
  /** Maps a data value to [0, 1] along the axis (0 = min). */
  readonly unit: (v: number) => number;
  readonly format: (v: number) => string;
}

/** The nice step (1, 2, 5 x 10^k) nearest above range / (target - 1). */
export function niceStep(range: number, target = 6): number {
  const raw = range / Math.max(1, target - 1);
  const pow = 10 ** Math.floor(Math.log10(raw));
  const f = raw / pow;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * pow;
}

/** Short label: integers as is, fractions to the step's decimals, very large or small values as 1e-4. */
export function formatTick(v: number, step: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-3) {
    const exp = Math.floor(Math.log10(a) + 1e-9);
    return `${Number((v / 10 ** exp).toFixed(2))}e${exp}`;
  }
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return Number(v.toFixed(decimals)).toString();
}

/** Linear scale over [lo, hi] rounded out to nice ticks; a single value gets a small window around it. */
export function linearScale(lo: number, hi: number, target = 6): Scale {
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep(hi - lo, target);
  const min = Math.floor(lo / step + 1e-9) * step;
  const max = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let k = 0; min + k * step <= max + step * 1e-9; k++) ticks.push(Number((min + k * step).toPrecision(12)));
  return { min, max, ticks, log: false, unit: (v) => (v - min) / (max - min), format: (v) => formatTick(v, step) };
}

/** Log-10 scale over [lo, hi] (both > 0) rounded out to powers of ten; adds 2x and 5x ticks over few decades. */
export function logScale(lo: number, hi: number): Scale {
  let e0 = Math.floor(Math.log10(lo) + 1e-9);
  let e1 = Math.ceil(Math.log10(hi) - 1e-9);
  if (e1 === e0) e1 = e0 + 1;
  if (e1 - e0 > 12) e0 = e1 - 12; // nothing useful is drawn 12 decades below the top
  const ticks: number[] = [];
  for (let e = e0; e <= e1; e++) {
    ticks.push(10 ** e);
    if (e1 - e0 <= 2 && e < e1) ticks.push(2 * 10 ** e, 5 * 10 ** e);
  }
  ticks.sort((a, b) => a - b);
  const lmin = e0;
  const lmax = e1;
  return {
    min: 10 ** e0, max: 10 ** e1, ticks, log: true,
    unit: (v) => (Math.log10(v) - lmin) / (lmax - lmin),
    format: (v) => (v >= 1e-3 && v < 1e6 ? Number(v.toPrecision(3)).toString() : formatTick(v, v)),
  };
}
