// Raw frames format: round trip, and clear errors for a wrong magic or a truncated file.
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeRawClip, encodeRawClip, RAW_HEADER_BYTES } from "../../src/data/frames.ts";

test("raw clip round-trips header and bytes", () => {
  const data = new Uint8Array(2 * 4 * 6 * 3).map((_, i) => i % 251);
  const bytes = encodeRawClip({ frames: 2, height: 4, width: 6, channels: 3, fps: 8, data });
  assert.equal(bytes.length, RAW_HEADER_BYTES + data.length);
  const back = decodeRawClip(bytes);
  assert.deepEqual([back.frames, back.height, back.width, back.channels, back.fps], [2, 4, 6, 3, 8]);
  assert.deepEqual(back.data, data);
});

test("raw clip errors name the problem", () => {
  const bytes = encodeRawClip({ frames: 1, height: 2, width: 2, channels: 3, fps: 8, data: new Uint8Array(12) });
  assert.throws(() => decodeRawClip(bytes.subarray(0, bytes.length - 1), "a.u8"), /a\.u8: truncated raw frames file: header says 1x2x2x3 \(12 bytes\) but 11 bytes follow/);
  const bad = bytes.slice();
  bad[0] = 0x58;
  assert.throws(() => decodeRawClip(bad, "b.u8"), /b\.u8: not a favchat raw frames file/);
});
