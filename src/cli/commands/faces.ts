// `favchat faces VIDEO --out DIR`: samples frames, finds and tracks the main face, and writes one aligned PNG crop
// per frame, DIR/faces.json and DIR/contact_sheet.png (boxes drawn) for a person to check. Thin over src/video.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import sharp from "sharp";
import type { BackendName } from "../../core/backend.ts";
import { loadClip, type Clip } from "../../video/clip.ts";
import { contactSheetPng } from "../../video/contact-sheet.ts";
import { FaceDetector } from "../../video/faces/detect.ts";
import type { CropPolicy } from "../../video/faces/stabilize.ts";
import type { SampleSpec } from "../../video/sample.ts";
import { backendFromGlobals, parseFloatOption, parseIntOption } from "../options.ts";
import { ffmpegFromEnv } from "./probe.ts";

interface FacesOptions {
  out: string;
  frames: number;
  fps?: number;
  size: number;
  margin: number;
  crop: string;
  maxSide: number;
  faceCrop: boolean;
  cacheDir?: string;
  json?: boolean;
}

/** The faces.json document: one entry per sampled frame. */
export function facesJson(video: string, clip: Clip) {
  return {
    video,
    width: clip.meta.probe.width,
    height: clip.meta.probe.height,
    rotation: clip.meta.probe.rotation,
    size: clip.meta.options.size,
    faceCrop: clip.meta.options.faceCrop,
    frames: clip.times.map((timeSec, index) => {
      const f = clip.meta.track[index];
      return {
        index,
        timeSec,
        box: f?.box ?? null,
        landmarks: f?.landmarks ?? null,
        score: f?.score ?? 0,
        kind: f?.kind ?? "whole-frame",
        window: f?.window ?? null,
        crop: `face_${String(index).padStart(3, "0")}.png`,
      };
    }),
  };
}

export function register(program: Command): void {
  program
    .command("faces")
    .description("sample frames, find and track the main face, write aligned crops, faces.json and a contact sheet")
    .argument("<video>", "video file or a folder of images")
    .requiredOption("--out <dir>", "output folder (created if missing)")
    .option("--frames <n>", "frames sampled uniformly over the video", parseIntOption("--frames", 1), 16)
    .option("--fps <rate>", "sample one frame every 1/rate seconds instead (at most --frames frames)", parseFloatOption("--fps", 0.001, 1000))
    .option("--size <px>", "side of the square face crops", parseIntOption("--size", 16), 112)
    .option("--margin <fraction>", "context around the face box, as a fraction of its size", parseFloatOption("--margin", 0, 2), 0.4)
    .option("--crop <policy>", "how crops follow the face: steady (median scale and roll, centre on eyes and nose), frame (each frame's own box), static (one window)", "steady")
    .option("--max-side <px>", "decode frames with the longer side at most this (bounds memory for 4K/8K)", parseIntOption("--max-side", 64), 1280)
    .option("--no-face-crop", "skip face detection: crops are whole frames, letterboxed")
    .option("--cache-dir <dir>", "reuse clips cached here (keyed by content and options); default $FAVCHAT_CACHE_DIR, else none")
    .option("--json", "print faces.json to stdout")
    .action(async (video: string, o: FacesOptions, cmd: Command) => {
      // 1. Resolve: ffmpeg, sampling, backend and models.
      const ffmpeg = ffmpegFromEnv();
      const sample: SampleSpec = o.fps !== undefined ? { mode: "fps", fps: o.fps, maxFrames: o.frames } : { mode: "uniform", frames: o.frames };
      let detector: FaceDetector | undefined;
      if (o.faceCrop) {
        const backend = await backendFromGlobals(cmd);
        detector = await FaceDetector.create({ backend: backend as BackendName });
      }
      // 2. Run the pipeline.
      const cacheDir = o.cacheDir ?? (process.env.FAVCHAT_CACHE_DIR || undefined);
      const clip = await loadClip(video, { ffmpeg, detector, cacheDir }, { sample, size: o.size, margin: o.margin, crop: o.crop as CropPolicy, maxSide: o.maxSide, faceCrop: o.faceCrop });
      detector?.dispose();
      // 3. Write crops, faces.json and the contact sheet.
      await mkdir(o.out, { recursive: true });
      const doc = facesJson(video, clip);
      await Promise.all(
        clip.faces.map((f, i) =>
          sharp(f.data, { raw: { width: f.width, height: f.height, channels: 3 } }).png().toFile(path.join(o.out, doc.frames[i].crop)),
        ),
      );
      await writeFile(path.join(o.out, "faces.json"), JSON.stringify(doc, null, 2) + "\n");
      await writeFile(path.join(o.out, "contact_sheet.png"), await contactSheetPng(clip));
      if (o.json) {
        process.stdout.write(JSON.stringify(doc) + "\n");
        return;
      }
      const found = o.faceCrop ? `, main face detected in ${clip.meta.detectedFrames} of ${clip.frames.length} frames` : "";
      process.stdout.write(`wrote ${clip.faces.length} crops, faces.json and contact_sheet.png to ${o.out}${found}\n`);
    });
}
