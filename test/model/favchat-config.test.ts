// FavchatConfig: the presets resolve (paper included, at its published widths), config.json round-trips, a preset
// plus overrides merges one level deep, and each kind of bad field is a FavchatError naming it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { FavchatError } from "../../src/core/errors.ts";
import { favchatConfigToJson, favchatPreset, favchatPresetJson, resolveFavchatConfig, FAVCHAT_PRESET_NAMES } from "../../src/model/config.ts";
import { microConfigJson } from "./favchat-helpers.ts";

test("presets: tiny, small and paper resolve; paper has SigLIP-so400m and Qwen2.5-7B widths", () => {
  for (const name of FAVCHAT_PRESET_NAMES) {
    const c = favchatPreset(name);
    assert.ok(c.videoTokenId < c.llm.vocabSize, name);
    assert.deepEqual(resolveFavchatConfig(favchatConfigToJson(c), "round trip"), c, `${name} config.json round trip`);
  }
  const paper = favchatPreset("paper");
  assert.equal(paper.vision.hiddenSize, 1152);
  assert.equal(paper.vision.numPatches, 27 * 27);
  assert.equal(paper.llm.hiddenSize, 3584);
  assert.equal(paper.llm.numKvHeads, 4);
  assert.equal(paper.llm.vocabSize, 152064);
  assert.equal(paper.videoTokenId, 151656);
  assert.equal(paper.qformer.numQueries, 16);
  const tiny = favchatPreset("tiny");
  assert.equal(tiny.qformer.numQueries, 16);
  assert.deepEqual(tiny.face.blockDims, [32, 64, 128, 256]);
});

test("video_position: read, written, before_question when absent; another value is a clear error", () => {
  assert.equal(favchatPreset("tiny").videoPosition, "before_question");
  const c = favchatPreset("tiny", { video_position: "after_question" });
  assert.equal(c.videoPosition, "after_question");
  assert.equal(favchatConfigToJson(c).video_position, "after_question");
  assert.deepEqual(resolveFavchatConfig(favchatConfigToJson(c), "round trip"), c);
  assert.throws(() => favchatPreset("tiny", { video_position: "first" }), (e: Error) => e instanceof FavchatError && /"video_position" must be "before_question" or "after_question", got "first"/.test(e.message));
});

test("a preset with overrides merges sub-configs field by field", () => {
  const c = resolveFavchatConfig({ preset: "tiny", llm_config: { vocab_size: 1200 }, video_token_id: 1199, ablation: { no_ca2: true } }, "train.json");
  assert.equal(c.llm.vocabSize, 1200);
  assert.equal(c.llm.hiddenSize, 128, "other llm fields keep the preset's values");
  assert.equal(c.videoTokenId, 1199);
  assert.deepEqual(c.ablation, { noFaceEncoder: false, noCA2: true, qformerWithoutPrompt: false, fixedWeights: false });
  assert.equal(favchatPresetJson("tiny").preset, undefined);
  const frames = resolveFavchatConfig({ preset: "tiny", ca2_config: { frame_tokens: true } }, "train.json");
  assert.deepEqual(frames.ca2, { ...favchatPreset("tiny").ca2, frameTokens: true }, "frame_tokens merges beside the preset's ints");
  assert.deepEqual(resolveFavchatConfig(favchatConfigToJson(frames), "round trip"), frames);
  assert.equal(favchatPreset("tiny").ca2.frameTokens, false, "absent: per-position tokens, as older model directories were trained");
  const deltas = resolveFavchatConfig({ preset: "tiny", ca2_config: { frame_tokens: true, frame_deltas: true } }, "train.json");
  assert.equal(deltas.ca2.frameDeltas, true);
  assert.deepEqual(resolveFavchatConfig(favchatConfigToJson(deltas), "round trip"), deltas);
  assert.equal((favchatConfigToJson(frames).ca2_config as Record<string, unknown>).frame_deltas, undefined, "written only when on: older readers load the rest");
});

test("bad configs are FavchatErrors that name the field", () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ ...microConfigJson(), model_type: "qwen2" }, /model_type "qwen2" is not a favchat model/],
    [{ ...microConfigJson(), hidden_size: 3 }, /unknown field "hidden_size"/],
    [{ ...microConfigJson(), ca2_config: { frame_tokens: "yes" } }, /ca2_config.frame_tokens must be true or false/],
    [{ ...microConfigJson(), ca2_config: { frame_tokens: true, frame_deltas: 1 } }, /ca2_config.frame_deltas must be true or false/],
    [{ ...microConfigJson(), ca2_config: { frame_deltas: true } }, /frame_deltas needs frame_tokens: true/],
    [{ ...microConfigJson(), video_token_id: 32 }, /video_token_id.*below llm_config.vocab_size 32, got 32/],
    [{ ...microConfigJson(), ablation: { no_ca: true } }, /unknown switch "no_ca"/],
    [{ ...microConfigJson(), ablation: { no_ca2: "yes" } }, /ablation.no_ca2 must be true or false/],
    [{ ...microConfigJson(), qformer_config: { num_queries: 3, dim: 9, num_heads: 2 } }, /qformer_config.dim 9 is not divisible by num_heads 2/],
    [{ ...microConfigJson(), ca2_config: { dim: 0 } }, /ca2_config.dim must be a positive integer/],
    [{ ...microConfigJson(), adapter_config: { width: 3 } }, /adapter_config: unknown field "width"/],
    [{ ...microConfigJson(), max_frames: 0 }, /max_frames/],
    [{ ...microConfigJson(), face_config: { imageSize: 15 } }, /\(face_config\).*imageSize 15/],
    [{ ...microConfigJson(), vision_config: { hidden_size: 15, num_attention_heads: 2 } }, /\(vision_config\).*hidden_size 15/],
    [{ preset: "huge" }, /unknown preset "huge"/],
    [{ model_type: "favchat", max_frames: 4 }, /"vision_config" is missing/],
  ];
  for (const [raw, msg] of bad) {
    assert.throws(() => resolveFavchatConfig(raw, "cfg.json"), (e: Error) => e instanceof FavchatError && msg.test(e.message) && e.message.startsWith("cfg.json"), String(msg));
  }
});
