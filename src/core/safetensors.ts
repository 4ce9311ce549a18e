// Safetensors weights: read F32/F16/BF16 tensors (as Float32Array) from one file or from a Hugging Face
// sharded directory (model.safetensors.index.json), and write F32 files atomically.
// Format: u64 little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets}, __metadata__},
// then the raw little-endian tensor bytes; offsets are relative to the end of the header.

import { open, rename, unlink, stat, readFile, type FileHandle } from "node:fs/promises";
import { endianness } from "node:os";
import { basename, dirname, join } from "node:path";
import { FavchatError } from "./errors.ts";

/** Dtypes this reader converts to Float32Array. */
export type SafetensorsDtype = "F32" | "F16" | "BF16";

/** Where a tensor lives in its file; read nothing until `read` is called. */
export interface TensorInfo {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Absolute byte range in the file, [begin, end). */
  readonly begin: number;
  readonly end: number;
}

/** A tensor read into memory, always as float32 whatever its stored dtype. */
export interface LoadedTensor {
  readonly dtype: SafetensorsDtype;
  readonly shape: number[];
  readonly data: Float32Array;
}

/** A tensor to write: float32 data in row-major order. */
export interface TensorToWrite {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };
// Dtypes the format defines but this reader does not convert: named so the error can say "unsupported" not "unknown".
const OTHER_DTYPES = new Set(["F64", "F8_E4M3", "F8_E5M2", "I64", "I32", "I16", "I8", "U64", "U32", "U16", "U8", "BOOL"]);
// The reference (Rust) implementation refuses headers above 100 MB; a bigger length means a corrupt file.
const MAX_HEADER_BYTES = 100_000_000;
// One read() call moves at most 2 GiB - 1 bytes in Node.
const MAX_READ_CHUNK = 0x7fff_f000;

/** One safetensors file opened for lazy reading: the header is parsed and checked, tensor bytes are read on demand. */
export class SafetensorsFile {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    /** Tensor infos in header order. */
    readonly tensors: ReadonlyMap<string, TensorInfo>,
    /** The header's `__metadata__` (string to string), empty when absent. */
    readonly metadata: Readonly<Record<string, string>>,
  ) {}

  /** Opens `path`, reads and validates its header; throws a FavchatError naming the file (and tensor) when malformed. */
  static async open(path: string): Promise<SafetensorsFile> {
    check(endianness() === "LE", path, "this reader assumes a little-endian machine");
    let handle: FileHandle;
    try {
      handle = await open(path, "r");
    } catch (e) {
      throw new FavchatError(`cannot open safetensors file ${path}: ${(e as Error).message}`, { cause: e });
    }
    try {
      const size = (await handle.stat()).size;
      const { tensors, metadata } = await readHeader(handle, path, size);
      return new SafetensorsFile(path, handle, tensors, metadata);
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  /** Tensor names in header order. */
  names(): string[] {
    return [...this.tensors.keys()];
  }

  /** Reads one tensor, converting F16/BF16 to float32. The bytes are read straight into the result's memory. */
  async read(name: string): Promise<LoadedTensor> {
    const info = this.tensors.get(name);
    if (info === undefined) throw new FavchatError(`tensor "${name}" is not in ${this.path} (it has ${this.tensors.size} tensors)`);
    const count = info.shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (info.dtype === "F32") {
      data = new Float32Array(count);
      await readExactly(this.handle, data, info.begin, this.path, name);
    } else {
      const half = new Uint16Array(count);
      await readExactly(this.handle, half, info.begin, this.path, name);
      data = info.dtype === "F16" ? f16ToF32(half) : bf16ToF32(half);
    }
    return { dtype: info.dtype, shape: [...info.shape], data };
  }

  /** Reads every tensor of the file. */
  async readAll(): Promise<Map<string, LoadedTensor>> {
    const out = new Map<string, LoadedTensor>();
    for (const name of this.tensors.keys()) out.set(name, await this.read(name));
    return out;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Reads every tensor of one safetensors file. */
export async function readSafetensors(path: string): Promise<Map<string, LoadedTensor>> {
  const file = await SafetensorsFile.open(path);
  try {
    return await file.readAll();
  } finally {
    await file.close();
  }
}

/**
 * The weights of a Hugging Face model directory, opened lazily: `model.safetensors` when present, else the shards
 * named by `model.safetensors.index.json`. `names()` lists tensors, `info()` gives dtype/shape without reading, `read()` loads one.
 */
export class SafetensorsDir {
  private constructor(
    readonly dir: string,
    private readonly files: SafetensorsFile[],
    private readonly owner: ReadonlyMap<string, SafetensorsFile>,
  ) {}

  static async open(dir: string): Promise<SafetensorsDir> {
    const indexPath = join(dir, "model.safetensors.index.json");
    const singlePath = join(dir, "model.safetensors");
    // Like transformers, a single model.safetensors wins over an index beside it.
    if (await exists(singlePath)) {
      const file = await SafetensorsFile.open(singlePath);
      return new SafetensorsDir(dir, [file], new Map([...file.tensors.keys()].map((n) => [n, file])));
    }
    if (await exists(indexPath)) return SafetensorsDir.openSharded(dir, indexPath);
    throw new FavchatError(
      `no weights in ${dir}: expected model.safetensors or model.safetensors.index.json (a Hugging Face model directory)`,
    );
  }

  private static async openSharded(dir: string, indexPath: string): Promise<SafetensorsDir> {
    const weightMap = await readWeightMap(indexPath);
    const files: SafetensorsFile[] = [];
    const byShard = new Map<string, SafetensorsFile>();
    const owner = new Map<string, SafetensorsFile>();
    try {
      for (const [name, shard] of weightMap) {
        let file = byShard.get(shard);
        if (file === undefined) {
          const shardPath = join(dir, shard);
          if (!(await exists(shardPath))) {
            throw new FavchatError(`${indexPath} maps tensor "${name}" to shard ${shard}, but ${shardPath} does not exist`);
          }
          file = await SafetensorsFile.open(shardPath);
          files.push(file);
          byShard.set(shard, file);
        }
        if (!file.tensors.has(name)) {
          throw new FavchatError(`${indexPath} maps tensor "${name}" to ${file.path}, but that file has no such tensor`);
        }
        owner.set(name, file);
      }
    } catch (e) {
      await Promise.all(files.map((f) => f.close()));
      throw e;
    }
    return new SafetensorsDir(dir, files, owner);
  }

  names(): string[] {
    return [...this.owner.keys()];
  }

  has(name: string): boolean {
    return this.owner.has(name);
  }

  /** Dtype, shape and location of a tensor, without reading it; undefined when absent. */
  info(name: string): TensorInfo | undefined {
    return this.owner.get(name)?.tensors.get(name);
  }

  async read(name: string): Promise<LoadedTensor> {
    const file = this.owner.get(name);
    if (file === undefined) throw new FavchatError(`tensor "${name}" is not in the weights of ${this.dir}`);
    return file.read(name);
  }

  async readAll(): Promise<Map<string, LoadedTensor>> {
    const out = new Map<string, LoadedTensor>();
    for (const name of this.owner.keys()) out.set(name, await this.read(name));
    return out;
  }

  async close(): Promise<void> {
    await Promise.all(this.files.map((f) => f.close()));
  }
}

/** Reads every tensor of a model directory (single file or sharded). */
export async function loadSafetensorsDir(dir: string): Promise<Map<string, LoadedTensor>> {
  const store = await SafetensorsDir.open(dir);
  try {
    return await store.readAll();
  } finally {
    await store.close();
  }
}

/**
 * Writes float32 tensors to `path` atomically: a temporary file in the same directory is written, fsynced and renamed,
 * so a reader (or a resumed run after a kill) sees either the old file or the whole new one.
 */
export async function writeSafetensors(
  path: string,
  tensors: ReadonlyMap<string, TensorToWrite> | Readonly<Record<string, TensorToWrite>>,
  metadata: Readonly<Record<string, string>> = {},
): Promise<void> {
  const entries: [string, TensorToWrite][] =
    tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors as Readonly<Record<string, TensorToWrite>>);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string") throw new FavchatError(`safetensors metadata "${k}" for ${path} must be a string, got ${typeof v}`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === "__metadata__") throw new FavchatError(`cannot write ${path}: "__metadata__" is reserved, not a tensor name`);
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (!t.shape.every((d) => Number.isInteger(d) && d >= 0) || count !== t.data.length) {
      throw new FavchatError(`cannot write tensor "${name}" to ${path}: shape [${t.shape.join(", ")}] holds ${count} values but data has ${t.data.length}`);
    }
    header[name] = { dtype: "F32", shape: [...t.shape], data_offsets: [offset, offset + 4 * count] };
    offset += 4 * count;
  }
  // Pad the header with spaces to a multiple of 8 so tensor data stays aligned (what the Rust writer does).
  let json = Buffer.from(JSON.stringify(header), "utf8");
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded > json.length) json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));

  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${tmpCounter++}`);
  const handle = await open(tmp, "w");
  try {
    await handle.write(prefix);
    await handle.write(json);
    for (const [, t] of entries) await handle.write(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    await handle.sync();
    await handle.close();
    await rename(tmp, path);
  } catch (e) {
    await handle.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw new FavchatError(`cannot write safetensors file ${path}: ${(e as Error).message}`, { cause: e });
  }
  // Make the rename itself durable; not every filesystem lets a directory be opened, so this is best effort.
  const dirHandle = await open(dirname(path), "r").catch(() => undefined);
  if (dirHandle !== undefined) await dirHandle.sync().catch(() => undefined).finally(() => dirHandle.close());
}
let tmpCounter = 0;

// ---- header parsing and validation ----

async function readHeader(handle: FileHandle, path: string, size: number) {
  check(size >= 8, path, `file is ${size} bytes, too short for the 8-byte header length (truncated?)`);
  const prefix = Buffer.alloc(8);
  await readExactly(handle, prefix, 0, path);
  const headerLen = prefix.readBigUInt64LE(0);
  check(headerLen <= BigInt(size - 8), path, `header length ${headerLen} runs past the end of the file (${size} bytes; truncated or not a safetensors file?)`);
  check(headerLen <= BigInt(MAX_HEADER_BYTES), path, `header length ${headerLen} is above the 100 MB limit (corrupt file?)`);
  const n = Number(headerLen);
  const raw = Buffer.alloc(n);
  await readExactly(handle, raw, 8, path);
  let header: unknown;
  try {
    header = JSON.parse(raw.toString("utf8"));
  } catch (e) {
    throw new FavchatError(`${path}: header is not valid JSON (${(e as Error).message}); the file is corrupt or not safetensors`);
  }
  check(isObject(header), path, "header JSON must be an object of tensors");

  const dataStart = 8 + n;
  const dataLen = size - dataStart;
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") {
      metadata = parseMetadata(entry, path);
      continue;
    }
    tensors.set(name, parseEntry(name, entry, path, dataStart, dataLen));
  }
  // Tensors must not share bytes: sort by start and compare neighbours.
  const sorted = [...tensors.values()].sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1], cur = sorted[i];
    if (cur.begin < prev.end) {
      throw new FavchatError(
        `${path}: tensor "${cur.name}" bytes [${cur.begin - dataStart}, ${cur.end - dataStart}) overlap tensor "${prev.name}" ` +
          `[${prev.begin - dataStart}, ${prev.end - dataStart}); the file is corrupt`,
      );
    }
  }
  return { tensors, metadata };
}

function parseEntry(name: string, entry: unknown, path: string, dataStart: number, dataLen: number): TensorInfo {
  const where = `${path}: tensor "${name}"`;
  if (!isObject(entry)) throw new FavchatError(`${where}: header entry must be an object {dtype, shape, data_offsets}`);
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (typeof dtype !== "string" || !(dtype in BYTES)) {
    const kind = typeof dtype === "string" && OTHER_DTYPES.has(dtype) ? "unsupported" : "unknown";
    throw new FavchatError(`${where}: ${kind} dtype ${JSON.stringify(dtype)}; supported: F32, F16, BF16 (convert the checkpoint)`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new FavchatError(`${where}: shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
    throw new FavchatError(`${where}: data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  const d = dtype as SafetensorsDtype;
  const count = (shape as number[]).reduce((a, b) => a * b, 1);
  if (end - begin !== count * BYTES[d]) {
    throw new FavchatError(
      `${where}: shape [${shape.join(", ")}] ${d} needs ${count * BYTES[d]} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`,
    );
  }
  if (end > dataLen) {
    throw new FavchatError(`${where}: data_offsets [${begin}, ${end}] run past the ${dataLen} data bytes of the file (truncated?)`);
  }
  return { name, dtype: d, shape: shape as number[], begin: dataStart + begin, end: dataStart + end };
}

function parseMetadata(entry: unknown, path: string): Record<string, string> {
  if (!isObject(entry) || !Object.values(entry).every((v) => typeof v === "string")) {
    throw new FavchatError(`${path}: __metadata__ must be an object of string values, got ${JSON.stringify(entry)}`);
  }
  return entry as Record<string, string>;
}

async function readWeightMap(indexPath: string): Promise<Map<string, string>> {
  let index: unknown;
  try {
    index = JSON.parse(await readFile(indexPath, "utf8"));
  } catch (e) {
    throw new FavchatError(`cannot read ${indexPath}: ${(e as Error).message}`, { cause: e });
  }
  const weightMap = isObject(index) ? (index as Record<string, unknown>).weight_map : undefined;
  if (!isObject(weightMap) || !Object.values(weightMap).every((v) => typeof v === "string" && v.length > 0)) {
    throw new FavchatError(`${indexPath}: expected {"weight_map": {tensor name: shard file name}}`);
  }
  for (const [name, shard] of Object.entries(weightMap as Record<string, string>)) {
    // Shards live beside the index; a path that climbs out is corrupt or hostile.
    if (shard !== basename(shard)) throw new FavchatError(`${indexPath}: tensor "${name}" names shard "${shard}", which is not a plain file name`);
  }
  return new Map(Object.entries(weightMap as Record<string, string>));
}

// ---- byte helpers ----

/** Fills `target` from the file at `position`, looping over short reads; a premature end of file is an error. */
async function readExactly(handle: FileHandle, target: ArrayBufferView, position: number, path: string, name?: string) {
  const bytes = new Uint8Array(target.buffer, target.byteOffset, target.byteLength);
  let done = 0;
  while (done < bytes.length) {
    const length = Math.min(bytes.length - done, MAX_READ_CHUNK);
    const { bytesRead } = await handle.read(bytes, done, length, position + done);
    if (bytesRead === 0) {
      const what = name === undefined ? "header" : `tensor "${name}"`;
      throw new FavchatError(`${path}: file ended while reading ${what} (truncated or changed while open?)`);
    }
    done += bytesRead;
  }
}

let halfTable: Float32Array | undefined;

/** IEEE half to float through a 65536-entry table (256 KB, built once): one lookup per value. */
export function f16ToF32(half: Uint16Array): Float32Array {
  if (halfTable === undefined) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) {
      const sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
      if (exp === 0) halfTable[h] = sign * frac * 2 ** -24; // subnormal
      else if (exp === 31) halfTable[h] = frac === 0 ? sign * Infinity : NaN;
      else halfTable[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
    }
  }
  const out = new Float32Array(half.length);
  for (let i = 0; i < half.length; i++) out[i] = halfTable[half[i]];
  return out;
}

/** bfloat16 is the top half of a float32: shift the bits into place. */
export function bf16ToF32(half: Uint16Array): Float32Array {
  const bits = new Uint32Array(half.length);
  for (let i = 0; i < half.length; i++) bits[i] = half[i] << 16;
  return new Float32Array(bits.buffer);
}

function check(condition: boolean, path: string, message: string): asserts condition {
  if (!condition) throw new FavchatError(`${path}: ${message}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}
