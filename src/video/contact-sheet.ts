// A contact sheet for a person to check a clip at a glance (issue 3): every sampled frame in a grid with the main
// face's box and landmarks drawn (green detected, amber interpolated), its index, time and score, beside its crop.
import { createCanvas, type SKRSContext2D } from "@napi-rs/canvas";
import type { Clip } from "./clip.ts";
import type { RgbFrame } from "./frame.ts";

export interface SheetOptions {
  /** Width of each frame's thumbnail in pixels (default 320). */
  readonly thumbWidth?: number;
  /** Thumbnails per row (default 4). */
  readonly columns?: number;
}

function toImageData(ctx: SKRSContext2D, frame: RgbFrame) {
  const img = ctx.createImageData(frame.width, frame.height);
  const n = frame.width * frame.height;
  for (let i = 0; i < n; i++) {
    img.data[i * 4] = frame.data[i * 3];
    img.data[i * 4 + 1] = frame.data[i * 3 + 1];
    img.data[i * 4 + 2] = frame.data[i * 3 + 2];
    img.data[i * 4 + 3] = 255;
  }
  return img;
}

/** Renders the sheet and returns it as PNG bytes. */
export async function contactSheetPng(clip: Clip, options: SheetOptions = {}): Promise<Buffer> {
  const f0 = clip.frames[0];
  const thumbW = options.thumbWidth ?? 320;
  const thumbH = Math.round((thumbW * f0.height) / f0.width);
  const crop = Math.min(thumbH, clip.faces[0].width);
  const label = 18;
  const cellW = thumbW + crop + 6;
  const cellH = thumbH + label + 6;
  const columns = Math.min(options.columns ?? 4, clip.frames.length);
  const rows = Math.ceil(clip.frames.length / columns);
  const canvas = createCanvas(columns * cellW, rows * cellH);
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#202020";
  ctx.fillRect(0, 0, canvas.width, canvas.height);

  // Frames are drawn through a scratch canvas at their decoded size, then scaled into the cell.
  const scratch = createCanvas(f0.width, f0.height);
  const sctx = scratch.getContext("2d");
  const faceCanvas = createCanvas(clip.faces[0].width, clip.faces[0].height);
  const fctx = faceCanvas.getContext("2d");
  // Boxes are in displayed pixels; thumbnails scale from those.
  const toThumb = thumbW / clip.meta.probe.width;

  clip.frames.forEach((frame, i) => {
    const x0 = (i % columns) * cellW + 3;
    const y0 = Math.floor(i / columns) * cellH + 3;
    sctx.putImageData(toImageData(sctx, frame), 0, 0);
    ctx.drawImage(scratch, x0, y0, thumbW, thumbH);
    fctx.putImageData(toImageData(fctx, clip.faces[i]), 0, 0);
    ctx.drawImage(faceCanvas, x0 + thumbW + 3, y0, crop, crop);

    const face = clip.meta.track[i];
    let text = `#${i} ${clip.times[i].toFixed(2)}s`;
    if (face?.box) {
      ctx.strokeStyle = face.kind === "detected" ? "#30e030" : "#f0b020";
      ctx.lineWidth = 2;
      ctx.strokeRect(x0 + face.box.x * toThumb, y0 + face.box.y * toThumb, face.box.width * toThumb, face.box.height * toThumb);
      ctx.fillStyle = "#ff4040";
      for (const [lx, ly] of face.landmarks ?? []) ctx.fillRect(x0 + lx * toThumb - 1.5, y0 + ly * toThumb - 1.5, 3, 3);
      text += face.kind === "detected" ? ` score ${face.score.toFixed(2)}` : " interpolated";
    } else if (clip.meta.options.faceCrop) {
      text += " no face";
    }
    ctx.fillStyle = "#e0e0e0";
    ctx.font = "13px sans-serif";
    ctx.fillText(text, x0, y0 + thumbH + 14);
  });
  return canvas.encode("png");
}
