import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { corpusTexts, type Example } from "../../src/train/favchat-data.ts";
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
