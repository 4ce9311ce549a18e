// Tracking the main face across sampled frames (issue 3). Faces are linked into tracklets by continuity (centre
// distance and size between nearby frames); the main tracklet is the most prominent (score x size x centrality,
// summed over frames); other tracklets join it only when the identity embedding says it is the same person
// (a cut, or the face lost and found again). Short gaps are filled by interpolation; longer ones stay missing.
import type { FaceCandidate, Box, Landmarks } from "./geometry.ts";
import { boxArea, boxCenter, centerDistance, cosine, lerpBox, lerpLandmarks } from "./geometry.ts";

export interface TrackOptions {
  /** Longest run of frames without the face that is filled by interpolation (default 2). */
  readonly maxGap: number;
  /** Cosine similarity of identity embeddings above which two tracklets are one person (default 0.75). */
  readonly sameIdentity: number;
  /** Largest centre distance, in face sizes, for a face to continue a tracklet (default 1.0). */
  readonly maxStep: number;
}

export const DEFAULT_TRACK: TrackOptions = { maxGap: 2, sameIdentity: 0.75, maxStep: 1.0 };

export type TrackKind = "detected" | "interpolated" | "missing";

/** The main face in one sampled frame. */
export interface TrackedFace {
  readonly kind: TrackKind;
  readonly box: Box | null;
  readonly landmarks: Landmarks | null;
  /** Detector score; 0 for interpolated and missing frames. */
  readonly score: number;
}

/** Computes an identity embedding for candidate `c` of frame `f`; only called when tracklets must be compared. */
export type EmbedFn = (frame: number, candidate: number) => Promise<Float32Array>;

interface Tracklet {
  /** frame index -> candidate index */
  readonly members: Map<number, number>;
  lastFrame: number;
  prominence: number;
}

/** How much a face looks like the subject: confident, large, near the centre. */
export function prominence(c: FaceCandidate, frameWidth: number, frameHeight: number): number {
  const [cx, cy] = boxCenter(c.box);
  const off = Math.hypot(cx / frameWidth - 0.5, cy / frameHeight - 0.5) / Math.SQRT1_2; // 0 centre .. 1 corner
  const size = Math.sqrt(boxArea(c.box) / (frameWidth * frameHeight));
  return c.score * size * (1 - 0.5 * Math.min(1, off));
}

/** Greedy linking of faces into tracklets, frame by frame, nearest continuation first. */
export function linkTracklets(candidates: readonly FaceCandidate[][], options: TrackOptions, width: number, height: number): Tracklet[] {
  const tracklets: Tracklet[] = [];
  candidates.forEach((faces, f) => {
    const pairs: { t: number; c: number; d: number }[] = [];
    tracklets.forEach((tr, t) => {
      if (f - tr.lastFrame > options.maxGap + 1) return;
      const last = candidates[tr.lastFrame][tr.members.get(tr.lastFrame)!];
      faces.forEach((face, c) => {
        const d = centerDistance(last.box, face.box);
        const ratio = Math.max(face.box.width, 1) / Math.max(last.box.width, 1);
        if (d <= options.maxStep && ratio > 0.5 && ratio < 2) pairs.push({ t, c, d });
      });
    });
    pairs.sort((a, b) => a.d - b.d);
    const usedT = new Set<number>();
    const usedC = new Set<number>();
    for (const p of pairs) {
      if (usedT.has(p.t) || usedC.has(p.c)) continue;
      usedT.add(p.t);
      usedC.add(p.c);
      tracklets[p.t].members.set(f, p.c);
      tracklets[p.t].lastFrame = f;
    }
    faces.forEach((_, c) => {
      if (!usedC.has(c)) tracklets.push({ members: new Map([[f, c]]), lastFrame: f, prominence: 0 });
    });
  });
  for (const tr of tracklets) {
    for (const [f, c] of tr.members) tr.prominence += prominence(candidates[f][c], width, height);
  }
  return tracklets.sort((a, b) => b.prominence - a.prominence);
}

/** The best-scoring members of a tracklet, at most `n`. */
function bestMembers(tr: Tracklet, candidates: readonly FaceCandidate[][], n: number): [number, number][] {
  return [...tr.members.entries()].sort((a, b) => candidates[b[0]][b[1]].score - candidates[a[0]][a[1]].score).slice(0, n);
}

async function meanEmbedding(pairs: [number, number][], embed: EmbedFn): Promise<Float32Array> {
  let sum: Float32Array | null = null;
  for (const [f, c] of pairs) {
    const e = await embed(f, c);
    if (sum === null) sum = new Float32Array(e.length);
    for (let i = 0; i < e.length; i++) sum[i] += e[i];
  }
  return sum ?? new Float32Array(0);
}

/**
 * The main face in every frame. `candidates[f]` are the faces found in frame f. `embed` is called only when
 * more than one tracklet exists (about 0.15 s per call on wasm), never in the common one-person clip.
 */
export async function trackMainFace(
  candidates: readonly FaceCandidate[][],
  frameWidth: number,
  frameHeight: number,
  embed: EmbedFn,
  options: TrackOptions = DEFAULT_TRACK,
): Promise<TrackedFace[]> {
  const n = candidates.length;
  const chosen: (number | null)[] = new Array(n).fill(null);
  const tracklets = linkTracklets(candidates, options, frameWidth, frameHeight);
  if (tracklets.length > 0) {
    const main = tracklets[0];
    for (const [f, c] of main.members) chosen[f] = c;
    // 1. Other tracklets that fill frames the main one lacks join it when the face is the same person's.
    const others = tracklets.slice(1, 9).filter((tr) => [...tr.members.keys()].some((f) => chosen[f] === null));
    if (others.length > 0) {
      const reference = await meanEmbedding(bestMembers(main, candidates, 3), embed);
      for (const tr of others) {
        const free = [...tr.members.entries()].filter(([f]) => chosen[f] === null);
        if (free.length === 0) continue;
        const e = await meanEmbedding(bestMembers(tr, candidates, 1), embed);
        if (cosine(reference, e) >= options.sameIdentity) for (const [f, c] of free) chosen[f] = c;
      }
    }
  }
  return fillGaps(
    chosen.map((c, f) => (c === null ? null : candidates[f][c])),
    options.maxGap,
  );
}

/** Turns per-frame picks into tracked faces: runs of at most `maxGap` misses are interpolated (or held at the ends). */
export function fillGaps(picks: readonly (FaceCandidate | null)[], maxGap: number): TrackedFace[] {
  const out: TrackedFace[] = picks.map((p) =>
    p === null ? { kind: "missing", box: null, landmarks: null, score: 0 } : { kind: "detected", box: p.box, landmarks: p.landmarks, score: p.score },
  );
  let f = 0;
  while (f < picks.length) {
    if (picks[f] !== null) {
      f++;
      continue;
    }
    let end = f;
    while (end < picks.length && picks[end] === null) end++;
    const before = f > 0 ? picks[f - 1] : null;
    const after = end < picks.length ? picks[end] : null;
    if (end - f <= maxGap && (before !== null || after !== null)) {
      for (let g = f; g < end; g++) {
        const a = before ?? after!;
        const b = after ?? before!;
        const t = before !== null && after !== null ? (g - f + 1) / (end - f + 1) : 0;
        out[g] = { kind: "interpolated", box: lerpBox(a.box, b.box, t), landmarks: lerpLandmarks(a.landmarks, b.landmarks, t), score: 0 };
      }
    }
    f = end;
  }
  return out;
}
