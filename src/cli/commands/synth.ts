// `favchat synth`: renders labelled FaceWorld clips (src/data/faceworld/synth.ts). Reads FFMPEG_PATH here
// (only src/cli touches the environment) and passes the binary down.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Command } from "commander";
import { FavchatError } from "../../core/errors.ts";
import { emotionSheetPng } from "../../data/faceworld/emotion-sheet.ts";
import { parseSplit, synthesize } from "../../data/faceworld/synth.ts";
import { findFfmpeg } from "../../video/ffmpeg.ts";

function int(name: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n)) throw new FavchatError(`${name} must be an integer, got "${v}"`);
    return n;
  };
}

export function register(program: Command): void {
  program
    .command("synth")
    .description("render labelled synthetic facial videos (FaceWorld): MP4 + raw frames, clips.jsonl, contact sheet")
    .requiredOption("--out <dir>", "output directory")
    .requiredOption("--clips <n>", "number of clips", int("--clips"))
    .option("--seed <s>", "random seed (same seed, byte-identical output)", int("--seed"), 0)
    .option("--frames <f>", "frames per clip", int("--frames"), 16)
    .option("--size <px>", "frame width and height in pixels (even)", int("--size"), 112)
    .option("--fps <r>", "frames per second", Number, 8)
    .option("--split <a:b:c>", "train:val:test fractions of identities", "0.8:0.1:0.1")
    .option("--no-mp4", "skip MP4 (raw frames only; no ffmpeg needed)")
    .option("--no-raw", "skip raw frames (MP4 only)")
    .option("--h264-frames", "raw frames as the MP4 shows them (H.264 at the MP4's settings, decoded) instead of the clean render: train on what videos look like")
    .action(async (o: { out: string; clips: number; seed: number; frames: number; size: number; fps: number; split: string; mp4: boolean; raw: boolean; h264Frames?: boolean }) => {
      const ffmpeg = o.mp4 || o.h264Frames ? findFfmpeg({ ffmpegPath: process.env.FFMPEG_PATH, searchPath: process.env.PATH }).path : undefined;
      let last = 0;
      const { records, seconds } = await synthesize({
        out: o.out, clips: o.clips, seed: o.seed, frames: o.frames, size: o.size, fps: o.fps, split: parseSplit(o.split),
        mp4: o.mp4, raw: o.raw, h264Frames: o.h264Frames ?? false, ffmpeg,
        onProgress: (done, total) => {
          if (process.stderr.isTTY && (done === total || done - last >= 50)) {
            last = done;
            process.stderr.write(`\rfavchat synth: ${done}/${total} clips`);
          }
        },
      });
      if (process.stderr.isTTY) process.stderr.write("\n");
      const counts = { train: 0, val: 0, test: 0 };
      for (const r of records) counts[r.split ?? "train"]++;
      process.stdout.write(
        `wrote ${records.length} clips to ${o.out} in ${seconds.toFixed(1)} s (${(records.length / seconds).toFixed(1)} clips/s); ` +
          `splits train ${counts.train}, val ${counts.val}, test ${counts.test}; records ${o.out}/clips.jsonl, sheet ${o.out}/contact_sheet.png\n`,
      );
    });
  program
    .command("synth-sheet")
    .description("write a PNG of FaceWorld's 7 emotions: rest frame, subtle, moderate and strong apex per row")
    .requiredOption("--out <png>", "output PNG path")
    .option("--seed <s>", "random seed", int("--seed"), 0)
    .action((o: { out: string; seed: number }) => {
      mkdirSync(dirname(o.out), { recursive: true });
      writeFileSync(o.out, emotionSheetPng(o.seed));
      process.stdout.write(`wrote ${o.out}\n`);
    });
}
