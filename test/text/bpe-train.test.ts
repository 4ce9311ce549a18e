// A byte-level BPE learnt from a corpus loads in @huggingface/tokenizers, turns frequent words into single
// tokens, encodes any text (every byte is in the vocabulary) and decodes it back exactly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { trainByteLevelBpe, writeTokenizerDir } from "../../src/text/bpe-train.ts";
import { loadTokenizer } from "../../src/text/tokenizer.ts";

const corpus = Array.from({ length: 50 }, (_, i) =>
  `The person looks ${["happy", "sad", "angry", "surprised"][i % 4]}. <think>AU12 rises at frame ${i % 16}.</think><answer>${["happy", "sad"][i % 2]}</answer>`,
);
const specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<video>"];

test("trained vocabulary: deterministic, loadable, frequent words are one token, any text round-trips", () => {
  const opts = { vocabSize: 300, specialTokens: specials, addedTokens: ["<think>", "</think>", "<answer>", "</answer>"] };
  const a = trainByteLevelBpe(corpus, opts);
  assert.deepEqual(trainByteLevelBpe(corpus, opts), a);
  const dir = mkdtempSync(join(tmpdir(), "favchat-bpe-"));
  writeTokenizerDir(dir, a);
  const tok = loadTokenizer(dir);
  assert.equal(tok.vocabSize, 300 + 8);
  assert.equal(tok.encode(" person").length, 1);
  assert.equal(tok.encode(" happy").length, 1);
  for (const special of [...specials, "<think>", "</answer>"]) assert.equal(tok.encode(special).length, 1, special);
  for (const text of ["The person looks happy.", "Ünïcödé 表情 😀 and\nnew lines\t tabs", "<video> what is the emotion?"]) {
    assert.equal(tok.decode(tok.encode(text)), text);
  }
  assert.deepEqual(tok.eosIds, [tok.encode("<|im_end|>")[0]]);
  const chat = tok.encodeChat([{ role: "user", content: "<video> Which emotion?" }]).text;
  assert.equal(chat, "<|im_start|>user\n<video> Which emotion?<|im_end|>\n<|im_start|>assistant\n");
});

test("a vocabulary smaller than the bytes is refused", () => {
  assert.throws(() => trainByteLevelBpe(corpus, { vocabSize: 100, specialTokens: [] }), /at least 256/);
});
