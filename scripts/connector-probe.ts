// How much of what the encoders know reaches the visual tokens V? Trains the connector path (CA², Q-Formers,
// adapters, as stage connector does, with the label heads on V) on cached features of frozen encoders, several times
// faster than the stage itself, and prints the heads' validation metrics every 100 steps. Compare two model
// directories that differ only in the connector's config (e.g. made by scripts/ablation-init.ts). No augmentation,
// constant learning rate, plain Adam: a probe, not the recipe. Usage:
//   node --import tsx scripts/connector-probe.ts ENCODERS_MODEL_DIR DATA_DIR CLIPS_JSONL [TRAIN_CLIPS=600] [STEPS=400] [LR=0.001] [FOCUS=on] [ANSWERS=on] [AU_TOKENS=off]
// FOCUS off: every label group weighs 1 for every question (visual-aux.ts's question focus off). ANSWERS off: the
// answer head is not trained (its per-category accuracy, ans_*, then shows chance). AU_TOKENS on: the AU token head
// (visual token k reads AU k's occurrence) is trained too.
import { initBackend, tf } from "../src/core/backend.ts";
import { Rng } from "../src/core/rng.ts";
import { loadFavchat } from "../src/model/load.ts";
import { loadTokenizer } from "../src/text/tokenizer.ts";
import { stageExamples, type Example } from "../src/train/favchat-data.ts";
import { examplePixels } from "../src/train/favchat-task.ts";
import { pixelTensors } from "../src/data/collate.ts";
import { encodeQuestion } from "../src/data/chat-format.ts";
import type { EncoderFeatures } from "../src/model/favchat.ts";
import { applyFreezePlan } from "../src/model/freeze.ts";
import { VisualAuxModel, answerClasses, visualLabels, emptyTally, tallyMetrics } from "../src/train/visual-aux.ts";

const [initDir, dataDir, clipsFile, nTrainS = "600", stepsS = "400", lrS = "0.001", focus = "on", answers = "on", auTokens = "off"] = process.argv.slice(2);
if (!initDir || !dataDir || !clipsFile) {
  console.error("usage: node --import tsx scripts/connector-probe.ts ENCODERS_MODEL_DIR DATA_DIR CLIPS_JSONL [TRAIN_CLIPS] [STEPS] [LR]");
  process.exit(2);
}
const LR = Number(lrS);
const BS = 16;
await initBackend("wasm");
const model = await loadFavchat(initDir);
const tok = loadTokenizer(initDir);
const F = 8;
const data = { dataDir, clipsFile };
const rng = new Rng(0);
const allTrain = stageExamples("connector", "train", data, rng.fork("t"));
const clipIds = [...new Set(allTrain.map((e) => e.clip.id))];
const keep = new Set(rng.shuffle(clipIds).slice(0, Number(nTrainS)));
const train = allTrain.filter((e) => keep.has(e.clip.id));
const valAll = stageExamples("connector", "val", data, rng.fork("v"));
const val = [...new Map(rng.fork("vo").shuffle(valAll).map((e) => [e.clip.id, e])).values()].slice(0, 256);
// The answer head is scored per question category on more rows (several questions of the same val clips).
const valQa = rng.fork("vq").shuffle(valAll.filter((e) => val.some((v) => v.clip.id === e.clip.id))).slice(0, 768);
console.log(`${train.length} train examples over ${keep.size} clips; ${val.length} val clips`);

const cache = new Map<string, EncoderFeatures>();
const t0 = performance.now();
for (const e of [...train, ...val]) {
  if (cache.has(e.clip.id)) continue;
  const px = pixelTensors(examplePixels(model, e, F, null));
  cache.set(e.clip.id, model.encoderFeatures(px.frames, px.faces));
  tf.dispose([px.frames, px.faces]);
}
console.log(`cached ${cache.size} clips in ${((performance.now() - t0) / 1000).toFixed(0)} s`);

applyFreezePlan(model, "connector");
const heads = new VisualAuxModel(model, visualLabels(train.map((e) => e.clip), { answers: answerClasses(train), auTokens: auTokens === "on" }), new Rng(1));
const vars = [...heads.namedParams()].filter(([, p]) => p.variable.trainable).map(([, p]) => p.variable);
console.log(`${vars.length} trainable tensors`);
const opt = tf.train.adam(LR);

function tokensOf(exs: readonly Example[]): tf.Tensor {
  const B = exs.length;
  const q = exs.map((e) => encodeQuestion(tok, e.question).promptIds);
  const T = Math.max(...q.map((r) => r.length));
  const ids = tf.tensor2d(q.map((r) => [...r, ...new Array(T - r.length).fill(0)]), [B, T], "int32");
  const mask = q.map((r) => Array.from({ length: T }, (_, i) => (i < r.length ? 1 : 0)));
  const cs = exs.map((e) => cache.get(e.clip.id)!);
  const features = { patches: tf.concat(cs.map((c) => c.patches), 0), blocks: cs[0].blocks.map((_, i) => tf.concat(cs.map((c) => c.blocks[i]), 0)) };
  return model.visualTokensFrom(features, ids, mask, B, F).tokens;
}

async function evaluate(): Promise<Record<string, number>> {
  const tally = emptyTally();
  for (let i = 0; i < val.length; i += 32) {
    const chunk = val.slice(i, i + 32);
    const tokens = tf.tidy(() => tokensOf(chunk));
    await heads.score(tokens, chunk.map((e) => e.clip), tally);
    tokens.dispose();
  }
  const byCategory = new Map<string, ReturnType<typeof emptyTally>>();
  for (let i = 0; i < valQa.length; i += 32) {
    const chunk = valQa.slice(i, i + 32);
    const tokens = tf.tidy(() => tokensOf(chunk));
    for (const cat of new Set(chunk.map((e) => e.category))) {
      const rows = chunk.flatMap((e, k) => (e.category === cat ? [k] : []));
      const sub = tf.gather(tokens, rows);
      if (!byCategory.has(cat)) byCategory.set(cat, emptyTally());
      await heads.score(sub, rows.map((k) => chunk[k].clip), byCategory.get(cat)!, rows.map((k) => chunk[k].target.answer));
      sub.dispose();
    }
    tokens.dispose();
  }
  const answer: Record<string, number> = {};
  for (const [cat, t] of [...byCategory].sort()) answer[`ans_${cat}`] = t.answer.hit / Math.max(1, t.answer.n);
  return { ...tallyMetrics(tally), ...answer };
}

const r = new Rng(2);
const t1 = performance.now();
let lossSum = 0;
for (let step = 1; step <= Number(stepsS); step++) {
  const exs = Array.from({ length: BS }, () => train[r.int(train.length)]);
  const loss = opt.minimize(() => heads.loss(tokensOf(exs), exs.map((e) => e.clip), focus === "off" ? undefined : exs.map((e) => e.category), answers === "off" ? undefined : exs.map((e) => e.target.answer)), true, vars)!;
  lossSum += (await loss.data())[0];
  loss.dispose();
  if (step % 100 === 0) {
    const m = await evaluate();
    console.log(`step ${step} loss ${(lossSum / 100).toFixed(3)} ${JSON.stringify(Object.fromEntries(Object.entries(m).map(([k, v]) => [k, +v.toFixed(3)])))} ${((performance.now() - t1) / step / 1000).toFixed(2)} s/step tensors ${tf.memory().numTensors}`);
    lossSum = 0;
  }
}
