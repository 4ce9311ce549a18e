// Turns a ClipPlan into pixels: per frame, background + moving object, body, head with its AU-driven
// features, lighting, then sensor noise and block compression on the RGB bytes. Also returns the main
// face's box per frame (ground truth for cropping without a detector).
import { createCanvas, type Canvas, type SKRSContext2D } from "@napi-rs/canvas";
import { Rng } from "../../core/rng.ts";
import { AU_NAMES } from "../records.ts";
import { drawBackHair, drawBeard, drawBody, drawFrontHair, drawGlasses } from "./draw-appearance.ts";
import { drawFeatures, faceOutline, Projector, rgb, type AuValues, type FaceColours, type Rgb } from "./draw-face.ts";
import { CLOTHES_RGB, EYE_RGB, HAIR_RGB, SKIN_RGB } from "./identity.ts";
import type { ClipPlan, Pose } from "./plan.ts";
import { drawBackground, drawLighting, drawObject } from "./scene.ts";

export interface RenderedClip {
  /** [F, H, W, 3] RGB bytes. */
  rgb: Uint8Array;
  /** Per frame [x, y, w, h] of the face (skin area, not hair), in pixels. */
  faceBoxes: [number, number, number, number][];
}

// A fixed table of standard normals, indexed from a random offset per frame: per-pixel Box-Muller
// would cost more than drawing the frame.
const NOISE_TABLE = (() => new Rng(0x5eed).normalArray(1 << 16))();

function colours(plan: ClipPlan): FaceColours & { cloth: Rgb } {
  const a = plan.identity.attributes;
  const j = plan.identity.skinJitter;
  const base = SKIN_RGB[a.skin_tone];
  const skin: Rgb = [base[0] + j[0], base[1] + j[1], base[2] + j[2]];
  const lip: Rgb = [skin[0] * 0.7 + 170 * 0.3, skin[1] * 0.6 + 70 * 0.4, skin[2] * 0.6 + 75 * 0.4];
  return { skin, hair: HAIR_RGB[a.hair_colour], eye: EYE_RGB[a.eye_colour], lip, cloth: CLOTHES_RGB[a.clothes_colour] };
}

function faceBox(plan: ClipPlan, pose: Pose, jaw: number): [number, number, number, number] {
  // Axis-aligned box of the face ellipse after roll: half-extents of a rotated ellipse.
  const id = plan.identity;
  const a = id.faceW * (1 - 0.12 * Math.abs(Math.sin(pose.yaw))) * pose.scale;
  const b = ((id.faceH * 0.92 + id.faceH + 0.12 * jaw) / 2) * pose.scale;
  const cyLocal = ((0.05 - id.faceH * 0.92 + id.faceH + 0.12 * jaw) / 2) * pose.scale;
  const cxLocal = Math.sin(pose.yaw) * 0.15 * pose.scale;
  const c = Math.cos(pose.roll);
  const s = Math.sin(pose.roll);
  const cx = pose.cx + cxLocal * c - cyLocal * s;
  const cy = pose.cy + cxLocal * s + cyLocal * c;
  const hw = Math.sqrt(a * a * c * c + b * b * s * s);
  const hh = Math.sqrt(a * a * s * s + b * b * c * c);
  const size = plan.size;
  const x0 = Math.max(0, cx - hw);
  const y0 = Math.max(0, cy - hh);
  const x1 = Math.min(size, cx + hw);
  const y1 = Math.min(size, cy + hh);
  return [Math.round(x0 * 10) / 10, Math.round(y0 * 10) / 10, Math.round((x1 - x0) * 10) / 10, Math.round((y1 - y0) * 10) / 10];
}

/** Noise table scaled to this clip's noise level, as integers (so the per-pixel loop is integer adds). */
function scaledNoise(noise: number): Int16Array {
  const t = new Int16Array(NOISE_TABLE.length);
  for (let i = 0; i < t.length; i++) t[i] = Math.round(NOISE_TABLE[i] * noise);
  return t;
}

/**
 * Sensor noise, then compression: inside each 4x4 block, values are pulled to the block mean in steps of
 * `quant` (blockiness and banding, as a low-bitrate codec leaves). `out` is a clamped view, so writes clamp.
 */
function degrade(px: Uint8Array, size: number, noise: Int16Array, quant: number, rng: Rng, out: Uint8ClampedArray, offset: number): void {
  const n = size * size;
  const mask = noise.length - 1;
  let k = rng.nextUint32() & mask;
  const step = 1 + 2 * (rng.int(1000) + 1);
  for (let i = 0, q = 0, o = offset; i < n; i++, q += 4, o += 3) {
    // Luminance-like noise shared by the channels plus a little per-channel chroma noise.
    const g = noise[k];
    k = (k + step) & mask;
    out[o] = px[q] + g + (noise[(k + 7) & mask] >> 2);
    out[o + 1] = px[q + 1] + g;
    out[o + 2] = px[q + 2] + g + (noise[(k + 13) & mask] >> 2);
  }
  if (quant <= 0) return;
  // Rounding a difference to a multiple of `quant` through a lookup table (d in -255..255).
  const table = new Int16Array(511);
  for (let i = 0; i < 511; i++) table[i] = Math.round((i - 255) / quant) * quant;
  for (let by = 0; by < size; by += 4) {
    const y1 = Math.min(size, by + 4);
    for (let bx = 0; bx < size; bx += 4) {
      const x1 = Math.min(size, bx + 4);
      const cnt = (y1 - by) * (x1 - bx);
      for (let ch = 0; ch < 3; ch++) {
        let sum = 0;
        for (let y = by; y < y1; y++) for (let o = offset + (y * size + bx) * 3 + ch, x = bx; x < x1; x++, o += 3) sum += out[o];
        const mean = ((sum + (cnt >> 1)) / cnt) | 0;
        const base = 255 - mean;
        for (let y = by; y < y1; y++) {
          for (let o = offset + (y * size + bx) * 3 + ch, x = bx; x < x1; x++, o += 3) out[o] = mean + table[out[o] + base];
        }
      }
    }
  }
}

/**
 * The two canvases a clip is drawn on. Reuse one set across clips: Skia's memory lives outside the JS heap and is
 * freed only by finalizers, so fewer native objects per clip means less memory waiting to be freed.
 */
export class ClipCanvases {
  readonly frame: Canvas;
  readonly background: Canvas;
  constructor(readonly size: number) {
    this.frame = createCanvas(size, size);
    this.background = createCanvas(size, size);
  }
}

export function renderClip(plan: ClipPlan, canvases: ClipCanvases = new ClipCanvases(plan.size)): RenderedClip {
  const { size, scene } = plan;
  if (canvases.size !== size) throw new Error(`renderClip: canvases are ${canvases.size} px, the clip is ${size} px`);
  const ctx = canvases.frame.getContext("2d");
  // Drawing state (alpha, line width, ...) must not leak from one clip into the next on a reused canvas.
  ctx.save();
  try {
    return drawFrames(plan, ctx, drawBackground(scene, size, canvases.background));
  } finally {
    ctx.restore();
  }
}

function drawFrames(plan: ClipPlan, ctx: SKRSContext2D, background: Canvas): RenderedClip {
  const { size, frames, identity: id, scene } = plan;
  const c = colours(plan);
  const rng = new Rng(scene.pixelSeed).fork("pixels");
  const out = new Uint8Array(frames * size * size * 3);
  const clamped = new Uint8ClampedArray(out.buffer);
  const noise = scaledNoise(scene.noise);
  const faceBoxes: [number, number, number, number][] = [];
  const au = {} as AuValues;
  for (let t = 0; t < frames; t++) {
    const pose = plan.poses[t];
    for (const name of AU_NAMES) au[name] = plan.aus[name][t];
    const jaw = au.AU26;
    const p = new Projector(pose.yaw, pose.pitch);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(background, 0, 0);
    drawObject(ctx, scene, plan.objectPath[t], size);
    // Face frame: translate to the face centre, rotate by roll, scale to face units.
    const cs = Math.cos(pose.roll) * pose.scale;
    const sn = Math.sin(pose.roll) * pose.scale;
    ctx.setTransform(cs, sn, -sn, cs, pose.cx, pose.cy);
    drawBackHair(ctx, id, p, c);
    drawBody(ctx, id, c.skin, c.cloth);
    ctx.fillStyle = rgb(c.skin, 0.9);
    for (const side of [-1, 1]) {
      ctx.beginPath();
      ctx.ellipse(p.x(side * id.faceW, -0.2), p.y(0.0, 0), 0.13, 0.22, 0, 0, 2 * Math.PI);
      ctx.fill();
    }
    faceOutline(ctx, id, p, jaw);
    ctx.fillStyle = rgb(c.skin);
    ctx.fill();
    drawBeard(ctx, id, p, c, jaw);
    drawFeatures(ctx, id, p, au, c);
    drawFrontHair(ctx, id, p, c);
    drawGlasses(ctx, id, p);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    drawLighting(ctx, scene, size);
    // The canvas's own RGBA bytes (opaque, so premultiplied = straight), without getImageData's extra copy.
    const px = ctx.canvas.data();
    degrade(px, size, noise, scene.quant, rng, clamped, t * size * size * 3);
    faceBoxes.push(faceBox(plan, pose, jaw));
  }
  return { rgb: out, faceBoxes };
}
