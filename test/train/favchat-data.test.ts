import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { attributeConversations, attributeExtras, corpusTexts, stageExamples, weighCategories, type ClipRef, type Example } from "../../src/train/favchat-data.ts";
import { synthesize } from "../../src/data/faceworld/synth.ts";
import { buildDataset } from "../../src/data/builder/build.ts";
import { readClipRecords } from "../../src/data/records.ts";
import { Rng } from "../../src/core/rng.ts";
import { attributeAskedIn } from "../../src/data/builder/qa.ts";
import { FavchatError } from "../../src/core/errors.ts";
import { trainByteLevelBpe, writeTokenizerDir } from "../../src/text/bpe-train.ts";
import { loadTokenizer } from "../../src/text/tokenizer.ts";
import { THINK_TOKENS } from "../../src/data/chat-format.ts";
import { SPECIAL_TOKENS } from "../../src/train/run-stage.ts";

const example = (answer: string, reason = false): Example =>
  ({
    clip: null,
    question: { question: "What colour is the person's hair?", options: ["grey", "white", "blond"], reason },
    target: { answer, think: reason ? "The hair looks pale." : undefined },
    category: reason ? "reasoning" : "attribute",
  }) as unknown as Example;

test("the tokenizer corpus holds each turn as the chat shows it: options in the question, the answer on its own", () => {
  const texts = corpusTexts([example("grey"), example("white", true)]);
  assert.deepEqual(texts, [
    "What colour is the person's hair? Options: grey, white, blond.",
    "grey",
    texts[2], // the reasoning question, with its instruction
    "<think>The hair looks pale.</think><answer>white</answer>",
  ]);
  assert.match(texts[2], /^What colour is the person's hair\? Options: grey, white, blond\. /);
  // Merges learnt from it cover the answer as it starts the assistant's turn (no leading space), not only " grey".
  const dir = mkdtempSync(join(tmpdir(), "favchat-corpus-"));
  try {
    const corpus = corpusTexts(Array.from({ length: 50 }, (_, i) => example(["grey", "white", "blond"][i % 3])));
    writeTokenizerDir(dir, trainByteLevelBpe(corpus, { vocabSize: 330, specialTokens: SPECIAL_TOKENS, addedTokens: [...THINK_TOKENS] }));
    const tok = loadTokenizer(dir);
    for (const w of ["grey", "white", "blond"]) assert.equal(tok.encode(w).length, 1, `"${w}" is one token`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("category weights repeat (or thin out) a category's examples; a weight naming no category is an error", () => {
  const ex = (category: string, i: number) => ({ category, question: { question: `q${i}` }, target: { answer: "a" } }) as unknown as Example;
  const pool = [...Array.from({ length: 400 }, (_, i) => ex("attribute", i)), ...Array.from({ length: 400 }, (_, i) => ex("scene", i)), ex("emotion", 0)];
  const out = weighCategories(pool, { attribute: 3, scene: 0.25 }, new Rng(1));
  const count = (c: string) => out.filter((e) => e.category === c).length;
  assert.equal(count("attribute"), 1200, "weight 3: every attribute example three times");
  assert.ok(count("scene") > 70 && count("scene") < 130, `weight 0.25: about 100 of 400 scene examples, got ${count("scene")}`);
  assert.equal(count("emotion"), 1, "unnamed categories weigh 1");
  assert.deepEqual(weighCategories(pool, { attribute: 3, scene: 0.25 }, new Rng(1)), out, "seeded: the same pool each time (main thread and workers)");
  assert.throws(() => weighCategories(pool, { atribute: 2 }, new Rng(1)), (e: Error) => e instanceof FavchatError && /no training examples of "atribute"; the categories here are attribute, emotion, scene/.test(e.message));
});

test("attribute conversations: per clip of the split, every attribute asked once in a random order, options holding the answer", () => {
  const clip = (id: string, split: string, hair: string, clothes: string): ClipRef =>
    ({ id, video: `/v/${id}.mp4`, raw: `/v/${id}.u8`, record: { id, video: `${id}.mp4`, split, labels: { attributes: { hair_colour: hair, clothes_colour: clothes, glasses: "none", smiling: true } } } }) as unknown as ClipRef;
  const clips = [clip("a", "train", "red", "blue"), clip("b", "train", "black", "green"), clip("c", "test", "grey", "white")];
  const out = attributeConversations(clips, "train", 2, new Rng(3));
  assert.equal(out.length, 4, "two conversations for each of the two training clips");
  for (const e of out) {
    assert.equal(e.category, "attribute");
    const turns = [e, ...(e.followUps ?? [])];
    assert.equal(turns.length, 4, "one turn per attribute");
    const byQuestion = new Map(turns.map((t) => [t.question.question, t]));
    assert.equal(byQuestion.size, 4, "no attribute asked twice");
    const attrs = e.clip.record.labels.attributes as Record<string, string | boolean>;
    // Each turn answers its attribute: the value, or yes/no where it was asked as a check (ATTR_CHECK_Q).
    for (const t of turns) {
      const k = attributeAskedIn(t.question.question, Object.keys(attrs));
      const v = k === null ? (attrs.smiling ? "yes" : "no") : attrs[k];
      if (t.target.answer !== v) assert.ok(["yes", "no"].includes(t.target.answer) && t.question.options?.join() === "yes,no", `${t.question.question} -> ${t.target.answer}`);
    }
    for (const t of turns) if (t.question.options) assert.ok(t.question.options.includes(t.target.answer), `${t.question.question}: options ${t.question.options.join(", ")}`);
  }
  // Options come from every clip's values (the test clip's "grey" may be a distractor), and the order varies.
  const firsts = new Set(out.map((e) => e.question.question));
  assert.ok(firsts.size >= 2, "conversations start with different attributes");
  assert.deepEqual(attributeConversations(clips, "train", 2, new Rng(3)), out, "seeded");
  assert.deepEqual(attributeConversations(clips, "train", 0, new Rng(3)), []);
  // The tokenizer corpus holds every turn.
  assert.equal(corpusTexts(out.slice(0, 1)).length, 8);
});

test("attribute extras: per clip of the split, single questions about that many different attributes, options holding the answer", () => {
  const clip = (id: string, split: string, hair: string, clothes: string): ClipRef =>
    ({ id, video: `/v/${id}.mp4`, raw: `/v/${id}.u8`, record: { id, video: `${id}.mp4`, split, labels: { attributes: { hair_colour: hair, clothes_colour: clothes, glasses: "none", smiling: true } } } }) as unknown as ClipRef;
  const clips = [clip("a", "train", "red", "blue"), clip("b", "train", "black", "green"), clip("c", "test", "grey", "white")];
  const out = attributeExtras(clips, "train", 3, new Rng(5));
  assert.equal(out.length, 6, "three for each of the two training clips");
  for (const id of ["a", "b"]) {
    const mine = out.filter((e) => e.clip.id === id);
    assert.equal(mine.length, 3);
    assert.equal(new Set(mine.map((e) => e.question.question)).size, 3, "three different attributes");
    for (const e of mine) {
      assert.equal(e.category, "attribute");
      assert.equal(e.followUps, undefined, "single questions, not conversations");
      if (e.question.options) assert.ok(e.question.options.includes(e.target.answer));
    }
  }
  assert.equal(attributeExtras(clips, "train", 9, new Rng(5)).length, 8, "at most every attribute of the clip");
  assert.deepEqual(attributeExtras(clips, "train", 3, new Rng(5)), out, "seeded");
});

test("stages 2 and 3 add attribute extras beside their questions; stage 3 keeps every emotion question and its replay", async () => {
  const dir = mkdtempSync(join(tmpdir(), "favchat-stage-examples-"));
  try {
    await synthesize({ out: dir, clips: 24, seed: 3, frames: 4, size: 48, mp4: false });
    const dataDir = join(dir, "built");
    await buildDataset({ clips: join(dir, "clips.jsonl"), out: dataDir, seed: 1 });
    const trainClips = readClipRecords(join(dir, "clips.jsonl")).records.filter((c) => (c.split ?? "train") === "train").length;
    for (const stage of [2, 3] as const) {
      const plain = stageExamples(stage, "train", { dataDir, replay: 1 }, new Rng(7));
      const more = stageExamples(stage, "train", { dataDir, replay: 1, attributeQuestions: 2 }, new Rng(7));
      const extras = more.slice(plain.length);
      assert.deepEqual(more.slice(0, plain.length), plain, `stage ${stage}: the same questions first`);
      assert.equal(extras.length, 2 * trainClips, `stage ${stage}: two extras per training clip`);
      assert.ok(extras.every((e) => e.category === "attribute" && e.question.options?.includes(e.target.answer)));
    }
    const s3 = stageExamples(3, "train", { dataDir, replay: 1, attributeQuestions: 2 }, new Rng(7));
    const emotion = s3.filter((e) => e.category === "emotion" || e.category === "reasoning").length;
    assert.ok(emotion > 0 && s3.length === 2 * emotion + 2 * trainClips, "emotion questions, as many replayed, then the extras");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
