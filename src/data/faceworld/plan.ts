// One FaceWorld clip as data, before any pixel is drawn: who (identity), what expression, which actions
// (blinks, speaking, nods, head turns) with their frame spans, the head pose per frame and the scene.
// Everything the renderer draws and everything the ground truth states comes from this plan.
import type { Rng } from "../../core/rng.ts";
import { EMOTIONS7, type Action, type Emotion7 } from "../records.ts";
import { addExpression, apexFrame, emptyAuFrames, planExpression, type AuFrames, type Band, type ExpressionPlan } from "./expression.ts";
import type { Identity } from "./identity.ts";

export const BACKGROUNDS = ["plain wall", "striped wall", "window", "outdoors", "bookshelf"] as const;
export const WALL_COLOURS = ["grey", "beige", "light blue", "pale green", "pink"] as const;
export const LIGHTING = ["even", "from the left", "from the right", "dim", "bright"] as const;
export const OBJECTS = ["none", "red ball", "blue square", "yellow triangle", "green ball", "white bird"] as const;
export const OBJECT_MOTIONS = ["left to right", "right to left", "top to bottom"] as const;

export interface ScenePlan {
  background: (typeof BACKGROUNDS)[number];
  wallColour: (typeof WALL_COLOURS)[number];
  lighting: (typeof LIGHTING)[number];
  object: (typeof OBJECTS)[number];
  objectMotion: (typeof OBJECT_MOTIONS)[number];
  /** Sensor noise standard deviation (0-255 scale) and compression quantisation step. */
  noise: number;
  quant: number;
  /** Seed for the renderer's own draws (noise, texture offsets), kept apart from the plan's. */
  pixelSeed: number;
}

export interface Pose {
  /** Face centre in pixels, face scale in pixels per face unit, yaw/pitch/roll in radians. */
  cx: number;
  cy: number;
  scale: number;
  yaw: number;
  pitch: number;
  roll: number;
}

export interface ClipPlan {
  id: string;
  frames: number;
  size: number;
  fps: number;
  identity: Identity;
  expression: ExpressionPlan;
  /** Clamped per-frame AU intensities (expression + blinks + speaking): exactly what is drawn. */
  aus: AuFrames;
  apex: number;
  actions: Action[];
  poses: Pose[];
  scene: ScenePlan;
  /** Moving object position per frame, in [0, 1] image coordinates. */
  objectPath: [number, number][];
}

export interface PlanOptions {
  frames: number;
  size: number;
  fps: number;
  /** Force an emotion / band / short apex (the README's contact sheet); random when absent. */
  emotion?: Emotion7;
  band?: Band;
  short?: boolean;
  /** No distracting actions and a plain scene: used to show expressions cleanly. */
  calm?: boolean;
}

function sampleBand(rng: Rng): Band {
  const u = rng.next();
  return u < 0.3 ? "subtle" : u < 0.65 ? "moderate" : "strong";
}

/** Places `count` events of `len` frames with at least `gap` frames between starts; returns their starts. */
function placeEvents(rng: Rng, frames: number, count: number, len: number, gap: number, busy: Uint8Array): number[] {
  const starts: number[] = [];
  for (let tries = 0; starts.length < count && tries < 60; tries++) {
    const s = rng.int(Math.max(1, frames - len + 1));
    if (starts.some((o) => Math.abs(o - s) < gap)) continue;
    let free = true;
    for (let t = s; t < s + len; t++) if (busy[t]) free = false;
    if (!free) continue;
    starts.push(s);
    for (let t = s; t < s + len; t++) busy[t] = 1;
  }
  return starts.sort((a, b) => a - b);
}

export function planClip(rng: Rng, id: string, identity: Identity, o: PlanOptions): ClipPlan {
  const { frames, size } = o;
  const emotion = o.emotion ?? rng.pick(EMOTIONS7);
  const band = o.band ?? sampleBand(rng);
  const short = o.short ?? rng.bool(0.2);
  const expression = planExpression(rng, emotion, band, short, frames);
  const aus = emptyAuFrames(frames);
  addExpression(aus, expression);
  const apex = apexFrame(aus, expression);
  const actions: Action[] = [];
  const distract = !o.calm;
  const neutral = emotion === "neutral";

  // 1. Blinks (AU43): countable, one closed frame then a half-closed one, starts at least 3 frames apart.
  const blinkBusy = new Uint8Array(frames);
  const nBlinks = distract ? [0, 1, 1, 2, 2, 3][rng.int(6)] : 0;
  const blinks = placeEvents(rng, frames - 1, nBlinks, 2, 3, blinkBusy);
  for (const b of blinks) {
    aus.AU43[b] = Math.max(aus.AU43[b], 1);
    if (b + 1 < frames) aus.AU43[b + 1] = Math.max(aus.AU43[b + 1], 0.45);
  }
  actions.push({ name: "blink", count: blinks.length, spans: blinks.map((b) => [b, Math.min(frames - 1, b + 1)] as [number, number]) });

  // 2. Speaking: lips part and the jaw moves frame to frame (AU25/AU26), a distractor for mouth AUs.
  if (distract && rng.bool(neutral ? 0.6 : 0.25)) {
    const len = Math.min(frames, 5 + rng.int(Math.max(1, frames - 4)));
    const start = rng.int(frames - len + 1);
    for (let t = start; t < start + len; t++) {
      const open = rng.uniform(0.15, 0.6);
      aus.AU25[t] += open;
      aus.AU26[t] += (t - start) % 2 === 0 ? open * rng.uniform(0.2, 0.8) : rng.uniform(0, 0.15);
    }
    actions.push({ name: "speak", spans: [[start, start + len - 1]] });
  }

  // 3. Head motion: nods (pitch dips) and a head turn (yaw), never at the same time.
  const yaw = new Float32Array(frames);
  const pitch = new Float32Array(frames);
  const headBusy = new Uint8Array(frames);
  if (distract && rng.bool(neutral ? 0.5 : 0.25)) {
    const len = 3 + rng.int(3);
    const [start] = placeEvents(rng, frames, 1, len, 0, headBusy);
    if (start !== undefined) {
      const dir = rng.bool() ? "left" : "right";
      const amp = rng.uniform(0.35, 0.6) * (dir === "left" ? -1 : 1);
      const back = rng.bool(0.5);
      for (let t = start; t < frames; t++) {
        const k = Math.min(1, (t - start + 1) / len);
        yaw[t] = back ? amp * Math.sin(Math.PI * k) : amp * k;
        if (back && t >= start + len) yaw[t] = 0;
      }
      actions.push({ name: "head_turn", count: 1, spans: [[start, start + len - 1]], detail: dir });
    }
  }
  if (distract && rng.bool(0.25)) {
    const count = 1 + rng.int(2);
    const starts = placeEvents(rng, frames, count, 4, 5, headBusy);
    for (const s of starts) for (let k = 0; k < 4 && s + k < frames; k++) pitch[s + k] = 0.28 * Math.sin((Math.PI * (k + 1)) / 5);
    if (starts.length) actions.push({ name: "nod", count: starts.length, spans: starts.map((s) => [s, Math.min(frames - 1, s + 3)] as [number, number]) });
  }

  for (const au of Object.keys(aus) as (keyof AuFrames)[]) {
    const curve = aus[au];
    for (let t = 0; t < frames; t++) curve[t] = Math.round(Math.min(1, Math.max(0, curve[t])) * 1000) / 1000;
  }

  // 4. Pose: a small drift and sway around a jittered centre (faces are never pinned to one pixel).
  const baseScale = size * rng.uniform(0.215, 0.245);
  const cx0 = size * (0.5 + rng.uniform(-0.05, 0.05));
  const cy0 = size * (0.45 + rng.uniform(-0.03, 0.03));
  const drift = [rng.uniform(-0.004, 0.004) * size, rng.uniform(-0.003, 0.003) * size];
  const roll0 = rng.uniform(-0.08, 0.08);
  const swayPhase = rng.uniform(0, 6.28);
  const poses: Pose[] = [];
  for (let t = 0; t < frames; t++) {
    const sway = distract ? Math.sin(swayPhase + t * 0.5) : 0;
    poses.push({
      cx: cx0 + drift[0] * t,
      cy: cy0 + drift[1] * t,
      scale: baseScale,
      yaw: yaw[t] + 0.03 * sway,
      pitch: pitch[t],
      roll: roll0 + 0.02 * sway,
    });
  }

  // 5. Scene: background, light, a moving object, sensor noise and compression.
  const scene: ScenePlan = {
    background: o.calm ? "plain wall" : rng.pick(BACKGROUNDS),
    wallColour: rng.pick(WALL_COLOURS),
    lighting: o.calm ? "even" : rng.pick(LIGHTING),
    object: o.calm ? "none" : rng.bool(0.3) ? "none" : rng.pick(OBJECTS.slice(1)),
    objectMotion: rng.pick(OBJECT_MOTIONS),
    noise: o.calm ? 1.5 : rng.uniform(1, 6),
    quant: o.calm ? 0 : rng.pick([0, 2, 4, 6]),
    pixelSeed: rng.nextUint32(),
  };
  const objectPath: [number, number][] = [];
  const lane = rng.uniform(0.1, 0.25);
  for (let t = 0; t < frames; t++) {
    const k = frames > 1 ? t / (frames - 1) : 0;
    const p = 0.05 + 0.9 * k;
    objectPath.push(
      scene.objectMotion === "left to right" ? [p, lane] : scene.objectMotion === "right to left" ? [1 - p, lane] : [lane, p],
    );
  }
  return { id, frames, size, fps: o.fps, identity, expression, aus, apex, actions, poses, scene, objectPath };
}
