// Draws the face itself in face units (1 = nominal half-width, origin between the eyes' line and the nose):
// outline, brows, eyes, nose, mouth and the wrinkles each action unit makes. The caller sets the canvas
// transform (position, scale, roll); yaw and pitch are applied here by projecting (x, y, depth).
import type { SKRSContext2D } from "@napi-rs/canvas";
import type { AuName } from "../records.ts";
import type { Identity } from "./identity.ts";

export type AuValues = Record<AuName, number>;
export type Rgb = readonly [number, number, number];

export const rgb = (c: Rgb, k = 1): string =>
  `rgb(${Math.max(0, Math.min(255, Math.round(c[0] * k)))},${Math.max(0, Math.min(255, Math.round(c[1] * k)))},${Math.max(0, Math.min(255, Math.round(c[2] * k)))})`;
export const rgba = (c: Rgb, a: number, k = 1): string =>
  `rgba(${Math.max(0, Math.min(255, Math.round(c[0] * k)))},${Math.max(0, Math.min(255, Math.round(c[1] * k)))},${Math.max(0, Math.min(255, Math.round(c[2] * k)))},${Math.max(0, Math.min(1, a)).toFixed(3)})`;

/** Projects face-local (x, y, depth) to the rolled face plane for a given yaw and pitch. */
export class Projector {
  private readonly cy: number;
  private readonly sy: number;
  private readonly cp: number;
  private readonly sp: number;
  constructor(yaw: number, pitch: number) {
    this.cy = Math.cos(yaw);
    this.sy = Math.sin(yaw);
    this.cp = Math.cos(pitch);
    this.sp = Math.sin(pitch);
  }
  x(x: number, z: number): number {
    return x * this.cy + z * this.sy;
  }
  y(y: number, z: number): number {
    return y * this.cp + z * this.sp;
  }
}

/** The face outline path (also used to clip beards). Jaw drop (AU26) lowers the chin. */
export function faceOutline(ctx: SKRSContext2D, id: Identity, p: Projector, jaw: number): void {
  const shape = id.attributes.face_shape;
  const rx = id.faceW * (1 - 0.12 * Math.abs(p.x(0, 1)));
  const ox = p.x(0, 0.15);
  const top = id.faceH * 0.92;
  const chinY = id.faceH + 0.12 * jaw;
  const chinW = shape === "square" ? 0.62 : shape === "round" ? 0.55 : shape === "heart-shaped" ? 0.22 : shape === "long" ? 0.36 : 0.42;
  const jawBend = shape === "square" ? 0.85 : 0.55;
  ctx.beginPath();
  ctx.ellipse(ox, 0.05, rx, top, 0, Math.PI, 2 * Math.PI);
  ctx.bezierCurveTo(ox + rx, chinY * jawBend, ox + chinW + 0.15, chinY, ox, chinY);
  ctx.bezierCurveTo(ox - chinW - 0.15, chinY, ox - rx, chinY * jawBend, ox - rx, 0.05);
  ctx.closePath();
}

/** Quadratic control point so the curve from a to b passes through `mid` at its middle. */
const ctl = (a: number, mid: number, b: number): number => 2 * mid - (a + b) / 2;

export interface FaceColours {
  skin: Rgb;
  hair: Rgb;
  eye: Rgb;
  lip: Rgb;
}

function line(ctx: SKRSContext2D, pts: number[], width: number, style: string): void {
  ctx.beginPath();
  ctx.moveTo(pts[0], pts[1]);
  for (let i = 2; i < pts.length; i += 2) ctx.lineTo(pts[i], pts[i + 1]);
  ctx.lineWidth = width;
  ctx.strokeStyle = style;
  ctx.stroke();
}

function drawBrows(ctx: SKRSContext2D, id: Identity, p: Projector, au: AuValues, c: FaceColours): void {
  const arch = id.attributes.eyebrows === "arched" ? 0.09 : id.attributes.eyebrows === "straight" ? 0.01 : 0.05;
  const colour = id.attributes.hair_style === "bald" ? rgb(c.skin, 0.45) : rgb(c.hair, 0.8);
  ctx.lineCap = "round";
  for (const side of [-1, 1]) {
    const inX = side * (0.13 - 0.05 * au.AU4);
    const outX = side * 0.62;
    const base = -0.44;
    const inY = base - 0.2 * au.AU1 + 0.13 * au.AU4 + 0.05 * au.AU9;
    const outY = base + 0.04 - 0.2 * au.AU2 + 0.04 * au.AU4;
    const midY = (inY + outY) / 2 - arch - 0.06 * au.AU1 * (1 - au.AU2) - 0.04 * au.AU2;
    const z = 0.4;
    ctx.beginPath();
    ctx.moveTo(p.x(inX, z), p.y(inY, z));
    ctx.quadraticCurveTo(p.x(side * 0.38, z), p.y(ctl(inY, midY, outY), z), p.x(outX, z), p.y(outY, z));
    ctx.lineWidth = id.browThick * 1.6;
    ctx.strokeStyle = colour;
    ctx.stroke();
  }
}

function drawEyes(ctx: SKRSContext2D, id: Identity, p: Projector, au: AuValues, c: FaceColours): void {
  const open = 1 - au.AU43;
  const hu = 0.1 * (1 + 0.9 * au.AU5 - 0.45 * au.AU7 - 0.3 * au.AU6) * open;
  const hl = 0.065 * (1 - 0.7 * au.AU6 - 0.5 * au.AU7) * open + 0.004;
  const ew = 0.16;
  const z = 0.35;
  for (const side of [-1, 1]) {
    const ex = side * id.eyeX;
    const ey = -0.15;
    const ix = p.x(ex - side * ew, z);
    const ox = p.x(ex + side * ew, z);
    const mx = p.x(ex, z);
    const y0 = p.y(ey, z);
    // Eye opening: upper lid curve then lower lid curve (control points double the wanted mid height).
    ctx.beginPath();
    ctx.moveTo(ix, y0);
    ctx.quadraticCurveTo(mx, y0 - 2 * hu, ox, y0);
    ctx.quadraticCurveTo(mx, y0 + 2 * hl, ix, y0);
    ctx.closePath();
    if (hu + hl > 0.02) {
      ctx.save();
      ctx.fillStyle = "rgb(238,236,230)";
      ctx.fill();
      ctx.clip();
      ctx.beginPath();
      ctx.arc(mx + p.x(0, 0.05) * 0.5, y0 - 0.01, 0.085, 0, 2 * Math.PI);
      ctx.fillStyle = rgb(c.eye);
      ctx.fill();
      ctx.beginPath();
      ctx.arc(mx + p.x(0, 0.05) * 0.5, y0 - 0.01, 0.04, 0, 2 * Math.PI);
      ctx.fillStyle = "rgb(15,12,10)";
      ctx.fill();
      ctx.restore();
    }
    // Upper lid line (thick, dark) and a fainter lower lid.
    ctx.beginPath();
    ctx.moveTo(ix, y0);
    ctx.quadraticCurveTo(mx, y0 - 2 * hu, ox, y0);
    ctx.lineWidth = 0.045;
    ctx.strokeStyle = "rgb(40,28,24)";
    ctx.stroke();
    ctx.beginPath();
    ctx.moveTo(ix, y0);
    ctx.quadraticCurveTo(mx, y0 + 2 * hl, ox, y0);
    ctx.lineWidth = 0.025;
    ctx.strokeStyle = rgba(c.skin, 0.9, 0.55);
    ctx.stroke();
    // AU6: crow's feet at the outer corner and a raised lower-lid bulge; AU7 tightens the same bulge.
    const crow = Math.min(1, 1.1 * au.AU6);
    if (crow > 0.03) {
      const cx = ex + side * (ew + 0.04);
      for (const dy of [-0.05, 0, 0.05]) {
        line(ctx, [p.x(cx, z), p.y(ey + dy, z), p.x(cx + side * 0.1, z), p.y(ey + dy * 1.8, z)], 0.022, rgba(c.skin, crow, 0.55));
      }
    }
    const bulge = Math.min(1, 0.8 * au.AU6 + 0.7 * au.AU7);
    if (bulge > 0.03) {
      ctx.beginPath();
      ctx.moveTo(p.x(ex - side * ew * 0.9, z), p.y(ey + 0.1, z));
      ctx.quadraticCurveTo(mx, p.y(ey + 0.2 - 0.05 * au.AU6, z), p.x(ex + side * ew * 0.9, z), p.y(ey + 0.1, z));
      ctx.lineWidth = 0.025;
      ctx.strokeStyle = rgba(c.skin, bulge, 0.6);
      ctx.stroke();
    }
  }
}

function drawNose(ctx: SKRSContext2D, id: Identity, p: Projector, au: AuValues, c: FaceColours): void {
  const kind = id.attributes.nose;
  const nw = kind === "wide" ? 1.3 : kind === "small" ? 0.8 : 1;
  const tipY = kind === "long" ? 0.3 : kind === "small" ? 0.18 : 0.24;
  const lift = 0.05 * au.AU9 + 0.025 * au.AU10;
  const flare = 1 + 0.25 * au.AU9;
  const z = 0.6;
  const shade = rgba(c.skin, 0.85, 0.62);
  // Bridge shadow on the side away from the light, then the wings and nostrils.
  line(ctx, [p.x(-0.07, 0.45), p.y(-0.1, 0.45), p.x(-0.09 * nw, z), p.y(tipY - 0.04 - lift, z)], 0.03, shade);
  ctx.beginPath();
  ctx.moveTo(p.x(-0.14 * nw * flare, 0.5), p.y(tipY - lift, 0.5));
  ctx.quadraticCurveTo(p.x(0, z + 0.1), p.y(tipY + (kind === "pointed" ? 0.12 : 0.08) - lift, z), p.x(0.14 * nw * flare, 0.5), p.y(tipY - lift, 0.5));
  ctx.lineWidth = 0.035;
  ctx.strokeStyle = shade;
  ctx.stroke();
  ctx.fillStyle = rgb(c.skin, 0.35);
  for (const side of [-1, 1]) {
    ctx.beginPath();
    ctx.ellipse(p.x(side * 0.07 * nw * flare, z), p.y(tipY + 0.02 - lift, z), 0.035 * flare, 0.02, 0, 0, 2 * Math.PI);
    ctx.fill();
  }
  // AU9: horizontal wrinkles across the bridge.
  if (au.AU9 > 0.03) {
    for (const y of [-0.06, 0, 0.06]) line(ctx, [p.x(-0.07, 0.5), p.y(y, 0.5), p.x(0.07, 0.5), p.y(y - 0.01, 0.5)], 0.022, rgba(c.skin, au.AU9, 0.5));
  }
}

function drawMouth(ctx: SKRSContext2D, id: Identity, p: Projector, au: AuValues, c: FaceColours): void {
  const z = 0.5;
  const my = 0.55 * id.faceH / 1.3 + 0.04;
  const cornerX = id.mouthW + 0.09 * au.AU12 + 0.13 * au.AU20 - 0.07 * au.AU23 - 0.03 * au.AU26;
  const cornerY = my - id.restCurve - 0.15 * au.AU12 + 0.15 * au.AU15 + 0.02 * au.AU20 - 0.02 * au.AU17;
  const thick = id.lipThick * (1 - 0.65 * au.AU23) * (1 - 0.3 * au.AU20);
  const gap = 0.06 * au.AU25 + 0.2 * au.AU26;
  const upInner = my - gap / 2 - 0.05 * au.AU10 - 0.03 * au.AU17;
  const upOuter = upInner - thick - 0.045 * au.AU10;
  const loInner = my + gap / 2 - 0.03 * au.AU17;
  const loOuter = loInner + thick * 1.25 + 0.015 * au.AU17;
  const X = (x: number): number => p.x(x, z);
  const Y = (y: number): number => p.y(y, z);
  const L = -cornerX;
  const R = cornerX;
  // Nasolabial folds: faint at rest, deep when the cheeks and lips pull up (AU12, AU10, AU9).
  const fold = Math.min(1, 0.18 + 0.9 * au.AU12 + 0.7 * au.AU10 + 0.5 * au.AU9);
  for (const side of [-1, 1]) {
    ctx.beginPath();
    ctx.moveTo(p.x(side * 0.2, 0.5), p.y(0.2 - 0.04 * au.AU10, 0.5));
    ctx.quadraticCurveTo(p.x(side * (cornerX + 0.14), z), p.y(my - 0.15, z), X(side * (cornerX + 0.07)), Y(cornerY + 0.05));
    ctx.lineWidth = 0.03;
    ctx.strokeStyle = rgba(c.skin, fold, 0.62);
    ctx.stroke();
  }
  if (gap > 0.012) {
    ctx.beginPath();
    ctx.moveTo(X(L), Y(cornerY));
    ctx.quadraticCurveTo(X(0), Y(ctl(cornerY, upInner, cornerY)), X(R), Y(cornerY));
    ctx.quadraticCurveTo(X(0), Y(ctl(cornerY, loInner, cornerY)), X(L), Y(cornerY));
    ctx.fillStyle = "rgb(70,20,24)";
    ctx.fill();
    if (gap > 0.05) {
      ctx.save();
      ctx.clip();
      ctx.fillStyle = "rgb(236,232,220)";
      ctx.fillRect(X(-cornerX * 0.7), Y(upInner - 0.02), X(cornerX * 0.7) - X(-cornerX * 0.7), 0.06);
      ctx.restore();
    }
  }
  // Upper lip (with a cupid's bow), then lower lip.
  ctx.fillStyle = rgb(c.lip);
  ctx.beginPath();
  ctx.moveTo(X(L), Y(cornerY));
  ctx.quadraticCurveTo(X(L * 0.5), Y(upOuter - 0.02), X(0), Y(upOuter + 0.012));
  ctx.quadraticCurveTo(X(R * 0.5), Y(upOuter - 0.02), X(R), Y(cornerY));
  ctx.quadraticCurveTo(X(0), Y(ctl(cornerY, upInner, cornerY)), X(L), Y(cornerY));
  ctx.fill();
  ctx.beginPath();
  ctx.moveTo(X(L), Y(cornerY));
  ctx.quadraticCurveTo(X(0), Y(ctl(cornerY, loInner, cornerY)), X(R), Y(cornerY));
  ctx.quadraticCurveTo(X(0), Y(ctl(cornerY, loOuter, cornerY)), X(L), Y(cornerY));
  ctx.fill();
  // The lip line itself: its curve is the strongest single cue for AU12 vs AU15.
  ctx.beginPath();
  ctx.moveTo(X(L), Y(cornerY));
  ctx.quadraticCurveTo(X(0), Y(ctl(cornerY, (upInner + loInner) / 2, cornerY)), X(R), Y(cornerY));
  ctx.lineWidth = 0.03;
  ctx.strokeStyle = rgb(c.lip, 0.45);
  ctx.stroke();
  // AU17: chin boss wrinkle; AU15/AU20: short lines at the corners.
  if (au.AU17 > 0.03) {
    line(ctx, [X(-0.14), Y(loOuter + 0.16), X(0), Y(loOuter + 0.12), X(0.14), Y(loOuter + 0.16)], 0.025, rgba(c.skin, au.AU17, 0.55));
  }
  const cornerLine = Math.min(1, au.AU15 + 0.7 * au.AU20);
  if (cornerLine > 0.05) {
    for (const side of [-1, 1]) {
      line(ctx, [X(side * cornerX), Y(cornerY + 0.02), X(side * (cornerX + 0.04)), Y(cornerY + 0.14)], 0.022, rgba(c.skin, cornerLine, 0.55));
    }
  }
}

function drawBrowWrinkles(ctx: SKRSContext2D, p: Projector, au: AuValues, c: FaceColours): void {
  // AU4: vertical furrows between the brows; AU1/AU2: horizontal forehead lines.
  if (au.AU4 > 0.03) {
    for (const x of [-0.055, 0.055]) line(ctx, [p.x(x, 0.4), p.y(-0.5, 0.4), p.x(x * 0.7, 0.4), p.y(-0.36, 0.4)], 0.025, rgba(c.skin, Math.min(1, 1.1 * au.AU4), 0.55));
  }
  const lift = Math.max(au.AU1, au.AU2);
  if (lift > 0.03) {
    for (const y of [-0.62, -0.71]) {
      ctx.beginPath();
      ctx.moveTo(p.x(-0.4, 0.3), p.y(y + 0.02, 0.3));
      ctx.quadraticCurveTo(p.x(0, 0.35), p.y(y - 0.04, 0.3), p.x(0.4, 0.3), p.y(y + 0.02, 0.3));
      ctx.lineWidth = 0.022;
      ctx.strokeStyle = rgba(c.skin, lift * 0.9, 0.6);
      ctx.stroke();
    }
  }
}

/** Cheeks (AU6 raises and rounds them), then brows, eyes, nose and mouth. */
export function drawFeatures(ctx: SKRSContext2D, id: Identity, p: Projector, au: AuValues, c: FaceColours): void {
  const cheek = 0.12 + 0.4 * au.AU6 + 0.15 * au.AU12;
  ctx.fillStyle = rgba([Math.min(255, c.skin[0] + 25), c.skin[1], c.skin[2]], cheek);
  for (const side of [-1, 1]) {
    ctx.beginPath();
    ctx.ellipse(p.x(side * 0.5, 0.3), p.y(0.22 - 0.09 * au.AU6, 0.3), 0.2, 0.13 + 0.03 * au.AU6, 0, 0, 2 * Math.PI);
    ctx.fill();
  }
  drawBrowWrinkles(ctx, p, au, c);
  drawBrows(ctx, id, p, au, c);
  drawEyes(ctx, id, p, au, c);
  drawNose(ctx, id, p, au, c);
  drawMouth(ctx, id, p, au, c);
}
