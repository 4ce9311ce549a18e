// Probing a video (issue 3): displayed size (rotation and pixel aspect applied), fps, duration, frame count, codec.
// The bundled ffmpeg (2018) ships no ffprobe, so one `ffmpeg -i FILE -map 0:V:0 -c copy -f null -` run does it:
// its stderr has the stream header, and the copy pass (demux only, no decoding) counts the packets exactly.
import { open, stat } from "node:fs/promises";
import { FavchatError } from "../core/errors.ts";
import { explainFfmpegFailure, fileInput, runFfmpeg, type FfmpegBinary } from "./ffmpeg.ts";
import { probeImageFolder } from "./images.ts";

export interface VideoProbe {
  /** The path as given. */
  readonly path: string;
  /** "video" for a file ffmpeg reads, "images" for a folder of images. */
  readonly kind: "video" | "images";
  /** Width and height as displayed: rotation and sample aspect ratio applied. */
  readonly width: number;
  readonly height: number;
  /** Average frame rate (frames per second). */
  readonly fps: number;
  readonly durationSec: number;
  /** Exact count of video packets (frames) in the file. */
  readonly frameCount: number;
  readonly codec: string;
  /** Clockwise rotation in degrees (0, 90, 180, 270) that display applies to the stored frames. */
  readonly rotation: number;
  /** Frame size as stored in the stream, before rotation and aspect correction. */
  readonly codedWidth: number;
  readonly codedHeight: number;
  /** Time of the last frame after the first, in seconds (the span sampling spreads over). */
  readonly lastFrameSec: number;
  /** Presentation time of the first frame, in seconds. */
  readonly startSec: number;
  /** The image files of a folder input, in playback order; empty for a video file. */
  readonly files: readonly string[];
}

export interface ProbeOptions {
  readonly timeoutMs?: number;
  /** Frame rate given to a folder of images (default 25). */
  readonly imageFps?: number;
}

const num = (s: string | undefined): number => (s === undefined ? NaN : Number(s));

/** A rate such as "29.97", "30", "1k" (ffmpeg's shorthand for 1000). */
function parseRate(s: string | undefined): number {
  if (s === undefined) return NaN;
  return s.endsWith("k") ? num(s.slice(0, -1)) * 1000 : num(s);
}

function parseClock(s: string | undefined): number {
  const m = s?.match(/^(\d+):(\d+):(\d+(?:\.\d+)?)$/);
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : NaN;
}

/** Normalises any angle to one of 0, 90, 180, 270. */
function quarterTurns(deg: number): number {
  return (((Math.round(deg / 90) * 90) % 360) + 360) % 360;
}

/** The parts of ffmpeg's stderr a probe needs; exported for table tests. */
export interface ParsedInfo {
  readonly codec: string;
  readonly codedWidth: number;
  readonly codedHeight: number;
  readonly sar: readonly [number, number];
  readonly fps: number;
  /** ffmpeg's guess of the base frame rate (the finest frame spacing for variable frame rate video). */
  readonly tbr: number;
  readonly headerDurationSec: number;
  readonly startSec: number;
  readonly rotation: number;
  readonly packetCount: number;
  readonly lastPacketSec: number;
}

/** Parses the stderr of `ffmpeg -i FILE -map 0:V:0 -c copy -f null -`. Returns null when no video stream is listed. */
export function parseFfmpegInfo(stderr: string): ParsedInfo | null {
  const inputPart = stderr.split(/\nOutput #0|\nStream mapping:/)[0];
  const lines = inputPart.split("\n");
  const videoAt = lines.findIndex((l) => /Stream #\d+:\d+.*: Video: /.test(l) && !/\(attached pic\)/.test(l));
  if (videoAt < 0) return null;
  const streamLine = lines[videoAt];
  // The stream's own block: its metadata and side data lines, up to the next stream.
  const block: string[] = [];
  for (let i = videoAt + 1; i < lines.length && !/Stream #/.test(lines[i]); i++) block.push(lines[i]);
  const blockText = block.join("\n");

  const codec = streamLine.match(/Video: ([\w-]+)/)?.[1] ?? "unknown";
  const size = streamLine.match(/[ ,](\d{1,6})x(\d{1,6})[ ,[]/);
  const sar = streamLine.match(/SAR (\d+):(\d+)/);
  const fps = parseRate(streamLine.match(/([\d.]+k?) fps/)?.[1]);
  const tbr = parseRate(streamLine.match(/([\d.]+k?) tbr/)?.[1]);
  const duration = stderr.match(/Duration: ([\d:.]+|N\/A)(?:, start: (-?[\d.]+))?/);
  // The display matrix angle is counter-clockwise; the older `rotate` tag is clockwise. Prefer the matrix.
  const matrix = blockText.match(/displaymatrix: rotation of (-?[\d.]+) degrees/);
  const tag = blockText.match(/rotate\s*:\s*(-?\d+)/);
  const rotation = matrix ? quarterTurns(-Number(matrix[1])) : tag ? quarterTurns(Number(tag[1])) : 0;
  const frames = [...stderr.matchAll(/frame=\s*(\d+)/g)];
  const times = [...stderr.matchAll(/time=\s*(-?[\d:.]+)/g)];
  const sarNum = sar ? Number(sar[1]) : 1;
  const sarDen = sar ? Number(sar[2]) : 1;
  return {
    codec,
    codedWidth: size ? Number(size[1]) : NaN,
    codedHeight: size ? Number(size[2]) : NaN,
    sar: sarNum > 0 && sarDen > 0 ? [sarNum, sarDen] : [1, 1],
    fps: Number.isFinite(fps) && fps > 0 ? fps : tbr,
    tbr,
    headerDurationSec: duration ? parseClock(duration[1]) : NaN,
    startSec: duration?.[2] !== undefined ? Number(duration[2]) : 0,
    rotation,
    packetCount: frames.length > 0 ? Number(frames[frames.length - 1][1]) : 0,
    lastPacketSec: times.length > 0 ? parseClock(times[times.length - 1][1]) : NaN,
  };
}

/** Displayed size: sample aspect ratio stretches the width, a quarter turn swaps the sides. */
export function displaySize(info: Pick<ParsedInfo, "codedWidth" | "codedHeight" | "sar" | "rotation">): [number, number] {
  const w = Math.max(1, Math.round((info.codedWidth * info.sar[0]) / info.sar[1]));
  const h = info.codedHeight;
  return info.rotation === 90 || info.rotation === 270 ? [h, w] : [w, h];
}

async function readHead(file: string): Promise<Uint8Array> {
  const fh = await open(file, "r");
  try {
    const buf = new Uint8Array(512);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Checks the path exists and is non-empty, with messages a person can act on. */
export async function checkInputPath(file: string): Promise<"file" | "dir"> {
  let s;
  try {
    s = await stat(file);
  } catch {
    throw new FavchatError(`video not found: ${file}; check the path (quote it if it has spaces)`);
  }
  if (s.isDirectory()) return "dir";
  if (!s.isFile()) throw new FavchatError(`${file} is not a regular file; give a video file or a folder of images`);
  if (s.size === 0) throw new FavchatError(`${file} is empty (0 bytes); the download or export probably failed, make it again`);
  return "file";
}

/** Probes a video file or a folder of images. */
export async function probeVideo(bin: FfmpegBinary, file: string, options: ProbeOptions = {}): Promise<VideoProbe> {
  if ((await checkInputPath(file)) === "dir") return probeImageFolder(file, options.imageFps ?? 25);
  const args = ["-i", fileInput(file), "-map", "0:V:0", "-c", "copy", "-f", "null", "-"];
  const res = await runFfmpeg(bin, args, { timeoutMs: options.timeoutMs ?? 60_000, what: `probing ${file}` });
  const info = parseFfmpegInfo(res.stderr);
  if (res.code !== 0 || info === null) {
    if (info === null && /Stream #\d+:\d+.*: Audio: /.test(res.stderr)) {
      throw new FavchatError(`${file} has no video stream (audio only); favchat needs a file with video`);
    }
    throw explainFfmpegFailure(res.stderr, file, await readHead(file));
  }
  if (!(info.codedWidth > 0 && info.codedHeight > 0)) {
    throw new FavchatError(`${file}: ffmpeg reports no frame size for its video stream (codec ${info.codec}); the file may be damaged`);
  }
  if (info.packetCount === 0) {
    throw new FavchatError(`${file} has a video stream but no frames in it; the file is probably truncated, re-export it`);
  }
  const [width, height] = displaySize(info);
  let fps = info.fps;
  // ffmpeg shifts output times to start at 0, so the copy pass's last time is already relative to the first frame.
  const lastSec = info.lastPacketSec;
  if (!(fps > 0) && lastSec > 0) fps = (info.packetCount - 1) / lastSec;
  if (!(fps > 0)) fps = 25; // one frame and no rate in the header: any rate describes it
  // GIFs and some WebMs carry no duration in the header; the last packet's time plus one frame is exact enough.
  const fromPackets = Number.isFinite(lastSec) ? lastSec + 1 / fps : info.packetCount / fps;
  const durationSec = Number.isFinite(info.headerDurationSec) && info.headerDurationSec > 0 ? info.headerDurationSec : fromPackets;
  // The span sampling spreads over: the header duration less one frame at the base rate (tbr), which for variable
  // frame rate video is the finest spacing. Without one (GIF) the last packet time, capped at frameCount - 1 frames.
  const frameSec = 1 / Math.max(fps, Number.isFinite(info.tbr) ? info.tbr : 0);
  const lastFrameSec = Math.max(
    0,
    Number.isFinite(info.headerDurationSec) && info.headerDurationSec > 0
      ? Math.min(durationSec - frameSec, info.packetCount > 1 ? durationSec : 0)
      : Math.min(Number.isFinite(lastSec) ? lastSec : Infinity, (info.packetCount - 1) / fps),
  );
  return {
    path: file,
    kind: "video",
    width,
    height,
    fps: Math.round(fps * 1000) / 1000,
    durationSec: Math.round(durationSec * 1000) / 1000,
    frameCount: info.packetCount,
    codec: info.codec,
    rotation: info.rotation,
    lastFrameSec: Math.round(lastFrameSec * 1e6) / 1e6,
    codedWidth: info.codedWidth,
    codedHeight: info.codedHeight,
    startSec: info.startSec,
    files: [],
  };
}
