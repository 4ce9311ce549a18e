// Encodes RGB frames to MP4 over an ffmpeg pipe (FaceWorld's clips). The binary is found by
// src/video/ffmpeg.ts's findFfmpeg (FFMPEG_PATH, a system ffmpeg, then the one npm ships).
import { spawn } from "node:child_process";
import { FavchatError } from "../core/errors.ts";

export interface EncodeOptions {
  ffmpeg: string;
  width: number;
  height: number;
  fps: number;
  /** x264 constant rate factor: lower is better quality (default 20). */
  crf?: number;
}

/**
 * Encodes [F, H, W, 3] RGB bytes to an H.264 MP4. One encoder thread and bit-exact flags, so the
 * same frames give the same file bytes (the synth command promises byte-identical output per seed).
 */
export function encodeMp4(rgb: Uint8Array, out: string, o: EncodeOptions): Promise<void> {
  if (o.width % 2 || o.height % 2) throw new FavchatError(`MP4 needs even frame sizes for yuv420p, got ${o.width}x${o.height}`);
  const args = [
    "-v", "error", "-nostdin",
    "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", `${o.width}x${o.height}`, "-r", String(o.fps), "-i", "-",
    "-c:v", "libx264", "-preset", "veryfast", "-crf", String(o.crf ?? 20), "-pix_fmt", "yuv420p",
    "-threads", "1", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1",
    "-movflags", "+faststart", "-y", out,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(o.ffmpeg, args, { stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (err) => reject(new FavchatError(`cannot run ffmpeg (${o.ffmpeg}): ${err.message}`, { cause: err })));
    child.on("close", (code) => {
      if (code === 0) resolve();
      else reject(new FavchatError(`ffmpeg failed writing ${out} (exit ${code}): ${stderr.trim().slice(-400)}`));
    });
    child.stdin.on("error", () => {
      // EPIPE when ffmpeg dies early: the close handler reports its stderr.
    });
    child.stdin.end(rgb);
  });
}
