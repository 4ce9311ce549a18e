// Pure parts of src/video: sampling plans, aligned cropping and main-face tracking (table tests, no models).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { makeFrame } from "../../src/video/frame.ts";
import { cropWindow, faceWindow } from "../../src/video/faces/align.ts";
import type { FaceCandidate, Landmarks } from "../../src/video/faces/geometry.ts";
import { cropWindows } from "../../src/video/faces/stabilize.ts";
import { DEFAULT_TRACK, fillGaps, trackMainFace, type TrackedFace } from "../../src/video/faces/track.ts";
import { imageIndices, planSamples, sampleTimes, selectExpression } from "../../src/video/sample.ts";

describe("sampling plans", () => {
  const cases: [string, Parameters<typeof planSamples>, number[]][] = [
    ["16 of 10 s", [{ mode: "uniform", frames: 16 }, 9.9], Array.from({ length: 16 }, (_, k) => (k * 9.9) / 15)],
    ["one frame: the middle", [{ mode: "uniform", frames: 1 }, 4], [2]],
    ["one-frame video", [{ mode: "uniform", frames: 16 }, 0], [0]],
    ["2 fps over 1.9 s", [{ mode: "fps", fps: 2, maxFrames: 100 }, 1.9], [0, 0.5, 1, 1.5]],
    ["fps capped", [{ mode: "fps", fps: 10, maxFrames: 3 }, 5], [0, 0.1, 0.2]],
  ];
  for (const [name, args, want] of cases) {
    it(name, () => {
      const got = sampleTimes(planSamples(...args));
      assert.equal(got.length, want.length);
      got.forEach((t, i) => assert.ok(Math.abs(t - want[i]) < 1e-9, `${t} vs ${want[i]}`));
    });
  }
  it("rejects bad specs with the value", () => {
    assert.throws(() => planSamples({ mode: "uniform", frames: 0 }, 1), /from 1 to 4096, got 0/);
    assert.throws(() => planSamples({ mode: "fps", fps: -1, maxFrames: 4 }, 1), /got -1/);
  });
  it("select expression and image indices (linspace over frames)", () => {
    assert.equal(selectExpression({ offsetSec: 0, stepSec: 0.5, count: 4 }), "select='gte((t-start_t-0.000000)/0.500000+0.001,selected_n)'");
    assert.deepEqual(imageIndices(planSamples({ mode: "uniform", frames: 4 }, 9 / 25), 25, 10), [0, 3, 6, 9]);
    assert.deepEqual(imageIndices(planSamples({ mode: "uniform", frames: 8 }, 2 / 25), 25, 3), [0, 1, 2]);
  });
});

describe("aligned crop", () => {
  // A 4x4 frame whose pixel (x, y) has red = 10x + 1, green = 10y + 1.
  const frame = makeFrame(4, 4, Uint8Array.from({ length: 48 }, (_, i) => (i % 3 === 0 ? 10 * ((i / 3) % 4) + 1 : i % 3 === 1 ? 10 * Math.floor(i / 12) + 1 : 0)));
  it("an unrotated window over the whole frame is the frame", () => {
    const out = cropWindow(frame, { cx: 2, cy: 2, side: 4, angle: 0 }, 4);
    assert.deepEqual(out.data, frame.data);
  });
  it("a quarter-turn window reads columns as rows", () => {
    const out = cropWindow(frame, { cx: 2, cy: 2, side: 4, angle: Math.PI / 2 }, 4);
    // Output x runs down the source's y axis; output y runs against the source's x axis.
    assert.equal(out.data[(0 * 4 + 0) * 3 + 1], 1); // out (0,0): source y = 0
    assert.equal(out.data[(0 * 4 + 3) * 3 + 1], 31); // out (3,0): source y = 3
    assert.equal(out.data[(0 * 4 + 0) * 3], 31); // source x = 3
  });
  it("outside the frame is black", () => {
    const out = cropWindow(frame, { cx: 100, cy: 100, side: 4, angle: 0 }, 2);
    assert.ok(out.data.every((v) => v === 0));
  });
  it("levels the eyes: the window angle is the eye line's", () => {
    const lm: Landmarks = [[10, 10], [20, 20], [15, 18], [12, 25], [18, 25]];
    const w = faceWindow({ x: 0, y: 0, width: 30, height: 40 }, lm, 0.5);
    assert.ok(Math.abs(w.angle - Math.PI / 4) < 1e-12);
    assert.deepEqual([w.cx, w.cy, w.side], [15, 20, 60]);
  });
});

const face = (x: number, y: number, size: number, score = 0.9): FaceCandidate => ({
  box: { x, y, width: size, height: size },
  landmarks: [[x + size * 0.3, y + size * 0.4], [x + size * 0.7, y + size * 0.4], [x + size / 2, y + size * 0.6], [x + size * 0.35, y + size * 0.8], [x + size * 0.65, y + size * 0.8]],
  score,
});

describe("main-face tracking", () => {
  const noEmbed = async () => {
    throw new Error("embed must not be called for one tracklet");
  };
  it("one moving face: every frame detected, no embedding needed", async () => {
    const cands = [0, 1, 2, 3].map((i) => [face(100 + 40 * i, 100, 80)]);
    const t = await trackMainFace(cands, 640, 360, noEmbed);
    assert.deepEqual(t.map((f) => f.kind), ["detected", "detected", "detected", "detected"]);
  });
  it("picks the large central face over a small corner one", async () => {
    const cands = [0, 1, 2].map((i) => [face(5, 5, 30, 0.99), face(280 + 10 * i, 140, 100, 0.9)]);
    const t = await trackMainFace(cands, 640, 360, async (f, c) => Float32Array.of(c, 1));
    assert.ok(t.every((f) => f.box!.width === 100));
  });
  it("a face that jumps (a cut) joins only when its embedding matches", async () => {
    const cands = [[face(100, 100, 80)], [face(110, 100, 80)], [face(450, 200, 80)], [face(460, 200, 80)]];
    const same = await trackMainFace(cands, 640, 360, async () => Float32Array.of(1, 0));
    assert.deepEqual(same.map((f) => f.kind), ["detected", "detected", "detected", "detected"]);
    const other = await trackMainFace(cands, 640, 360, async (f) => (f < 2 ? Float32Array.of(1, 0) : Float32Array.of(0, 1)), { ...DEFAULT_TRACK, maxGap: 0 });
    assert.deepEqual(other.map((f) => f.kind), ["detected", "detected", "missing", "missing"]);
  });
  it("fills short gaps by interpolation and leaves long ones missing", () => {
    const a = face(0, 0, 10);
    const b = face(30, 0, 10);
    const t = fillGaps([a, null, null, b, null, null, null], 2);
    assert.deepEqual(t.map((f) => f.kind), ["detected", "interpolated", "interpolated", "detected", "missing", "missing", "missing"]);
    assert.equal(t[1].box!.x, 10);
    assert.equal(t[2].box!.x, 20);
    assert.deepEqual(fillGaps([null, a], 2).map((f) => [f.kind, f.box?.x]), [["interpolated", 0], ["detected", 0]]);
  });
});

describe("crop windows over a clip", () => {
  // A face whose rigid points (eyes, nose tip) move right 2 px a frame while its mesh box grows downwards from frame
  // 4 (the jaw drops): the box alone would zoom the crop out and move it down.
  const eyesAt = (x: number): Landmarks => [[x - 10, 50], [x + 10, 50], [x, 60], [x - 8, 72], [x + 8, 72]];
  const faces: TrackedFace[] = Array.from({ length: 8 }, (_, i) => {
    const x = 100 + 2 * i;
    const jaw = i >= 4 ? 12 : 0;
    return { kind: "detected", box: { x: x - 20, y: 35, width: 40, height: 50 + jaw }, landmarks: eyesAt(x), score: 0.9 };
  });
  it("frame: each frame's own box, so the window zooms with the jaw", () => {
    const w = cropWindows(faces, 320, 240, 0.4, "frame");
    assert.equal(w[0].side, 50 * 1.4);
    assert.ok(Math.abs(w[7].side - 62 * 1.4) < 1e-9);
  });
  it("steady: scale held, centre follows the eyes and nose, not the jaw", () => {
    const w = cropWindows(faces, 320, 240, 0.4, "steady");
    const sides = w.map((x) => x.side);
    assert.ok(Math.max(...sides) - Math.min(...sides) < 1e-9, `sides ${sides}`);
    for (let i = 1; i < 8; i++) assert.ok(Math.abs(w[i].cx - w[i - 1].cx - 2) < 1e-9, `cx step at ${i}: ${w[i].cx - w[i - 1].cx}`);
    assert.ok(w.every((x) => Math.abs(x.cy - w[0].cy) < 1e-9), "centre moves with the jaw");
    assert.equal(new Set(w.map((x) => x.angle)).size, 1);
  });
  it("steady: the window scales with the face when the head comes closer", () => {
    const closer = faces.map((f, i) => {
      const k = 1 + 0.1 * i;
      const box = f.box!;
      return { ...f, box: { x: 100 - 20 * k, y: 50 - 15 * k, width: 40 * k, height: 50 * k }, landmarks: f.landmarks!.map(([x, y]) => [100 + (x - 100 - 2 * i) * k, 50 + (y - 50) * k]) as Landmarks, score: box.width };
    });
    const w = cropWindows(closer, 320, 240, 0.4, "steady");
    // Sizes are medians over 2 frames each side: exact inside the clip, a frame behind at its ends.
    for (let i = 2; i < 6; i++) assert.ok(Math.abs(w[i].side - 50 * 1.4 * (1 + 0.1 * i)) < 1e-6, `side ${i}: ${w[i].side}`);
    for (const i of [0, 7]) assert.ok(Math.abs(w[i].side / (50 * 1.4 * (1 + 0.1 * i)) - 1) < 0.12, `side ${i}: ${w[i].side}`);
  });
  it("static: one window for the clip", () => {
    const w = cropWindows(faces, 320, 240, 0.4, "static");
    assert.equal(new Set(w.map((x) => JSON.stringify(x))).size, 1);
  });
  it("frames without a face get the whole frame; no face at all gives whole frames", () => {
    const gap: TrackedFace[] = [faces[0], { kind: "missing", box: null, landmarks: null, score: 0 }, faces[2]];
    const w = cropWindows(gap, 320, 240, 0.4, "steady");
    assert.deepEqual(w[1], { cx: 160, cy: 120, side: 320, angle: 0 });
    assert.deepEqual(cropWindows([gap[1]], 320, 240, 0.4), [{ cx: 160, cy: 120, side: 320, angle: 0 }]);
  });
});
