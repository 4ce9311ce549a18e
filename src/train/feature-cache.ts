// A disk cache of the two encoders' outputs per clip (ours), for the stages that keep both encoders frozen
// (stage setting feature_cache): their features then depend on the clip alone, so a clip's encoder pass is paid
// once per run of stages instead of at every draw. Stage connector's micro-batch spent 54% of its time there, stage
// 2's 38% (README, the shipped model). One cache serves every stage and thread with the same encoders: its
// directory is named by a hash of the encoders' weights and configs, the frame count and crop sizes, and every
// clip's raw frames file (real path, size, modification time), so a change to any of them starts a new cache.
//
// Layout of DIR/<key>/: features.f32, one slot of float32s per (clip, variant) in the order of meta.json's clips
// (a sparse file: unwritten slots take no disk); filled.u8, one byte per slot, set to 1 after its slot is written;
// meta.json. Threads and processes write slots concurrently: a slot's bytes do not depend on who computes them
// (one clip per encoder pass), and a reader trusts a slot only once its byte is set. A run killed mid-write leaves
// at worst an unset byte, and that slot is computed again.
//
// Variant 0 is the clip as inference sees it (no crop jitter); variant v > 0 has a crop jitter seeded by the clip
// and v (src/data/clip-pixels.ts cropJitter), so training can still see moved crops from a bounded set.
import { createHash, randomBytes } from "node:crypto";
import { closeSync, existsSync, fstatSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, realpathSync, renameSync, statSync, writeFileSync, writeSync, constants } from "node:fs";
import { join } from "node:path";
import { tf } from "../core/backend.ts";
import { FavchatError } from "../core/errors.ts";
import { Rng } from "../core/rng.ts";
import { readRawClip } from "../data/frames.ts";
import { cropJitter, pixelsFromRaw } from "../data/clip-pixels.ts";
import { pixelTensors } from "../data/collate.ts";
import type { EncoderFeatures, FavChat } from "../model/favchat.ts";
import type { ClipRef } from "./favchat-data.ts";

/** Where a cache lives and which one: what a training worker needs to open the main thread's cache. */
export interface FeatureCacheRef {
  readonly dir: string;
  readonly key: string;
  readonly variants: number;
}

interface Meta {
  readonly key: string;
  readonly variants: number;
  readonly frames: number;
  /** Per part (patches, then each facial-encoder block): [F, P, D] of one clip. */
  readonly shapes: number[][];
  readonly clips: string[];
}

/** Seed of the crop jitter of cached variants (fixed: the cache's contents must not depend on a run's seed). */
const VARIANT_SEED = 20261201;

/** Clips that can be cached (they have raw frames), in slot order. */
function cacheableClips(clips: Iterable<ClipRef>): ClipRef[] {
  return [...clips].filter((c) => c.raw !== null).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The per-clip shapes of the encoders' outputs: [F, P, Dv], then [F, P_i, D_i] per facial-encoder block. */
function partShapes(model: FavChat, frames: number): number[][] {
  const v = model.config.vision;
  const out = [[frames, v.numPatches, v.hiddenSize]];
  if (model.faceEncoder) model.config.face.blockTokens.forEach((p, i) => out.push([frames, p, model.config.face.blockDims[i]]));
  return out;
}

/**
 * The cache key of `model`'s encoders over `clips`: a hash of the encoders' configs and weights, the frames per
 * clip, the variants and every clip's raw frames file (path, size, mtime).
 */
export function featureCacheKey(model: FavChat, clips: Iterable<ClipRef>, frames: number, variants: number): string {
  const h = createHash("sha256");
  h.update(JSON.stringify({ vision: model.config.vision, face: model.faceEncoder ? model.config.face : null, frames, variants, seed: VARIANT_SEED }));
  for (const [name, p] of model.namedParams()) {
    if (!name.startsWith("vision_tower.") && !name.startsWith("face_encoder.")) continue;
    h.update(name);
    const d = p.variable.dataSync() as Float32Array;
    h.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
  for (const c of cacheableClips(clips)) {
    // The file's real path: the same data reached through a symlinked directory (scripts/ablate.sh) shares one cache.
    const s = statSync(c.raw!);
    h.update(`${c.id}\0${realpathSync(c.raw!)}\0${s.size}\0${s.mtimeMs}\n`);
  }
  return h.digest("hex").slice(0, 24);
}

/** Opens (creating when needed) a file of at least `bytes` bytes for reading and writing. */
function openSized(path: string, bytes: number): number {
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o644);
  if (fstatSync(fd).size < bytes) ftruncateSync(fd, bytes);
  return fd;
}

/**
 * The caches in `dir` other than `key` (other encoder weights, clips or frame counts) and the disk each takes (its
 * files' allocated blocks: features.f32 is sparse). Nothing deletes them: another run may still use one.
 */
export function otherCaches(dir: string, key: string): { path: string; bytes: number }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== key && existsSync(join(dir, d.name, "meta.json")))
    .map((d) => {
      const path = join(dir, d.name);
      const bytes = readdirSync(path).reduce((sum, f) => sum + statSync(join(path, f)).blocks * 512, 0);
      return { path, bytes };
    });
}

export class FeatureCache {
  /** Slot reads that found the slot filled, and slots computed here. */
  hits = 0;
  misses = 0;
  private readonly slotOf: Map<string, number>;
  private readonly slotFloats: number;
  private readonly featuresFd: number;
  private readonly filledFd: number;
  private closed = false;

  private constructor(
    readonly ref: FeatureCacheRef,
    private readonly model: FavChat,
    private readonly meta: Meta,
  ) {
    this.slotOf = new Map(meta.clips.map((id, i) => [id, i]));
    this.slotFloats = meta.shapes.reduce((s, sh) => s + sh[0] * sh[1] * sh[2], 0);
    const slots = meta.clips.length * meta.variants;
    const where = join(ref.dir, ref.key);
    try {
      this.featuresFd = openSized(join(where, "features.f32"), slots * this.slotFloats * 4);
      this.filledFd = openSized(join(where, "filled.u8"), slots);
    } catch (e) {
      throw new FavchatError(`feature cache ${where}: cannot open its files (${(e as Error).message}); the stage setting feature_cache writes under the data directory, which must be writable`);
    }
  }

  /**
   * The cache `ref` for `model` (whose encoders must be the ones the key was made from: the main thread makes the
   * key, workers pass it on) over `clips`, `frames` frames per clip; created when new.
   */
  static open(ref: FeatureCacheRef, model: FavChat, clips: Iterable<ClipRef>, frames: number): FeatureCache {
    if (!(Number.isInteger(ref.variants) && ref.variants >= 1)) throw new FavchatError(`feature_cache must be a whole number of crop variants >= 1, got ${ref.variants}`);
    const where = join(ref.dir, ref.key);
    const metaPath = join(where, "meta.json");
    const want: Meta = { key: ref.key, variants: ref.variants, frames, shapes: partShapes(model, frames), clips: cacheableClips(clips).map((c) => c.id) };
    if (existsSync(metaPath)) {
      const have = JSON.parse(readFileSync(metaPath, "utf8")) as Meta;
      if (JSON.stringify(have) !== JSON.stringify(want)) {
        throw new FavchatError(`feature cache ${where} was made for other clips or shapes; delete that directory to rebuild it`);
      }
    } else {
      mkdirSync(where, { recursive: true });
      const tmp = `${metaPath}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
      writeFileSync(tmp, JSON.stringify(want));
      renameSync(tmp, metaPath);
    }
    return new FeatureCache(ref, model, want);
  }

  /** Crop variants per clip. */
  get variants(): number {
    return this.meta.variants;
  }

  /** Where the cache's files are. */
  get path(): string {
    return join(this.ref.dir, this.ref.key);
  }

  /** The features of `clips` (variant per row), as the model's encoderFeatures would give them: read, or computed and stored. */
  features(clips: readonly ClipRef[], variants: readonly number[]): EncoderFeatures {
    if (this.closed) throw new Error("FeatureCache: used after close()");
    const rows = clips.map((c, b) => this.slot(c, variants[b]));
    return tf.tidy(() => {
      const shapes = this.meta.shapes;
      const parts = shapes.map((sh) => new Float32Array(clips.length * sh[0] * sh[1] * sh[2]));
      rows.forEach((row, b) => {
        let at = 0;
        shapes.forEach((sh, k) => {
          const n = sh[0] * sh[1] * sh[2];
          parts[k].set(row.subarray(at, at + n), b * n);
          at += n;
        });
      });
      const tensors = parts.map((data, k) => tf.tensor(data, [clips.length * shapes[k][0], shapes[k][1], shapes[k][2]]));
      return { patches: tensors[0], blocks: tensors.slice(1) };
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.featuresFd);
    closeSync(this.filledFd);
  }

  /** One clip's slot (all parts, concatenated), read when filled, else computed and written. */
  private slot(clip: ClipRef, variant: number): Float32Array {
    const i = this.slotOf.get(clip.id);
    if (i === undefined) throw new FavchatError(`feature cache ${this.path}: clip ${clip.id} is not one of its clips (it has no raw frames, or the clips file changed)`);
    if (!(Number.isInteger(variant) && variant >= 0 && variant < this.meta.variants)) throw new Error(`FeatureCache: variant ${variant} of ${this.meta.variants}`);
    const s = i * this.meta.variants + variant;
    const flag = Buffer.alloc(1);
    readSync(this.filledFd, flag, 0, 1, s);
    const bytes = this.slotFloats * 4;
    if (flag[0] === 1) {
      const buf = Buffer.alloc(bytes);
      const n = readSync(this.featuresFd, buf, 0, bytes, s * bytes);
      if (n === bytes) {
        this.hits++;
        return new Float32Array(buf.buffer, buf.byteOffset, this.slotFloats);
      }
    }
    this.misses++;
    const data = this.compute(clip, variant);
    writeSync(this.featuresFd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 0, bytes, s * bytes);
    writeSync(this.filledFd, Uint8Array.of(1), 0, 1, s);
    return data;
  }

  /** One clip's encoder pass (batch of one, so a slot's bytes never depend on which clips it was computed with). */
  private compute(clip: ClipRef, variant: number): Float32Array {
    const F = this.meta.frames;
    const jitter = variant === 0 ? undefined : cropJitter(new Rng(VARIANT_SEED).fork(clip.id, variant), F);
    const c = this.model.config;
    const pixels = pixelsFromRaw(readRawClip(clip.raw!), clip.record.labels.faceBoxes, { frames: F, frameSize: c.vision.imageSize, faceSize: c.face.imageSize }, jitter);
    const { frames, faces } = pixelTensors(pixels);
    try {
      const f = this.model.encoderFeatures(frames, faces);
      const out = new Float32Array(this.slotFloats);
      let at = 0;
      for (const t of [f.patches, ...f.blocks]) {
        const d = t.dataSync() as Float32Array;
        out.set(d, at);
        at += d.length;
      }
      tf.dispose([f.patches, ...f.blocks]);
      if (at !== this.slotFloats) throw new Error(`FeatureCache: the encoders gave ${at} values for a clip, the layout has ${this.slotFloats}`);
      return out;
    } finally {
      tf.dispose([frames, faces]);
    }
  }
}
