// The clip value type and the pipeline that makes one (issue 3): probe -> decode sampled frames -> detect faces ->
// track the main face -> aligned S x S crops. `{frames, faces, boxes, times, meta}` is what src/data collates.
// Boxes and landmarks are in the displayed frame's pixels (rotation applied), whatever size frames were decoded at.
import { FavchatError } from "../core/errors.ts";
import { readCachedClip, clipCacheKey, writeCachedClip } from "./cache.ts";
import { decodeSamples } from "./decode.ts";
import type { FfmpegBinary } from "./ffmpeg.ts";
import type { RgbFrame } from "./frame.ts";
import { cropWindow, wholeFrameWindow, type CropWindow } from "./faces/align.ts";
import type { FaceDetector } from "./faces/detect.ts";
import type { Box, FaceCandidate, Landmarks } from "./faces/geometry.ts";
import { CROP_POLICIES, cropWindows, type CropPolicy } from "./faces/stabilize.ts";
import { DEFAULT_TRACK, trackMainFace, type TrackKind, type TrackOptions } from "./faces/track.ts";
import { probeVideo, type VideoProbe } from "./probe.ts";
import { checkSampleSpec, DEFAULT_SAMPLE, type SampleSpec } from "./sample.ts";

export interface ClipOptions {
  readonly sample: SampleSpec;
  /** Side of the square face crops (default 112). */
  readonly size: number;
  /** Extra context around the face box, as a fraction of its larger side (default 0.4). */
  readonly margin: number;
  /** Longest side frames are decoded at (default 1280): bounds memory and time for 4K/8K input. */
  readonly maxSide: number;
  /** false: no detection, `faces` are whole frames letterboxed to size x size (--no-face-crop). */
  readonly faceCrop: boolean;
  /** How crop windows follow the face over the clip (src/video/faces/stabilize.ts; default "steady"). */
  readonly crop: CropPolicy;
  readonly track: TrackOptions;
  /** Frame rate given to a folder of images (default 25). */
  readonly imageFps: number;
  /** Timeout for each ffmpeg run, in milliseconds (default 120 s). */
  readonly timeoutMs: number;
}

export const DEFAULT_CLIP: ClipOptions = {
  sample: DEFAULT_SAMPLE,
  size: 112,
  margin: 0.4,
  maxSide: 1280,
  faceCrop: true,
  crop: "steady",
  track: DEFAULT_TRACK,
  imageFps: 25,
  timeoutMs: 120_000,
};

/** Merges options over the defaults and validates them once. */
export function resolveClipOptions(partial: Partial<ClipOptions> = {}): ClipOptions {
  const o: ClipOptions = { ...DEFAULT_CLIP, ...partial, track: { ...DEFAULT_TRACK, ...partial.track } };
  checkSampleSpec(o.sample);
  if (!Number.isInteger(o.size) || o.size < 16 || o.size > 1024) throw new FavchatError(`crop size must be a whole number from 16 to 1024, got ${o.size}`);
  if (!(o.margin >= 0 && o.margin <= 2)) throw new FavchatError(`crop margin must be between 0 and 2, got ${o.margin}`);
  if (!Number.isInteger(o.maxSide) || o.maxSide < 64) throw new FavchatError(`maxSide must be a whole number of at least 64, got ${o.maxSide}`);
  if (!Number.isInteger(o.track.maxGap) || o.track.maxGap < 0) throw new FavchatError(`maxGap must be a whole number >= 0, got ${o.track.maxGap}`);
  if (!CROP_POLICIES.includes(o.crop)) throw new FavchatError(`crop policy must be one of ${CROP_POLICIES.join(", ")}, got ${o.crop}`);
  if (!(o.imageFps > 0)) throw new FavchatError(`image fps must be positive, got ${o.imageFps}`);
  if (!(o.timeoutMs > 0)) throw new FavchatError(`timeout must be positive, got ${o.timeoutMs}`);
  return o;
}

/** The main face in one sampled frame, in displayed-frame pixels. */
export interface ClipFace {
  readonly kind: TrackKind;
  readonly box: Box | null;
  readonly landmarks: Landmarks | null;
  readonly score: number;
  /**
   * The window the face crop was cut from (centre, side, roll in radians; crop policy `options.crop`), in displayed
   * pixels: the whole frame where no face was found.
   */
  readonly window: CropWindow;
}

export interface ClipMeta {
  readonly video: string;
  readonly probe: VideoProbe;
  readonly options: ClipOptions;
  /** Per frame: how the face was found, box, landmarks, score. Empty when faceCrop is false. */
  readonly track: ClipFace[];
  /** Frames with a detected (not interpolated) main face. */
  readonly detectedFrames: number;
  /** Displayed pixels per decoded pixel (above 1 when a large video was decoded smaller). */
  readonly decodeScale: number;
  /** Wall time per phase, in milliseconds (absent for a clip read from the cache). */
  readonly timings?: Readonly<Record<string, number>>;
}

export interface Clip {
  /** Sampled frames as decoded (upright, longer side at most maxSide). */
  readonly frames: RgbFrame[];
  /** One size x size crop per frame: the aligned main face, or the whole frame when there is none. */
  readonly faces: RgbFrame[];
  /** The main face's box per frame in displayed pixels; null where it was not found. */
  readonly boxes: (Box | null)[];
  /** Seconds after the first frame of the video, per frame. */
  readonly times: number[];
  readonly meta: ClipMeta;
}

export interface LoadClipDeps {
  readonly ffmpeg: FfmpegBinary;
  /** Needed when faceCrop is true; reuse one across videos (loading the models takes a while). */
  readonly detector?: FaceDetector;
  /** Folder for cached clips; no caching when absent. */
  readonly cacheDir?: string;
}

const scaleBox = (b: Box, s: number): Box => ({ x: b.x * s, y: b.y * s, width: b.width * s, height: b.height * s });
const scaleLandmarks = (l: Landmarks, s: number): Landmarks => l.map(([x, y]) => [x * s, y * s]) as Landmarks;
const round2 = (v: number) => Math.round(v * 100) / 100;
const roundBox = (b: Box): Box => ({ x: round2(b.x), y: round2(b.y), width: round2(b.width), height: round2(b.height) });

/** Reads a video (or folder of images) into a Clip. */
export async function loadClip(file: string, deps: LoadClipDeps, partial: Partial<ClipOptions> = {}): Promise<Clip> {
  const options = resolveClipOptions(partial);
  const timings: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    timings[name] = Math.round(now - t);
    t = now;
  };

  // 1. Probe, then the cache (keyed by content and options).
  const probe = await probeVideo(deps.ffmpeg, file, { timeoutMs: options.timeoutMs, imageFps: options.imageFps });
  lap("probe");
  const key = deps.cacheDir !== undefined ? await clipCacheKey(probe, options) : null;
  if (key !== null && deps.cacheDir !== undefined) {
    const cached = await readCachedClip(deps.cacheDir, key);
    if (cached !== null) return { ...cached, meta: { ...cached.meta, video: file, probe: { ...probe } } };
  }

  // 2. Decode the sampled frames.
  const decoded = await decodeSamples(deps.ffmpeg, probe, { sample: options.sample, maxSide: options.maxSide, timeoutMs: options.timeoutMs });
  lap("decode");
  const frames = decoded.frames;
  const scale = probe.width / frames[0].width;

  // 3. Faces: detect, track, crop; or whole frames.
  let track: ClipFace[] = [];
  let faces: RgbFrame[];
  if (options.faceCrop) {
    if (deps.detector === undefined) throw new Error("loadClip: faceCrop needs a FaceDetector in deps.detector");
    const detector = deps.detector;
    const candidates: FaceCandidate[][] = [];
    for (const frame of frames) candidates.push(await detector.detect(frame));
    lap("detect");
    const tracked = await trackMainFace(candidates, frames[0].width, frames[0].height, (f, c) => detector.embed(frames[f], candidates[f][c]), options.track);
    lap("track");
    if (!tracked.some((tf) => tf.kind === "detected")) {
      throw new FavchatError(
        `no face found in ${frames.length} of ${frames.length} frames of ${file}; pass --no-face-crop to use whole frames instead`,
      );
    }
    const windows = cropWindows(tracked, frames[0].width, frames[0].height, options.margin, options.crop);
    faces = frames.map((frame, i) => cropWindow(frame, windows[i], options.size));
    track = tracked.map((tf, i) => ({
      kind: tf.kind,
      box: tf.box === null ? null : roundBox(scaleBox(tf.box, scale)),
      landmarks: tf.landmarks === null ? null : (scaleLandmarks(tf.landmarks, scale).map(([x, y]) => [round2(x), round2(y)]) as Landmarks),
      score: tf.score,
      window: { cx: round2(windows[i].cx * scale), cy: round2(windows[i].cy * scale), side: round2(windows[i].side * scale), angle: Math.round(windows[i].angle * 1e4) / 1e4 },
    }));
    lap("crop");
  } else {
    faces = frames.map((frame) => cropWindow(frame, wholeFrameWindow(frame), options.size));
    lap("crop");
  }

  const clip: Clip = {
    frames,
    faces,
    boxes: options.faceCrop ? track.map((f) => f.box) : frames.map(() => null),
    times: decoded.times,
    meta: {
      video: file,
      probe,
      options,
      track,
      detectedFrames: track.filter((f) => f.kind === "detected").length,
      decodeScale: scale,
      timings,
    },
  };
  // 4. Store for next time (atomic: safe with other processes writing the same entry).
  if (key !== null && deps.cacheDir !== undefined) await writeCachedClip(deps.cacheDir, key, clip);
  return clip;
}
