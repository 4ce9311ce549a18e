// Draws what makes a person recognisable beyond the face's features: hair (behind and in front of the
// face), beard, glasses and clothes. Same face-unit coordinates and canvas transform as draw-face.ts.
import type { SKRSContext2D } from "@napi-rs/canvas";
import type { Identity } from "./identity.ts";
import { faceOutline, rgb, rgba, type FaceColours, type Projector, type Rgb } from "./draw-face.ts";

/** Hair that sits behind the head: long hair panels and a bun. */
export function drawBackHair(ctx: SKRSContext2D, id: Identity, p: Projector, c: FaceColours): void {
  const style = id.attributes.hair_style;
  ctx.fillStyle = rgb(c.hair, 0.85);
  const ox = p.x(0, 0.15);
  if (style === "long straight") {
    ctx.beginPath();
    ctx.ellipse(ox, -0.1, id.faceW + 0.22, id.faceH + 0.15, 0, Math.PI, 2 * Math.PI);
    ctx.lineTo(ox + id.faceW + 0.3, 1.9);
    ctx.lineTo(ox - id.faceW - 0.3, 1.9);
    ctx.closePath();
    ctx.fill();
  } else if (style === "bun") {
    ctx.beginPath();
    ctx.arc(ox, -id.faceH - 0.25, 0.32, 0, 2 * Math.PI);
    ctx.fill();
  }
}

/** Hair on top of the head and the fringe, drawn over the face outline. */
export function drawFrontHair(ctx: SKRSContext2D, id: Identity, p: Projector, c: FaceColours): void {
  const style = id.attributes.hair_style;
  if (style === "bald") return;
  const ox = p.x(0, 0.15);
  const rx = id.faceW + 0.07;
  const hairline = style === "buzz cut" ? -0.86 : -0.8;
  ctx.fillStyle = style === "buzz cut" ? rgba(c.hair, 0.6) : rgb(c.hair);
  ctx.beginPath();
  ctx.ellipse(ox, 0.02, rx, id.faceH + 0.08, 0, Math.PI, 2 * Math.PI);
  ctx.quadraticCurveTo(ox + rx * 0.7, hairline + 0.05, p.x(0.1, 0.3), hairline);
  ctx.quadraticCurveTo(ox - rx * 0.7, hairline + 0.05, ox - rx, 0.02);
  ctx.closePath();
  ctx.fill();
  if (style === "curly") {
    for (let i = 0; i <= 10; i++) {
      const a = Math.PI + (Math.PI * i) / 10;
      ctx.beginPath();
      ctx.arc(ox + Math.cos(a) * (rx + 0.05), 0.02 + Math.sin(a) * (id.faceH + 0.12), 0.17, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
}

/** Beard styles, clipped to the lower face; they follow the jaw when it drops (AU26). */
export function drawBeard(ctx: SKRSContext2D, id: Identity, p: Projector, c: FaceColours, jaw: number): void {
  const beard = id.attributes.beard;
  if (beard === "none") return;
  const my = 0.55 * id.faceH / 1.3 + 0.04;
  ctx.save();
  faceOutline(ctx, id, p, jaw);
  ctx.clip();
  if (beard === "stubble" || beard === "full beard") {
    ctx.fillStyle = rgba(c.hair, beard === "stubble" ? 0.28 : 0.92, 0.8);
    ctx.beginPath();
    ctx.moveTo(p.x(-id.faceW - 0.1, 0), p.y(0.15, 0));
    ctx.quadraticCurveTo(p.x(-0.3, 0.4), p.y(0.42, 0.4), p.x(0, 0.5), p.y(0.36, 0.5));
    ctx.quadraticCurveTo(p.x(0.3, 0.4), p.y(0.42, 0.4), p.x(id.faceW + 0.1, 0), p.y(0.15, 0));
    ctx.lineTo(p.x(id.faceW, 0), 2);
    ctx.lineTo(p.x(-id.faceW, 0), 2);
    ctx.closePath();
    ctx.fill();
  }
  if (beard === "goatee") {
    ctx.fillStyle = rgb(c.hair, 0.8);
    ctx.beginPath();
    ctx.ellipse(p.x(0, 0.5), p.y(my + 0.28 + 0.12 * jaw, 0.5), 0.17, 0.2, 0, 0, 2 * Math.PI);
    ctx.fill();
  }
  ctx.restore();
  if (beard === "moustache" || beard === "goatee" || beard === "full beard") {
    ctx.fillStyle = rgb(c.hair, 0.75);
    ctx.beginPath();
    ctx.moveTo(p.x(-0.33, 0.5), p.y(my - 0.02, 0.5));
    ctx.quadraticCurveTo(p.x(0, 0.6), p.y(my - 0.2, 0.6), p.x(0.33, 0.5), p.y(my - 0.02, 0.5));
    ctx.quadraticCurveTo(p.x(0, 0.6), p.y(my - 0.1, 0.6), p.x(-0.33, 0.5), p.y(my - 0.02, 0.5));
    ctx.fill();
  }
}

export function drawGlasses(ctx: SKRSContext2D, id: Identity, p: Projector): void {
  const kind = id.attributes.glasses;
  if (kind === "none") return;
  const z = 0.55;
  ctx.strokeStyle = "rgb(30,30,36)";
  ctx.lineWidth = 0.05;
  ctx.fillStyle = "rgba(200,220,240,0.10)";
  for (const side of [-1, 1]) {
    const ex = p.x(side * id.eyeX, z);
    const ey = p.y(-0.16, z);
    ctx.beginPath();
    if (kind === "round glasses") ctx.arc(ex, ey, 0.22, 0, 2 * Math.PI);
    else ctx.rect(ex - 0.25, ey - 0.16, 0.5, 0.31);
    ctx.fill();
    ctx.stroke();
    ctx.beginPath();
    ctx.moveTo(p.x(side * (id.eyeX + 0.24), z), ey - 0.04);
    ctx.lineTo(p.x(side * (id.faceW + 0.02), 0), ey - 0.06);
    ctx.stroke();
  }
  ctx.beginPath();
  ctx.moveTo(p.x(-id.eyeX + 0.22, z), p.y(-0.18, z));
  ctx.quadraticCurveTo(p.x(0, 0.6), p.y(-0.25, 0.6), p.x(id.eyeX - 0.22, z), p.y(-0.18, z));
  ctx.stroke();
}

/** Neck and shoulders with the clothes; the body does not follow the head's yaw and pitch. */
export function drawBody(ctx: SKRSContext2D, id: Identity, skin: Rgb, cloth: Rgb): void {
  const kind = id.attributes.clothes;
  ctx.fillStyle = rgb(skin, 0.86);
  ctx.fillRect(-0.38, 0.8, 0.76, 1.0);
  const top = id.faceH + 0.2;
  ctx.fillStyle = rgb(cloth);
  ctx.beginPath();
  ctx.moveTo(-2.6, 4);
  ctx.lineTo(-2.3, top + 0.5);
  ctx.quadraticCurveTo(-1.9, top + 0.05, -0.5, top);
  if (kind === "collared shirt" || kind === "suit jacket") ctx.lineTo(0, top + 0.7);
  else ctx.quadraticCurveTo(0, top + 0.45, 0.5, top);
  ctx.lineTo(0.5, top);
  ctx.quadraticCurveTo(1.9, top + 0.05, 2.3, top + 0.5);
  ctx.lineTo(2.6, 4);
  ctx.closePath();
  ctx.fill();
  if (kind === "suit jacket") {
    // White shirt in the V and dark lapel edges.
    ctx.fillStyle = "rgb(240,240,240)";
    ctx.beginPath();
    ctx.moveTo(-0.35, top + 0.05);
    ctx.lineTo(0, top + 1.2);
    ctx.lineTo(0.35, top + 0.05);
    ctx.lineTo(0, top + 0.45);
    ctx.closePath();
    ctx.fill();
    ctx.strokeStyle = rgb(cloth, 0.5);
    ctx.lineWidth = 0.06;
    ctx.beginPath();
    ctx.moveTo(-0.5, top);
    ctx.lineTo(-0.05, top + 1.3);
    ctx.moveTo(0.5, top);
    ctx.lineTo(0.05, top + 1.3);
    ctx.stroke();
  } else if (kind === "collared shirt") {
    ctx.fillStyle = rgb(cloth, 1.25);
    for (const side of [-1, 1]) {
      ctx.beginPath();
      ctx.moveTo(side * 0.5, top - 0.05);
      ctx.lineTo(side * 0.05, top + 0.45);
      ctx.lineTo(side * 0.55, top + 0.3);
      ctx.closePath();
      ctx.fill();
    }
  } else if (kind === "hoodie") {
    ctx.strokeStyle = rgb(cloth, 0.7);
    ctx.lineWidth = 0.22;
    ctx.beginPath();
    ctx.moveTo(-0.75, top + 0.3);
    ctx.quadraticCurveTo(0, top - 0.2, 0.75, top + 0.3);
    ctx.stroke();
    ctx.lineWidth = 0.05;
    ctx.strokeStyle = "rgb(235,235,235)";
    ctx.beginPath();
    ctx.moveTo(-0.2, top + 0.3);
    ctx.lineTo(-0.22, top + 0.9);
    ctx.moveTo(0.2, top + 0.3);
    ctx.lineTo(0.22, top + 0.9);
    ctx.stroke();
  } else if (kind === "sweater") {
    ctx.strokeStyle = rgb(cloth, 0.65);
    ctx.lineWidth = 0.14;
    ctx.beginPath();
    ctx.moveTo(-0.5, top + 0.02);
    ctx.quadraticCurveTo(0, top + 0.47, 0.5, top + 0.02);
    ctx.stroke();
  }
}
