// `favchat synth`: renders N FaceWorld clips into a directory: clips/<id>.mp4, frames/<id>.u8 (raw,
// src/data/frames.ts), clips.jsonl (one clip record each), contact_sheet.png and faceworld.json (the
// options used). Splits are by identity, so test identities never appear in training. Same seed, same bytes.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { check } from "../../core/errors.ts";
import { Rng } from "../../core/rng.ts";
import { encodeMp4, H264RoundTrip } from "../ffmpeg.ts";
import { encodeRawClip } from "../frames.ts";
import { AU_NAMES, clipRecordSchema, writeJsonl, type ClipRecord } from "../records.ts";
import { contactSheetPng, type SheetTile } from "./contact-sheet.ts";
import { makeIdentity } from "./identity.ts";
import { planClip, type ClipPlan } from "./plan.ts";
import { ClipCanvases, renderClip, type RenderedClip } from "./render.ts";

export interface SynthOptions {
  out: string;
  clips: number;
  seed: number;
  frames?: number;
  size?: number;
  fps?: number;
  /** train:val:test fractions of identities (default [0.8, 0.1, 0.1]). */
  split?: readonly [number, number, number];
  /** Clips per identity on average (default 3). */
  clipsPerIdentity?: number;
  /** Write MP4 (needs ffmpeg) and/or raw frames; both by default. */
  mp4?: boolean;
  raw?: boolean;
  /**
   * Raw frames as a viewer of the MP4 sees them (H.264 at the MP4's settings, then decoded: H264RoundTrip) instead
   * of the renderer's clean frames; needs ffmpeg. Default false.
   */
  h264Frames?: boolean;
  ffmpeg?: string;
  onProgress?: (done: number, total: number) => void;
}

export interface ResolvedSynth extends Required<Omit<SynthOptions, "ffmpeg" | "onProgress">> {
  ffmpeg?: string;
}

export function resolveSynth(o: SynthOptions): ResolvedSynth {
  const r = {
    out: o.out, clips: o.clips, seed: o.seed, frames: o.frames ?? 16, size: o.size ?? 112, fps: o.fps ?? 8,
    split: o.split ?? ([0.8, 0.1, 0.1] as const), clipsPerIdentity: o.clipsPerIdentity ?? 3,
    mp4: o.mp4 ?? true, raw: o.raw ?? true, h264Frames: o.h264Frames ?? false, ffmpeg: o.ffmpeg,
  };
  check(Number.isInteger(r.clips) && r.clips >= 1, `--clips must be a positive integer, got ${o.clips}`);
  check(Number.isInteger(r.seed) && r.seed >= 0, `--seed must be a non-negative integer, got ${o.seed}`);
  check(Number.isInteger(r.frames) && r.frames >= 2 && r.frames <= 1000, `--frames must be an integer in 2..1000, got ${r.frames}`);
  check(Number.isInteger(r.size) && r.size >= 32 && r.size <= 1024 && r.size % 2 === 0, `--size must be an even integer in 32..1024, got ${r.size}`);
  check(r.fps > 0 && r.fps <= 120, `--fps must be in (0, 120], got ${r.fps}`);
  check(r.split.length === 3 && r.split.every((x) => x >= 0) && Math.abs(r.split[0] + r.split[1] + r.split[2] - 1) < 1e-6,
    `--split must be three non-negative fractions summing to 1 (e.g. 0.8:0.1:0.1), got ${r.split.join(":")}`);
  check(r.clipsPerIdentity >= 1, `clipsPerIdentity must be >= 1, got ${r.clipsPerIdentity}`);
  check(r.mp4 || r.raw, "nothing to write: enable MP4 or raw frames");
  if (r.mp4) check(r.ffmpeg !== undefined, "MP4 output needs an ffmpeg binary (pass its path, or write raw frames only)");
  if (r.h264Frames) check(r.raw, "H.264 frames are raw frames: drop --no-raw or --h264-frames");
  if (r.h264Frames) check(r.ffmpeg !== undefined, "H.264 frames need an ffmpeg binary (pass its path, or write the clean frames)");
  return r;
}

/** Parses "0.8:0.1:0.1". */
export function parseSplit(text: string): [number, number, number] {
  const parts = text.split(":").map(Number);
  check(parts.length === 3 && parts.every((x) => Number.isFinite(x)), `--split must look like 0.8:0.1:0.1, got "${text}"`);
  const sum = parts[0] + parts[1] + parts[2];
  check(sum > 0, `--split must not be all zero, got "${text}"`);
  return [parts[0] / sum, parts[1] / sum, parts[2] / sum];
}

/** Assigns each identity to a split; every split with a non-zero fraction gets at least one identity when possible. */
export function splitIdentities(n: number, fractions: readonly [number, number, number], rng: Rng): ("train" | "val" | "test")[] {
  const names = ["train", "val", "test"] as const;
  const counts = fractions.map((f) => Math.floor(f * n));
  const largest = fractions.indexOf(Math.max(...fractions));
  while (counts.reduce((a, b) => a + b, 0) < n) counts[largest]++;
  // A split asked for gets an identity even when its share rounds to zero, taken from the largest split.
  const wanted = fractions.filter((f) => f > 0).length;
  for (let i = 0; i < 3; i++) {
    if (fractions[i] > 0 && counts[i] === 0 && n >= wanted && counts[largest] > 1) {
      counts[i] = 1;
      counts[largest]--;
    }
  }
  const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  const out: ("train" | "val" | "test")[] = new Array(n);
  let k = 0;
  for (let s = 0; s < 3; s++) for (let c = 0; c < counts[s] && k < n; c++) out[order[k++]] = names[s];
  return out;
}

export const clipId = (i: number): string => `fw-${String(i).padStart(6, "0")}`;

export function clipRecord(plan: ClipPlan, rendered: RenderedClip, split: "train" | "val" | "test", paths: { video: string; frames?: string }): ClipRecord {
  const aus: Record<string, number[]> = {};
  for (const au of AU_NAMES) aus[au] = Array.from(plan.aus[au], (v) => Math.round(v * 1000) / 1000);
  const s = plan.scene;
  const neutral = plan.expression.emotion === "neutral";
  return {
    id: plan.id,
    video: paths.video,
    ...(paths.frames ? { frames: paths.frames } : {}),
    fps: plan.fps,
    split,
    source: "faceworld",
    labels: {
      emotion: plan.expression.emotion,
      aus,
      attributes: { ...plan.identity.attributes },
      actions: plan.actions,
      identity: plan.identity.id,
      apex: plan.apex,
      // Neutral clips have no expression curve: no peak, band or short apex to report.
      ...(neutral ? { intensity: 0 } : { intensity: Math.round(plan.expression.peak * 1000) / 1000, band: plan.expression.band, short: plan.expression.short }),
      faceBoxes: rendered.faceBoxes,
      scene: { background: s.background, wall_colour: s.wallColour, lighting: s.lighting, object: s.object, object_motion: s.object === "none" ? "none" : s.objectMotion },
    },
  };
}

export function apexTile(plan: ClipPlan, rendered: RenderedClip, caption: string): SheetTile {
  const n = plan.size * plan.size * 3;
  return { rgb: rendered.rgb.subarray(plan.apex * n, (plan.apex + 1) * n), width: plan.size, height: plan.size, caption };
}

export async function synthesize(options: SynthOptions): Promise<{ records: ClipRecord[]; seconds: number }> {
  const o = resolveSynth(options);
  const t0 = performance.now();
  const root = new Rng(o.seed);
  const nIdentities = Math.max(1, Math.ceil(o.clips / o.clipsPerIdentity));
  const splits = splitIdentities(nIdentities, o.split, root.fork("split"));
  mkdirSync(o.out, { recursive: true });
  if (o.mp4) mkdirSync(join(o.out, "clips"), { recursive: true });
  if (o.raw) mkdirSync(join(o.out, "frames"), { recursive: true });
  const records: ClipRecord[] = [];
  const tiles: SheetTile[] = [];
  // MP4 encoding runs in ffmpeg processes while the next clip renders here: up to 2 in flight (2 cores).
  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;
  const canvases = new ClipCanvases(o.size);
  // With h264Frames, every clip's frames go through one H.264 encoder/decoder pair; a clip's raw file is written when
  // its frames come back (the encoder holds a few clips for its look-ahead). At most 16 clips wait.
  const h264 = o.h264Frames ? new H264RoundTrip({ ffmpeg: o.ffmpeg!, width: o.size, height: o.size, fps: o.fps, framesPerClip: o.frames }) : null;
  const rawWrites: Promise<void>[] = [];
  try {
    for (let i = 0; i < o.clips; i++) {
      const id = clipId(i);
      const who = i < nIdentities ? i : root.fork("who", i).int(nIdentities);
      const identity = makeIdentity(o.seed, who);
      const plan = planClip(root.fork("clip", i), id, identity, { frames: o.frames, size: o.size, fps: o.fps });
      const rendered = renderClip(plan, canvases);
      const video = `clips/${id}.mp4`;
      const frames = `frames/${id}.u8`;
      const writeRaw = (data: Uint8Array) => writeFileSync(join(o.out, frames), encodeRawClip({ frames: o.frames, height: o.size, width: o.size, channels: 3, fps: o.fps, data }));
      if (h264) {
        const written = h264.send(rendered.rgb.slice()).then(writeRaw);
        written.catch(() => {}); // awaited below; this only keeps Node from calling it unhandled before then
        rawWrites.push(written);
        if (rawWrites.length > 16) await rawWrites.shift();
      } else if (o.raw) {
        writeRaw(rendered.rgb);
      }
      if (o.mp4) {
        while (inFlight.size >= 2) await Promise.race(inFlight);
        if (failure) throw failure;
        const job: Promise<void> = encodeMp4(rendered.rgb, join(o.out, video), { ffmpeg: o.ffmpeg!, width: o.size, height: o.size, fps: o.fps })
          .catch((err) => void (failure = err))
          .finally(() => inFlight.delete(job));
        inFlight.add(job);
      }
      // Without MP4 the raw file is the clip's video: records stay valid and point at what exists.
      records.push(clipRecord(plan, rendered, splits[who], o.mp4 ? { video, ...(o.raw ? { frames } : {}) } : { video: frames, frames }));
      if (tiles.length < 48) tiles.push(apexTile(plan, rendered, plan.expression.emotion === "neutral" ? "neutral" : `${plan.expression.emotion} ${plan.expression.band}`));
      options.onProgress?.(i + 1, o.clips);
      // Skia's pixel buffers are freed by N-API finalizers, which only run when the event loop turns: without this
      // yield (raw frames only, nothing awaited) memory grew by 1 MB a clip; with it, it stays flat.
      if (i % 20 === 19) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(inFlight);
    if (failure) throw failure;
    if (h264) await Promise.all([...rawWrites, h264.close()]);
  } finally {
    // An error above (a render, an MP4) must not leave the encoder and decoder running.
    h264?.abort("stopped: synth failed");
  }
  writeJsonl(join(o.out, "clips.jsonl"), records, clipRecordSchema, "clip");
  writeFileSync(join(o.out, "contact_sheet.png"), contactSheetPng(tiles, 8));
  const { ffmpeg: _ffmpeg, out: _out, ...settings } = o;
  writeFileSync(join(o.out, "faceworld.json"), JSON.stringify({ generator: "favchat faceworld v1", ...settings, identities: nIdentities }, null, 2) + "\n");
  return { records, seconds: (performance.now() - t0) / 1000 };
}
