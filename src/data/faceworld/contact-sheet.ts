// Contact sheets: a grid of frames with a caption under each, as a PNG. `favchat synth` writes one for
// every output directory, and the README's emotion sheet (7 emotions, subtle and strong) uses the same code.
import { createCanvas } from "@napi-rs/canvas";

export interface SheetTile {
  /** [H, W, 3] RGB bytes. */
  rgb: Uint8Array;
  width: number;
  height: number;
  caption: string;
}

/** Lays tiles out row by row, `cols` per row, each scaled by `zoom`, and returns PNG bytes. */
export function contactSheetPng(tiles: readonly SheetTile[], cols: number, zoom = 1): Buffer {
  if (tiles.length === 0) throw new Error("contactSheetPng: no tiles");
  const tw = tiles[0].width * zoom;
  const th = tiles[0].height * zoom;
  const captionH = 14;
  const rows = Math.ceil(tiles.length / cols);
  const canvas = createCanvas(cols * tw, rows * (th + captionH));
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "rgb(20,20,24)";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const tile = createCanvas(tiles[0].width, tiles[0].height);
  const tctx = tile.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  tiles.forEach((t, i) => {
    const img = tctx.createImageData(t.width, t.height);
    for (let p = 0, q = 0; p < t.width * t.height * 3; p += 3, q += 4) {
      img.data[q] = t.rgb[p];
      img.data[q + 1] = t.rgb[p + 1];
      img.data[q + 2] = t.rgb[p + 2];
      img.data[q + 3] = 255;
    }
    tctx.putImageData(img, 0, 0);
    const x = (i % cols) * tw;
    const y = Math.floor(i / cols) * (th + captionH);
    ctx.drawImage(tile, x, y, tw, th);
    ctx.fillStyle = "rgb(235,235,235)";
    ctx.font = "10px sans-serif";
    ctx.fillText(t.caption, x + 3, y + th + 11, tw - 6);
  });
  return canvas.toBuffer("image/png");
}
