// Answering one question about one clip: encode the video with the question in mind, splice the visual tokens
// into the chat-formatted ids, and generate with the KV cache. Callers format the text (src/data/chat-format.ts).
import { tf } from "../core/backend.ts";
import { expandTargetsAt, type FavChat } from "./favchat.ts";
import { generate, type GenerateOptions, type GenerateResult } from "./llm/generate.ts";
import { readoutReport, type AuReadoutReport } from "./au-readout.ts";
import type { AttributeReadoutReport } from "./attribute-readout.ts";
import type { EmotionReadoutReport } from "./emotion-readout.ts";

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
  /** What the AU read-out token said (the asked AU, its probability, every AU's), or null when the model has none. */
  readonly auReadout: AuReadoutReport | null;
  /** What the attribute read-out token said (the asked attribute, every attribute's likeliest value), or null when the model has none. */
  readonly attributeReadout: AttributeReadoutReport | null;
  /** What the emotion read-out token said (the likeliest emotion, every emotion's probability), or null when the model has none. */
  readonly emotionReadout: EmotionReadoutReport | null;
  /** Seconds spent encoding the video. */
  readonly encodeSec: number;
}

export async function answerVideo(model: FavChat, x: AnswerInputs, opts: GenerateOptions = {}): Promise<Answer> {
  const t0 = performance.now();
  const { embeds, weights, auLogits, auChoice, attributeLogits, attributeChoice, emotionLogits, emotionFrameWeights } = tf.tidy(() => {
    const promptIds = tf.tensor2d([x.promptIds as number[]], [1, x.promptIds.length], "int32");
    const { tokens, ...rest } = model.encodeVideo({ frames: x.frames, faces: x.faces, promptIds, promptMask: [x.promptIds.map(() => 1)] });
    const ids = tf.tensor2d([x.ids as number[]], [1, x.ids.length], "int32");
    return { embeds: model.spliceEmbeds(ids, tokens).embeds, ...rest };
  });
  const [wGeneral, wFace] = Array.from(await weights.data());
  const values = async (t: tf.Tensor) => Array.from(await t.data());
  const auReadout = auLogits && auChoice ? readoutReport(await values(auLogits), await values(auChoice)) : null;
  const attributeReadout = model.attributeReadout && attributeLogits && attributeChoice ? model.attributeReadout.report(await values(attributeLogits), await values(attributeChoice)) : null;
  const emotionReadout = model.emotionReadout && emotionLogits ? model.emotionReadout.report(await values(emotionLogits)) : null;
  tf.dispose([weights, auLogits, auChoice, attributeLogits, attributeChoice, emotionLogits, emotionFrameWeights]);
  const encodeSec = (performance.now() - t0) / 1000;
  try {
    const result = await generate(model.llm, x.ids, { ...opts, promptEmbeds: embeds });
    return { ...result, wGeneral, wFace, auReadout, attributeReadout, emotionReadout, encodeSec };
  } finally {
    embeds.dispose();
  }
}

/** One candidate reply: the whole exchange's ids (one <video> id) and 1 on the reply's tokens (encodeExample). */
export interface Candidate {
  readonly ids: readonly number[];
  readonly targetMask: readonly number[];
}

/**
 * Log-likelihood of each candidate reply given the clip and the question (the sum over the reply's tokens, its
 * end-of-turn token included, so a candidate must also end where it ends): multiple-choice scoring as
 * lm-evaluation-harness does it. The video is encoded once for all candidates.
 */
export async function scoreCandidates(model: FavChat, x: Omit<AnswerInputs, "ids">, candidates: readonly Candidate[]): Promise<{ scores: number[]; wGeneral: number; wFace: number }> {
  const [tokens, weights] = tf.tidy(() => {
    const promptIds = tf.tensor2d([x.promptIds as number[]], [1, x.promptIds.length], "int32");
    const v = model.encodeVideo({ frames: x.frames, faces: x.faces, promptIds, promptMask: [x.promptIds.map(() => 1)] });
    return [v.tokens, v.weights];
  });
  const [wGeneral, wFace] = Array.from(await weights.data());
  weights.dispose();
  try {
    const out: number[] = [];
    for (const c of candidates) {
      const score = tf.tidy(() => {
        const ids = tf.tensor2d([c.ids as number[]], [1, c.ids.length], "int32");
        const { embeds, videoPositions } = model.spliceEmbeds(ids, tokens);
        const logp = tf.logSoftmax(model.llm.forward({ embeds }).squeeze([0])); // [T-1+Q, V]
        // What each spliced position predicts, and whether that is a reply token (as the training loss counts them).
        const next = expandTargetsAt([...c.ids.slice(1), 0], videoPositions[0], model.numVisualTokens, 0);
        const isReply = expandTargetsAt([...c.targetMask.slice(1), 0], videoPositions[0], model.numVisualTokens, 0);
        const V = logp.shape[1] as number;
        const flat = isReply.flatMap((m, j) => (m === 1 ? [j * V + next[j]] : []));
        return tf.sum(tf.gather(logp.reshape([-1]), tf.tensor1d(flat, "int32")));
      });
      out.push((await score.data())[0]);
      score.dispose();
    }
    return { scores: out, wGeneral, wFace };
  } finally {
    tokens.dispose();
  }
}
