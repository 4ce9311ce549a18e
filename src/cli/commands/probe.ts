// `favchat probe VIDEO`: size as displayed, fps, duration, frame count, codec and rotation of a video (or a folder
// of images). Reads FFMPEG_PATH and PATH here (only src/cli touches the environment) and passes them down.
import type { Command } from "commander";
import { findFfmpeg } from "../../video/ffmpeg.ts";
import { probeVideo } from "../../video/probe.ts";

export function ffmpegFromEnv() {
  return findFfmpeg({ ffmpegPath: process.env.FFMPEG_PATH, searchPath: process.env.PATH });
}

export function register(program: Command): void {
  program
    .command("probe")
    .description("show a video's displayed size, fps, duration, frame count, codec and rotation")
    .argument("<video>", "video file (MP4, WebM, MOV, MKV, AVI, GIF, ...) or a folder of images")
    .option("--json", "print JSON: width, height, fps, durationSec, frameCount, codec, rotation")
    .action(async (video: string, o: { json?: boolean }) => {
      const p = await probeVideo(ffmpegFromEnv(), video);
      const out = { width: p.width, height: p.height, fps: p.fps, durationSec: p.durationSec, frameCount: p.frameCount, codec: p.codec, rotation: p.rotation };
      if (o.json) {
        process.stdout.write(JSON.stringify(out) + "\n");
        return;
      }
      const stored = p.rotation !== 0 ? ` (stored ${p.codedWidth}x${p.codedHeight}, rotated ${p.rotation} degrees on display)` : "";
      process.stdout.write(
        `${video}: ${p.width}x${p.height}${stored}, ${p.codec}, ${p.fps} fps, ${p.durationSec.toFixed(3)} s, ${p.frameCount} frames\n`,
      );
    });
}
