// The pixels a FaVChat sample needs: F frames for the general encoder and F crops of the main face for the
// facial encoder, as uint8 RGB. From FaceWorld's raw frames with its ground-truth face boxes (training), or from
// a decoded video with detected faces (src/video, inference): both must give the same kind of crop.
import { FavchatError } from "../core/errors.ts";
import type { Rng } from "../core/rng.ts";
import { cropWindow, faceWindow, wholeFrameWindow, type CropWindow } from "../video/faces/align.ts";
import type { RgbFrame } from "../video/frame.ts";
import type { RawClip } from "./frames.ts";

export interface ClipPixels {
  /** Frames sampled. */
  readonly F: number;
  /** [F, S, S, 3] frames resized to the general encoder's input. */
  readonly frames: Uint8Array;
  readonly frameSize: number;
  /** [F, s, s, 3] face crops. */
  readonly faces: Uint8Array;
  readonly faceSize: number;
}

export interface PixelOptions {
  readonly frames: number;
  readonly frameSize: number;
  readonly faceSize: number;
  /** Context around the face, as src/video's crops use (fraction of the box side; default 0.4). */
  readonly margin?: number;
}

/**
 * FaceWorld's face boxes cover hair and forehead; the face detector used at inference boxes the inner face.
 * Measured on 178 frames of 12 FaceWorld clips (detector box vs ground truth): side 0.731 ± 0.043 of the ground
 * truth's larger side, centre 0.045 ± 0.016 sides lower, -0.004 ± 0.009 to the side. Training crops apply this,
 * so they look like the crops `favchat chat` makes.
 */
export const FACEWORLD_TO_DETECTOR = { side: 0.731, dy: 0.045, dx: -0.004 } as const;

/**
 * The crop window of a FaceWorld face box [x, y, w, h] as the detector would frame it (FACEWORLD_TO_DETECTOR), with
 * `margin` around it, moved by `shift` (training jitter) if given.
 */
export function labelledWindow(b: readonly [number, number, number, number], margin: number, shift?: CropShift): CropWindow {
  const gtSide = Math.max(b[2], b[3]);
  const s = gtSide * FACEWORLD_TO_DETECTOR.side * (shift?.scale ?? 1);
  const cx = b[0] + b[2] / 2 + gtSide * (FACEWORLD_TO_DETECTOR.dx + (shift?.dx ?? 0));
  const cy = b[1] + b[3] / 2 + gtSide * (FACEWORLD_TO_DETECTOR.dy + (shift?.dy ?? 0));
  const window = faceWindow({ x: cx - s / 2, y: cy - s / 2, width: s, height: s }, null, margin);
  return { ...window, angle: shift?.angle ?? 0 };
}

/** How one frame's face crop is moved from the labelled box: centre and scale as fractions of the box, roll in radians. */
export interface CropShift {
  readonly dx: number;
  readonly dy: number;
  readonly scale: number;
  readonly angle: number;
}

/**
 * A random face-crop jitter for training: the clip's crops move +-3% and scale +-6%, all frames alike. Tried and
 * dropped (session 8): wider jitter to cover the detector's crops (scale 0.87-1.15, roll +-4 degrees per clip,
 * per-frame noise of 0.7%, 4:2:0 colour on half the clips) cost emotion accuracy with labelled crops (0.80 -> 0.60
 * on the test split) and did not help detected crops (0.54 -> 0.50 on 200 fresh clips).
 */
export function cropJitter(rng: Rng, frames: number): CropShift[] {
  const shift = { dx: rng.uniform(-0.03, 0.03), dy: rng.uniform(-0.03, 0.03), scale: rng.uniform(0.94, 1.06), angle: 0 };
  return Array.from({ length: frames }, () => shift);
}

/** Indices of `want` frames spread evenly over `have` (all of them, repeated in order, when have < want). */
export function uniformIndices(have: number, want: number): number[] {
  if (have <= 0) throw new FavchatError("a clip with no frames has nothing to sample");
  if (want === have) return Array.from({ length: want }, (_, i) => i);
  return Array.from({ length: want }, (_, i) => Math.min(have - 1, Math.floor(((i + 0.5) * have) / want)));
}

/**
 * Frames and ground-truth-box face crops of a FaceWorld raw clip: `o.frames` spread evenly, or the given `indices`.
 * `jitter` (training, one per frame) moves, scales and turns each frame's crop.
 */
export function pixelsFromRaw(
  raw: RawClip,
  faceBoxes: readonly (readonly [number, number, number, number])[] | undefined,
  o: PixelOptions,
  jitter?: readonly CropShift[],
  indices?: readonly number[],
): ClipPixels {
  if (raw.channels !== 3) throw new FavchatError(`raw clip has ${raw.channels} channels; expected RGB (3)`);
  const idx = indices ?? uniformIndices(raw.frames, o.frames);
  if (idx.length !== o.frames || idx.some((i) => !(i >= 0 && i < raw.frames))) {
    throw new FavchatError(`frame indices [${idx.join(", ")}] do not pick ${o.frames} of the clip's ${raw.frames} frames`);
  }
  const frameBytes = raw.height * raw.width * 3;
  const whole = (i: number): RgbFrame => ({ width: raw.width, height: raw.height, data: raw.data.subarray(i * frameBytes, (i + 1) * frameBytes) });
  const frames = new Uint8Array(o.frames * o.frameSize * o.frameSize * 3);
  const faces = new Uint8Array(o.frames * o.faceSize * o.faceSize * 3);
  const margin = o.margin ?? 0.4;
  if (jitter && jitter.length !== idx.length) throw new FavchatError(`crop jitter for ${jitter.length} frames given for ${idx.length}`);
  idx.forEach((src, k) => {
    const frame = whole(src);
    const shift = jitter?.[k];
    frames.set(cropWindow(frame, wholeFrameWindow(frame), o.frameSize).data, k * o.frameSize * o.frameSize * 3);
    const b = faceBoxes?.[src];
    let crop: RgbFrame;
    if (b) {
      crop = cropWindow(frame, labelledWindow(b, margin, shift), o.faceSize);
    } else {
      crop = cropWindow(frame, wholeFrameWindow(frame), o.faceSize);
    }
    faces.set(crop.data, k * o.faceSize * o.faceSize * 3);
  });
  return { F: o.frames, frames, frameSize: o.frameSize, faces, faceSize: o.faceSize };
}

/** Frames and face crops of a clip loaded by src/video (its crops are already aligned; frames are letterboxed). */
export function pixelsFromVideo(clip: { frames: readonly RgbFrame[]; faces: readonly RgbFrame[] }, o: PixelOptions): ClipPixels {
  const have = clip.frames.length;
  if (have === 0) throw new FavchatError("the video gave no frames");
  const idx = uniformIndices(have, o.frames);
  const frames = new Uint8Array(o.frames * o.frameSize * o.frameSize * 3);
  const faces = new Uint8Array(o.frames * o.faceSize * o.faceSize * 3);
  idx.forEach((src, k) => {
    const f = clip.frames[src];
    frames.set(cropWindow(f, wholeFrameWindow(f), o.frameSize).data, k * o.frameSize * o.frameSize * 3);
    const c = clip.faces[src];
    faces.set(cropWindow(c, wholeFrameWindow(c), o.faceSize).data, k * o.faceSize * o.faceSize * 3);
  });
  return { F: o.frames, frames, frameSize: o.frameSize, faces, faceSize: o.faceSize };
}
