// The confusion matrix as a PNG heatmap: one cell per (true class, predicted column) with its count,
// coloured by the row-normalised fraction (so a rare class's recall is as visible as a common one's),
// class names on both axes, and the "unmapped" column for answers that named no single class.
import { createCanvas } from "@napi-rs/canvas";
import { check } from "../../core/errors.ts";
import type { ConfusionMatrix } from "../metrics.ts";
import { FONT, INK, rampRgb, rgbCss } from "./style.ts";

export interface HeatmapOptions {
  readonly title?: string;
  /** Cell side in pixels (default 60). */
  readonly cell?: number;
}

export interface HeatmapLayout {
  readonly width: number;
  readonly height: number;
  /** Top-left corner of cell (row, col) is (left + col·cell, top + row·cell). */
  readonly left: number;
  readonly top: number;
  readonly cell: number;
}

/** counts[i][j] / sum(counts[i]); a row without items is all 0. */
export function rowNormalised(cm: ConfusionMatrix): number[][] {
  return cm.counts.map((row) => {
    const sum = row.reduce((s, x) => s + x, 0);
    return row.map((x) => (sum === 0 ? 0 : x / sum));
  });
}

// Text width estimate for the margins (the canvas measures exactly while drawing; this only sizes the image).
const labelWidth = (s: string): number => s.length * 7.5 + 12;

export function heatmapLayout(cm: ConfusionMatrix, o: HeatmapOptions = {}): HeatmapLayout {
  check(cm.labels.length > 0 && cm.counts.length === cm.labels.length, `confusion plot: ${cm.labels.length} class names but ${cm.counts.length} rows`);
  cm.counts.forEach((row, i) => check(row.length === cm.columns.length, `confusion plot: row ${i} has ${row.length} counts, expected ${cm.columns.length} (one per column)`));
  const cell = o.cell ?? 60;
  check(cell >= 16, `confusion plot: cell size ${cell} is too small; use at least 16 pixels`);
  const left = 34 + Math.max(...cm.labels.map(labelWidth));
  // Column names are written at 45 degrees above the grid.
  const top = (o.title ? 40 : 14) + 22 + Math.max(...cm.columns.map(labelWidth)) * Math.SQRT1_2;
  const width = Math.ceil(left + cm.columns.length * cell + 40);
  const height = Math.ceil(top + cm.labels.length * cell + 16);
  return { width, height, left, top, cell };
}

/** Renders the heatmap as a PNG (encoded bytes). */
export function confusionPng(cm: ConfusionMatrix, o: HeatmapOptions = {}): Buffer {
  const L = heatmapLayout(cm, o);
  const frac = rowNormalised(cm);
  const canvas = createCanvas(L.width, L.height);
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, L.width, L.height);

  // 1. Cells: colour by row fraction, count in the middle (white on dark cells).
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  cm.counts.forEach((row, i) => {
    row.forEach((count, j) => {
      const x = L.left + j * L.cell;
      const y = L.top + i * L.cell;
      ctx.fillStyle = rgbCss(rampRgb(frac[i][j]));
      ctx.fillRect(x, y, L.cell, L.cell);
      ctx.fillStyle = frac[i][j] > 0.5 ? "#ffffff" : INK;
      ctx.font = `${Math.round(L.cell * 0.27)}px ${FONT}`;
      ctx.fillText(String(count), x + L.cell / 2, y + L.cell / 2 - L.cell * 0.1);
      ctx.font = `${Math.round(L.cell * 0.18)}px ${FONT}`;
      ctx.fillText(`${Math.round(frac[i][j] * 100)}%`, x + L.cell / 2, y + L.cell / 2 + L.cell * 0.22);
    });
  });
  ctx.strokeStyle = "#9a9a9a";
  ctx.lineWidth = 1;
  ctx.strokeRect(L.left + 0.5, L.top + 0.5, cm.columns.length * L.cell, cm.labels.length * L.cell);

  // 2. Class names: rows on the left, columns at 45 degrees on top.
  ctx.fillStyle = INK;
  ctx.font = `13px ${FONT}`;
  ctx.textAlign = "right";
  cm.labels.forEach((name, i) => ctx.fillText(name, L.left - 8, L.top + (i + 0.5) * L.cell));
  ctx.textAlign = "left";
  cm.columns.forEach((name, j) => {
    ctx.save();
    ctx.translate(L.left + (j + 0.5) * L.cell, L.top - 8);
    ctx.rotate(-Math.PI / 4);
    ctx.fillText(name, 0, 0);
    ctx.restore();
  });

  // 3. Axis titles and the title.
  ctx.font = `bold 13px ${FONT}`;
  ctx.save();
  ctx.translate(14, L.top + (cm.labels.length * L.cell) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textAlign = "center";
  ctx.fillText("true", 0, 0);
  ctx.restore();
  ctx.textAlign = "left";
  ctx.fillText("predicted", 10, L.top - 10);
  if (o.title) {
    ctx.font = `bold 15px ${FONT}`;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    ctx.fillText(o.title, L.width / 2, 10);
  }
  return canvas.toBuffer("image/png");
}
