// The scene around the face: a static background drawn once per clip, an object that moves across it,
// and the lighting overlay. These are the cues that scene questions need the general encoder for.
import { createCanvas, type Canvas, type SKRSContext2D } from "@napi-rs/canvas";
import { Rng } from "../../core/rng.ts";
import { rgb, type Rgb } from "./draw-face.ts";
import type { ScenePlan } from "./plan.ts";

const WALL_RGB: Record<ScenePlan["wallColour"], Rgb> = {
  grey: [150, 150, 150], beige: [215, 200, 170], "light blue": [160, 190, 220], "pale green": [170, 205, 170], pink: [225, 175, 185],
};

/** Draws the clip's static background into `canvas` (a new one by default; synth reuses one, see render.ts). */
export function drawBackground(scene: ScenePlan, size: number, canvas: Canvas = createCanvas(size, size)): Canvas {
  const ctx = canvas.getContext("2d");
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, size, size);
  const rng = new Rng(scene.pixelSeed).fork("background");
  const wall = WALL_RGB[scene.wallColour];
  ctx.fillStyle = rgb(wall);
  ctx.fillRect(0, 0, size, size);
  const u = size / 112;
  if (scene.background === "striped wall") {
    ctx.fillStyle = rgb(wall, 0.82);
    const w = (6 + rng.int(6)) * u;
    for (let x = rng.uniform(0, w); x < size; x += 2 * w) ctx.fillRect(x, 0, w, size);
  } else if (scene.background === "window") {
    const x = rng.bool() ? 6 * u : size - 40 * u;
    ctx.fillStyle = "rgb(150,200,240)";
    ctx.fillRect(x, 10 * u, 34 * u, 44 * u);
    ctx.strokeStyle = "rgb(245,245,245)";
    ctx.lineWidth = 3 * u;
    ctx.strokeRect(x, 10 * u, 34 * u, 44 * u);
    ctx.beginPath();
    ctx.moveTo(x + 17 * u, 10 * u);
    ctx.lineTo(x + 17 * u, 54 * u);
    ctx.stroke();
  } else if (scene.background === "outdoors") {
    const sky = ctx.createLinearGradient(0, 0, 0, size * 0.6);
    sky.addColorStop(0, "rgb(110,160,225)");
    sky.addColorStop(1, "rgb(190,215,240)");
    ctx.fillStyle = sky;
    ctx.fillRect(0, 0, size, size * 0.6);
    ctx.fillStyle = "rgb(80,140,70)";
    ctx.fillRect(0, size * 0.6, size, size * 0.4);
    const tx = rng.bool() ? 14 * u : size - 14 * u;
    ctx.fillStyle = "rgb(100,70,40)";
    ctx.fillRect(tx - 3 * u, size * 0.35, 6 * u, size * 0.3);
    ctx.fillStyle = "rgb(50,110,50)";
    ctx.beginPath();
    ctx.arc(tx, size * 0.3, 13 * u, 0, 2 * Math.PI);
    ctx.fill();
  } else if (scene.background === "bookshelf") {
    ctx.fillStyle = "rgb(110,75,45)";
    ctx.fillRect(0, 0, size, size);
    const books: Rgb[] = [[160, 40, 40], [40, 80, 150], [200, 170, 60], [60, 120, 70], [220, 220, 210]];
    for (let shelf = 0; shelf < 4; shelf++) {
      const y = (4 + shelf * 28) * u;
      for (let x = 2 * u; x < size; ) {
        const w = (3 + rng.int(4)) * u;
        ctx.fillStyle = rgb(rng.pick(books));
        ctx.fillRect(x, y, w - u, (20 + rng.int(4)) * u);
        x += w;
      }
    }
  }
  return canvas;
}

export function drawObject(ctx: SKRSContext2D, scene: ScenePlan, pos: [number, number], size: number): void {
  if (scene.object === "none") return;
  const x = pos[0] * size;
  const y = pos[1] * size;
  const r = size * 0.06;
  ctx.beginPath();
  switch (scene.object) {
    case "red ball":
    case "green ball":
      ctx.fillStyle = scene.object === "red ball" ? "rgb(210,40,40)" : "rgb(40,170,60)";
      ctx.arc(x, y, r, 0, 2 * Math.PI);
      ctx.fill();
      break;
    case "blue square":
      ctx.fillStyle = "rgb(40,60,200)";
      ctx.fillRect(x - r, y - r, 2 * r, 2 * r);
      break;
    case "yellow triangle":
      ctx.fillStyle = "rgb(230,200,30)";
      ctx.moveTo(x, y - r);
      ctx.lineTo(x + r, y + r);
      ctx.lineTo(x - r, y + r);
      ctx.fill();
      break;
    case "white bird":
      ctx.strokeStyle = "rgb(250,250,250)";
      ctx.lineWidth = r * 0.35;
      ctx.moveTo(x - r, y - r * 0.4);
      ctx.quadraticCurveTo(x - r * 0.4, y - r * 0.8, x, y);
      ctx.quadraticCurveTo(x + r * 0.4, y - r * 0.8, x + r, y - r * 0.4);
      ctx.stroke();
      break;
  }
}

export function drawLighting(ctx: SKRSContext2D, scene: ScenePlan, size: number): void {
  switch (scene.lighting) {
    case "even":
      return;
    case "dim":
      ctx.fillStyle = "rgba(0,0,0,0.38)";
      ctx.fillRect(0, 0, size, size);
      return;
    case "bright":
      ctx.fillStyle = "rgba(255,250,240,0.22)";
      ctx.fillRect(0, 0, size, size);
      return;
    default: {
      const fromLeft = scene.lighting === "from the left";
      const g = ctx.createLinearGradient(fromLeft ? 0 : size, 0, fromLeft ? size : 0, 0);
      g.addColorStop(0, "rgba(255,245,225,0.25)");
      g.addColorStop(0.5, "rgba(0,0,0,0)");
      g.addColorStop(1, "rgba(0,0,0,0.35)");
      ctx.fillStyle = g;
      ctx.fillRect(0, 0, size, size);
    }
  }
}
