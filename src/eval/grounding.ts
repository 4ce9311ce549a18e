// Does the answer depend on the video? The loss of each example with its own clip, with another clip's visual
// tokens (rotated by one within the batch), and with zeros in their place. A model that uses the video has a
// clearly lower loss with its own clip; equal losses mean the visual path carries nothing (issue 5's diagnosis).
import { tf } from "../core/backend.ts";
import type { FavchatBatch } from "../data/collate.ts";
import type { FavChat } from "../model/favchat.ts";
import { favchatLoss } from "../train/favchat-loss.ts";

export interface GroundingLosses {
  readonly own: number;
  readonly shuffled: number;
  readonly zeros: number;
}

/** Mean target-token loss of a batch (B >= 2) with its own, rotated and zeroed visual tokens. */
export function groundingLosses(model: FavChat, batch: FavchatBatch): GroundingLosses {
  const B = batch.ids.shape[0] as number;
  if (B < 2) throw new Error("groundingLosses: needs at least 2 clips to swap videos between");
  const ids = batch.ids.arraySync() as number[][];
  const lossWith = (mode: keyof GroundingLosses) =>
    tf.tidy(() => {
      let { tokens } = model.encodeVideo(batch); // [B, Q, D]
      if (mode === "zeros") tokens = tf.zerosLike(tokens);
      if (mode === "shuffled") tokens = tf.concat([tokens.slice([1, 0, 0], [-1, -1, -1]), tokens.slice([0, 0, 0], [1, -1, -1])], 0);
      const { embeds, keyPadding, videoPositions } = model.spliceEmbeds(batch.ids, tokens, batch.attentionMask);
      const logits = model.llm.forward({ embeds, keyPadding });
      return favchatLoss(logits, ids, batch.targetMask, videoPositions, model.numVisualTokens).dataSync()[0];
    });
  return { own: lossWith("own"), shuffled: lossWith("shuffled"), zeros: lossWith("zeros") };
}
