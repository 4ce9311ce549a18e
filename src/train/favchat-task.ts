// Training tasks over FaVChat for the trainer: a batch is B examples of similar length drawn (seeded by step) from the stage's pool,
// their clips read as raw frames with lightly jittered face crops, encoded in the one chat format, collated.
import { tf } from "../core/backend.ts";
import { FavchatError } from "../core/errors.ts";
import type { Rng } from "../core/rng.ts";
import { readRawClip } from "../data/frames.ts";
import { cropJitter, pixelsFromRaw, type ClipPixels } from "../data/clip-pixels.ts";
import { encodeExample, type EncodedExample } from "../data/chat-format.ts";
import { collate, disposeBatch, type FavchatBatch } from "../data/collate.ts";
import type { FavChat } from "../model/favchat.ts";
import type { TextTokenizer } from "../text/tokenizer.ts";
import type { ClipRef, Example } from "./favchat-data.ts";
import type { VisualAuxModel } from "./visual-aux.ts";
import { favchatLoss } from "./favchat-loss.ts";
import { maskedCrossEntropy } from "./loss.ts";
import type { TrainTask } from "./trainer.ts";
import { drawGrouped, lengthGroups } from "./length-groups.ts";

/** Token-length width of the groups training batches are drawn from (src/train/length-groups.ts). */
export const LENGTH_GROUP_WIDTH = 16;

export interface TaskOptions {
  readonly batchSize: number;
  /** Frames per clip fed to the model (at most the model's maxFrames). */
  readonly frames: number;
  /** Jitter face crops (position +-3%, scale +-6%) in training batches. */
  readonly augment: boolean;
  /** Held-out examples for the validation loss, and how many batches of them to use. */
  readonly val?: readonly Example[];
  readonly valBatches?: number;
  /** Label heads on the visual tokens and the weight of their loss (src/train/visual-aux.ts); none by default. */
  readonly aux?: { readonly heads: VisualAuxModel; readonly weight: number };
}

/** A training batch and the clips it came from (the visual heads' labels). */
export type TaskBatch = FavchatBatch & { readonly clips: readonly ClipRef[] };

/** Frames and face crops of an example's clip at the model's input sizes. */
export function examplePixels(model: FavChat, ex: Example, frames: number, rng: Rng | null): ClipPixels {
  if (!ex.clip.raw) {
    throw new FavchatError(`clip ${ex.clip.id} has no raw frames file; training reads raw frames (favchat synth writes them; for real videos, extract them first)`);
  }
  const raw = readRawClip(ex.clip.raw);
  const jitter = rng ? cropJitter(rng) : undefined;
  return pixelsFromRaw(raw, ex.clip.record.labels.faceBoxes, { frames, frameSize: model.config.vision.imageSize, faceSize: model.config.face.imageSize }, jitter);
}

function encodeAll(tok: TextTokenizer, examples: readonly Example[]): EncodedExample[] {
  return examples.map((e) => encodeExample(tok, e.question, e.target));
}

/** Stages 1-3: the full model, loss on the answer tokens. */
export function favchatTask(model: FavChat, tok: TextTokenizer, examples: readonly Example[], o: TaskOptions): TrainTask<TaskBatch> {
  const padId = tok.padId ?? 0;
  const encoded = encodeAll(tok, examples); // once: the same text every time an example is drawn
  const groups = lengthGroups(encoded.map((e) => e.ids.length), LENGTH_GROUP_WIDTH);
  /** Language loss, and the visual heads' loss when they are on. */
  const lossesOf = (batch: TaskBatch): { lm: tf.Scalar; visual: tf.Scalar | null } => {
    const out = model.forward({ ...batch });
    const lm = favchatLoss(out.logits, batch.ids.arraySync() as number[][], batch.targetMask, out.videoPositions, model.numVisualTokens);
    const visual = o.aux ? o.aux.heads.loss(out.tokens, batch.clips) : null;
    tf.dispose([out.logits, out.tokens, out.weights]);
    return { lm, visual };
  };
  const lossOf = (batch: TaskBatch): tf.Scalar => {
    const { lm, visual } = lossesOf(batch);
    return visual && o.aux ? (tf.add(lm, tf.mul(visual, o.aux.weight)) as tf.Scalar) : lm;
  };
  const batchOf = (idx: readonly number[], pool: readonly Example[], enc: readonly EncodedExample[], rng: Rng | null): TaskBatch => ({
    ...collate(idx.map((i) => ({ pixels: examplePixels(model, pool[i], o.frames, rng?.fork("pixels", i) ?? null), text: enc[i] })), padId),
    clips: idx.map((i) => pool[i].clip),
  });
  const val = o.val ?? [];
  const valEncoded = encodeAll(tok, val);
  return {
    model: o.aux?.heads ?? model,
    makeBatch: (_step, _micro, rng) => batchOf(drawGrouped(groups, o.batchSize, rng), examples, encoded, o.augment ? rng : null),
    loss: lossOf,
    disposeBatch,
    evaluate: val.length === 0 ? undefined : async () => {
      let sum = 0;
      let visualSum = 0;
      let n = 0;
      for (let k = 0; k < (o.valBatches ?? 4) && k * o.batchSize < val.length; k++) {
        const idx = Array.from({ length: Math.min(o.batchSize, val.length - k * o.batchSize) }, (_, i) => k * o.batchSize + i);
        const batch = batchOf(idx, val, valEncoded, null);
        const [lm, visual] = tf.tidy(() => {
          const l = lossesOf(batch);
          return [l.lm, l.visual ?? tf.scalar(0)];
        });
        sum += (await lm.data())[0];
        visualSum += (await visual.data())[0];
        tf.dispose([lm, visual]);
        disposeBatch(batch);
        n++;
      }
      const metrics: Record<string, number> = { val_loss: sum / n };
      if (o.aux) metrics.val_visual_loss = visualSum / n;
      return metrics;
    },
  };
}

interface TextBatch {
  readonly ids: tf.Tensor;
  readonly targets: tf.Tensor;
  readonly mask: tf.Tensor;
}

/** Stage 0: the LLM alone on the exchanges' text (the video placeholder dropped), loss on every token. */
export function textTask(model: FavChat, tok: TextTokenizer, examples: readonly Example[], o: Pick<TaskOptions, "batchSize">): TrainTask<TextBatch> {
  const videoId = model.config.videoTokenId;
  const padId = tok.padId ?? 0;
  const seqs = encodeAll(tok, examples).map((e) => e.ids.filter((id) => id !== videoId));
  return {
    model,
    makeBatch: (_step, _micro, rng) => {
      const rows = Array.from({ length: o.batchSize }, () => seqs[rng.int(seqs.length)]);
      const T = Math.max(...rows.map((r) => r.length)) - 1;
      const pad = (r: number[]) => [...r, ...new Array<number>(T + 1 - r.length).fill(padId)];
      return {
        ids: tf.tensor2d(rows.map((r) => pad(r).slice(0, T)), [rows.length, T], "int32"),
        targets: tf.tensor2d(rows.map((r) => pad(r).slice(1)), [rows.length, T], "int32"),
        mask: tf.tensor2d(rows.map((r) => Array.from({ length: T }, (_, t) => (t + 1 < r.length ? 1 : 0))), [rows.length, T], "float32"),
      };
    },
    loss: (b) => maskedCrossEntropy(model.llm.forward({ ids: b.ids }), b.targets, b.mask),
    disposeBatch: (b) => tf.dispose([b.ids, b.targets, b.mask]),
  };
}
