// Shared look of the evaluation plots: series palette (Tableau 10, distinguishable and colour-blind friendlier
// than pure hues), the font, and the white-to-dark-blue ramp the confusion heatmap colours cells with.

export const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"] as const;

export const FONT = "sans-serif";
export const INK = "#222222";
export const GRID = "#e3e3e3";

/** RGB of the heatmap ramp at t in [0, 1]: white at 0, dark blue (matplotlib's Blues end) at 1. */
export function rampRgb(t: number): [number, number, number] {
  const c = Math.min(1, Math.max(0, t));
  const lo = [255, 255, 255];
  const hi = [8, 48, 107];
  return [0, 1, 2].map((k) => Math.round(lo[k] + (hi[k] - lo[k]) * c)) as [number, number, number];
}

export const rgbCss = ([r, g, b]: readonly number[]): string => `rgb(${r}, ${g}, ${b})`;
