// Does a favchat model use the video? Summary loss (or, given a QA category such as emotion, the loss of that
// category's answers) on N validation clips with each clip's own video, another clip's, and none (zeros).
// Usage: node --import tsx scripts/grounding-check.ts MODEL_DIR BUILT_DATA_DIR [N] [CATEGORY]
import { initBackend } from "../src/core/backend.ts";
import { Rng } from "../src/core/rng.ts";
import { encodeExample } from "../src/data/chat-format.ts";
import { collate, disposeBatch } from "../src/data/collate.ts";
import { loadFavchat } from "../src/model/load.ts";
import { loadTokenizer } from "../src/text/tokenizer.ts";
import { groundingLosses } from "../src/eval/grounding.ts";
import { stageExamples } from "../src/train/favchat-data.ts";
import { examplePixels } from "../src/train/favchat-task.ts";

const [modelDir, dataDir, n = "16", category] = process.argv.slice(2);
if (!modelDir || !dataDir) {
  console.error("usage: node --import tsx scripts/grounding-check.ts MODEL_DIR BUILT_DATA_DIR [N] [CATEGORY]");
  process.exit(2);
}
await initBackend("wasm");
const model = await loadFavchat(modelDir);
const tok = loadTokenizer(modelDir);
const pool = category ? stageExamples(2, "val", { dataDir }, new Rng(0)).filter((e) => e.category === category) : stageExamples(1, "val", { dataDir }, new Rng(0));
if (pool.length < 2) throw new Error(`fewer than 2 validation examples${category ? ` of category ${category}` : ""} in ${dataDir}`);
const examples = pool.slice(0, Number(n));
const batch = collate(examples.map((e) => ({ pixels: examplePixels(model, e, model.config.maxFrames, null), text: encodeExample(tok, e.question, e.target, model.config.videoPosition) })), tok.padId ?? 0);
const l = groundingLosses(model, batch);
disposeBatch(batch);
console.log(`${category ? `${category} answer` : "summary"} loss on ${examples.length} val clips: own video ${l.own.toFixed(4)}, another clip's ${l.shuffled.toFixed(4)}, zeros ${l.zeros.toFixed(4)}`);
console.log(l.shuffled - l.own > 0.02 ? "the model uses the video" : "the answers do not depend on the video");
