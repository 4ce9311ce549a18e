// A micro FaVChat for tests (every part present, a few thousand parameters) and inputs for it: frames, faces,
// a question and chat ids with the <video> placeholder.
import { tf } from "../../src/core/backend.ts";
import { Rng } from "../../src/core/rng.ts";
import { resolveFavchatConfig, type FavchatConfig } from "../../src/model/config.ts";
import type { FavchatInputs } from "../../src/model/favchat.ts";

export const VIDEO_ID = 31;

/** config.json fields of the micro model; `ablation` switches by their JSON names. */
export function microConfigJson(ablation: Record<string, boolean> = {}): Record<string, unknown> {
  return {
    model_type: "favchat",
    max_frames: 4,
    video_token_id: VIDEO_ID,
    ablation,
    vision_config: { hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, image_size: 16, patch_size: 8 },
    face_config: { imageSize: 16, patchSize: 4, widths: [8, 16], depths: [1, 1], numHeads: [1, 2], mlpRatio: 2 },
    ca2_config: { dim: 8, num_heads: 2 },
    qformer_config: { num_queries: 3, dim: 8, num_heads: 2, num_layers: 1, mlp_dim: 16 },
    adapter_config: { hidden: 4 },
    llm_config: { vocab_size: 32, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, tie_word_embeddings: true },
  };
}

export function microConfig(ablation: Record<string, boolean> = {}): FavchatConfig {
  return resolveFavchatConfig(microConfigJson(ablation), "micro config");
}

/**
 * Inputs for B = 2 clips of F frames: row 0 has its placeholder at position 2 and no padding, row 1 at
 * position 0 with two padded ids at the end; questions of 3 and 2 tokens (padded to 3).
 */
export function microInputs(seed: number, frames = 2): FavchatInputs {
  const rng = new Rng(seed);
  const B = 2;
  const img = (side: number) => tf.tensor(Float32Array.from({ length: B * frames * side * side * 3 }, () => rng.next()), [B, frames, side, side, 3]);
  const ids = [
    [1, 2, VIDEO_ID, 4, 5, 6, 7],
    [VIDEO_ID, 8, 9, 10, 11, 0, 0],
  ];
  return {
    frames: img(16),
    faces: img(16),
    promptIds: tf.tensor2d([[12, 13, 14], [15, 16, 0]], [2, 3], "int32"),
    promptMask: [[1, 1, 1], [1, 1, 0]],
    ids: tf.tensor2d(ids, [2, 7], "int32"),
    attentionMask: [[1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0, 0]],
  };
}

export function disposeInputs(x: FavchatInputs): void {
  tf.dispose([x.frames, x.promptIds, x.ids, ...(x.faces ? [x.faces] : [])]);
}
