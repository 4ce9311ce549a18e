// One training stage end to end (`favchat train`): data, model (new or --init), freeze plan, the trainer, then the
// model directory (config.json, model.safetensors, tokenizer) in OUT, with metrics.jsonl and curves.png beside it.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { FavchatError } from "../core/errors.ts";
import { Rng } from "../core/rng.ts";
import { THINK_TOKENS, VIDEO_TOKEN } from "../data/chat-format.ts";
import { favchatConfigToJson, favchatPreset, resolveFavchatConfig, type FavchatPresetName } from "../model/config.ts";
import { FavChat } from "../model/favchat.ts";
import { applyFreezePlan, type FreezeSummary } from "../model/freeze.ts";
import { loadFavchat, saveFavchat } from "../model/load.ts";
import { trainByteLevelBpe, writeTokenizerDir } from "../text/bpe-train.ts";
import { loadTokenizer, type TextTokenizer } from "../text/tokenizer.ts";
import { lineChartPng, type Series } from "../eval/plot/line-chart.ts";
import { clipsFileFor, corpusTexts, indexClips, stageExamples, weighCategories, type StageDataOptions, type ClipRef, type Example, type Stage } from "./favchat-data.ts";
import { VisualAuxModel, answerClasses, visualLabels } from "./visual-aux.ts";
import { EncoderPretrainer, encoderTask, labelHeads } from "./encoder-task.ts";
import { favchatTask, textTask, visualTask } from "./favchat-task.ts";
import { FeatureCache, featureCacheKey, otherCaches, type FeatureCacheRef } from "./feature-cache.ts";
import { train, usableThreads, type TrainSummary, type TrainTask } from "./trainer.ts";
import { GradWorkers } from "./workers.ts";
import { tf } from "../core/backend.ts";
import type { RunConfig, StageSettings } from "./run-config.ts";

export interface StageRunOptions {
  readonly stage: Stage;
  readonly config: RunConfig;
  readonly dataDir: string;
  readonly clipsFile?: string;
  readonly outDir: string;
  /** A favchat model directory to start from (the previous stage's OUT); without it a new model is built. */
  readonly init?: string;
  readonly resume: boolean;
  readonly tty: boolean;
  readonly log: (line: string) => void;
  /** Overrides the stage's "threads" setting (favchat train --threads). */
  readonly threads?: number;
}

export type StageFreeze = Pick<FreezeSummary, "trained" | "frozen" | "trainableParams"> | { trained: string[]; frozen: string[]; trainableParams: number };

export interface StageRunResult {
  readonly summary: TrainSummary;
  readonly freeze: StageFreeze;
  readonly modelDir: string;
}

export const SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", VIDEO_TOKEN];

export async function runStage(o: StageRunOptions): Promise<StageRunResult> {
  // 1. Settings and data.
  const settings = o.config.stages[o.stage];
  if (!settings) throw new FavchatError(`the training config has no settings for stage ${o.stage}; add "stages": {"${o.stage}": {...}}`);
  const rng = new Rng(settings.trainer.seed);
  const data = stageData(o, settings);
  if (o.stage === "encoders") return runEncoderStage(o, settings);
  if (o.stage === "connector" && !o.init) {
    throw new FavchatError(`stage connector pretrains the visual path of an existing model: pass --init DIR (stage encoders' --out)`);
  }
  const stage = o.stage;
  const examples = trainingExamples(stage, settings, data);
  let val: ReturnType<typeof stageExamples> = [];
  try {
    // Shuffled (seeded) so the few validation batches span many clips: a clip's questions come one after another.
    val = rng.fork("val order").shuffle(inCategories(stageExamples(stage, "val", data, rng.fork("val")), settings));
  } catch {
    val = []; // no validation clips: train without a validation loss
  }
  o.log(`stage ${o.stage}: ${examples.length} training examples, ${val.length} validation examples`);

  // 2. Tokenizer and model: from --init, or new (a vocabulary learnt from the training text, then the preset).
  let model: FavChat;
  let tokDir: string;
  if (o.init) {
    model = await loadFavchat(o.init);
    tokDir = o.init;
    warnIfConfigDiffers(o, model);
  } else {
    if (!o.resume || !existsSync(join(o.outDir, "tokenizer.json"))) {
      const bpe = trainByteLevelBpe(corpusTexts(examples), { vocabSize: o.config.vocabSize, specialTokens: SPECIAL_TOKENS, addedTokens: [...THINK_TOKENS] });
      writeTokenizerDir(o.outDir, bpe);
    }
    tokDir = o.outDir;
    const tok = loadTokenizer(tokDir);
    const videoTokenId = tok.specialTokens.get(VIDEO_TOKEN)!;
    const overrides: Record<string, unknown> = { ...o.config.model, llm_config: { ...(o.config.model.llm_config as object), vocab_size: tok.vocabSize }, video_token_id: videoTokenId };
    const preset = overrides.preset as FavchatPresetName | undefined;
    const config = preset ? favchatPreset(preset, overrides) : resolveFavchatConfig(overrides, "training config model");
    model = new FavChat(config, rng.fork("init"));
  }
  const tok: TextTokenizer = loadTokenizer(tokDir);
  if (o.config.frames > model.config.maxFrames) throw new FavchatError(`"frames" ${o.config.frames} exceeds the model's max_frames ${model.config.maxFrames}`);

  // 3. Freeze plan: stage 0 trains the LLM alone; stages 1-3 follow DESIGN 2.
  const freeze = freezeFor(stage, model, settings);
  o.log(`stage ${o.stage}: training ${freeze.trained.join(", ")} (${freeze.trainableParams.toLocaleString("en")} parameters); frozen: ${freeze.frozen.join(", ") || "nothing"}${model.promptGrad ? "" : "; the visual path reads the question's embeddings as constants (prompt_grad false)"}`);

  // 4. The encoders' feature cache, when the stage has one (the encoders must be frozen).
  const featureCache = settings.featureCache ? cacheRef(o, settings.featureCache, model, freeze) : undefined;
  const cache = featureCache ? FeatureCache.open(featureCache, model, indexClips(clipsFileFor(data)).values(), o.config.frames) : undefined;
  if (cache) o.log(`stage ${o.stage}: encoder features cached in ${cache.path} (${featureCache!.variants} crop variant(s) per clip)`);
  const others = featureCache ? otherCaches(featureCache.dir, featureCache.key) : [];
  if (others.length) {
    const gb = others.reduce((s, c) => s + c.bytes, 0) / 1e9;
    o.log(`stage ${o.stage}: ${featureCache!.dir} also holds ${others.length} cache(s) of other encoders or clips, ${gb.toFixed(2)} GB on disk (${others.map((c) => basename(c.path)).join(", ")}); delete those no run needs any more`);
  }

  // 5. Train (workers rebuild the same task from createTask's arguments; they start now, so that they build theirs
  // while this thread builds its own: encoding stage 2's examples takes about 20 seconds on each).
  const args: StageTaskArgs = { stage, config: o.config, dataDir: o.dataDir, clipsFile: o.clipsFile, model: favchatConfigToJson(model.config), tokDir, featureCache };
  const factory = { module: import.meta.url, args };
  const threads = o.threads ?? settings.threads;
  const usable = usableThreads(threads, settings.trainer.gradAccum, tf.getBackend());
  const spawned = usable > 1 ? GradWorkers.spawn(factory, usable) : undefined;
  const trainOpts = { outDir: o.outDir, resume: o.resume, tty: o.tty, label: `stage ${o.stage}`, log: o.log, threads, factory, spawned };
  let summary: TrainSummary;
  try {
    let task: TrainTask<unknown>;
    try {
      task = stageTask(stage, model, tok, examples, val, settings, o.config.frames, cache);
    } catch (e) {
      if (spawned) await GradWorkers.discard(spawned);
      throw e;
    }
    summary = await train(task, settings.trainer, trainOpts);
  } finally {
    if (cache) o.log(`stage ${o.stage}: feature cache on this thread: ${cache.hits} clips read, ${cache.misses} computed`);
    cache?.close();
  }

  // 6. The model directory and the curves. Stage 0 leaves its token table to the visual path's own, when the model has one.
  if (stage === 0) model.syncPromptTable();
  await saveFavchat(model, o.outDir, { tokenizerFrom: tokDir });
  model.dispose();
  writeCurves(summary.metricsPath, join(o.outDir, "curves.png"), o.stage);
  return { summary, freeze, modelDir: o.outDir };
}

/** What a training worker needs to rebuild a stage's task (JSON: it crosses threads). */
export interface StageTaskArgs {
  readonly stage: Stage;
  readonly config: RunConfig;
  readonly dataDir: string;
  readonly clipsFile?: string;
  /** The model's config.json (its weights come from the main thread). */
  readonly model: Record<string, unknown>;
  readonly tokDir: string;
  /** The main thread's feature cache (workers open the same one; their model's weights arrive later). */
  readonly featureCache?: FeatureCacheRef;
}

/**
 * The feature cache of this stage's model over the data's clips, in DATA/feature-cache: only for a stage whose
 * freeze plan keeps both encoders frozen (their outputs must not change while the stage trains).
 */
function cacheRef(o: StageRunOptions, variants: number, model: FavChat, freeze: StageFreeze): FeatureCacheRef {
  const training = (["general encoder", "facial encoder"] as const).filter((p) => (freeze.trained as readonly string[]).includes(p));
  if (training.length) {
    throw new FavchatError(`stage ${o.stage}: feature_cache needs the encoders frozen, but this stage trains the ${training.join(" and ")}; add them to the stage's "frozen" list or drop feature_cache`);
  }
  const clips = indexClips(clipsFileFor({ dataDir: o.dataDir, clipsFile: o.clipsFile })).values();
  return { dir: join(o.dataDir, "feature-cache"), key: featureCacheKey(model, clips, o.config.frames, variants), variants };
}

/** A stage's task in a training worker (src/train/workers.ts): the main thread's, without validation. */
export function createTask(a: StageTaskArgs): TrainTask<unknown> {
  const settings = a.config.stages[a.stage]!;
  const data = stageData(a, settings);
  const model = new FavChat(resolveFavchatConfig(a.model, "training worker"), null);
  if (a.stage === "encoders") {
    applyFreezePlan(model, "encoders", settings.frozen);
    const clips = encoderClips(data, "train");
    const pretrainer = new EncoderPretrainer(model, labelHeads(clips), new Rng(settings.trainer.seed).fork("heads"));
    return encoderTask(pretrainer, clips, { batchSize: settings.batchSize, frames: a.config.frames, attributeWeight: settings.attributeWeight }) as TrainTask<unknown>;
  }
  freezeFor(a.stage, model, settings);
  const examples = trainingExamples(a.stage, settings, data);
  const cache = a.featureCache ? FeatureCache.open(a.featureCache, model, indexClips(clipsFileFor(data)).values(), a.config.frames) : undefined;
  const task = stageTask(a.stage, model, loadTokenizer(a.tokDir), examples, [], settings, a.config.frames, cache);
  return cache ? { ...task, dispose: () => cache.close() } : task;
}

/** Where a stage's examples come from and the stage settings that shape them (main thread and workers alike). */
function stageData(dirs: { dataDir: string; clipsFile?: string }, settings: StageSettings): StageDataOptions {
  return { dataDir: dirs.dataDir, clipsFile: dirs.clipsFile, replay: settings.replay, attributeConversations: settings.attributeConversations, attributeQuestions: settings.attributeQuestions };
}

function inCategories(xs: Example[], settings: StageSettings): Example[] {
  const categories = settings.categories;
  return categories ? xs.filter((e) => categories.includes(e.category)) : xs;
}

function trainingExamples(stage: Exclude<Stage, "encoders">, settings: StageSettings, data: StageDataOptions): Example[] {
  const rng = new Rng(settings.trainer.seed);
  const examples = inCategories(stageExamples(stage, "train", data, rng.fork("examples")), settings);
  if (examples.length === 0) {
    throw new FavchatError(`stage ${stage}: no training examples of the categories ${JSON.stringify(settings.categories)}; categories are those in qa.jsonl (emotion, au_presence, attribute, scene, ...) or "summary"`);
  }
  if (!settings.categoryWeights) return examples;
  try {
    return weighCategories(examples, settings.categoryWeights, rng.fork("category weights"));
  } catch (e) {
    throw new FavchatError(`stage ${stage}: ${(e as Error).message}`);
  }
}

/** Stage 0 trains the LLM alone; the others follow DESIGN 2 (or the stage's "frozen"). Sets the model's promptGrad from the stage too. */
function freezeFor(stage: Exclude<Stage, "encoders">, model: FavChat, settings: StageSettings): StageFreeze {
  model.promptGrad = settings.promptGrad ?? true;
  if (stage !== 0) return applyFreezePlan(model, stage, settings.frozen);
  model.setTrainable(false);
  model.llm.setTrainable(true);
  return { trained: ["LLM"], frozen: ["everything else"], trainableParams: model.llm.numParams() };
}

function stageTask(
  stage: Exclude<Stage, "encoders">, model: FavChat, tok: TextTokenizer, examples: readonly Example[], val: readonly Example[], settings: StageSettings, frames: number, cache?: FeatureCache,
): TrainTask<unknown> {
  const taskOpts = { batchSize: settings.batchSize, frames, augment: true, val, valBatches: settings.valBatches, cache, plainOptions: settings.plainOptions };
  if (stage === 0) return textTask(model, tok, examples, { batchSize: settings.batchSize }) as TrainTask<unknown>;
  if (stage === "connector") return visualTask(visualHeads(model, examples, settings), tok, examples, taskOpts) as TrainTask<unknown>;
  return favchatTask(model, tok, examples, {
    ...taskOpts,
    aux: settings.visualAux > 0 ? { heads: visualHeads(model, examples, settings), weight: settings.visualAux } : undefined,
  }) as TrainTask<unknown>;
}

/** Label heads on the visual tokens, their classes from the stage's training clips (src/train/visual-aux.ts). */
function visualHeads(model: FavChat, examples: readonly Example[], settings: StageSettings): VisualAuxModel {
  const clips = [...new Map(examples.map((e) => [e.clip.id, e.clip])).values()];
  return new VisualAuxModel(model, visualLabels(clips, { answers: settings.visualHeads?.includes("answer") ? answerClasses(examples) : [], auTokens: settings.visualHeads?.includes("au_tokens") }), new Rng(settings.trainer.seed).fork("visual heads"), settings.visualOffTopic);
}

/** Clips of a split with raw frames (encoder pretraining reads raw frames). */
function encoderClips(data: { dataDir: string; clipsFile?: string }, split: string): ClipRef[] {
  const clips = [...indexClips(clipsFileFor(data)).values()];
  return clips.filter((c) => (c.record.split ?? "train") === split && c.raw !== null);
}

/**
 * The fields of the training config's "model" section that the --init model's config.json does not have as written
 * (the vocabulary size and video token id come from the model's tokenizer, so they are not compared); [] when they agree.
 */
export function configDifferences(stageModel: Record<string, unknown>, model: FavChat): string[] {
  const c = model.config;
  const overrides: Record<string, unknown> = { ...stageModel, llm_config: { ...(stageModel.llm_config as object), vocab_size: c.llm.vocabSize }, video_token_id: c.videoTokenId };
  const preset = overrides.preset as FavchatPresetName | undefined;
  const wanted = favchatConfigToJson(preset ? favchatPreset(preset, overrides) : resolveFavchatConfig(overrides, "training config model")) as Record<string, unknown>;
  const have = favchatConfigToJson(c) as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(wanted), ...Object.keys(have)])];
  return keys.filter((k) => JSON.stringify(wanted[k]) !== JSON.stringify(have[k])).sort();
}

/**
 * A stage started from --init keeps the model's own config: a switch added to the training config's "model" section
 * afterwards does not reach it. Says so, so the run is not mistaken for one with the switch (scripts/ablation-init.ts
 * adds a switch to an existing model).
 */
function warnIfConfigDiffers(o: StageRunOptions, model: FavChat): void {
  let diff: string[];
  try {
    diff = configDifferences(o.config.model, model);
  } catch {
    return; // a "model" section that does not resolve on its own (a partial override): nothing to compare
  }
  if (diff.length === 0) return;
  o.log(
    `stage ${o.stage}: WARNING: the --init model's config.json differs from the training config's "model" section in ${diff.join(", ")}; ` +
      `the stage keeps the model's (a stage started from --init never changes its architecture; node --import tsx scripts/ablation-init.ts adds a switch to an existing model)`,
  );
}

/**
 * Stage "encoders": the general and facial encoders learn the clips' labels through linear heads
 * (src/train/encoder-task.ts), everything else frozen; the model directory keeps the encoders, not the heads.
 */
async function runEncoderStage(o: StageRunOptions, settings: StageSettings): Promise<StageRunResult> {
  // 1. Clips of the training and validation splits.
  if (!o.init) throw new FavchatError(`stage encoders pretrains the encoders of an existing model: pass --init DIR (stage 0's --out)`);
  const data = { dataDir: o.dataDir, clipsFile: o.clipsFile };
  const train_ = encoderClips(data, "train");
  const val = encoderClips(data, "val");
  if (train_.length === 0) throw new FavchatError(`stage encoders: no training clips with raw frames in ${o.dataDir}; encoder pretraining reads raw frames (favchat synth writes them)`);
  o.log(`stage encoders: ${train_.length} training clips, ${val.length} validation clips`);

  // 2. The model, its heads, and what trains.
  const model = await loadFavchat(o.init);
  warnIfConfigDiffers(o, model);
  if (o.config.frames > model.config.maxFrames) throw new FavchatError(`"frames" ${o.config.frames} exceeds the model's max_frames ${model.config.maxFrames}`);
  const freeze = applyFreezePlan(model, "encoders", settings.frozen);
  const pretrainer = new EncoderPretrainer(model, labelHeads(train_), new Rng(settings.trainer.seed).fork("heads"));
  o.log(`stage encoders: training ${freeze.trained.join(", ")} and their label heads (${pretrainer.trainableVariables().size} tensors); frozen: ${freeze.frozen.join(", ")}`);

  // 3. Train, then keep the model (the heads are dropped).
  const task = encoderTask(pretrainer, train_, { batchSize: settings.batchSize, frames: o.config.frames, val, valBatches: settings.valBatches, attributeWeight: settings.attributeWeight });
  const args: StageTaskArgs = { stage: "encoders", config: o.config, dataDir: o.dataDir, clipsFile: o.clipsFile, model: favchatConfigToJson(model.config), tokDir: o.init };
  const summary = await train(task, settings.trainer, {
    outDir: o.outDir, resume: o.resume, tty: o.tty, label: "stage encoders", log: o.log, threads: o.threads ?? settings.threads, factory: { module: import.meta.url, args },
  });
  await saveFavchat(model, o.outDir, { tokenizerFrom: o.init });
  pretrainer.dispose();
  writeCurves(summary.metricsPath, join(o.outDir, "curves.png"), "encoders");
  return { summary, freeze, modelDir: o.outDir };
}

/** curves.png: training loss per step (and validation loss when evaluated), log scale. */
export function writeCurves(metricsPath: string, out: string, stage: Stage): void {
  const train: [number, number][] = [];
  const val: [number, number][] = [];
  for (const line of readFileSync(metricsPath, "utf8").split("\n")) {
    if (!line.trim()) continue;
    const m = JSON.parse(line) as { step: number; loss?: number; eval?: { val_loss?: number } };
    if (m.loss !== undefined && m.loss > 0) train.push([m.step, m.loss]);
    if (m.eval?.val_loss !== undefined && m.eval.val_loss > 0) val.push([m.step, m.eval.val_loss]);
  }
  if (train.length < 2) return;
  const series: Series[] = [{ name: "train loss", points: smooth(train) }];
  if (val.length > 0) series.push({ name: "validation loss", points: val });
  writeFileSync(out, lineChartPng(series, { title: `stage ${stage} loss`, xLabel: "step", yLabel: "cross-entropy", logY: true }));
}

/** Running mean over a window of 10 steps: per-batch losses are noisy. */
function smooth(points: [number, number][]): [number, number][] {
  return points.map(([x], i) => {
    const w = points.slice(Math.max(0, i - 9), i + 1);
    return [x, w.reduce((s, p) => s + p[1], 0) / w.length];
  });
}
