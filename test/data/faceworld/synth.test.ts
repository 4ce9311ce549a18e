// `synthesize` end to end (small): MP4 + raw frames + records + contact sheet; the same seed gives
// byte-identical output; splits are by identity; records pass the clip schema on read.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Rng } from "../../../src/core/rng.ts";
import { splitIdentities, synthesize } from "../../../src/data/faceworld/synth.ts";
import { findFfmpeg } from "../../../src/video/ffmpeg.ts";
import { readRawClip } from "../../../src/data/frames.ts";
import { readClipRecords } from "../../../src/data/records.ts";

function listAll(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.set(join(e.parentPath, e.name).slice(dir.length), readFileSync(join(e.parentPath, e.name)));
  }
  return out;
}

test("synth writes MP4, raw frames, records and a sheet; the same seed gives identical bytes", async () => {
  const ffmpeg = findFfmpeg().path;
  const opts = { clips: 9, seed: 21, frames: 6, size: 64, fps: 8, ffmpeg, clipsPerIdentity: 2 };
  const a = mkdtempSync(join(tmpdir(), "fv-synth-a-"));
  const b = mkdtempSync(join(tmpdir(), "fv-synth-b-"));
  await synthesize({ ...opts, out: a });
  await synthesize({ ...opts, out: b });
  const fa = listAll(a);
  const fb = listAll(b);
  assert.deepEqual([...fa.keys()].sort(), [...fb.keys()].sort());
  for (const [k, v] of fa) assert.ok(v.equals(fb.get(k)!), `${k} differs between two runs with the same seed`);

  const { records } = readClipRecords(join(a, "clips.jsonl"));
  assert.equal(records.length, 9);
  for (const r of records) {
    const mp4 = fa.get(`/${r.video}`)!;
    assert.equal(mp4.subarray(4, 8).toString(), "ftyp", `${r.video} is not an MP4`);
    const raw = readRawClip(join(a, r.frames!));
    assert.deepEqual([raw.frames, raw.height, raw.width, raw.channels], [6, 64, 64, 3]);
    assert.equal(r.labels.aus!.AU12.length, 6);
    assert.equal(r.labels.faceBoxes!.length, 6);
    assert.ok(r.labels.apex! >= 0 && r.labels.apex! < 6);
  }
  // Splits by identity: no person in two splits.
  const splitOf = new Map<string, string>();
  for (const r of records) {
    const prev = splitOf.get(r.labels.identity!);
    assert.ok(prev === undefined || prev === r.split, `${r.labels.identity} is in ${prev} and ${r.split}`);
    splitOf.set(r.labels.identity!, r.split!);
  }
  assert.deepEqual(fa.get("/contact_sheet.png")!.subarray(1, 4).toString(), "PNG");

  const c = mkdtempSync(join(tmpdir(), "fv-synth-c-"));
  await synthesize({ ...opts, out: c, seed: 22, mp4: false });
  assert.ok(!listAll(c).has("/clips/fw-000000.mp4"));
  assert.notDeepEqual(readFileSync(join(c, "frames/fw-000000.u8")), fa.get("/frames/fw-000000.u8"));
});

test("h264Frames: the raw frames are what the clip's MP4 decodes to, near enough, not the clean render; same seed, same bytes", async () => {
  const ffmpeg = findFfmpeg().path;
  const opts = { clips: 20, seed: 5, frames: 8, size: 64, fps: 8, ffmpeg };
  const clean = mkdtempSync(join(tmpdir(), "fv-synth-clean-"));
  const coded = mkdtempSync(join(tmpdir(), "fv-synth-h264-"));
  const again = mkdtempSync(join(tmpdir(), "fv-synth-h264b-"));
  await synthesize({ ...opts, out: clean });
  await synthesize({ ...opts, out: coded, mp4: false, h264Frames: true });
  await synthesize({ ...opts, out: again, mp4: false, h264Frames: true });
  const rms = (x: Uint8Array, y: Uint8Array) => Math.sqrt(x.reduce((sum, v, i) => sum + (v - y[i]) ** 2, 0) / x.length);
  let toMp4 = 0;
  let toClean = 0;
  for (let i = 0; i < opts.clips; i++) {
    const id = `fw-${String(i).padStart(6, "0")}`;
    const h264 = readRawClip(join(coded, `frames/${id}.u8`)).data;
    assert.deepEqual(h264, readRawClip(join(again, `frames/${id}.u8`)).data, `${id}: two runs differ`);
    const render = readRawClip(join(clean, `frames/${id}.u8`)).data;
    const decoded = new Uint8Array(execFileSync(ffmpeg, ["-v", "error", "-i", join(clean, `clips/${id}.mp4`), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]));
    assert.equal(decoded.length, h264.length);
    toMp4 += rms(h264, decoded) / opts.clips;
    toClean += rms(h264, render) / opts.clips;
  }
  // The codec's error is the bulk of the difference from the render; what is left against the clip's own MP4 is the
  // batch encoder's different rate-control choices (measured: about half the codec's error on 112-px clips).
  assert.ok(toClean > 1, `H.264 frames equal the clean render (RMS ${toClean.toFixed(2)})`);
  assert.ok(toMp4 < 0.75 * toClean, `H.264 frames are as far from the MP4's frames (${toMp4.toFixed(2)}) as from the render (${toClean.toFixed(2)})`);
  await assert.rejects(synthesize({ ...opts, out: coded, raw: false, h264Frames: true }), /H.264 frames are raw frames/);
  // A broken ffmpeg is a clear error, and synth does not hang on the processes.
  await assert.rejects(synthesize({ ...opts, out: mkdtempSync(join(tmpdir(), "fv-synth-noff-")), mp4: false, h264Frames: true, ffmpeg: "/nonexistent/ffmpeg" }), /cannot run ffmpeg \(\/nonexistent\/ffmpeg\) as the H.264 (encoder|decoder)/);
});

test("splitIdentities honours the fractions and gives each asked-for split someone", () => {
  const s = splitIdentities(20, [0.8, 0.1, 0.1], new Rng(1));
  assert.deepEqual([s.filter((x) => x === "train").length, s.filter((x) => x === "val").length, s.filter((x) => x === "test").length], [16, 2, 2]);
  const small = splitIdentities(4, [0.8, 0.1, 0.1], new Rng(1));
  assert.deepEqual(new Set(small), new Set(["train", "val", "test"]));
  assert.deepEqual(splitIdentities(3, [1, 0, 0], new Rng(1)), ["train", "train", "train"]);
});

test("bad synth options are refused with the value", async () => {
  await assert.rejects(synthesize({ out: "/tmp/x", clips: 2, seed: 1, size: 63, mp4: false }), /--size must be an even integer in 32\.\.1024, got 63/);
  await assert.rejects(synthesize({ out: "/tmp/x", clips: 2, seed: 1 }), /MP4 output needs an ffmpeg binary/);
});
