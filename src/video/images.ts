// A folder of images read as a video (issue 3): files sorted in natural order ("2.png" before "10.png"),
// EXIF orientation applied, every image fitted into the first one's displayed size (letterboxed, not stretched).
import { readdir } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { FavchatError } from "../core/errors.ts";
import { makeFrame, type RgbFrame } from "./frame.ts";
import type { VideoProbe } from "./probe.ts";

const IMAGE_EXTENSIONS = new Set([".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".avif", ".gif"]);

const naturalOrder = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

/** Image files of a folder, in playback order. */
export async function listImages(dir: string): Promise<string[]> {
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isFile() && IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase()))
    .map((e) => e.name)
    .sort(naturalOrder.compare);
  return names.map((n) => path.join(dir, n));
}

export async function probeImageFolder(dir: string, fps: number): Promise<VideoProbe> {
  if (!(fps > 0)) throw new FavchatError(`image frame rate must be positive, got ${fps}`);
  const files = await listImages(dir);
  if (files.length === 0) {
    throw new FavchatError(
      `${dir} is a folder with no images in it (looked for ${[...IMAGE_EXTENSIONS].join(" ")}); give a video file or a folder of frames`,
    );
  }
  let meta;
  try {
    meta = await sharp(files[0]).metadata();
  } catch (e) {
    throw new FavchatError(`cannot read the image ${files[0]} (${(e as Error).message}); remove or replace it`);
  }
  // EXIF orientations 5-8 are quarter turns: the displayed sides are swapped.
  const turned = (meta.orientation ?? 1) >= 5;
  const rotation = [0, 0, 0, 180, 180, 90, 90, 270, 270][meta.orientation ?? 1] ?? 0;
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  return {
    path: dir,
    kind: "images",
    width: turned ? h : w,
    height: turned ? w : h,
    fps,
    durationSec: files.length / fps,
    frameCount: files.length,
    codec: "images",
    rotation,
    lastFrameSec: (files.length - 1) / fps,
    codedWidth: w,
    codedHeight: h,
    startSec: 0,
    files,
  };
}

/** Decodes one image of a folder at width x height (letterboxed into that box). */
export async function decodeImage(file: string, width: number, height: number): Promise<RgbFrame> {
  try {
    const data = await sharp(file)
      .rotate()
      .resize(width, height, { fit: "contain", background: { r: 0, g: 0, b: 0 } })
      .removeAlpha()
      .raw()
      .toBuffer();
    return makeFrame(width, height, new Uint8Array(data.buffer, data.byteOffset, data.length));
  } catch (e) {
    throw new FavchatError(`cannot read the image ${file} (${(e as Error).message}); remove or replace it`);
  }
}
