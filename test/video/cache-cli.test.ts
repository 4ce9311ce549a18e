// The clip cache under two processes writing the same entry at once, and the CLI's probe/faces front door:
// exit codes, messages without stack traces, and the files `favchat faces` writes.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { readCachedClip } from "../../src/video/cache.ts";
import { movingFaceClip, patternClip, tempDir } from "./fixtures.ts";

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, "..", "..");
const BIN = path.join(ROOT, "bin", "favchat.js");

async function favchat(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { cwd: ROOT, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** A child that writes one synthetic clip (frames filled with `fill`) to the cache `rounds` times. */
const WRITER = `
import { writeCachedClip } from ${JSON.stringify(path.join(ROOT, "src/video/cache.ts"))};
const [dir, fill, rounds] = process.argv.slice(-3);
const frame = () => ({ width: 320, height: 240, data: new Uint8Array(320 * 240 * 3).fill(Number(fill)) });
const clip = { frames: Array.from({ length: 16 }, frame), faces: [{ width: 2, height: 2, data: new Uint8Array(12).fill(Number(fill)) }],
  boxes: [null], times: [0], meta: { video: "v", track: [] } };
for (let i = 0; i < Number(rounds); i++) await writeCachedClip(dir, "samekey", clip);
`;

describe("clip cache and CLI", () => {
  let dir = "";
  let cleanup = async () => {};
  before(async () => ({ dir, cleanup } = await tempDir()));
  after(() => cleanup());

  it("two processes writing one entry at once: readers only ever see a whole clip", async () => {
    const cacheDir = path.join(dir, "cache");
    const script = path.join(dir, "writer.mts");
    await writeFile(script, WRITER);
    const writers = [1, 2].map(
      (fill) =>
        new Promise<number>((resolve) => {
          const child = spawn(process.execPath, ["--import", "tsx", script, cacheDir, String(fill), "15"], { cwd: ROOT, stdio: "inherit" });
          child.on("close", (code) => resolve(code ?? -1));
        }),
    );
    let done = false;
    let seen = 0;
    const allDone = Promise.all(writers).then((codes) => {
      done = true;
      return codes;
    });
    while (!done) {
      const clip = await readCachedClip(cacheDir, "samekey");
      if (clip !== null) {
        seen++;
        const v = clip.frames[0].data[0];
        assert.ok(v === 1 || v === 2);
        assert.ok(clip.frames.every((f) => f.data.every((x) => x === v)), "no clip mixes two writers' bytes");
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.deepEqual(await allDone, [0, 0]);
    assert.ok(seen > 0 || (await readCachedClip(cacheDir, "samekey")) !== null);
    assert.deepEqual((await readdir(cacheDir)).filter((n) => n.endsWith(".tmp")), [], "no temporary files left behind");
  });

  it("favchat probe --json", async () => {
    const file = await patternClip(path.join(dir, "a b é.webm"), { size: "160x120", seconds: 1, codec: ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"] });
    const r = await favchat("probe", file, "--json");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { width: 160, height: 120, fps: 10, durationSec: 1, frameCount: 10, codec: "vp9", rotation: 0 });
  });

  it("bad input exits non-zero with a message and no stack trace", async () => {
    await writeFile(path.join(dir, "notes.mp4"), "hello, I am text\n");
    for (const [args, re] of [
      [["probe", path.join(dir, "missing.mp4")], /video not found/],
      [["probe", path.join(dir, "notes.mp4")], /is a text file, not a video/],
      [["faces", path.join(dir, "notes.mp4"), "--out", path.join(dir, "o")], /is a text file/],
      [["faces", path.join(dir, "x.mp4"), "--out", path.join(dir, "o"), "--frames", "0"], /--frames must be an integer >= 1/],
    ] as [string[], RegExp][]) {
      const r = await favchat(...args);
      assert.notEqual(r.code, 0, args.join(" "));
      assert.match(r.stderr, re);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    }
  });

  it("favchat faces writes crops, faces.json and a contact sheet", async () => {
    const file = await movingFaceClip(dir, path.join(dir, "face clip.mp4"), { seconds: 1 });
    const out = path.join(dir, "faces out");
    const r = await favchat("faces", file, "--out", out, "--frames", "4", "--size", "96");
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(await readFile(path.join(out, "faces.json"), "utf8"));
    assert.equal(doc.video, file);
    assert.equal(doc.frames.length, 4);
    for (const f of doc.frames) {
      assert.deepEqual(Object.keys(f.box), ["x", "y", "width", "height"]);
      assert.equal(f.landmarks.length, 5);
      assert.ok(f.score > 0.5 && typeof f.timeSec === "number" && typeof f.index === "number");
    }
    const files = await readdir(out);
    assert.ok(files.includes("contact_sheet.png") && files.includes("face_003.png"));
    const none = await favchat("faces", await patternClip(path.join(dir, "noface.mp4")), "--out", path.join(dir, "o2"), "--frames", "2");
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no face found in 2 of 2 frames .* pass --no-face-crop/);
    const whole = await favchat("faces", path.join(dir, "noface.mp4"), "--out", path.join(dir, "o2"), "--frames", "2", "--no-face-crop", "--json");
    assert.equal(whole.code, 0, whole.stderr);
    assert.equal(JSON.parse(whole.stdout).frames[0].box, null);
  });
});
