// Raw frames file (.u8): the fastest way for training to read FaceWorld clips (no decoder, one read).
// Layout: a 16-byte header, then F*H*W*C bytes in [F, H, W, C] order, RGB, row-major.
//   bytes 0-3 "FVU8" | 4-5 u16 F | 6-7 u16 H | 8-9 u16 W | 10 u8 C (3) | 11 u8 version (1) | 12-15 f32 fps  (little-endian)
import { readFileSync } from "node:fs";
import { FavchatError } from "../core/errors.ts";

export const RAW_MAGIC = "FVU8";
export const RAW_HEADER_BYTES = 16;

export interface RawClip {
  frames: number;
  height: number;
  width: number;
  channels: number;
  fps: number;
  /** [F, H, W, C] uint8. */
  data: Uint8Array;
}

export function encodeRawClip(clip: RawClip): Uint8Array {
  const { frames, height, width, channels, fps, data } = clip;
  const expected = frames * height * width * channels;
  if (data.length !== expected) {
    throw new Error(`encodeRawClip: data has ${data.length} bytes, expected F*H*W*C = ${frames}*${height}*${width}*${channels} = ${expected}`);
  }
  const out = new Uint8Array(RAW_HEADER_BYTES + expected);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) out[i] = RAW_MAGIC.charCodeAt(i);
  view.setUint16(4, frames, true);
  view.setUint16(6, height, true);
  view.setUint16(8, width, true);
  out[10] = channels;
  out[11] = 1;
  view.setFloat32(12, fps, true);
  out.set(data, RAW_HEADER_BYTES);
  return out;
}

export function decodeRawClip(bytes: Uint8Array, file = "(buffer)"): RawClip {
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (bytes.length < RAW_HEADER_BYTES || magic !== RAW_MAGIC) {
    throw new FavchatError(`${file}: not a favchat raw frames file (expected magic "${RAW_MAGIC}", got "${magic}")`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const frames = view.getUint16(4, true);
  const height = view.getUint16(6, true);
  const width = view.getUint16(8, true);
  const channels = bytes[10];
  const fps = view.getFloat32(12, true);
  const size = frames * height * width * channels;
  if (bytes.length !== RAW_HEADER_BYTES + size) {
    throw new FavchatError(`${file}: truncated raw frames file: header says ${frames}x${height}x${width}x${channels} (${size} bytes) but ${bytes.length - RAW_HEADER_BYTES} bytes follow`);
  }
  return { frames, height, width, channels, fps, data: bytes.subarray(RAW_HEADER_BYTES) };
}

export function readRawClip(file: string): RawClip {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new FavchatError(`cannot read raw frames ${file}: ${(err as Error).message}`, { cause: err });
  }
  return decodeRawClip(bytes, file);
}
