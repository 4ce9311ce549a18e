// Face geometry shared by detection, tracking and cropping: boxes in the displayed frame's pixels, the five
// landmarks (ArcFace order, sides as seen in the image), and the few measures the tracker needs.

export type Point = [number, number];

/** A box in the displayed frame's pixels. */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Five landmarks: eye on the image's left, eye on its right, nose tip, mouth corner left, mouth corner right. */
export type Landmarks = [Point, Point, Point, Point, Point];

/** One face found in one frame. */
export interface FaceCandidate {
  readonly box: Box;
  readonly landmarks: Landmarks;
  /** Detector confidence in [0, 1]. */
  readonly score: number;
}

export function boxCenter(b: Box): Point {
  return [b.x + b.width / 2, b.y + b.height / 2];
}

export function boxArea(b: Box): number {
  return Math.max(0, b.width) * Math.max(0, b.height);
}

export function iou(a: Box, b: Box): number {
  const x0 = Math.max(a.x, b.x);
  const y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.width, b.x + b.width);
  const y1 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const union = boxArea(a) + boxArea(b) - inter;
  return union > 0 ? inter / union : 0;
}

/** Centre distance in units of the larger face size: under ~1 means "the same place" between sampled frames. */
export function centerDistance(a: Box, b: Box): number {
  const [ax, ay] = boxCenter(a);
  const [bx, by] = boxCenter(b);
  return Math.hypot(ax - bx, ay - by) / Math.max(1e-6, a.width, a.height, b.width, b.height);
}

export function lerp(a: number, b: number, t: number): number {
  return a + (b - a) * t;
}

export function lerpBox(a: Box, b: Box, t: number): Box {
  return { x: lerp(a.x, b.x, t), y: lerp(a.y, b.y, t), width: lerp(a.width, b.width, t), height: lerp(a.height, b.height, t) };
}

export function lerpLandmarks(a: Landmarks, b: Landmarks, t: number): Landmarks {
  return a.map((p, i) => [lerp(p[0], b[i][0], t), lerp(p[1], b[i][1], t)]) as Landmarks;
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}
