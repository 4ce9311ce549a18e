// How a model scores the answers "0".."3" to the count questions of the first 80 test clips, grouped by the true
// count: whether it reads the count at all or answers one value whatever the clip (issue 5's "3" to every count).
//   node --import tsx scripts/count-probe.ts [MODEL_DIR=models/favchat-tiny] [CLIPS=runs/tiny/data/clips.jsonl]
import { initBackend, tf } from "../src/core/backend.ts";
import { loadFavchat } from "../src/model/load.ts";
import { loadTokenizer } from "../src/text/tokenizer.ts";
import { readClipRecords } from "../src/data/records.ts";
import { evalItems, rawPixelSource } from "../src/eval/run-model.ts";
import { encodeExample, encodeQuestion } from "../src/data/chat-format.ts";
import { collate } from "../src/data/collate.ts";
import { scoreCandidates } from "../src/model/answer.ts";
await initBackend("wasm");
const dir = process.argv[2] ?? "models/favchat-tiny";
const model = await loadFavchat(dir);
const tok = loadTokenizer(dir);
model.llm.freezeForInference();
const file = process.argv[3] ?? "runs/tiny/data/clips.jsonl";
const clips = readClipRecords(file).records.filter((c) => c.split === "test").slice(0, 80);
const items = evalItems(clips, "qa", 0).filter((i) => i.id.includes("#counting"));
const px = rawPixelSource(file, model);
const by: Record<string, { n: number; mean: number[]; argmax: number[] }> = {};
for (const it of items) {
  const q = { question: it.question };
  const text = encodeQuestion(tok, q, model.config.videoPosition);
  const batch = collate([{ pixels: await px(it.clip), text }], tok.padId ?? 0);
  const { scores } = await scoreCandidates(model, { frames: batch.frames, faces: batch.faces, promptIds: text.promptIds }, ["0", "1", "2", "3"].map((a) => encodeExample(tok, q, { answer: a }, model.config.videoPosition)));
  tf.dispose([batch.frames, batch.faces, batch.ids, batch.promptIds]);
  const b = (by[it.answer] ??= { n: 0, mean: [0, 0, 0, 0], argmax: [0, 0, 0, 0] });
  b.n++;
  scores.forEach((s, k) => (b.mean[k] += s));
  b.argmax[scores.indexOf(Math.max(...scores))]++;
}
for (const [a, b] of Object.entries(by).sort()) console.log(`true ${a} n=${b.n} mean logp(0..3) ${b.mean.map((x) => (x / b.n).toFixed(2)).join(" ")} argmax counts ${b.argmax.join(" ")}`);
