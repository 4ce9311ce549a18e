import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { corpusTexts, weighCategories, type Example } from "../../src/train/favchat-data.ts";
import { Rng } from "../../src/core/rng.ts";
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
