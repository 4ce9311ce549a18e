// Plots: tick tables for linear and log scales, and PNGs read back with sharp (size, not blank, series
// colours where the data are, dark diagonal cells for a diagonal confusion matrix).
import assert from "node:assert/strict";
import { test } from "node:test";
import sharp from "sharp";
import { FavchatError } from "../../src/core/errors.ts";
import { classificationMetrics, confusionMatrix } from "../../src/eval/metrics.ts";
import { confusionPng, heatmapLayout, rowNormalised } from "../../src/eval/plot/confusion.ts";
import { chartLayout, lineChartPng } from "../../src/eval/plot/line-chart.ts";
import { formatTick, linearScale, logScale, niceStep } from "../../src/eval/plot/scale.ts";
import { PALETTE } from "../../src/eval/plot/style.ts";

async function decode(png: Buffer): Promise<{ width: number; height: number; px: (x: number, y: number) => [number, number, number] }> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const px = (x: number, y: number): [number, number, number] => {
    const o = (Math.round(y) * info.width + Math.round(x)) * info.channels;
    return [data[o], data[o + 1], data[o + 2]];
  };
  return { width: info.width, height: info.height, px };
}

const hex = (h: string): [number, number, number] => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)) as [number, number, number];
const near = (a: readonly number[], b: readonly number[], tol = 40) => a.every((v, i) => Math.abs(v - b[i]) <= tol);
const luminance = ([r, g, b]: readonly number[]) => 0.299 * r + 0.587 * g + 0.114 * b;

test("nice steps and linear ticks", () => {
  const steps: [number, number][] = [[1, 0.2], [10, 2], [7, 2], [300, 100], [0.03, 0.01], [1234, 500]];
  for (const [range, want] of steps) assert.ok(Math.abs(niceStep(range) - want) < 1e-12, `range ${range}: ${niceStep(range)} != ${want}`);
  const s = linearScale(0.13, 0.87);
  assert.deepEqual(s.ticks, [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(s.ticks.map(s.format), ["0", "0.2", "0.4", "0.6", "0.8", "1"]);
  assert.equal(s.unit(0.5), 0.5);
  const flat = linearScale(2, 2); // a constant series still gets an axis around its value
  assert.ok(flat.min < 2 && flat.max > 2);
});

test("log ticks: powers of ten, with 2x and 5x over few decades", () => {
  assert.deepEqual(logScale(0.05, 3).ticks, [0.01, 0.1, 1, 10]);
  assert.deepEqual(logScale(1.5, 40).ticks, [1, 2, 5, 10, 20, 50, 100]);
  const s = logScale(1, 1000);
  assert.deepEqual([s.unit(1), s.unit(10), s.unit(100), s.unit(1000)].map((u) => Math.round(u * 3)), [0, 1, 2, 3]);
  const cases: [number, number, string][] = [[0.30000000000000004, 0.1, "0.3"], [1e-5, 1e-5, "1e-5"], [2500000, 1e6, "2.5e6"], [1500, 500, "1500"]];
  for (const [v, step, want] of cases) assert.equal(formatTick(v, step), want);
});

test("line chart PNG: size, axes drawn, each series' colour where its points are", async () => {
  const loss = Array.from({ length: 200 }, (_, i) => [i, 2 * Math.exp(-i / 50) + 0.1] as [number, number]);
  const acc = Array.from({ length: 5 }, (_, i) => [i * 50, 0.2 + i * 0.15] as [number, number]);
  const series = [{ name: "loss", points: loss }, { name: "accuracy", points: acc }];
  const o = { title: "curves", xLabel: "step", yLabel: "value", width: 640, height: 400 };
  const img = await decode(lineChartPng(series, o));
  assert.deepEqual([img.width, img.height], [640, 400]);
  const L = chartLayout(series, o);
  // a point in the middle of each curve carries its series colour
  assert.ok(near(img.px(...L.px(100, loss[100][1])), hex(PALETTE[0])), `loss colour: ${img.px(...L.px(100, loss[100][1]))}`);
  assert.ok(near(img.px(...L.px(100, acc[2][1])), hex(PALETTE[1])), `accuracy colour: ${img.px(...L.px(100, acc[2][1]))}`);
  // the frame of the plot area is dark ink; the background is white
  assert.ok(luminance(img.px(L.left, (L.top + L.bottom) / 2)) < 100);
  assert.deepEqual(img.px(3, 3), [255, 255, 255]);
});

test("line chart: log y puts an exponential decay on a straight line; NaN leaves a gap", async () => {
  const pts = Array.from({ length: 5 }, (_, i) => [i, 10 ** -i] as [number, number]);
  const L = chartLayout([{ name: "loss", points: pts }], { logY: true });
  const ys = pts.map((p) => L.px(p[0], p[1])[1]);
  const gaps = ys.slice(1).map((y, i) => y - ys[i]);
  for (const g of gaps) assert.ok(Math.abs(g - gaps[0]) < 1e-9, `uneven spacing ${gaps}`);
  const withNaN = [[0, 1], [1, NaN], [2, 3]] as [number, number][];
  const img = await decode(lineChartPng([{ name: "s", points: withNaN }], { width: 400, height: 300 }));
  const W = chartLayout([{ name: "s", points: withNaN }], { width: 400, height: 300 });
  const [mx, my] = W.px(1, 2); // where the line from (0,1) to (2,3) would pass
  assert.ok(!near(img.px(mx, my), hex(PALETTE[0]), 60), "no line drawn across the NaN");
});

test("line chart bad input is a clear error", () => {
  assert.throws(() => lineChartPng([]), (e: unknown) => e instanceof FavchatError && /no series/.test(e.message));
  assert.throws(() => lineChartPng([{ name: "x", points: [[0, NaN]] }]), /no finite points in "x"/);
  assert.throws(() => lineChartPng([{ name: "reward", points: [[0, 1], [3, 0]] }], { logY: true }), /series "reward" has y = 0 at x = 3.*without logY/);
  assert.throws(() => lineChartPng([{ name: "x", points: [[0, 1]] }], { width: 50 }), /too small/);
});

test("confusion heatmap: a diagonal matrix has dark diagonal cells and white off-diagonal cells", async () => {
  const labels = ["happy", "sad", "neutral", "angry", "surprise", "disgust", "fear"];
  const truth = labels.flatMap((l, i) => Array(5 + i).fill(l) as string[]);
  const cm = confusionMatrix(truth, truth, labels);
  const L = heatmapLayout(cm, { title: "t" });
  const img = await decode(confusionPng(cm, { title: "t" }));
  assert.deepEqual([img.width, img.height], [L.width, L.height]);
  // sample near a cell's corner, away from its text
  const cellPx = (i: number, j: number) => img.px(L.left + j * L.cell + 5, L.top + i * L.cell + 5);
  for (let i = 0; i < labels.length; i++) {
    assert.ok(luminance(cellPx(i, i)) < 70, `diagonal cell ${i} is dark: ${cellPx(i, i)}`);
    assert.ok(luminance(cellPx(i, (i + 1) % labels.length)) > 240, `off-diagonal cell ${i} is white`);
    assert.ok(luminance(cellPx(i, labels.length)) > 240, `unmapped cell ${i} is white`);
  }
  // the class names were written left of the grid (some dark pixels in the label margin of row 0)
  let ink = 0;
  for (let x = 20; x < L.left - 4; x++) for (let y = L.top; y < L.top + L.cell; y++) if (luminance(img.px(x, y)) < 128) ink++;
  assert.ok(ink > 20, `row label drawn (${ink} dark pixels)`);
});

test("confusion heatmap colours rows by their own fractions", async () => {
  // row "a" has 100 items, row "b" 2: half right in each row, so both diagonal cells get the same colour
  const truth = [...Array(100).fill("a"), "b", "b"] as string[];
  const pred = [...Array(50).fill("a"), ...Array(50).fill("b"), "b", "a"] as string[];
  const cm = classificationMetrics(truth, pred, ["a", "b"]).confusion;
  assert.deepEqual(rowNormalised(cm), [[0.5, 0.5, 0], [0.5, 0.5, 0]]);
  const L = heatmapLayout(cm);
  const img = await decode(confusionPng(cm));
  const c = (i: number, j: number) => img.px(L.left + j * L.cell + 5, L.top + i * L.cell + 5);
  assert.deepEqual(c(0, 0), c(1, 1));
  assert.ok(luminance(c(0, 0)) < 200 && luminance(c(0, 0)) > 80);
});
