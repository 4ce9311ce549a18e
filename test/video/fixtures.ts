// Test clips made at test time (issue 3): ffmpeg lavfi sources for plain video, and real face photos that ship
// in @vladmandic/human (assets/screenshot-*.jpg) cut out with sharp and moved across a background by ffmpeg.
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { findFfmpeg, runFfmpeg } from "../../src/video/ffmpeg.ts";

const require = createRequire(import.meta.url);
export const ffmpeg = findFfmpeg();

/** human's asset folder: screenshots with real faces in them. */
export const HUMAN_ASSETS = path.join(path.dirname(require.resolve("@vladmandic/human")), "..", "assets");

/** Real faces in the shipped photos: one man (faceid screenshot) and a woman (facedetect screenshot). */
export const FACES = {
  man: { file: "screenshot-faceid.jpg", left: 0, top: 110, width: 170, height: 190 },
  woman: { file: "screenshot-facedetect.jpg", left: 312, top: 325, width: 160, height: 180 },
} as const;

export async function tempDir(prefix = "favchat-video-"): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Runs ffmpeg to make a fixture; throws with its stderr when it fails. */
export async function ff(args: string[], timeoutMs = 60_000): Promise<void> {
  const res = await runFfmpeg(ffmpeg, ["-y", "-loglevel", "error", ...args], { timeoutMs, what: "making a test clip" });
  if (res.code !== 0) throw new Error(`fixture ffmpeg failed (${res.code}): ${res.stderr}`);
}

/** A lavfi test pattern clip (no faces). */
export async function patternClip(out: string, opts: { size?: string; rate?: number; seconds?: number; codec?: string[]; frames?: number } = {}): Promise<string> {
  const src = `testsrc2=size=${opts.size ?? "320x240"}:rate=${opts.rate ?? 10}`;
  const length = opts.frames !== undefined ? ["-frames:v", String(opts.frames)] : ["-t", String(opts.seconds ?? 1)];
  await ff(["-f", "lavfi", "-i", src, ...length, ...(opts.codec ?? ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]), out]);
  return out;
}

/** Cuts a face out of a shipped photo into a PNG, `scale` times its size. */
export async function facePng(which: keyof typeof FACES, out: string, scale = 1): Promise<string> {
  const f = FACES[which];
  await sharp(path.join(HUMAN_ASSETS, f.file))
    .extract({ left: f.left, top: f.top, width: f.width, height: f.height })
    .resize(Math.round(f.width * scale), Math.round(f.height * scale))
    .png()
    .toFile(out);
  return out;
}

export interface MovingFaceOptions {
  readonly size?: [number, number];
  readonly seconds?: number;
  readonly rate?: number;
  /** ffmpeg `-vf` applied to the result (e.g. "transpose=1" to store it sideways). */
  readonly post?: string;
  readonly extraArgs?: string[];
  readonly faces?: (keyof typeof FACES)[];
}

/**
 * The moving-face clip stored sideways (pixels turned 90 degrees clockwise) with a rotation flag that turns it
 * back upright on display, as phones store portrait video. This ffmpeg writes `rotate=90` so that it reads back
 * as a 270 degree clockwise display rotation (its writer and reader disagree on the sign), which is the upright one.
 */
export async function sidewaysFaceClip(dir: string, out: string, options: MovingFaceOptions = {}): Promise<string> {
  const stored = path.join(dir, `stored-sideways-${path.basename(out)}`);
  await movingFaceClip(dir, stored, { ...options, post: "transpose=1" });
  // The tag is written only when remuxing (-c copy), not while encoding through a filter graph.
  await ff(["-i", stored, "-c", "copy", "-metadata:s:v:0", "rotate=90", out]);
  return out;
}

/**
 * A clip with real faces sliding across a grey background: the first face moves left to right, a second one
 * (when given) sits small in the corner. H.264 unless `extraArgs` says otherwise.
 */
export async function movingFaceClip(dir: string, out: string, options: MovingFaceOptions = {}): Promise<string> {
  const [w, h] = options.size ?? [480, 270];
  const seconds = options.seconds ?? 2;
  const faces = options.faces ?? ["man"];
  const inputs: string[] = [];
  for (const [i, which] of faces.entries()) {
    const png = await facePng(which, path.join(dir, `face-${i}-${which}.png`), i === 0 ? 1 : 0.6);
    inputs.push("-loop", "1", "-i", png);
  }
  const bg = `color=c=0x607080:s=${w}x${h}:r=${options.rate ?? 10}`;
  // Face 1 drifts across the frame; face 2 (if any) stays in the top-right corner.
  let graph = `[0:v][1:v]overlay=x='20+(W-w-40)*t/${seconds}':y='(H-h)/2+10*sin(3*t)':shortest=1[v1]`;
  let last = "v1";
  if (faces.length > 1) {
    graph += `;[v1][2:v]overlay=x=W-w-5:y=5:shortest=1[v2]`;
    last = "v2";
  }
  graph += `;[${last}]format=yuv420p${options.post ? "," + options.post : ""}[out]`;
  await ff([
    "-f", "lavfi", "-i", bg, ...inputs,
    "-filter_complex", graph, "-map", "[out]", "-t", String(seconds),
    ...(options.extraArgs ?? ["-c:v", "libx264", "-preset", "ultrafast"]),
    out,
  ]);
  return out;
}
