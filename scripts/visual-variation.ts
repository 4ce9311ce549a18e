// Does the video reach the LLM? For N validation clips asked the same describe question, how much each stage of the
// visual path varies across clips: across-clip standard deviation over mean |x| (0: every clip looks the same to
// what comes next). Measured on the tiny recipe (issue 5): facial blocks about 0.9, visual tokens V 0.59 before
// stage 1, 0.012 after a stage 1 without label heads on V. Usage:
//   node --import tsx scripts/visual-variation.ts MODEL_DIR BUILT_DATA_DIR [N=8]
import { initBackend, tf } from "../src/core/backend.ts";
import { Rng } from "../src/core/rng.ts";
import { encodeExample } from "../src/data/chat-format.ts";
import { collate, disposeBatch } from "../src/data/collate.ts";
import { loadFavchat } from "../src/model/load.ts";
import { makePrompt } from "../src/model/prompt/prompt.ts";
import { addTemporalEmbedding } from "../src/model/prompt/frame-tokens.ts";
import { loadTokenizer } from "../src/text/tokenizer.ts";
import { stageExamples } from "../src/train/favchat-data.ts";
import { examplePixels } from "../src/train/favchat-task.ts";

const [modelDir, dataDir, n = "8"] = process.argv.slice(2);
if (!modelDir || !dataDir) {
  console.error("usage: node --import tsx scripts/visual-variation.ts MODEL_DIR BUILT_DATA_DIR [N]");
  process.exit(2);
}
await initBackend("wasm");
const model = await loadFavchat(modelDir);
const tok = loadTokenizer(modelDir);
const question = { question: "Describe the person in the video and what their face does." };
const examples = stageExamples(1, "val", { dataDir }, new Rng(0)).slice(0, Number(n)).map((e) => ({ ...e, question }));
const F = model.config.maxFrames;
const batch = collate(examples.map((e) => ({ pixels: examplePixels(model, e, F, null), text: encodeExample(tok, e.question, e.target, model.config.videoPosition) })), tok.padId ?? 0);
const B = examples.length;

/** Across-clip std over mean |x| of t [B, ...]. */
function report(name: string, t: tf.Tensor): void {
  const [between, scale] = tf.tidy(() => [tf.mean(tf.sqrt(tf.moments(t.reshape([B, -1]), 0).variance)).dataSync()[0], tf.mean(tf.abs(t)).dataSync()[0]]);
  console.log(`${name.padEnd(24)} ${`[${t.shape.join(", ")}]`.padEnd(16)} across-clip std / mean |x| = ${(between / scale).toFixed(4)}`);
}

tf.tidy(() => {
  const prompt = makePrompt(model.llm.embed(batch.promptIds), batch.promptMask);
  const [, , H, W, C] = batch.frames.shape;
  report("general encoder patches", model.visionTower.forward(batch.frames.reshape([B * F, H, W, C])));
  if (model.faceEncoder) {
    const blocks = model.faceEncoder.forwardClips(batch.faces);
    blocks.forEach((x, i) => report(`facial block ${i}`, x));
    if (model.ca2) {
      const { state, topTokens } = model.ca2.forward(blocks, prompt, F);
      report("CA² state", state);
      report("CA² top tokens", topTokens);
      const visual = tf.concat([topTokens, state], 1); // as FavChat's face branch
      const padding = prompt.padding.map((row) => [...new Array<number>(topTokens.shape[1] as number).fill(1), ...row]);
      report("Q-Former_f output F_f", model.qformerF!.forward(visual, prompt, padding));
    }
  }
  const patches = model.visionTower.forward(batch.frames.reshape([B * F, H, W, C])); // [B*F, P, Dv]
  const general = addTemporalEmbedding(patches, model.visionTemporal, B, F, "visual-variation"); // [B, F*P, Dv]
  report("Q-Former_g output F_g", model.qformerG.forward(general, prompt));
  const { tokens, weights } = model.encodeVideo(batch);
  report("visual tokens V", tokens);
  const w = weights.arraySync() as number[][];
  console.log(`adapter weights (mean): w_general ${(w.reduce((s, r) => s + r[0], 0) / B).toFixed(3)}, w_face ${(w.reduce((s, r) => s + r[1], 0) / B).toFixed(3)}`);
});
disposeBatch(batch);
