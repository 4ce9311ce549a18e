// Line charts as PNG (@napi-rs/canvas) for training curves and evaluation metrics: several named series,
// axes with ticks, grid and labels, a legend, and an optional log-10 y axis. Non-finite values (a NaN loss)
// leave a gap instead of failing the plot.
import { createCanvas, type SKRSContext2D } from "@napi-rs/canvas";
import { FavchatError, check } from "../../core/errors.ts";
import { linearScale, logScale, type Scale } from "./scale.ts";
import { FONT, GRID, INK, PALETTE } from "./style.ts";

export interface Series {
  readonly name: string;
  /** [x, y] pairs, e.g. [step, loss]; drawn in the given order. */
  readonly points: readonly (readonly [number, number])[];
}

export interface LineChartOptions {
  readonly title?: string;
  readonly xLabel?: string;
  readonly yLabel?: string;
  /** Log-10 y axis (losses); every finite y must then be > 0. */
  readonly logY?: boolean;
  readonly width?: number;
  readonly height?: number;
}

export interface ChartLayout {
  /** Plot area in pixels. */
  readonly left: number;
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
  readonly x: Scale;
  readonly y: Scale;
  /** Pixel position of a data point. */
  readonly px: (x: number, y: number) => [number, number];
}

const finite = (p: readonly [number, number]): boolean => Number.isFinite(p[0]) && Number.isFinite(p[1]);

/** Validates the series and computes scales and the plot area (exported so tests can find where things are drawn). */
export function chartLayout(series: readonly Series[], o: LineChartOptions = {}): ChartLayout {
  const width = o.width ?? 800;
  const height = o.height ?? 480;
  check(width >= 200 && height >= 150, `line chart: size ${width}x${height} is too small; use at least 200x150`);
  check(series.length > 0, "line chart: no series to plot");
  const pts = series.flatMap((s) => s.points.filter(finite));
  check(pts.length > 0, `line chart: no finite points in ${series.map((s) => `"${s.name}"`).join(", ")}`);
  if (o.logY) {
    for (const s of series) {
      const bad = s.points.find((p) => finite(p) && p[1] <= 0);
      if (bad) throw new FavchatError(`line chart: series "${s.name}" has y = ${bad[1]} at x = ${bad[0]}, which a log scale cannot show; plot it without logY`);
    }
  }
  // Loops, not Math.min(...xs): a long training curve has more points than a call can take arguments.
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const [px, py] of pts) {
    x0 = Math.min(x0, px);
    x1 = Math.max(x1, px);
    y0 = Math.min(y0, py);
    y1 = Math.max(y1, py);
  }
  const x = linearScale(x0, x1);
  const y = o.logY ? logScale(y0, y1) : linearScale(y0, y1);
  const left = 78;
  const top = o.title ? 44 : 20;
  const right = width - 24;
  const bottom = height - (o.xLabel ? 58 : 40);
  const px = (vx: number, vy: number): [number, number] => [left + x.unit(vx) * (right - left), bottom - y.unit(vy) * (bottom - top)];
  return { left, top, right, bottom, x, y, px };
}

function drawAxes(ctx: SKRSContext2D, L: ChartLayout, o: LineChartOptions, width: number, height: number): void {
  ctx.font = `12px ${FONT}`;
  ctx.lineWidth = 1;
  // Grid and tick labels.
  ctx.strokeStyle = GRID;
  ctx.fillStyle = INK;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const t of L.x.ticks) {
    const [x] = L.px(t, L.y.ticks[0]);
    ctx.beginPath();
    ctx.moveTo(x + 0.5, L.top);
    ctx.lineTo(x + 0.5, L.bottom);
    ctx.stroke();
    ctx.fillText(L.x.format(t), x, L.bottom + 6);
  }
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const t of L.y.ticks) {
    const [, y] = L.px(L.x.ticks[0], t);
    ctx.beginPath();
    ctx.moveTo(L.left, y + 0.5);
    ctx.lineTo(L.right, y + 0.5);
    ctx.stroke();
    ctx.fillText(L.y.format(t), L.left - 6, y);
  }
  ctx.strokeStyle = INK;
  ctx.strokeRect(L.left + 0.5, L.top + 0.5, L.right - L.left, L.bottom - L.top);
  // Titles.
  ctx.textAlign = "center";
  if (o.title) {
    ctx.font = `bold 15px ${FONT}`;
    ctx.textBaseline = "top";
    ctx.fillText(o.title, width / 2, 12);
  }
  ctx.font = `13px ${FONT}`;
  if (o.xLabel) {
    ctx.textBaseline = "bottom";
    ctx.fillText(o.xLabel, (L.left + L.right) / 2, height - 10);
  }
  if (o.yLabel) {
    ctx.save();
    ctx.translate(16, (L.top + L.bottom) / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "top";
    ctx.fillText(o.yLabel + (o.logY ? " (log)" : ""), 0, 0);
    ctx.restore();
  }
}

function drawLegend(ctx: SKRSContext2D, L: ChartLayout, series: readonly Series[]): void {
  ctx.font = `12px ${FONT}`;
  const w = Math.max(...series.map((s) => ctx.measureText(s.name).width)) + 40;
  const h = series.length * 18 + 8;
  // The corner whose box covers the fewest data points, so the legend hides as little of the curves as it can.
  const corners: [number, number][] = [
    [L.right - w - 8, L.top + 8], [L.right - w - 8, L.bottom - h - 8], [L.left + 8, L.top + 8], [L.left + 8, L.bottom - h - 8],
  ];
  const covered = ([cx, cy]: [number, number]): number => {
    let n = 0;
    const inside = (x: number, y: number) => x >= cx - 6 && x <= cx + w + 6 && y >= cy - 6 && y <= cy + h + 6;
    for (const s of series) {
      const pts = s.points.filter(finite).map((p) => L.px(p[0], p[1]));
      pts.forEach(([x, y], i) => {
        if (inside(x, y)) n++;
        // Samples along the segment too: a line can cross the box between two points outside it.
        const next = pts[i + 1];
        if (next) for (let k = 1; k < 8; k++) if (inside(x + ((next[0] - x) * k) / 8, y + ((next[1] - y) * k) / 8)) n++;
      });
    }
    return n;
  };
  const [x0, y0] = corners.reduce((best, c) => (covered(c) < covered(best) ? c : best));
  ctx.fillStyle = "rgba(255, 255, 255, 0.88)";
  ctx.fillRect(x0, y0, w, h);
  ctx.strokeStyle = GRID;
  ctx.strokeRect(x0 + 0.5, y0 + 0.5, w, h);
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  series.forEach((s, i) => {
    const y = y0 + 13 + i * 18;
    ctx.strokeStyle = PALETTE[i % PALETTE.length];
    ctx.lineWidth = 3;
    ctx.beginPath();
    ctx.moveTo(x0 + 8, y);
    ctx.lineTo(x0 + 28, y);
    ctx.stroke();
    ctx.fillStyle = INK;
    ctx.fillText(s.name, x0 + 34, y);
  });
}

/** Renders the series as a PNG (encoded bytes). */
export function lineChartPng(series: readonly Series[], o: LineChartOptions = {}): Buffer {
  const width = o.width ?? 800;
  const height = o.height ?? 480;
  const L = chartLayout(series, o);
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, width, height);
  drawAxes(ctx, L, o, width, height);
  ctx.save();
  ctx.beginPath();
  ctx.rect(L.left, L.top, L.right - L.left, L.bottom - L.top);
  ctx.clip();
  series.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length];
    ctx.strokeStyle = colour;
    ctx.fillStyle = colour;
    ctx.lineWidth = 2;
    ctx.lineJoin = "round";
    ctx.beginPath();
    let pen = false; // a non-finite point lifts the pen: the curve shows a gap
    for (const p of s.points) {
      if (!finite(p)) {
        pen = false;
        continue;
      }
      const [x, y] = L.px(p[0], p[1]);
      if (pen) ctx.lineTo(x, y);
      else ctx.moveTo(x, y);
      pen = true;
    }
    ctx.stroke();
    // Markers where points are few enough to tell apart (eval metrics every N steps).
    if (s.points.length <= 40) {
      for (const p of s.points.filter(finite)) {
        const [x, y] = L.px(p[0], p[1]);
        ctx.beginPath();
        ctx.arc(x, y, 3, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
  });
  ctx.restore();
  drawLegend(ctx, L, series);
  return canvas.toBuffer("image/png");
}
