// Decoding sampled frames to RGB over an ffmpeg pipe (DESIGN 3): ffmpeg picks the frames (`select`), rotates them
// upright (its autorotate honours the rotation flag), scales them to the decode size and writes rgb24 to stdout.
// Only the sampled frames cross the pipe, into one buffer sized up front, so memory is bounded even for 8K input.
import { FavchatError } from "../core/errors.ts";
import { explainFfmpegFailure, fileInput, runFfmpeg, type FfmpegBinary } from "./ffmpeg.ts";
import { fitSize, makeFrame, type RgbFrame } from "./frame.ts";
import { decodeImage } from "./images.ts";
import type { VideoProbe } from "./probe.ts";
import { imageIndices, planSamples, sampleTimes, selectExpression, type SampleSpec } from "./sample.ts";

export interface DecodeOptions {
  readonly sample: SampleSpec;
  /** Longest side of the decoded frames; larger videos are shrunk by ffmpeg (default 1280). */
  readonly maxSide?: number;
  readonly timeoutMs?: number;
}

export interface DecodedFrames {
  readonly frames: RgbFrame[];
  /** Seconds after the video's first frame, one per frame. */
  readonly times: number[];
  /** The times the plan asked for (may be more than frames came out of a damaged file). */
  readonly targetTimes: number[];
}

/** `pts_time` of each frame showinfo reports, in output order. */
export function parseShowinfoTimes(stderr: string): number[] {
  return [...stderr.matchAll(/\] n:\s*\d+ pts:\s*-?\d+ pts_time:(-?[\d.e+-]+)/g)].map((m) => Number(m[1]));
}

export async function decodeSamples(bin: FfmpegBinary, probe: VideoProbe, options: DecodeOptions): Promise<DecodedFrames> {
  const maxSide = options.maxSide ?? 1280;
  if (!(maxSide >= 16)) throw new FavchatError(`maxSide must be at least 16 pixels, got ${maxSide}`);
  const [width, height] = fitSize(probe.width, probe.height, maxSide);
  const plan = planSamples(options.sample, probe.lastFrameSec);
  const targetTimes = sampleTimes(plan);

  if (probe.kind === "images") {
    const indices = imageIndices(plan, probe.fps, probe.files.length);
    const frames: RgbFrame[] = [];
    for (const i of indices) frames.push(await decodeImage(probe.files[i], width, height));
    return { frames, times: indices.map((i) => i / probe.fps), targetTimes };
  }

  // 1. One buffer for every frame the plan can produce; ffmpeg is stopped if it sends more.
  const frameBytes = width * height * 3;
  const buffer = new Uint8Array(frameBytes * plan.count);
  let filled = 0;
  const onStdout = (chunk: Buffer) => {
    if (filled + chunk.length > buffer.length) {
      throw new Error(`decode: ffmpeg sent more than the ${plan.count} frames asked for`);
    }
    buffer.set(chunk, filled);
    filled += chunk.length;
  };
  // 2. select -> showinfo (times of the kept frames) -> scale -> rgb24. Autorotation runs before this chain.
  const filters = [selectExpression(plan), "showinfo", `scale=${width}:${height}:flags=area`, "format=rgb24"].join(",");
  const args = [
    "-i", fileInput(probe.path), "-map", "0:V:0", "-an", "-sn",
    "-vf", filters, "-vsync", "0", "-frames:v", String(plan.count),
    "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1",
  ];
  const res = await runFfmpeg(bin, args, { timeoutMs: options.timeoutMs ?? 120_000, onStdout, what: `decoding ${probe.path}` });

  // 3. Whole frames only; a damaged file may end early, which is kept as long as something decoded.
  const count = Math.floor(filled / frameBytes);
  if (count === 0) {
    if (res.code !== 0) throw explainFfmpegFailure(res.stderr, probe.path);
    throw new FavchatError(`no frames could be decoded from ${probe.path}; the file may be damaged, re-export it`);
  }
  const frames: RgbFrame[] = [];
  for (let i = 0; i < count; i++) frames.push(makeFrame(width, height, buffer.subarray(i * frameBytes, (i + 1) * frameBytes)));
  const shown = parseShowinfoTimes(res.stderr);
  const times = frames.map((_, i) => {
    const t = shown[i];
    return Number.isFinite(t) ? Math.max(0, Math.round((t - probe.startSec) * 1e6) / 1e6) : targetTimes[i];
  });
  return { frames, times, targetTimes };
}
