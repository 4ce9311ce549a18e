// Probe and decode across containers and codecs, and the bad inputs of issue 3, on clips made at test time.
import assert from "node:assert/strict";
import { mkdir, writeFile, copyFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import sharp from "sharp";
import { FavchatError } from "../../src/core/errors.ts";
import { decodeSamples } from "../../src/video/decode.ts";
import { explainFfmpegFailure, findFfmpeg } from "../../src/video/ffmpeg.ts";
import { fitSize } from "../../src/video/frame.ts";
import { parseFfmpegInfo, probeVideo } from "../../src/video/probe.ts";
import { ff, ffmpeg, patternClip, tempDir } from "./fixtures.ts";

const X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"];

describe("video probe and decode", () => {
  let dir = "";
  let cleanup = async () => {};
  before(async () => ({ dir, cleanup } = await tempDir()));
  after(() => cleanup());

  const formats: [string, string[]][] = [
    ["clip.mp4", X264],
    ["clip.webm", ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"]],
    ["clip.mov", X264],
    ["clip.mkv", X264],
    ["clip.avi", ["-c:v", "mpeg4"]],
    ["clip.gif", []],
  ];
  for (const [name, codec] of formats) {
    it(`probes and samples ${name}`, async () => {
      const file = await patternClip(path.join(dir, name), { size: "160x120", rate: 10, seconds: 2, codec });
      const p = await probeVideo(ffmpeg, file);
      assert.equal(p.width, 160);
      assert.equal(p.height, 120);
      assert.equal(p.frameCount, 20);
      assert.ok(Math.abs(p.fps - 10) < 0.01, `fps ${p.fps}`);
      assert.ok(Math.abs(p.durationSec - 2) < 0.05, `duration ${p.durationSec}`);
      const d = await decodeSamples(ffmpeg, p, { sample: { mode: "uniform", frames: 4 } });
      assert.equal(d.frames.length, 4);
      assert.deepEqual(d.times, [0, 0.6, 1.2, 1.9].map((t) => d.times.find((x) => Math.abs(x - t) < 0.11) ?? -1));
      assert.equal(d.frames[0].data.length, 160 * 120 * 3);
      // testsrc2 moves: sampled frames differ.
      assert.notDeepEqual(d.frames[0].data, d.frames[3].data);
    });
  }

  it("samples by fps and keeps the first frame at time 0", async () => {
    const file = await patternClip(path.join(dir, "fps.mp4"), { size: "64x48", rate: 10, seconds: 2, codec: X264 });
    const p = await probeVideo(ffmpeg, file);
    const d = await decodeSamples(ffmpeg, p, { sample: { mode: "fps", fps: 2, maxFrames: 100 } });
    assert.deepEqual(d.times, [0, 0.5, 1, 1.5]);
  });

  it("reads a one-frame video as one frame", async () => {
    const file = await patternClip(path.join(dir, "one.mp4"), { size: "64x48", frames: 1, codec: X264 });
    const p = await probeVideo(ffmpeg, file);
    assert.equal(p.frameCount, 1);
    const d = await decodeSamples(ffmpeg, p, { sample: { mode: "uniform", frames: 16 } });
    assert.equal(d.frames.length, 1);
  });

  it("samples variable frame rate video by time, still giving N frames", async () => {
    const file = path.join(dir, "vfr.mp4");
    // Frames 0-4 at 0.0-0.4 s, then a 1 s jump: frames 5-9 at 1.5-1.9 s.
    await ff(["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10", "-t", "2", "-vf", "setpts='if(gte(N,5),(N+10)/10/TB,N/10/TB)'", "-vsync", "0", ...X264, file]);
    const p = await probeVideo(ffmpeg, file);
    assert.equal(p.frameCount, 10);
    const d = await decodeSamples(ffmpeg, p, { sample: { mode: "uniform", frames: 6 } });
    assert.equal(d.frames.length, 6);
    assert.equal(d.times[0], 0);
    assert.ok(d.times.every((t, i) => i === 0 || t > d.times[i - 1]), `times increase: ${d.times}`);
    assert.ok(d.times[5] >= 1.7, `reaches the end: ${d.times}`);
  });

  it("honours a rotation flag: displayed size swapped, frames decoded upright", async () => {
    const upright = await patternClip(path.join(dir, "upright.mp4"), { size: "96x64", rate: 10, seconds: 1, codec: X264 });
    const sideways = path.join(dir, "sideways-stored.mp4");
    await ff(["-i", upright, "-vf", "transpose=1", ...X264, sideways]);
    const flagged = path.join(dir, "flagged.mp4");
    await ff(["-i", sideways, "-c", "copy", "-metadata:s:v:0", "rotate=90", flagged]);
    const p = await probeVideo(ffmpeg, flagged);
    assert.equal(p.rotation, 270);
    assert.deepEqual([p.codedWidth, p.codedHeight, p.width, p.height], [64, 96, 96, 64]);
    const a = await decodeSamples(ffmpeg, await probeVideo(ffmpeg, upright), { sample: { mode: "uniform", frames: 1 } });
    const b = await decodeSamples(ffmpeg, p, { sample: { mode: "uniform", frames: 1 } });
    assert.equal(b.frames[0].width, 96);
    let diff = 0;
    for (let i = 0; i < a.frames[0].data.length; i++) diff += Math.abs(a.frames[0].data[i] - b.frames[0].data[i]);
    assert.ok(diff / a.frames[0].data.length < 12, `upright decode matches the original (mean abs diff ${diff / a.frames[0].data.length})`);
  });

  it("applies the pixel aspect ratio to the displayed width", async () => {
    const file = path.join(dir, "anamorphic.mkv");
    await ff(["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10", "-t", "0.5", "-vf", "setsar=2/1", ...X264, file]);
    const p = await probeVideo(ffmpeg, file);
    assert.deepEqual([p.width, p.height], [320, 120]);
  });

  it("reads an 8K video at reduced size with bounded memory", async () => {
    const file = path.join(dir, "8k.mp4");
    await ff(["-f", "lavfi", "-i", "color=c=blue:s=7680x4320:r=5", "-frames:v", "2", ...X264, file]);
    const p = await probeVideo(ffmpeg, file);
    assert.deepEqual([p.width, p.height], [7680, 4320]);
    const d = await decodeSamples(ffmpeg, p, { sample: { mode: "uniform", frames: 16 }, maxSide: 1280 });
    assert.deepEqual([d.frames[0].width, d.frames[0].height], [1280, 720]);
    // Every frame shares one buffer sized for the plan, never a full 8K frame on our side.
    assert.ok(d.frames[0].data.buffer.byteLength <= 16 * 1280 * 720 * 3);
    assert.deepEqual(fitSize(7680, 4320, 1280), [1280, 720]);
  });

  it("reads a folder of images in natural order", async () => {
    const folder = path.join(dir, "frames");
    await mkdir(folder);
    for (const i of [1, 2, 10]) {
      await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: i * 20, g: 0, b: 0 } } }).png().toFile(path.join(folder, `f${i}.png`));
    }
    await writeFile(path.join(folder, "notes.txt"), "not an image");
    const p = await probeVideo(ffmpeg, folder, { imageFps: 5 });
    assert.equal(p.kind, "images");
    assert.deepEqual(p.files.map((f) => path.basename(f)), ["f1.png", "f2.png", "f10.png"]);
    const d = await decodeSamples(ffmpeg, p, { sample: { mode: "uniform", frames: 3 } });
    assert.deepEqual(d.frames.map((f) => f.data[0]), [20, 40, 200]);
    assert.deepEqual(d.times, [0, 0.2, 0.4]);
  });

  it("handles a path with spaces and non-ASCII characters", async () => {
    const src = await patternClip(path.join(dir, "plain.mp4"), { size: "64x48", seconds: 0.5, codec: X264 });
    const odd = path.join(dir, "my vidéos ü", "clip: 日本 1.mp4");
    await mkdir(path.dirname(odd));
    await copyFile(src, odd);
    const p = await probeVideo(ffmpeg, odd);
    assert.equal(p.width, 64);
  });

  describe("bad input", () => {
    const rejects = async (file: string, re: RegExp) => {
      await assert.rejects(probeVideo(ffmpeg, file), (e: unknown) => e instanceof FavchatError && re.test(e.message));
    };
    it("missing file", () => rejects(path.join(dir, "nope.mp4"), /video not found: .*nope\.mp4; check the path/));
    it("empty file", async () => {
      await writeFile(path.join(dir, "empty.mp4"), "");
      await rejects(path.join(dir, "empty.mp4"), /is empty \(0 bytes\)/);
    });
    it("text renamed to .mp4", async () => {
      await writeFile(path.join(dir, "notes.mp4"), "these are my notes, not a video\n");
      await rejects(path.join(dir, "notes.mp4"), /is a text file, not a video/);
    });
    it("truncated MP4", async () => {
      const full = await patternClip(path.join(dir, "full.mp4"), { size: "160x120", seconds: 2, codec: X264 });
      const { readFile } = await import("node:fs/promises");
      const bytes = await readFile(full);
      await writeFile(path.join(dir, "truncated.mp4"), bytes.subarray(0, Math.floor(bytes.length / 2)));
      await rejects(path.join(dir, "truncated.mp4"), /looks truncated or unfinished/);
    });
    it("audio-only file", async () => {
      const file = path.join(dir, "voice.m4a");
      await ff(["-f", "lavfi", "-i", "sine=frequency=440:duration=0.5", file]);
      await rejects(file, /has no video stream \(audio only\)/);
    });
    it("an empty folder", async () => {
      await mkdir(path.join(dir, "nothing"));
      await rejects(path.join(dir, "nothing"), /folder with no images/);
    });
    it("a bad FFMPEG_PATH", () => {
      assert.throws(() => findFfmpeg({ ffmpegPath: path.join(dir, "no-ffmpeg") }), /FFMPEG_PATH points to .* not an executable/);
    });
    it("ffmpeg under a timeout", async () => {
      const { runFfmpeg } = await import("../../src/video/ffmpeg.ts");
      const endless = ["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10", "-f", "null", "-"];
      await assert.rejects(runFfmpeg(ffmpeg, endless, { timeoutMs: 300, what: "on an endless source" }), /took longer than 0 s on an endless source/);
    });
  });

  it("parses ffmpeg's stream header (table)", () => {
    const stderr = [
      "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'x.mp4':",
      "  Duration: 00:01:02.50, start: 0.040000, bitrate: 7548 kb/s",
      "    Stream #0:0(und): Audio: aac (LC), 44100 Hz, stereo",
      "    Stream #0:1(und): Video: h264 (High) (avc1 / 0x31637661), yuv420p, 1920x1080 [SAR 1:1 DAR 16:9], 7546 kb/s, 29.97 fps, 29.97 tbr, 30k tbn, 59.94 tbc (default)",
      "    Metadata:",
      "      rotate          : 90",
      "    Side data:",
      "      displaymatrix: rotation of -90.00 degrees",
      "Output #0, null, to 'pipe:':",
      "frame=  1874 fps=0.0 q=-1.0 Lsize=N/A time=00:01:02.49 bitrate=N/A speed=4.13e+03x",
    ].join("\n");
    const info = parseFfmpegInfo(stderr)!;
    assert.equal(info.codec, "h264");
    assert.deepEqual([info.codedWidth, info.codedHeight, info.rotation, info.packetCount], [1920, 1080, 90, 1874]);
    assert.equal(info.fps, 29.97);
    assert.equal(info.headerDurationSec, 62.5);
    assert.equal(info.startSec, 0.04);
    assert.equal(parseFfmpegInfo("    Stream #0:0: Audio: mp3\n    Stream #0:1: Video: mjpeg, 300x300 (attached pic)\n"), null);
    assert.match(explainFfmpegFailure("x: moov atom not found\n", "x.mp4").message, /truncated/);
  });
});
