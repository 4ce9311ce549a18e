// The FaVChat model (DESIGN 1): general encoder -> prompt-conditioned Q-Former_g -> F_g; facial encoder -> CA² stack
// -> Q-Former_f -> F_f; adapters weigh the branches per sample; V = LayerNorm(w_g F_g + w_f F_f) replaces the single
// <video> placeholder token in the LLM's input embeddings. Parameter names: vision_tower.*, face_encoder.*, ca2.*
// (or face_proj.* without CA²), qformer_g.*, qformer_f.*, fusion.*, summary.* (with summary_tokens, ours: two more
// tokens after V's Q, src/model/summary-tokens.ts), llm.* (the Qwen2 checkpoint's own names).
import { tf } from "../core/backend.ts";
import { FavchatError } from "../core/errors.ts";
import type { Rng } from "../core/rng.ts";
import { Module } from "../nn/module.ts";
import { Embedding } from "../nn/embedding.ts";
import { normal } from "../nn/init.ts";
import { SiglipVisionTower } from "./vision/siglip.ts";
import { FaceEncoder } from "./face/encoder.ts";
import { Qwen2ForCausalLM } from "./llm/qwen2.ts";
import { clipSummaryFeatures, pooledFaceDim, SummaryTokens } from "./summary-tokens.ts";
import { AU_READOUT_TOKENS, AuReadout } from "./au-readout.ts";
import { ATTRIBUTE_READOUT_TOKENS, AttributeReadout } from "./attribute-readout.ts";
import { EMOTION_READOUT_TOKENS, EmotionReadout, frameFeatures } from "./emotion-readout.ts";
import { makePrompt, type Prompt } from "./prompt/prompt.ts";
import { CA2Stack } from "./prompt/ca2.ts";
import { QFormer } from "./prompt/qformer.ts";
import { BranchFusion, type FusionMode } from "./prompt/adapter.ts";
import { FrameTokenProjector, addTemporalEmbedding } from "./prompt/frame-tokens.ts";
import type { FavchatConfig } from "./config.ts";

/** The question, which steers the visual side. */
export interface PromptInputs {
  /** The question's token ids [B, Tq] (int32), embedded with the LLM's own table. */
  readonly promptIds: tf.Tensor;
  /** Per row, 1 for a real question token and 0 for padding (length Tq). */
  readonly promptMask: readonly (readonly number[])[];
}

/** What the visual side needs: the clip and the question. */
export interface VisualInputs extends PromptInputs {
  /** Sampled frames [B, F, H, W, 3], float32 in [0, 1], H = W = the vision tower's image size. */
  readonly frames: tf.Tensor;
  /** Face crops of the main face [B, F, h, w, 3] in [0, 1]; not used (may be omitted) without the facial encoder. */
  readonly faces?: tf.Tensor;
}

/**
 * The visual side from the encoders' outputs computed before (encoderFeatures; a cache of frozen encoders,
 * src/train/feature-cache.ts) instead of pixels. The caller keeps ownership of the features.
 */
export interface FeatureInputs extends PromptInputs {
  readonly features: EncoderFeatures;
}

/** The text of one forward pass. */
export interface TextInputs {
  /**
   * LLM input ids [B, T] (int32), the chat-formatted text. Each row holds the video placeholder exactly once: the
   * token `config.videoTokenId` (the tokenizer's `<video>` special token), which the Q visual tokens replace, so
   * the LLM sees T - 1 + Q positions.
   */
  readonly ids: tf.Tensor;
  /** Per row, 1 for a real token and 0 for padding (length T); default all real. */
  readonly attentionMask?: readonly (readonly number[])[];
}

/** The whole input of one forward pass. */
export interface FavchatInputs extends VisualInputs, TextInputs {}

export interface VisualTokens {
  /**
   * V [B, numVisualTokens, Dllm]: the attribute, AU and emotion read-out tokens when the model has them, the fused Q,
   * then the summary tokens when it has them.
   */
  readonly tokens: tf.Tensor;
  /** [B, 2]: w_g, w_f per row (sum 1). */
  readonly weights: tf.Tensor;
  /** The AU read-out's head logits [B, 16] (AU_NAMES order) and choice scores [B, 17], when the model has it (config.auReadout). */
  readonly auLogits?: tf.Tensor;
  readonly auChoice?: tf.Tensor;
  /** The attribute read-out's head logits [B, total values] and choice scores [B, attributes + 1] (config.attributeReadout). */
  readonly attributeLogits?: tf.Tensor;
  readonly attributeChoice?: tf.Tensor;
  /** The emotion read-out's head logits [B, classes] and each frame's share of its pool [B, F] (config.emotionReadout). */
  readonly emotionLogits?: tf.Tensor;
  readonly emotionFrameWeights?: tf.Tensor;
}

/** The encoders' outputs (encoderFeatures). */
export interface EncoderFeatures {
  /** The general encoder's patch tokens of every frame [B*F, P, Dv]. */
  readonly patches: tf.Tensor;
  /** The facial encoder's block outputs, each [B*F, P_i, D_i]; empty without the facial encoder. */
  readonly blocks: tf.Tensor[];
}

export interface FavchatOutput extends VisualTokens {
  /** Logits [B, T - 1 + Q, V] over the spliced sequence. */
  readonly logits: tf.Tensor;
  /** Per row, the placeholder's index in `ids`: the first of the Q visual positions in the spliced sequence. */
  readonly videoPositions: number[];
  /** Key padding of the spliced sequence (length T - 1 + Q per row). */
  readonly keyPadding: number[][];
}

export class FavChat extends Module {
  readonly visionTower: SiglipVisionTower;
  readonly visionTemporal: tf.Variable; // [maxFrames, Dv]
  readonly faceEncoder: FaceEncoder | null;
  readonly ca2: CA2Stack | null;
  /** Top facial block -> face Q-Former tokens, when CA² is ablated (with CA² its top module does this). */
  readonly faceProj: FrameTokenProjector | null;
  readonly qformerG: QFormer;
  readonly qformerF: QFormer | null;
  readonly fusion: BranchFusion;
  /** The encoders' summary tokens after the fused Q (config.summaryTokens), or null. */
  readonly summary: SummaryTokens | null;
  /** The AU read-out token before V's other tokens (config.auReadout), or null. */
  readonly auReadout: AuReadout | null;
  /** The attribute read-out token, first in V (config.attributeReadout), or null. */
  readonly attributeReadout: AttributeReadout | null;
  /** The emotion read-out token, after the AU read-out's (config.emotionReadout), or null. */
  readonly emotionReadout: EmotionReadout | null;
  readonly llm: Qwen2ForCausalLM;
  /** The visual path's own token table for the question (config.promptTable), or null: it reads the LLM's. */
  readonly promptTable: Embedding | null;
  /**
   * Whether gradients reach the LLM's token embeddings through the prompt (the question's embeddings, which CA², the
   * Q-Formers and the adapters read) as well as through the LLM. A training setting (stage setting prompt_grad), not
   * saved: false makes the prompt a constant, so backward stops at V and skips the frozen visual path (stage 2's
   * micro-batch about 30% cheaper, scripts/stage-profile.ts). Forward values are the same either way.
   */
  promptGrad = true;

  constructor(
    readonly config: FavchatConfig,
    rng: Rng | null,
  ) {
    super();
    const { ablation: ab, llm, maxFrames } = config;
    const Dllm = llm.hiddenSize;
    const Dv = config.vision.hiddenSize;
    const fork = (name: string) => rng?.fork(name) ?? null; // one stream per part: a part's init does not shift when another changes
    const withFace = !ab.noFaceEncoder;
    this.visionTower = this.addChild("vision_tower", new SiglipVisionTower(config.vision, fork("vision_tower")));
    this.visionTemporal = this.addParam("vision_temporal_embedding", normal(fork("vision_temporal"), [maxFrames, Dv], 0.02));
    this.faceEncoder = withFace ? this.addChild("face_encoder", new FaceEncoder(config.face, fork("face_encoder"))) : null;
    const blockDims = config.face.blockDims;
    this.ca2 = withFace && !ab.noCA2 ? this.addChild("ca2", new CA2Stack(config.ca2, blockDims, Dllm, maxFrames, fork("ca2"), config.face.blockTokens)) : null;
    this.faceProj =
      withFace && ab.noCA2
        ? this.addChild("face_proj", new FrameTokenProjector(blockDims[blockDims.length - 1], config.ca2.dim, maxFrames, fork("face_proj")))
        : null;
    const usePrompt = !ab.qformerWithoutPrompt;
    this.qformerG = this.addChild("qformer_g", new QFormer(config.qformer, { visualDim: Dv, promptDim: Dllm, outDim: Dllm, usePrompt }, fork("qformer_g")));
    this.qformerF = withFace
      ? this.addChild("qformer_f", new QFormer(config.qformer, { visualDim: config.ca2.dim, promptDim: Dllm, outDim: Dllm, usePrompt }, fork("qformer_f")))
      : null;
    const mode: FusionMode = !withFace ? "general-only" : ab.fixedWeights ? "fixed" : "adapters";
    this.fusion = this.addChild("fusion", new BranchFusion(Dllm, mode, config.adapter, fork("fusion")));
    const faceDim = withFace ? pooledFaceDim(config.face.blockDims, config.face.blockTokens) : null;
    this.summary = config.summaryTokens ? this.addChild("summary", new SummaryTokens(Dv, faceDim, Dllm, fork("summary"))) : null;
    this.auReadout = config.auReadout ? this.addChild("au_readout", new AuReadout(Dllm, fork("au_readout"))) : null;
    this.attributeReadout = config.attributeReadout
      ? this.addChild("attribute_readout", new AttributeReadout(Dv + (faceDim ?? 0), Dllm, config.attributeReadout, fork("attribute_readout")))
      : null;
    this.emotionReadout = config.emotionReadout
      ? this.addChild("emotion_readout", new EmotionReadout(Dv + (faceDim ?? 0), Dllm, config.emotionReadout, fork("emotion_readout")))
      : null;
    this.llm = this.addChild("llm", new Qwen2ForCausalLM(llm, fork("llm")));
    // Zeros until syncPromptTable copies the LLM's table into it (stage 0's end): no rng stream of its own, so adding it
    // shifts no other part's initial weights.
    this.promptTable = config.promptTable ? this.addChild("prompt_table", new Embedding(llm.vocabSize, Dllm, null)) : null;
  }

  /**
   * Copies the LLM's token table into the visual path's own (config.promptTable; nothing without one). Stage 0 does
   * this when it ends: from then on the visual path reads the question as the text-only LLM embedded it.
   */
  syncPromptTable(): void {
    this.promptTable?.weight.assign(this.llm.model.embedTokens.weight);
  }

  /** The number of visual tokens that replace the placeholder: Q, plus the summary and read-out tokens when the model has them. */
  get numVisualTokens(): number {
    const readouts = (this.auReadout ? AU_READOUT_TOKENS : 0) + (this.attributeReadout ? ATTRIBUTE_READOUT_TOKENS : 0) + (this.emotionReadout ? EMOTION_READOUT_TOKENS : 0);
    return this.config.qformer.numQueries + (this.summary?.count ?? 0) + readouts;
  }

  /** The clip and the question -> V [B, numVisualTokens, Dllm] and the branch weights [B, 2]. */
  encodeVideo(inputs: VisualInputs | FeatureInputs): VisualTokens {
    const { B, F } = this.checkVisual(inputs);
    return tf.tidy(() => {
      const features = "features" in inputs ? inputs.features : this.encoderFeatures(inputs.frames, inputs.faces);
      const { tokens, weights, ...readouts } = this.visualTokensFrom(features, inputs.promptIds, inputs.promptMask, B, F);
      return { tokens, weights, ...readouts };
    });
  }

  /**
   * What the two encoders make of the clips (they do not see the question): every frame's patch tokens [B*F, P, Dv]
   * and the facial encoder's block outputs (each [B*F, P_i, D_i]; none without the facial encoder).
   */
  encoderFeatures(frames: tf.Tensor, faces?: tf.Tensor): EncoderFeatures {
    return tf.tidy(() => {
      const [B, F, H, W, C] = frames.shape as number[];
      const patches = this.visionTower.forward(frames.reshape([B * F, H, W, C]));
      const blocks = this.faceEncoder && faces ? this.faceEncoder.forwardClips(faces) : [];
      return { patches, blocks };
    });
  }

  /** The prompt-guided part: encoder features of B clips of F frames and the question -> V and the branch weights. */
  visualTokensFrom(features: EncoderFeatures, promptIds: tf.Tensor, promptMask: readonly (readonly number[])[], B: number, F: number): VisualTokens {
    return tf.tidy(() => {
      const prompt = makePrompt(this.promptEmbeds(promptIds), promptMask); // embeds [B, Tq, Dllm]
      // General branch: every frame's patch tokens, one sequence per clip.
      const general = addTemporalEmbedding(features.patches, this.visionTemporal, B, F, "FavChat general branch"); // [B, F*P, Dv]
      const fg = this.qformerG.forward(general, prompt); // [B, Q, Dllm]
      const ff = features.blocks.length > 0 ? this.faceTokens(features.blocks, prompt, F) : null; // [B, Q, Dllm] or null
      const fused = this.fusion.forward(fg, ff, prompt); // tokens [B, Q, Dllm]
      const v = this.summary ? tf.concat([fused.tokens, this.summary.forward(features.patches, features.blocks, B, F)], 1) : fused.tokens; // + [B, 1 or 2, Dllm]
      // The read-out tokens go first, so V still ends with the summary tokens, next to the answer: the AU token after V
      // (last) cost attributes 0.513 -> 0.443 (clothes colour 0.98 -> 0.53) in the recipe; first, 0.470 (0.84) (session 17).
      const au = this.auReadout?.forward(v, prompt); // [B, 1, Dllm], [B, 16], [B, 17]
      const attribute = this.attributeReadout?.forward(tf.concat(clipSummaryFeatures(features.patches, features.blocks, B, F), 1), prompt); // [B, 1, Dllm], ...
      const emotion = this.emotionReadout?.forward(frameFeatures(features.patches, features.blocks), B, F); // [B, 1, Dllm], [B, C], [B, F]
      const first = [attribute?.tokens, au?.tokens, emotion?.tokens].filter((t): t is tf.Tensor => t !== undefined);
      return {
        tokens: first.length > 0 ? tf.concat([...first, v], 1) : v,
        weights: fused.weights,
        ...(au && { auLogits: au.logits, auChoice: au.choice }),
        ...(attribute && { attributeLogits: attribute.logits, attributeChoice: attribute.choice }),
        ...(emotion && { emotionLogits: emotion.logits, emotionFrameWeights: emotion.frameWeights }),
      };
    });
  }

  /**
   * The question's token embeddings for the visual path: from its own table when the model has one (frozen in
   * training, so backward stops there), else from the LLM's, cut from the gradient tape unless promptGrad.
   */
  private promptEmbeds(promptIds: tf.Tensor): tf.Tensor {
    if (this.promptTable) return this.promptTable.forward(promptIds);
    const e = this.llm.embed(promptIds);
    if (this.promptGrad) return e;
    // tfjs has no stop-gradient: a tensor made from the values has no recorded path to the embedding table.
    const constant = tf.tensor(e.dataSync(), e.shape, e.dtype);
    e.dispose();
    return constant;
  }

  /** Face branch: facial encoder blocks -> CA² (or the top block alone) -> Q-Former_f -> F_f [B, Q, Dllm]. */
  private faceTokens(blocks: readonly tf.Tensor[], prompt: Prompt, F: number): tf.Tensor | null {
    if (!this.qformerF) return null;
    const B = prompt.padding.length;
    if (this.ca2) {
      // The Q-Former reads the top blocks' tokens W_i and the CA² state H_n together: H_n carries the cues CA² kept
      // from every block for this question, the W_i the spatial detail (the noCA2 row keeps W_n alone). Measured:
      // H_n alone hardly varies across clips (it starts as the prompt), nor does W_n when the top block is 1x1.
      const { state, topTokens } = this.ca2.forward(blocks, prompt, F); // [B, Tq, Dc], [B, S, Dc]
      const visual = tf.concat([topTokens, state], 1); // [B, S + Tq, Dc]
      const nTop = topTokens.shape[1] as number;
      const padding = prompt.padding.map((row) => [...new Array<number>(nTop).fill(1), ...row]); // H_n's padded rows masked
      return this.qformerF.forward(visual, prompt, padding);
    }
    const top = (this.faceProj as FrameTokenProjector).forward(blocks[blocks.length - 1], B, F); // [B, F*P_n, Dc]
    return this.qformerF.forward(top, prompt);
  }

  /**
   * Text embeddings of `ids` [B, T] with V [B, Q, D] spliced in at each row's placeholder -> embeds [B, T-1+Q, D],
   * the matching key padding, and the placeholder positions.
   */
  spliceEmbeds(ids: tf.Tensor, visual: tf.Tensor, attentionMask?: readonly (readonly number[])[]): { embeds: tf.Tensor; keyPadding: number[][]; videoPositions: number[] } {
    const [B, T] = ids.shape as number[];
    const [Bv, Q, D] = visual.shape as number[];
    if (ids.dtype !== "int32") throw new FavchatError(`FavChat: ids must be int32 token ids, got ${ids.dtype}`);
    if (ids.rank !== 2 || Bv !== B) throw new FavchatError(`FavChat: ids [${ids.shape.join(", ")}] and visual tokens [${visual.shape.join(", ")}] disagree on the batch`);
    const rows = ids.arraySync() as number[][];
    checkIds(rows, this.config.llm.vocabSize, "ids");
    const mask = attentionMask ?? rows.map((r) => r.map(() => 1));
    if (mask.length !== B || mask.some((r) => r.length !== T)) throw new FavchatError(`FavChat: attention mask must be ${B} rows of ${T}, one per id`);
    const videoPositions = findVideoPlaceholders(rows, this.config.videoTokenId, this.config.videoToken, mask);
    const keyPadding = mask.map((r, b) => expandAt(r, videoPositions[b], Q, 1));
    const embeds = tf.tidy(() => {
      const text = this.llm.embed(ids); // [B, T, D]
      const spliced = videoPositions.map((p, b) => {
        const parts: tf.Tensor[] = [];
        if (p > 0) parts.push(tf.slice(text, [b, 0, 0], [1, p, D])); // [1, p, D]
        parts.push(tf.slice(visual, [b, 0, 0], [1, Q, D])); // [1, Q, D]
        if (p < T - 1) parts.push(tf.slice(text, [b, p + 1, 0], [1, T - 1 - p, D])); // [1, T-1-p, D]
        return tf.concat(parts, 1); // [1, T-1+Q, D]
      });
      return tf.concat(spliced, 0); // [B, T-1+Q, D]
    });
    return { embeds, keyPadding, videoPositions };
  }

  /** Logits over the spliced sequence, the branch weights and where the video went. */
  forward(inputs: FavchatInputs | (FeatureInputs & TextInputs)): FavchatOutput {
    const B = inputs.ids.shape[0] as number;
    if (inputs.promptIds.shape[0] !== B) {
      throw new FavchatError(`FavChat: ${inputs.promptIds.shape[0]} prompts for ${B} input rows; give one question per sample`);
    }
    let positions: number[] = [];
    let padding: number[][] = [];
    const out = tf.tidy(() => {
      const { tokens, weights, ...readouts } = this.encodeVideo(inputs);
      const { embeds, keyPadding, videoPositions } = this.spliceEmbeds(inputs.ids, tokens, inputs.attentionMask);
      positions = videoPositions;
      padding = keyPadding;
      const logits = this.llm.forward({ embeds, keyPadding }); // [B, T-1+Q, V]
      return { logits, tokens, weights, ...readouts };
    });
    return { ...out, videoPositions: positions, keyPadding: padding };
  }

  override dispose(): void {
    this.llm.thawForTraining(); // the tied head's cached transpose (freezeForInference) is not a parameter
    super.dispose();
  }

  /** Validates the visual inputs' shapes and returns B and F. */
  private checkVisual(inputs: VisualInputs | FeatureInputs): { B: number; F: number } {
    const { promptIds, promptMask } = inputs;
    const frames = "frames" in inputs ? inputs.frames : null;
    const faces = "faces" in inputs ? inputs.faces : undefined;
    if (frames && "features" in inputs) throw new FavchatError("FavChat: give either the frames (and face crops) or the encoders' features, not both");
    if (frames && frames.rank !== 5) throw new FavchatError(`FavChat: frames must be [B, F, H, W, 3], got [${frames.shape.join(", ")}]`);
    const { B, F } = "features" in inputs ? this.checkFeatures(inputs.features, promptIds.shape[0] as number) : { B: frames!.shape[0] as number, F: frames!.shape[1] as number };
    if (F > this.config.maxFrames) {
      throw new FavchatError(`FavChat: ${F} frames per clip but the model's temporal embeddings cover ${this.config.maxFrames}; sample at most ${this.config.maxFrames} frames`);
    }
    if (this.faceEncoder && frames) {
      if (!faces) throw new FavchatError("FavChat: this model has a facial encoder; pass the face crops [B, F, h, w, 3] with the frames");
      if (faces.rank !== 5 || faces.shape[0] !== B || faces.shape[1] !== F) {
        throw new FavchatError(`FavChat: face crops [${faces.shape.join(", ")}] must be [${B}, ${F}, h, w, 3], one crop per frame`);
      }
    }
    if (promptIds.rank !== 2 || promptIds.shape[0] !== B || promptIds.dtype !== "int32") {
      throw new FavchatError(`FavChat: promptIds must be int32 [${B}, Tq], got ${promptIds.dtype} [${promptIds.shape.join(", ")}]`);
    }
    checkIds(promptIds.arraySync() as number[][], this.config.llm.vocabSize, "promptIds");
    if (promptMask.length !== B) throw new FavchatError(`FavChat: ${promptMask.length} prompt mask rows for ${B} prompts`);
    return { B, F };
  }

  /** B and F of encoder features given for B prompts: patches [B*F, P, Dv] and one [B*F, P_i, D_i] per facial-encoder block. */
  private checkFeatures(f: EncoderFeatures, B: number): { B: number; F: number } {
    const rows = f.patches.shape[0] as number;
    const F = rows / B;
    const v = this.config.vision;
    const blocks = this.faceEncoder ? this.config.face.blockTokens.map((p, i) => [p, this.config.face.blockDims[i]]) : [];
    const ok =
      Number.isInteger(F) && F >= 1 && f.patches.rank === 3 && f.patches.shape[1] === v.numPatches && f.patches.shape[2] === v.hiddenSize &&
      f.blocks.length === blocks.length && f.blocks.every((t, i) => t.rank === 3 && t.shape[0] === rows && t.shape[1] === blocks[i][0] && t.shape[2] === blocks[i][1]);
    if (!ok) {
      throw new FavchatError(
        `FavChat: encoder features (patches [${f.patches.shape.join(", ")}], ${f.blocks.length} face blocks) do not fit ${B} prompts and this model's encoders; make them with this model's encoderFeatures`,
      );
    }
    return { B, F };
  }
}

/** Per row, the index of the one placeholder token; a clear error when a row has none, several, or one in padding. */
export function findVideoPlaceholders(rows: readonly (readonly number[])[], videoTokenId: number, videoToken = "<video>", mask?: readonly (readonly number[])[]): number[] {
  return rows.map((row, b) => {
    const at = row.flatMap((id, t) => (id === videoTokenId ? [t] : []));
    if (at.length !== 1) {
      throw new FavchatError(
        `input row ${b} has ${at.length} video placeholders (token ${videoToken}, id ${videoTokenId}); each sample needs exactly one ` +
          `where the video goes (the chat template writes it before the question)`,
      );
    }
    if (mask && mask[b][at[0]] !== 1) throw new FavchatError(`input row ${b}: the video placeholder at position ${at[0]} is marked as padding`);
    return at[0];
  });
}

/**
 * A per-position row of the text (attention mask, loss mask) made to fit the spliced sequence: the entry at the
 * placeholder becomes `count` entries of `fill`. Length T -> T - 1 + count.
 */
export function expandAt<T>(row: readonly T[], position: number, count: number, fill: T): T[] {
  return [...row.slice(0, position), ...new Array<T>(count).fill(fill), ...row.slice(position + 1)];
}

/**
 * Next-token targets (targets[t] = ids[t + 1]) made to fit the spliced sequence: the last visual position predicts
 * what followed the placeholder, so count - 1 `fill` entries go in before the placeholder's own target.
 */
export function expandTargetsAt<T>(targets: readonly T[], position: number, count: number, fill: T): T[] {
  return [...targets.slice(0, position), ...new Array<T>(count - 1).fill(fill), ...targets.slice(position)];
}

function checkIds(rows: readonly (readonly number[])[], vocab: number, what: string): void {
  rows.forEach((row, b) => {
    const bad = row.findIndex((id) => !(id >= 0 && id < vocab));
    if (bad >= 0) throw new FavchatError(`FavChat: ${what} row ${b} has id ${row[bad]} at position ${bad}, outside the vocabulary of ${vocab}; was the text tokenized with this model's tokenizer?`);
  });
}
