// FaVChat benchmark (issue 5 item 7): the tiny preset's training step (forward + loss + backward + clip + AdamW, batch
// 8 of 8 frames, ~64 text tokens, 16-token prompts) under the stage 1, 2 and 3 freeze plans, and `favchat chat`'s path
// from a 10 s 720p video with a real face to a 16-token greedy answer (decode, faces, encoders, generation), beside a
// PyTorch peer of the same architecture and config (bench/peers/favchat_torch.py) on the same machine.
// Target: the answering path under 5 s. Medians; the peer's parameter counts must match ours within 1%.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { initBackend, tf } from "../src/core/backend.ts";
import { Rng } from "../src/core/rng.ts";
import { encodeQuestion, THINK_TOKENS, VIDEO_TOKEN } from "../src/data/chat-format.ts";
import { pixelsFromVideo, type ClipPixels } from "../src/data/clip-pixels.ts";
import { collate, pixelTensors, type FavchatBatch } from "../src/data/collate.ts";
import { answerVideo } from "../src/model/answer.ts";
import { favchatConfigToJson, favchatPreset, type FavchatConfig } from "../src/model/config.ts";
import { FavChat, type EncoderFeatures } from "../src/model/favchat.ts";
import { applyFreezePlan } from "../src/model/freeze.ts";
import { loadFavchat, saveFavchat } from "../src/model/load.ts";
import { trainByteLevelBpe, writeTokenizerDir } from "../src/text/bpe-train.ts";
import { loadTokenizer } from "../src/text/tokenizer.ts";
import { clipByGlobalNorm, namedGrads } from "../src/train/gradients.ts";
import { favchatLoss } from "../src/train/favchat-loss.ts";
import { AdamW } from "../src/train/optimizer.ts";
import { SPECIAL_TOKENS } from "../src/train/run-stage.ts";
import { loadClip } from "../src/video/clip.ts";
import { FaceDetector } from "../src/video/faces/detect.ts";
import { ffmpeg, movingFaceClip, tempDir } from "../test/video/fixtures.ts";
import { fmt, median, runPeer } from "./stats.ts";

// `--quick`: one timed repeat of each, to check the bench itself runs.
const QUICK = process.argv.includes("--quick");
const C = {
  vocab: 1024, batch: 8, frames: 8, textLen: 64, promptLen: 16, targetLen: 24, videoPos: 3,
  stages: [1, 2, 3] as const, trainRepeats: QUICK ? 1 : 5, answerRepeats: QUICK ? 1 : 3, newTokens: 16, threads: 2, targetSec: 5,
};
const QUESTION = "What emotion does the person show, and which facial action units are active?";

// 1. A tokenizer of exactly C.vocab ids, learnt here: facial words and the numbers 0..999 give byte-level BPE enough
// distinct pairs (minFrequency 1) to fill the vocabulary, so the model's vocabulary is the issue's 1024.
function benchTokenizer(dir: string): ReturnType<typeof loadTokenizer> {
  const words = ["emotion", "person", "face", "happy", "sad", "angry", "surprised", "fearful", "disgusted", "neutral", "smile",
    "brow", "raiser", "lowerer", "cheek", "lid", "tightener", "nose", "wrinkler", "lip", "corner", "puller", "depressor", "chin",
    "stretcher", "tightener", "parts", "jaw", "drop", "eyes", "closed", "glasses", "beard", "hair", "blond", "black", "brown"];
  const texts = [QUESTION, ...words.map((w, i) => `The ${w} is visible in frame ${i}; action unit AU${i % 30} is active.`)];
  for (let n = 0; n < 1000; n++) texts.push(`clip ${n} frame ${(n * 7) % 1000} id${n}`);
  const extra = SPECIAL_TOKENS.length + THINK_TOKENS.length;
  writeTokenizerDir(dir, trainByteLevelBpe(texts, { vocabSize: C.vocab - extra, specialTokens: SPECIAL_TOKENS, addedTokens: [...THINK_TOKENS], minFrequency: 1 }));
  const tok = loadTokenizer(dir);
  if (tok.vocabSize !== C.vocab) throw new Error(`bench tokenizer: ${tok.vocabSize} ids, wanted ${C.vocab}; the corpus gave too few merges`);
  return tok;
}

// 2. Training steps.
function randomBatch(config: FavchatConfig, rng: Rng): FavchatBatch {
  const { vision, face, videoTokenId, llm } = config;
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => rng.int(256));
  const text = (n: number) => Array.from({ length: n }, () => rng.int(llm.vocabSize - 1)).map((id) => (id === videoTokenId ? 0 : id));
  return collate(Array.from({ length: C.batch }, () => {
    const pixels: ClipPixels = {
      F: C.frames, frames: bytes(C.frames * vision.imageSize ** 2 * 3), frameSize: vision.imageSize,
      faces: bytes(C.frames * face.imageSize ** 2 * 3), faceSize: face.imageSize,
    };
    const ids = text(C.textLen);
    ids[C.videoPos] = videoTokenId;
    const targetMask = ids.map((_, i) => (i >= C.textLen - C.targetLen ? 1 : 0));
    return { pixels, text: { ids, targetMask, promptIds: text(C.promptLen) } };
  }), 0);
}

/** The shipped recipe's freeze plan for stages 1 and 2 (configs/tiny.json): the whole visual path up to V's MLPs frozen. */
const RECIPE_FROZEN = ["general encoder", "facial encoder", "CA²", "Q-Formers", "adapters"];

/**
 * Seconds per step (after one warm-up step) and the trainable parameter count, as src/train/trainer.ts steps; with
 * `o.frozen`, that freeze plan instead of the stage's; with `o.features`, V from those encoder features (the feature
 * cache of src/train/feature-cache.ts) instead of the batch's pixels; `o.promptGrad` false, the stage setting
 * prompt_grad false (the question's embeddings a constant for the visual path).
 */
function trainStage(model: FavChat, stage: 1 | 2 | 3, batch: FavchatBatch, o: { frozen?: string[]; features?: EncoderFeatures; promptGrad?: boolean } = {}): { times: number[]; trainable: number; leaked: number } {
  const { trainableParams } = applyFreezePlan(model, stage, o.frozen);
  model.promptGrad = o.promptGrad ?? true;
  const trainable = model.trainableVariables();
  const opt = new AdamW(trainable, { lr: 1e-3, weightDecay: 0.01 });
  const ids = batch.ids.arraySync() as number[][];
  const text = { ids: batch.ids, attentionMask: batch.attentionMask, promptIds: batch.promptIds, promptMask: batch.promptMask };
  const visual = o.features ? { features: o.features } : { frames: batch.frames, faces: batch.faces };
  // src/train/favchat-task.ts's loss: the spliced forward, cross-entropy on the answer tokens.
  const lossOf = (): tf.Scalar => {
    const out = model.forward({ ...text, ...visual });
    const loss = favchatLoss(out.logits, ids, batch.targetMask, out.videoPositions, model.numVisualTokens);
    tf.dispose([out.logits, out.tokens, out.weights]);
    return loss;
  };
  const times: number[] = [];
  let before = 0;
  for (let r = 0; r <= C.trainRepeats; r++) {
    if (r === 1) before = tf.memory().numTensors;
    const t0 = performance.now();
    const { value, grads } = tf.variableGrads(lossOf, [...trainable.values()]);
    value.dataSync();
    value.dispose();
    const named = namedGrads(grads, trainable);
    clipByGlobalNorm(named, 1.0);
    opt.step(named, 1e-3);
    for (const g of named.values()) g.dispose();
    if (r > 0) times.push((performance.now() - t0) / 1000);
  }
  const leaked = tf.memory().numTensors - before;
  opt.dispose();
  return { times, trainable: trainableParams, leaked };
}

// 3. The answering path, as src/cli/commands/chat.ts runs it (detector and model loaded once, before the clock).
interface AnswerRun {
  decode: number;
  faces: number;
  encoders: number;
  generation: number;
  total: number;
  detected: number;
  newTokens: number;
}

async function answerOnce(model: FavChat, tok: ReturnType<typeof loadTokenizer>, detector: FaceDetector, video: string): Promise<AnswerRun> {
  const t0 = performance.now();
  const clip = await loadClip(video, { ffmpeg, detector }, {
    sample: { mode: "uniform", frames: model.config.maxFrames }, size: model.config.face.imageSize, faceCrop: true,
  });
  const px = pixelsFromVideo(clip, { frames: model.config.maxFrames, frameSize: model.config.vision.imageSize, faceSize: model.config.face.imageSize });
  const pixels = pixelTensors(px);
  const tVideo = performance.now();
  const { ids, promptIds } = encodeQuestion(tok, { question: QUESTION }, model.config.videoPosition);
  // No stop tokens: every run generates exactly C.newTokens (a random model would otherwise stop anywhere).
  const r = await answerVideo(model, { ...pixels, ids, promptIds }, {
    maxTokens: C.newTokens, temperature: 0, stopTokens: [], decode: (x) => tok.decode(x, { skipSpecialTokens: true }),
  });
  const tEnd = performance.now();
  tf.dispose([pixels.frames, pixels.faces]);
  const ms = clip.meta.timings ?? {};
  const decode = ((ms.probe ?? 0) + (ms.decode ?? 0)) / 1000;
  return {
    decode, faces: (tVideo - t0) / 1000 - decode, encoders: r.encodeSec, generation: r.prefillSec + r.decodeSec,
    total: (tEnd - t0) / 1000, detected: clip.meta.detectedFrames, newTokens: r.newIds.length,
  };
}

/** `favchat chat --json` in its own process: the cold end-to-end time a user sees (loads included). */
function cliOnce(modelDir: string, video: string): { wall: number; total: number | null } {
  const bin = path.join(import.meta.dirname, "..", "bin", "favchat.js");
  const t0 = performance.now();
  try {
    const out = execFileSync(process.execPath, [bin, "chat", "--model", modelDir, "--video", video, "--max-tokens", String(C.newTokens), "--json", QUESTION],
      { encoding: "utf8", timeout: 300_000, stdio: ["ignore", "pipe", "pipe"] });
    const json = JSON.parse(out.trim().split("\n").pop() ?? "{}") as { timings?: { total_sec?: number } };
    return { wall: (performance.now() - t0) / 1000, total: json.timings?.total_sec ?? null };
  } catch (err) {
    console.log(`  favchat chat did not run: ${(err as Error).message.split("\n")[0]}`);
    return { wall: NaN, total: null };
  }
}

interface PeerOut {
  params: Record<string, number>;
  trainable: Record<string, number>;
  train: Record<string, number[]>;
  encode: number[];
  generate: number[];
  threads: number;
  omp_wait_policy: string;
}

export async function run(): Promise<void> {
  const backend = await initBackend("wasm");
  const { dir, cleanup } = await tempDir("favchat-bench-");
  try {
    const modelDir = path.join(dir, "model");
    const tok = benchTokenizer(modelDir);
    const videoTokenId = tok.specialTokens.get(VIDEO_TOKEN)!;
    const config = favchatPreset("tiny", { llm_config: { vocab_size: tok.vocabSize }, video_token_id: videoTokenId });
    const model = new FavChat(config, new Rng(0));
    console.log(`FaVChat benchmark: tiny preset, vocab ${config.llm.vocabSize}, ${(model.numParams() / 1e6).toFixed(2)} M parameters; ` +
      `train batch ${C.batch} x ${C.frames} frames, ${C.textLen} text tokens (${C.targetLen} answer), ${C.promptLen}-token prompts; ` +
      `medians of ${C.trainRepeats} steps after a warm-up; favchat on ${backend}, PyTorch with ${C.threads} threads`);

    // Training, one freeze plan per stage.
    const batch = randomBatch(config, new Rng(1));
    const train: Record<number, { times: number[]; trainable: number; leaked: number }> = {};
    for (const stage of C.stages) train[stage] = trainStage(model, stage, batch);
    // The recipe's stage 2 (encoders frozen), from pixels and from cached encoder features (no peer: both are ours).
    const recipe = trainStage(model, 2, batch, { frozen: RECIPE_FROZEN });
    const features = model.encoderFeatures(batch.frames, batch.faces);
    const cached = trainStage(model, 2, batch, { frozen: RECIPE_FROZEN, features });
    const constantPrompt = trainStage(model, 2, batch, { frozen: RECIPE_FROZEN, features, promptGrad: false });
    model.promptGrad = true;
    tf.dispose([features.patches, ...features.blocks]);
    tf.dispose([batch.frames, batch.faces, batch.ids, batch.promptIds]);
    model.setTrainable(true);
    await saveFavchat(model, modelDir);
    const ours: Record<string, number> = {};
    for (const [name, p] of model.namedParams()) ours[name.split(".")[0]] = (ours[name.split(".")[0]] ?? 0) + p.variable.size;
    model.dispose();

    // Answering: a 10 s 1280x720 30 fps H.264 clip with a real face (as bench/video.bench.ts makes it).
    const video = await movingFaceClip(dir, path.join(dir, "face-720p.mp4"), {
      size: [1280, 720], seconds: 10, rate: 30, extraArgs: ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23"],
    });
    let t = performance.now();
    const loaded = await loadFavchat(modelDir);
    loaded.llm.freezeForInference();
    const loadModelSec = (performance.now() - t) / 1000;
    t = performance.now();
    const detector = await FaceDetector.create({ backend: "wasm" });
    const loadDetectorSec = (performance.now() - t) / 1000;
    const runs: AnswerRun[] = [];
    for (let r = 0; r <= C.answerRepeats; r++) {
      const a = await answerOnce(loaded, tok, detector, video);
      if (r > 0) runs.push(a); // the first run compiles kernels
    }
    detector.dispose();
    const { ids, promptIds } = encodeQuestion(tok, { question: QUESTION }, model.config.videoPosition);
    loaded.dispose();
    const cli = cliOnce(modelDir, video);

    // The peer, same config and shapes.
    const peer = runPeer<PeerOut>(path.join(import.meta.dirname, "peers", "favchat_torch.py"), [JSON.stringify({
      config: favchatConfigToJson(config),
      bench: {
        threads: C.threads, batch: C.batch, frames: C.frames, text_len: C.textLen, prompt_len: C.promptLen, target_len: C.targetLen,
        video_pos: C.videoPos, stages: C.stages, train_repeats: C.trainRepeats, answer_ids_len: ids.length,
        answer_prompt_len: promptIds.length, answer_video_pos: ids.indexOf(videoTokenId), new_tokens: C.newTokens, answer_repeats: C.answerRepeats,
      },
    })]);

    // The table.
    if (peer) console.log(`  PyTorch peer: ${peer.threads} threads, OMP_WAIT_POLICY=${peer.omp_wait_policy} (see the peer: active spinning is 15-50x slower on a shared machine)`);
    const row = (name: string, mine: number[], theirs: number[] | undefined, unit: "s" | "ms") => {
      const k = unit === "ms" ? 1000 : 1;
      const a = median(mine) * k;
      const b = theirs && theirs.length > 0 ? median(theirs) * k : NaN;
      const d = unit === "ms" ? 0 : 2;
      console.log(`  ${name.padEnd(36)} ${`${fmt(a, d)} ${unit}`.padStart(10)}  ${`${fmt(b, d)} ${unit}`.padStart(10)}  ${fmt(a / b, 2).padStart(8)}`);
    };
    console.log(`  ${"".padEnd(36)} ${"favchat".padStart(10)}  ${"pytorch".padStart(10)}  ${"ratio".padStart(8)}`);
    for (const s of C.stages) row(`train step, stage ${s} freeze plan`, train[s].times, peer?.train[String(s)], "s");
    const speedup = median(recipe.times) / median(cached.times);
    console.log(`  train step, recipe's stage 2 (encoders frozen): ${fmt(median(recipe.times), 2)} s from pixels, ${fmt(median(cached.times), 2)} s from ` +
      `cached encoder features (feature_cache): ${fmt(speedup, 2)}x faster; ${fmt(median(constantPrompt.times), 2)} s with prompt_grad false ` +
      `(${fmt(median(constantPrompt.times) / median(cached.times), 2)} of the cached step)`);
    const phase = (k: keyof AnswerRun) => runs.map((x) => x[k]);
    row("answer: decode (probe + ffmpeg)", phase("decode"), undefined, "ms");
    row("answer: faces (detect, track, crop)", phase("faces"), undefined, "ms");
    row("answer: encoders (encodeVideo)", phase("encoders"), peer?.encode, "ms");
    row(`answer: generation (${C.newTokens} tokens)`, phase("generation"), peer?.generate, "ms");
    const peerModel = peer ? peer.encode.map((e, i) => e + peer.generate[i]) : undefined;
    row("answer: encoders + generation", runs.map((x) => x.encoders + x.generation), peerModel, "ms");
    const total = median(phase("total"));
    console.log(`  answer: total, video file to answer  ${fmt(total * 1000, 0)} ms (target < ${C.targetSec * 1000} ms: ${total < C.targetSec ? "met" : "NOT met"}); ` +
      `face in ${runs[0].detected} of ${C.frames} frames; ${runs[0].newTokens} new tokens`);
    console.log(`  loaded once before the clock: model ${fmt(loadModelSec * 1000, 0)} ms, face detector ${fmt(loadDetectorSec * 1000, 0)} ms; ` +
      `cold \`favchat chat --json\` in its own process: ${fmt(cli.wall, 2)} s wall (its own total_sec ${cli.total === null ? "n/a" : fmt(cli.total, 2)})`);

    // Parameter counts: the peer must be the same model.
    const leaks = C.stages.filter((s) => train[s].leaked > 0);
    if (leaks.length > 0) console.log(`  WARNING: tensors leaked per training step in stage(s) ${leaks.join(", ")}: ${leaks.map((s) => train[s].leaked).join(", ")}`);
    if (!peer) return;
    const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
    const [a, b] = [sum(ours), sum(peer.params)];
    const diff = Math.abs(a - b) / a;
    console.log(`  parameters: favchat ${a.toLocaleString("en")}, pytorch ${b.toLocaleString("en")} (${(diff * 100).toFixed(3)}% apart; must be < 1%)`);
    for (const part of new Set([...Object.keys(ours), ...Object.keys(peer.params)])) {
      if (ours[part] !== peer.params[part]) console.log(`    ${part}: favchat ${ours[part] ?? 0}, pytorch ${peer.params[part] ?? 0}`);
    }
    for (const s of C.stages) {
      const p = peer.trainable[String(s)];
      if (p !== train[s].trainable) console.log(`    stage ${s} trainable: favchat ${train[s].trainable}, pytorch ${p}`);
    }
    if (diff >= 0.01) {
      console.log("  FAILED: the PyTorch peer is not the same model (parameter counts differ by 1% or more)");
      process.exitCode = 1;
    }
  } finally {
    await cleanup();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
