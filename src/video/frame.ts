// The RGB frame every part of src/video passes around, and the one rule for the size frames are decoded at.
// Frames stay plain typed arrays here; src/data/collate is the one place that turns them into tensors.

/** An 8-bit RGB image, rows top to bottom, 3 bytes per pixel. */
export interface RgbFrame {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

export function makeFrame(width: number, height: number, data?: Uint8Array): RgbFrame {
  const size = width * height * 3;
  if (data !== undefined && data.length !== size) {
    throw new RangeError(`RgbFrame: expected ${width}x${height}x3 = ${size} bytes, got ${data.length}`);
  }
  return { width, height, data: data ?? new Uint8Array(size) };
}

/**
 * The decode size for a displayed size: shrunk (never enlarged) so the longer side is at most `maxSide`,
 * aspect kept, sides even (some scalers and encoders want even sides). This bounds memory for 8K input.
 */
export function fitSize(width: number, height: number, maxSide: number): [number, number] {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  const even = (v: number) => Math.max(2, 2 * Math.round((v * scale) / 2));
  return scale === 1 ? [width, height] : [even(width), even(height)];
}
