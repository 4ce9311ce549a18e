// Batches for FaVChat training and inference: the one place that turns samples into tensors (DESIGN 6).
// Text is right-padded; pixels become float32 in [0, 1].
import { tf } from "../core/backend.ts";
import { FavchatError } from "../core/errors.ts";
import type { ClipPixels } from "./clip-pixels.ts";
import type { EncodedExample } from "./chat-format.ts";

export interface Sample {
  readonly pixels: ClipPixels;
  readonly text: EncodedExample;
}

export interface FavchatBatch {
  /** [B, F, S, S, 3] in [0, 1]. */
  readonly frames: tf.Tensor;
  /** [B, F, s, s, 3] in [0, 1]. */
  readonly faces: tf.Tensor;
  /** [B, T] int32, right-padded with padId. */
  readonly ids: tf.Tensor;
  /** [B][T]: 1 for real tokens. */
  readonly attentionMask: number[][];
  /** [B][T]: 1 on target tokens. */
  readonly targetMask: number[][];
  /** [B, Tq] int32. */
  readonly promptIds: tf.Tensor;
  readonly promptMask: number[][];
}

function pad(rows: readonly (readonly number[])[], value: number): { data: number[][]; mask: number[][]; T: number } {
  const T = Math.max(...rows.map((r) => r.length));
  return {
    T,
    data: rows.map((r) => [...r, ...new Array<number>(T - r.length).fill(value)]),
    mask: rows.map((r) => [...r.map(() => 1), ...new Array<number>(T - r.length).fill(0)]),
  };
}

function stackPixels(samples: readonly Sample[], key: "frames" | "faces"): tf.Tensor {
  const p0 = samples[0].pixels;
  const size = key === "frames" ? p0.frameSize : p0.faceSize;
  const per = p0.F * size * size * 3;
  const out = new Float32Array(samples.length * per);
  samples.forEach((s, b) => {
    const src = s.pixels[key];
    if (s.pixels.F !== p0.F || src.length !== per) {
      throw new FavchatError(`collate: sample ${b} has ${s.pixels.F} frames of another size than sample 0 (${p0.F}); sample every clip the same way`);
    }
    for (let i = 0; i < per; i++) out[b * per + i] = src[i] / 255;
  });
  return tf.tensor(out, [samples.length, p0.F, size, size, 3], "float32");
}

/** Pixel tensors of one clip, batch of one: frames [1, F, S, S, 3] and faces [1, F, s, s, 3] in [0, 1]. */
export function pixelTensors(pixels: ClipPixels): { frames: tf.Tensor; faces: tf.Tensor } {
  const sample: Sample = { pixels, text: { ids: [], targetMask: [], promptIds: [] } };
  return { frames: stackPixels([sample], "frames"), faces: stackPixels([sample], "faces") };
}

/** The text half of a batch. */
export type ChatTextBatch = Omit<FavchatBatch, "frames" | "faces">;

export function collate(samples: readonly Sample[], padId: number): FavchatBatch {
  if (samples.length === 0) throw new FavchatError("collate: empty batch");
  return { frames: stackPixels(samples, "frames"), faces: stackPixels(samples, "faces"), ...collateText(samples.map((s) => s.text), padId) };
}

/** The texts of a batch alone (its visual side comes from elsewhere, e.g. cached encoder features). */
export function collateText(texts: readonly EncodedExample[], padId: number): ChatTextBatch {
  if (texts.length === 0) throw new FavchatError("collate: empty batch");
  const text = pad(texts.map((t) => t.ids), padId);
  const target = pad(texts.map((t) => t.targetMask), 0);
  const prompt = pad(texts.map((t) => t.promptIds), padId);
  return {
    ids: tf.tensor2d(text.data, [texts.length, text.T], "int32"),
    attentionMask: text.mask,
    targetMask: target.data,
    promptIds: tf.tensor2d(prompt.data, [texts.length, prompt.T], "int32"),
    promptMask: prompt.mask,
  };
}

export function disposeBatch(b: FavchatBatch): void {
  tf.dispose([b.frames, b.faces, b.ids, b.promptIds]);
}
