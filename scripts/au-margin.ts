// What the LLM's yes/no to an AU question follows. For every AU presence question about the first LIMIT clips of a
// split (the questions `favchat eval --task au` asks), the margin log p("yes") - log p("no") of the whole reply
// (scoreCandidates: multiple-choice scoring), then per AU: the AUC of that margin against the asked AU's presence (0.5:
// the answer ignores it; below: it says yes when the AU is absent), accuracy at margin 0 (what greedy answers get) and
// at the best threshold (what calibration alone could reach), and the AUC against each emotion, the two highest shown:
// a margin that follows one emotion whatever AU is asked means the LLM answers from the expression, not the AU. With
// the AU read-out (config.json "au_readout"), the AUC of what its token says (p, the chosen AU's probability) beside it.
//   node --import tsx scripts/au-margin.ts MODEL_DIR CLIPS_JSONL [LIMIT=600] [SPLIT=test]
import { tf, initBackend } from "../src/core/backend.ts";
import { loadFavchat } from "../src/model/load.ts";
import { loadTokenizer } from "../src/text/tokenizer.ts";
import { encodeExample, encodeQuestion } from "../src/data/chat-format.ts";
import { collate } from "../src/data/collate.ts";
import { AU_NAMES, readClipRecords } from "../src/data/records.ts";
import { evalItems, rawPixelSource } from "../src/eval/run-model.ts";
import { scoreCandidates } from "../src/model/answer.ts";
import type { ClipPixels } from "../src/data/clip-pixels.ts";

const [dir, clipsFile, limit = "600", split = "test"] = process.argv.slice(2);
if (!dir || !clipsFile) {
  console.error("usage: node --import tsx scripts/au-margin.ts MODEL_DIR CLIPS_JSONL [LIMIT=600] [SPLIT=test]");
  process.exit(2);
}
await initBackend("wasm");
const model = await loadFavchat(dir);
const tok = loadTokenizer(dir);
model.llm.freezeForInference();
const clips = readClipRecords(clipsFile, { onBadLine: "fail" }).records.filter((c) => (c.split ?? "test") === split).slice(0, Number(limit));
const items = evalItems(clips, "au", 0);
const pixels = rawPixelSource(clipsFile, model);
interface Row { readonly margin: number; readonly readout: number | null; readonly yes: boolean; readonly emotion: string | null }
const rows = new Map<string, Row[]>();
let cached = null as { id: string; px: ClipPixels } | null;
const t0 = Date.now();
for (const [i, item] of items.entries()) {
  if (cached?.id !== item.clip.id) cached = { id: item.clip.id, px: await pixels(item.clip) };
  const question = { question: item.question };
  const text = encodeQuestion(tok, question, model.config.videoPosition);
  const batch = collate([{ pixels: cached.px, text }], tok.padId ?? 0);
  const inputs = { frames: batch.frames, faces: batch.faces, promptIds: text.promptIds };
  const { scores } = await scoreCandidates(model, inputs, ["yes", "no"].map((a) => encodeExample(tok, question, { answer: a }, model.config.videoPosition)));
  let readout: number | null = null;
  if (model.auReadout) {
    // What the read-out token says: p = sum_k choice_k sigmoid(l_k) + choice_none / 2 (src/model/au-readout.ts).
    const p = tf.tidy(() => {
      const v = model.encodeVideo({ ...inputs, promptIds: tf.tensor2d([text.promptIds as number[]], [1, text.promptIds.length], "int32"), promptMask: [text.promptIds.map(() => 1)] });
      return tf.sum(tf.mul(tf.softmax(v.auChoice!), tf.concat([tf.sigmoid(v.auLogits!), tf.fill([1, 1], 0.5)], 1)));
    });
    readout = (await p.data())[0];
    p.dispose();
  }
  tf.dispose([batch.frames, batch.faces, batch.ids, batch.promptIds]);
  const list = rows.get(item.label!) ?? [];
  list.push({ margin: scores[0] - scores[1], readout, yes: item.answer === "yes", emotion: item.clip.labels.emotion ?? null });
  rows.set(item.label!, list);
  if ((i + 1) % 500 === 0) console.error(`${i + 1}/${items.length} questions, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

/** Probability that a random positive scores above a random negative (ties half). */
function auc(xs: readonly number[], ys: readonly boolean[]): number {
  const pos = xs.filter((_, i) => ys[i]);
  const neg = xs.filter((_, i) => !ys[i]);
  if (pos.length === 0 || neg.length === 0) return NaN;
  let s = 0;
  for (const p of pos) for (const n of neg) s += p > n ? 1 : p === n ? 0.5 : 0;
  return s / (pos.length * neg.length);
}
const emotions = [...new Set(clips.map((c) => c.labels.emotion).filter((e): e is string => !!e))].sort();
console.log(`${dir}: ${items.length} AU questions about ${clips.length} ${split} clips`);
console.log(`${"AU".padEnd(6)}${"n".padStart(5)}${"AUC".padStart(7)}${"acc@0".padStart(7)}${"best acc".padStart(10)}${model.auReadout ? "  read-out AUC" : ""}  margin follows (AUC per emotion, top 2)`);
for (const [au, r] of [...rows].sort((a, b) => AU_NAMES.indexOf(a[0] as (typeof AU_NAMES)[number]) - AU_NAMES.indexOf(b[0] as (typeof AU_NAMES)[number]))) {
  const m = r.map((x) => x.margin);
  const y = r.map((x) => x.yes);
  const acc0 = r.filter((x) => x.margin > 0 === x.yes).length / r.length;
  const best = Math.max(...m.map((t) => r.filter((x) => x.margin >= t === x.yes).length / r.length));
  const follows = emotions.map((e) => ({ e, a: auc(m, r.map((x) => x.emotion === e)) })).sort((a, b) => b.a - a.a).slice(0, 2);
  const readout = model.auReadout ? auc(r.map((x) => x.readout!), y).toFixed(3).padStart(14) : "";
  console.log(`${au.padEnd(6)}${String(r.length).padStart(5)}${auc(m, y).toFixed(3).padStart(7)}${acc0.toFixed(3).padStart(7)}${best.toFixed(3).padStart(10)}${readout}  ${follows.map((f) => `${f.e} ${f.a.toFixed(2)}`).join(", ")}`);
}
