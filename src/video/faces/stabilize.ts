// Crop windows for a tracked face over a clip. The detector's box is the bounds of the face mesh, so it grows and
// shifts when the jaw drops or the brows rise: cut frame by frame, the crop zooms with the expression, and the
// facial encoder's motion input (each crop minus the first) shows zoom where there was none. A steady window is placed
// by the face's rigid points (eyes and nose tip), which move with the head but hardly with the expression.
import type { Point } from "./geometry.ts";
import { faceWindow, wholeFrameWindow, type CropWindow } from "./align.ts";
import type { TrackedFace } from "./track.ts";

/**
 * "steady" (default): the box placed by the eyes and nose tip, which move with the head, not the expression.
 * "frame": each frame's own box and eye line. "static": one window for the whole clip (its medians).
 */
export type CropPolicy = "steady" | "frame" | "static";
export const CROP_POLICIES: readonly CropPolicy[] = ["steady", "frame", "static"];

/** Sampled frames on each side whose median smooths a steady window's roll and face size. */
export const STEADY_RADIUS = 2;

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The rigid points of a face: anchor (mean of eyes and nose tip) and size (eye distance with eye-to-nose drop). */
function rigidOf(face: TrackedFace): { anchor: Point; size: number } | null {
  if (face.landmarks === null) return null;
  const [l, r, n] = face.landmarks;
  const mid: Point = [(l[0] + r[0]) / 2, (l[1] + r[1]) / 2];
  const size = Math.hypot(Math.hypot(r[0] - l[0], r[1] - l[1]), Math.hypot(n[0] - mid[0], n[1] - mid[1]));
  return size > 0 ? { anchor: [(l[0] + r[0] + n[0]) / 3, (l[1] + r[1] + n[1]) / 3], size } : null;
}

/**
 * One crop window per frame. Frames without a face get the whole frame, letterboxed; `margin` is the context
 * around the box as a fraction of its larger side.
 *
 * steady: over the clip's frames with landmarks, the medians of (window side / rigid size) and of (window centre -
 * anchor) / rigid size say where the box sits on this face; each frame then places that box by its own rigid
 * points (size and roll as medians over STEADY_RADIUS frames each side). Frames without landmarks keep their box.
 */
export function cropWindows(tracked: readonly TrackedFace[], width: number, height: number, margin: number, policy: CropPolicy = "steady"): CropWindow[] {
  const whole = wholeFrameWindow({ width, height });
  const own = tracked.map((t) => (t.box === null ? null : faceWindow(t.box, t.landmarks, margin)));
  if (policy === "frame") return own.map((w) => w ?? whole);
  if (policy === "static") {
    const ws = own.filter((w) => w !== null);
    if (ws.length === 0) return own.map(() => whole);
    const one = { cx: median(ws.map((w) => w.cx)), cy: median(ws.map((w) => w.cy)), side: median(ws.map((w) => w.side)), angle: median(ws.map((w) => w.angle)) };
    return own.map((w) => (w === null ? whole : one));
  }
  const rigid = tracked.map((t, i) => (own[i] === null ? null : rigidOf(t)));
  const known = rigid.flatMap((r, i) => (r === null ? [] : [{ i, r, w: own[i]! }]));
  if (known.length === 0) return own.map((w) => w ?? whole);
  const scale = median(known.map((k) => k.w.side / k.r.size));
  const dx = median(known.map((k) => (k.w.cx - k.r.anchor[0]) / k.r.size));
  const dy = median(known.map((k) => (k.w.cy - k.r.anchor[1]) / k.r.size));
  return own.map((w, i) => {
    const r = rigid[i];
    if (w === null || r === null) return w ?? whole;
    const near = known.filter((k) => Math.abs(k.i - i) <= STEADY_RADIUS);
    const size = median(near.map((k) => k.r.size));
    return { cx: r.anchor[0] + dx * size, cy: r.anchor[1] + dy * size, side: scale * size, angle: median(near.map((k) => k.w.angle)) };
  });
}
