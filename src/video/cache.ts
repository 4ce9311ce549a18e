// Disk cache of clips (issue 3), keyed by the video's content hash and the options that shape a clip.
// One file per clip: magic, JSON header, raw frame bytes, raw crop bytes. Writes go to a unique temporary file
// renamed into place (atomic on one filesystem), so two processes writing the same entry never mix bytes,
// and a reader sees a whole file or none. A damaged or foreign file reads as a miss.
import { createHash, randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Clip, ClipMeta, ClipOptions } from "./clip.ts";
import { makeFrame, type RgbFrame } from "./frame.ts";
import type { VideoProbe } from "./probe.ts";

const MAGIC = Buffer.from("FAVCLIP1", "latin1");
/** Bump when decoding, detection or cropping changes what a clip holds. */
const CACHE_VERSION = 2; // 2: ClipFace.window (the crop window)

async function hashFile(hash: ReturnType<typeof createHash>, file: string): Promise<void> {
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
}

/** sha256 of the video's bytes (every image, in order, for a folder) and the clip options that change the result. */
export async function clipCacheKey(probe: VideoProbe, options: ClipOptions): Promise<string> {
  const hash = createHash("sha256");
  hash.update(`favchat-clip-v${CACHE_VERSION}\n`);
  const shaping = { ...options, timeoutMs: undefined };
  hash.update(JSON.stringify(shaping) + "\n");
  if (probe.kind === "images") {
    for (const f of probe.files) {
      hash.update(path.basename(f) + "\n");
      await hashFile(hash, f);
    }
  } else {
    await hashFile(hash, probe.path);
  }
  return hash.digest("hex");
}

interface Header {
  version: number;
  times: number[];
  boxes: Clip["boxes"];
  meta: Omit<ClipMeta, "timings">;
  frames: { count: number; width: number; height: number };
  faces: { count: number; size: number };
}

function entryPath(dir: string, key: string): string {
  return path.join(dir, `${key}.clip`);
}

export async function writeCachedClip(dir: string, key: string, clip: Clip): Promise<void> {
  const { timings: _timings, ...meta } = clip.meta;
  const f0 = clip.frames[0];
  const header: Header = {
    version: CACHE_VERSION,
    times: clip.times,
    boxes: clip.boxes,
    meta,
    frames: { count: clip.frames.length, width: f0.width, height: f0.height },
    faces: { count: clip.faces.length, size: clip.faces[0].width },
  };
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  const parts = [MAGIC, len, json, ...clip.frames.map((f) => f.data), ...clip.faces.map((f) => f.data)];
  await mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${key}.${process.pid}.${randomUUID()}.tmp`);
  try {
    await writeFile(tmp, parts);
    await rename(tmp, entryPath(dir, key));
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** The cached clip for `key`, or null when absent or unreadable. */
export async function readCachedClip(dir: string, key: string): Promise<Clip | null> {
  let buf: Buffer;
  try {
    buf = await readFile(entryPath(dir, key));
  } catch {
    return null;
  }
  try {
    if (buf.length < 12 || !buf.subarray(0, 8).equals(MAGIC)) return null;
    const jsonLen = buf.readUInt32LE(8);
    const header = JSON.parse(buf.subarray(12, 12 + jsonLen).toString("utf8")) as Header;
    if (header.version !== CACHE_VERSION) return null;
    const { count, width, height } = header.frames;
    const frameBytes = width * height * 3;
    const faceBytes = header.faces.size * header.faces.size * 3;
    let at = 12 + jsonLen;
    if (buf.length !== at + count * frameBytes + header.faces.count * faceBytes) return null;
    const take = (w: number, h: number): RgbFrame => {
      // A copy, so the clip does not pin the whole file buffer and callers may write into frames.
      const f = makeFrame(w, h, new Uint8Array(buf.subarray(at, at + w * h * 3)));
      at += w * h * 3;
      return f;
    };
    const frames = Array.from({ length: count }, () => take(width, height));
    const faces = Array.from({ length: header.faces.count }, () => take(header.faces.size, header.faces.size));
    return { frames, faces, boxes: header.boxes, times: header.times, meta: header.meta };
  } catch {
    return null;
  }
}
