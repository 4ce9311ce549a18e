// Real faces (issue 3): photos that ship in @vladmandic/human, moved across a background by ffmpeg, found by the
// pretrained models on the wasm backend, tracked and cropped; also stored sideways with a rotation flag.
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { tf } from "../../src/core/backend.ts";
import { FavchatError } from "../../src/core/errors.ts";
import { loadClip, type Clip } from "../../src/video/clip.ts";
import { FaceDetector } from "../../src/video/faces/detect.ts";
import { ffmpeg, movingFaceClip, patternClip, sidewaysFaceClip, tempDir } from "./fixtures.ts";

describe("faces in real photos", () => {
  let dir = "";
  let cleanup = async () => {};
  let detector: FaceDetector;
  let upright: Clip;
  const sample = { mode: "uniform", frames: 6 } as const;
  before(async () => {
    ({ dir, cleanup } = await tempDir());
    detector = await FaceDetector.create({ backend: "wasm" });
    const file = await movingFaceClip(dir, path.join(dir, "moving.mp4"));
    upright = await loadClip(file, { ffmpeg, detector }, { sample });
  });
  after(async () => {
    detector?.dispose();
    await cleanup();
  });

  it("finds, tracks and crops the face in a moving clip", () => {
    assert.equal(tf.getBackend(), "wasm");
    assert.equal(upright.frames.length, 6);
    assert.deepEqual(upright.meta.track.map((f) => f.kind), Array(6).fill("detected"));
    const xs = upright.boxes.map((b) => b!.x);
    assert.ok(xs.every((x, i) => i === 0 || x > xs[i - 1]), `the face moves right: ${xs}`);
    for (const [i, f] of upright.meta.track.entries()) {
      const b = f.box!;
      // The photo's face is about 85 x 100 px (mesh bounds); eyes in the upper half of the box, left before right.
      assert.ok(b.width > 60 && b.width < 130 && b.height > 70 && b.height < 140, `box ${JSON.stringify(b)}`);
      const [eyeL, eyeR, nose, mouthL, mouthR] = f.landmarks!;
      assert.ok(eyeL[0] < eyeR[0] && mouthL[0] < mouthR[0], `frame ${i} sides`);
      assert.ok(eyeL[1] < nose[1] && nose[1] < mouthL[1], `frame ${i} eyes above nose above mouth`);
      assert.ok(f.score > 0.5);
      // The steady crop window sits on the face: centre inside the box, side about (1 + margin) box sides.
      const w = f.window;
      assert.ok(w.cx > b.x && w.cx < b.x + b.width && w.cy > b.y && w.cy < b.y + b.height, `frame ${i} window ${JSON.stringify(w)} box ${JSON.stringify(b)}`);
      assert.ok(w.side > 1.1 * Math.max(b.width, b.height) && w.side < 1.7 * Math.max(b.width, b.height), `frame ${i} window side ${w.side}`);
    }
    assert.equal(upright.faces[0].width, 112);
    assert.ok(upright.times.every((t, i) => i === 0 || t > upright.times[i - 1]));
  });

  it("finds the same face in the clip stored sideways with a rotation flag", async () => {
    const file = await sidewaysFaceClip(dir, path.join(dir, "sideways.mp4"));
    const clip = await loadClip(file, { ffmpeg, detector }, { sample });
    assert.equal(clip.meta.probe.rotation, 270);
    assert.deepEqual([clip.meta.probe.width, clip.meta.probe.height], [480, 270]);
    assert.deepEqual(clip.meta.track.map((f) => f.kind), Array(6).fill("detected"));
    clip.boxes.forEach((b, i) => {
      const u = upright.boxes[i]!;
      assert.ok(Math.abs(b!.x - u.x) < 8 && Math.abs(b!.y - u.y) < 8, `frame ${i}: ${JSON.stringify(b)} vs upright ${JSON.stringify(u)}`);
    });
  });

  it("stays on the main person when a second face is in view", async () => {
    const file = await movingFaceClip(dir, path.join(dir, "two.mp4"), { faces: ["man", "woman"] });
    const clip = await loadClip(file, { ffmpeg, detector }, { sample });
    clip.boxes.forEach((b, i) => assert.ok(Math.abs(b!.x - upright.boxes[i]!.x) < 8, `frame ${i} follows the man`));
  });

  it("keeps the tensor count flat over repeated detection", async () => {
    await detector.detect(upright.frames[0]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await detector.embed(upright.frames[i], (await detector.detect(upright.frames[i]))[0]);
    assert.equal(tf.memory().numTensors, before);
  });

  it("says so when no frame has a face, and --no-face-crop uses whole frames", async () => {
    const file = await patternClip(path.join(dir, "pattern.mp4"), { size: "320x240", seconds: 1 });
    await assert.rejects(
      loadClip(file, { ffmpeg, detector }, { sample: { mode: "uniform", frames: 4 } }),
      (e: unknown) => e instanceof FavchatError && /no face found in 4 of 4 frames of .*pattern\.mp4; pass --no-face-crop/.test(e.message),
    );
    const whole = await loadClip(file, { ffmpeg }, { sample: { mode: "uniform", frames: 4 }, faceCrop: false, size: 64 });
    assert.equal(whole.faces.length, 4);
    assert.equal(whole.faces[0].width, 64);
    assert.deepEqual(whole.boxes, [null, null, null, null]);
  });

  it("caches a clip by content and options", async () => {
    const file = path.join(dir, "moving.mp4");
    const cacheDir = path.join(dir, "cache");
    const first = await loadClip(file, { ffmpeg, detector, cacheDir }, { sample });
    const second = await loadClip(file, { ffmpeg, cacheDir }, { sample }); // no detector: must come from the cache
    assert.equal(second.meta.timings, undefined);
    assert.deepEqual(second.faces.map((f) => f.data), first.faces.map((f) => f.data));
    assert.deepEqual(second.boxes, first.boxes);
    assert.deepEqual(second.times, first.times);
  });
});
