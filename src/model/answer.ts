// Answering one question about one clip: encode the video with the question in mind, splice the visual tokens
// into the chat-formatted ids, and generate with the KV cache. Callers format the text (src/data/chat-format.ts).
import { tf } from "../core/backend.ts";
import type { FavChat } from "./favchat.ts";
import { generate, type GenerateOptions, type GenerateResult } from "./llm/generate.ts";

export interface AnswerInputs {
  /** [1, F, S, S, 3] in [0, 1]. */
  readonly frames: tf.Tensor;
  /** [1, F, s, s, 3] in [0, 1]. */
  readonly faces: tf.Tensor;
  /** The chat-formatted prompt with one <video> id, ending with the assistant header. */
  readonly ids: readonly number[];
  /** The question's own ids (prompt guidance). */
  readonly promptIds: readonly number[];
}

export interface Answer extends GenerateResult {
  /** Adapter weights of the general and the face branch (sum 1). */
  readonly wGeneral: number;
  readonly wFace: number;
  /** Seconds spent encoding the video. */
  readonly encodeSec: number;
}

export async function answerVideo(model: FavChat, x: AnswerInputs, opts: GenerateOptions = {}): Promise<Answer> {
  const t0 = performance.now();
  const { embeds, weights } = tf.tidy(() => {
    const promptIds = tf.tensor2d([x.promptIds as number[]], [1, x.promptIds.length], "int32");
    const { tokens, weights } = model.encodeVideo({ frames: x.frames, faces: x.faces, promptIds, promptMask: [x.promptIds.map(() => 1)] });
    const ids = tf.tensor2d([x.ids as number[]], [1, x.ids.length], "int32");
    return { embeds: model.spliceEmbeds(ids, tokens).embeds, weights };
  });
  const [wGeneral, wFace] = Array.from(await weights.data());
  weights.dispose();
  const encodeSec = (performance.now() - t0) / 1000;
  try {
    const result = await generate(model.llm, x.ids, { ...opts, promptEmbeds: embeds });
    return { ...result, wGeneral, wFace, encodeSec };
  } finally {
    embeds.dispose();
  }
}
