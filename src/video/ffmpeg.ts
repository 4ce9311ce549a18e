// Finding and running ffmpeg (DESIGN 3, issue 3): the binary comes from FFMPEG_PATH, else a system ffmpeg on PATH,
// else the one @ffmpeg-installer/ffmpeg ships, so `npm ci` is enough. Every run has a timeout, and ffmpeg's
// stderr is turned into a message that says what was wrong with the input and what to do.
import { spawn } from "node:child_process";
import { accessSync, constants as fsConstants, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { FavchatError } from "../core/errors.ts";

/** Where to look for ffmpeg; the CLI fills these from the environment (nothing below src/cli reads it). */
export interface FfmpegLookup {
  /** An explicit binary (FFMPEG_PATH). Must exist when given. */
  readonly ffmpegPath?: string;
  /** The PATH string to search for a system `ffmpeg`. */
  readonly searchPath?: string;
}

export interface FfmpegBinary {
  readonly path: string;
  readonly source: "FFMPEG_PATH" | "system" | "@ffmpeg-installer/ffmpeg";
}

function isExecutable(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Resolves the ffmpeg binary in the documented order. */
export function findFfmpeg(lookup: FfmpegLookup = {}): FfmpegBinary {
  if (lookup.ffmpegPath !== undefined && lookup.ffmpegPath !== "") {
    if (!isExecutable(lookup.ffmpegPath)) {
      throw new FavchatError(
        `FFMPEG_PATH points to "${lookup.ffmpegPath}", which is not an executable file; fix it or unset FFMPEG_PATH to use the bundled ffmpeg`,
      );
    }
    return { path: lookup.ffmpegPath, source: "FFMPEG_PATH" };
  }
  for (const dir of (lookup.searchPath ?? "").split(path.delimiter)) {
    if (dir === "") continue;
    const candidate = path.join(dir, "ffmpeg");
    if (isExecutable(candidate)) return { path: candidate, source: "system" };
  }
  try {
    const require = createRequire(import.meta.url);
    const installer = require("@ffmpeg-installer/ffmpeg") as { path: string };
    if (isExecutable(installer.path)) return { path: installer.path, source: "@ffmpeg-installer/ffmpeg" };
  } catch {
    // fall through to the error below
  }
  throw new FavchatError(
    "no ffmpeg found: set FFMPEG_PATH, install ffmpeg on PATH, or run `npm ci` so @ffmpeg-installer/ffmpeg provides one",
  );
}

export interface FfmpegRunOptions {
  /** Kill ffmpeg after this many milliseconds (default 120 s). */
  readonly timeoutMs?: number;
  /** Called with each chunk of stdout; when absent stdout is collected and returned. */
  readonly onStdout?: (chunk: Buffer) => void;
  /** What the run is for, used in the timeout message ("decoding clip.mp4"). */
  readonly what: string;
}

export interface FfmpegResult {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Keeps at most this much of stderr (the head has the stream info, the tail has the error). */
const STDERR_KEEP = 256 * 1024;

/** Runs ffmpeg with `args` (no shell), under a timeout. Resolves on exit with any exit code; rejects on timeout. */
export function runFfmpeg(bin: FfmpegBinary, args: readonly string[], options: FfmpegRunOptions): Promise<FfmpegResult> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  return new Promise((resolve, reject) => {
    const child = spawn(bin.path, ["-hide_banner", "-nostdin", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    let timedOut = false;
    let callbackError: unknown = null;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => {
      if (callbackError !== null) return;
      if (options.onStdout) {
        try {
          options.onStdout(chunk);
        } catch (e) {
          // A consumer that cannot take more (e.g. a memory bound) stops ffmpeg rather than letting it run on.
          callbackError = e;
          child.kill("SIGKILL");
        }
      } else out.push(chunk);
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      err += chunk;
      if (err.length > 2 * STDERR_KEEP) err = err.slice(0, STDERR_KEEP / 2) + "\n...\n" + err.slice(-STDERR_KEEP);
    });
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new FavchatError(`could not start ffmpeg at ${bin.path} (${e.message}); set FFMPEG_PATH to a working ffmpeg`));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      if (callbackError !== null) return reject(callbackError);
      if (timedOut) {
        return reject(
          new FavchatError(
            `ffmpeg took longer than ${(timeoutMs / 1000).toFixed(0)} s ${options.what} and was stopped; the file may be damaged or very long (try fewer frames or a shorter clip)`,
          ),
        );
      }
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
  });
}

/** The input argument for a local file: `file:` keeps ffmpeg from reading `a:b.mp4` as a protocol. */
export function fileInput(file: string): string {
  return `file:${path.resolve(file)}`;
}

/** True when the first bytes of a file are printable text (no video container starts that way). */
export function looksLikeText(head: Uint8Array): boolean {
  if (head.length === 0) return false;
  for (const b of head) {
    const printable = b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127) || b >= 128;
    if (!printable) return false;
  }
  // UTF-8 text is fine; binary data with only high bytes is not text.
  return head.some((b) => b >= 32 && b < 127);
}

/**
 * Turns ffmpeg's complaint about an input into a message for a person. `stderr` is the run's stderr,
 * `file` the path as the user gave it.
 */
export function explainFfmpegFailure(stderr: string, file: string, head?: Uint8Array): FavchatError {
  const has = (re: RegExp) => re.test(stderr);
  if (head !== undefined && looksLikeText(head)) {
    return new FavchatError(
      `${file} is a text file, not a video (it may have been renamed to look like one); give a real video file`,
    );
  }
  if (has(/moov atom not found/)) {
    return new FavchatError(
      `${file} looks truncated or unfinished (its MP4 index, the "moov atom", is missing); re-download or re-export the video`,
    );
  }
  if (has(/Invalid data found when processing input/) || has(/could not find codec parameters/i)) {
    return new FavchatError(
      `${file} is not a video ffmpeg can read (invalid data); check that it is really a video file and not renamed text or an image`,
    );
  }
  if (has(/Stream map '0:v:0' matches no streams/) || has(/does not contain any stream/)) {
    return new FavchatError(`${file} has no video stream (audio only?); favchat needs a file with video`);
  }
  if (has(/No such file or directory/)) return new FavchatError(`video not found: ${file}; check the path`);
  if (has(/Permission denied/)) return new FavchatError(`cannot read ${file} (permission denied); check its permissions`);
  const lastLines = stderr.trim().split("\n").slice(-3).join(" | ");
  return new FavchatError(`ffmpeg could not read ${file}: ${lastLines}; check that the file is a complete video`);
}
