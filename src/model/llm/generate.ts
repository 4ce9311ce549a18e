// Autoregressive generation with a KV cache: the prompt is run once, then one token per step.
// Stops on a stop token, a stop string (needs `decode`), max tokens, or the model's position limit.
import { tf } from "../../core/backend.ts";
import { Rng } from "../../core/rng.ts";
import { KVCache } from "../../nn/kv-cache.ts";
import type { Qwen2ForCausalLM } from "./qwen2.ts";
import { sampleToken, type SamplingOptions } from "./sample.ts";

export interface GenerateOptions extends Partial<SamplingOptions> {
  readonly maxTokens?: number;
  readonly seed?: number;
  /** Token ids that end generation (not included in the text). */
  readonly stopTokens?: readonly number[];
  /** Strings that end generation; the text is cut before them. Requires `decode`. */
  readonly stopStrings?: readonly string[];
  readonly decode?: (ids: number[]) => string;
  /** Called after each new token with the token and the text so far (when `decode` is given). */
  readonly onToken?: (id: number, text: string) => void;
  /** Input embeddings for the prompt instead of ids (visual tokens spliced in); ids still name the prompt. */
  readonly promptEmbeds?: tf.Tensor;
}

export interface GenerateResult {
  /** Prompt ids then new ids. */
  readonly ids: number[];
  readonly newIds: number[];
  /** Decoded new tokens, cut at a stop string (empty without `decode`). */
  readonly text: string;
  readonly finishReason: "stop" | "length";
  readonly promptTokens: number;
  /** Seconds for the prompt pass and for the decoding steps. */
  readonly prefillSec: number;
  readonly decodeSec: number;
}

export async function generate(model: Qwen2ForCausalLM, promptIds: readonly number[], opts: GenerateOptions = {}): Promise<GenerateResult> {
  if (promptIds.length === 0 && !opts.promptEmbeds) throw new Error("generate: empty prompt");
  const sampling: SamplingOptions = { temperature: opts.temperature ?? 0, topK: opts.topK ?? 0, topP: opts.topP ?? 1 };
  const maxTokens = opts.maxTokens ?? 64;
  const stopTokens = new Set(opts.stopTokens ?? model.config.eosTokenId);
  const stopStrings = opts.stopStrings ?? [];
  const rng = new Rng(opts.seed ?? 0);
  const promptLen = opts.promptEmbeds ? (opts.promptEmbeds.shape[1] as number) : promptIds.length;
  const room = model.config.maxPositionEmbeddings - promptLen;
  const newIds: number[] = [];
  let text = "";
  let finishReason: "stop" | "length" = "length";
  const cache = new KVCache(model.config.numLayers);
  const t0 = performance.now();
  let prefillSec = 0;
  try {
    let input: { ids?: tf.Tensor; embeds?: tf.Tensor } = opts.promptEmbeds
      ? { embeds: opts.promptEmbeds }
      : { ids: tf.tensor2d([promptIds as number[]], [1, promptIds.length], "int32") };
    for (let step = 0; step < Math.min(maxTokens, room); step++) {
      const logits = tf.tidy(() => model.forward({ ...input, cache, lastOnly: true })); // [1, 1, V]
      if (input.ids) input.ids.dispose();
      const row = (await logits.data()) as Float32Array;
      logits.dispose();
      if (step === 0) prefillSec = (performance.now() - t0) / 1000;
      const id = sampleToken(row, sampling, rng.fork("token", step));
      if (stopTokens.has(id)) {
        finishReason = "stop";
        break;
      }
      newIds.push(id);
      if (opts.decode) {
        text = opts.decode(newIds);
        const hit = firstStop(text, stopStrings);
        if (hit >= 0) {
          text = text.slice(0, hit);
          finishReason = "stop";
          opts.onToken?.(id, text);
          break;
        }
      }
      opts.onToken?.(id, text);
      input = { ids: tf.tensor2d([[id]], [1, 1], "int32") };
    }
    if (input.ids && !input.ids.isDisposed) input.ids.dispose();
  } finally {
    cache.dispose();
  }
  const decodeSec = (performance.now() - t0) / 1000 - prefillSec;
  return { ids: [...promptIds, ...newIds], newIds, text, finishReason, promptTokens: promptLen, prefillSec, decodeSec };
}

function firstStop(text: string, stops: readonly string[]): number {
  let best = -1;
  for (const s of stops) {
    const i = s.length > 0 ? text.indexOf(s) : -1;
    if (i >= 0 && (best < 0 || i < best)) best = i;
  }
  return best;
}
