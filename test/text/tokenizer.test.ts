// Tokenizer of a model directory against the Qwen2 fixtures: ids must equal those of the independent Python BPE in
// bench/reference/qwen2_reference.py, eos ids come from the config files, and broken directories give clear errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FavchatError } from "../../src/core/errors.ts";
import { StreamDecoder, loadTokenizer } from "../../src/text/tokenizer.ts";

const GQA = join(import.meta.dirname, "..", "fixtures", "qwen2", "gqa");
const expected = JSON.parse(readFileSync(join(GQA, "expected.json"), "utf8")) as {
  text: string;
  input_ids: number[];
  chat: { messages: { role: string; content: string }[]; rendered: string; input_ids: number[] };
};

/** A copy of the fixture directory to break. */
function copyFixture(): string {
  const dir = mkdtempSync(join(tmpdir(), "favchat-tok-"));
  cpSync(GQA, dir, { recursive: true });
  return dir;
}

function throwsWith(fn: () => unknown, ...fragments: string[]) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FavchatError, `expected FavchatError, got ${String(e)}`);
    for (const f of fragments) assert.ok(e.message.includes(f), `message lacks "${f}": ${e.message}`);
    return true;
  });
}

test("encode matches the Python reference BPE; decode inverts it", () => {
  const tok = loadTokenizer(GQA);
  assert.equal(tok.vocabSize, 128);
  assert.deepEqual(tok.encode(expected.text), expected.input_ids);
  assert.equal(tok.decode(expected.input_ids), expected.text);
  assert.deepEqual(tok.tokenize("the cat").slice(0, 3), ["t", "he", "Ġc"]);
  // Characters outside this tiny vocabulary become <unk> (id 124), never vanish.
  assert.deepEqual(tok.encode("é"), [124, 124]);
});

test("chat prompt renders and encodes exactly like the reference", () => {
  const tok = loadTokenizer(GQA);
  const { text, ids } = tok.encodeChat(expected.chat.messages);
  assert.equal(text, expected.chat.rendered);
  assert.deepEqual(ids, expected.chat.input_ids);
  assert.equal(tok.chatTemplate?.defaultSystem, "You are a helpful assistant.");
  // Specials are kept by default and dropped on request.
  assert.ok(tok.decode(ids).startsWith("<|im_start|>system\n"));
  assert.equal(tok.decode(ids, { skipSpecialTokens: true }), "system\nYou are a helpful assistant.\nuser\nWhat is the emotion on her face?\nassistant\n");
});

test("special tokens and eos ids come from the config files", () => {
  const tok = loadTokenizer(GQA);
  assert.deepEqual([...tok.specialTokens], [["<|endoftext|>", 125], ["<|im_start|>", 126], ["<|im_end|>", 127]]);
  // generation_config.json lists [<|im_end|>, <|endoftext|>]; tokenizer_config's eos_token is <|im_end|>.
  assert.deepEqual(tok.eosIds, [127, 125]);
  assert.equal(tok.eosToken, "<|im_end|>");
  assert.equal(tok.padId, 125);
  assert.equal(tok.bosId, null);
  assert.ok(tok.isSpecial(127) && !tok.isSpecial(5));
  assert.equal(tok.tokenToId("<|im_start|>"), 126);
  assert.equal(tok.idToToken(2), "!");
  // Ids past the tokenizer (a model's padded vocabulary) are skipped; an empty list decodes to "".
  assert.equal(tok.decode([85, 500, 97]), tok.decode([85, 97]));
  assert.equal(tok.decode([]), "");
  throwsWith(() => tok.decode([1.5]), "1.5");
});

test("without generation_config.json, eos comes from config.json and tokenizer_config.json", () => {
  const dir = copyFixture();
  rmSync(join(dir, "generation_config.json"));
  assert.deepEqual(loadTokenizer(dir).eosIds, [127]);
  writeFileSync(join(dir, "config.json"), JSON.stringify({ eos_token_id: [125] }));
  assert.deepEqual(loadTokenizer(dir).eosIds, [125, 127]);
});

test("without tokenizer_config.json the ChatML tokens still give a chat template (no default system)", () => {
  const dir = copyFixture();
  rmSync(join(dir, "tokenizer_config.json"));
  const tok = loadTokenizer(dir);
  assert.equal(tok.chatTemplate?.defaultSystem, null);
  assert.equal(tok.encodeChat([{ role: "user", content: "hi" }]).text, "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
});

test("missing or corrupt tokenizer files give FavchatErrors that name the file", () => {
  throwsWith(() => loadTokenizer("/nonexistent/model"), "/nonexistent/model", "does not exist");

  let dir = copyFixture();
  rmSync(join(dir, "tokenizer.json"));
  throwsWith(() => loadTokenizer(dir), "has no tokenizer.json");

  dir = copyFixture();
  writeFileSync(join(dir, "tokenizer.json"), '{"model": {"type": "BPE", "vocab": {');
  throwsWith(() => loadTokenizer(dir), "tokenizer.json is not valid JSON");

  dir = copyFixture();
  const tj = JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8"));
  writeFileSync(join(dir, "tokenizer.json"), JSON.stringify({ ...tj, model: { type: "WordLevel", vocab: tj.model.vocab, unk_token: "<unk>" } }));
  throwsWith(() => loadTokenizer(dir), "tokenizer.json could not be loaded", "supported models");

  dir = copyFixture();
  const tc = JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8"));
  writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify({ ...tc, eos_token: "</s>" }));
  throwsWith(() => loadTokenizer(dir), "tokenizer_config.json", "eos_token", "</s>", "not in the vocabulary");

  writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify({ ...tc, chat_template: "{% for m in messages %}{{ m.content }" }));
  throwsWith(() => loadTokenizer(dir), "tokenizer_config.json", "not a valid Jinja template");

  writeFileSync(join(dir, "tokenizer_config.json"), "not json");
  throwsWith(() => loadTokenizer(dir), "tokenizer_config.json is not valid JSON");

  dir = copyFixture();
  writeFileSync(join(dir, "generation_config.json"), JSON.stringify({ eos_token_id: "<|im_end|>" }));
  throwsWith(() => loadTokenizer(dir), "generation_config.json", "eos_token_id");
  writeFileSync(join(dir, "generation_config.json"), JSON.stringify({ eos_token_id: [127, 9999] }));
  throwsWith(() => loadTokenizer(dir), "9999", "outside");
});

test("streaming decode holds back a multi-byte character until its last byte arrives", () => {
  // A byte-complete byte-level BPE (all 256 byte symbols, no merges), like Qwen's base alphabet, made here.
  const dir = mkdtempSync(join(tmpdir(), "favchat-bytes-"));
  const tj = JSON.parse(readFileSync(join(GQA, "tokenizer.json"), "utf8"));
  const symbols = [...Array(256).keys()].map((b) => {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
    return printable ? String.fromCharCode(b) : null;
  });
  let extra = 0;
  const vocab: Record<string, number> = {};
  symbols.forEach((c, b) => (vocab[c ?? String.fromCharCode(256 + extra++)] = b));
  writeFileSync(join(dir, "tokenizer.json"), JSON.stringify({ ...tj, added_tokens: [], model: { ...tj.model, unk_token: null, vocab, merges: [] } }));
  const tok = loadTokenizer(dir);
  const text = "héllo 😀!";
  const ids = tok.encode(text);
  assert.equal(ids.length, new TextEncoder().encode(text).length);
  assert.ok(tok.decode(ids.slice(0, 2)).endsWith("\uFFFD"), "a cut inside é decodes to U+FFFD");

  const stream = new StreamDecoder(tok);
  const deltas = ids.map((id) => stream.push(id));
  assert.ok(deltas.every((d) => !d.includes("\uFFFD")), JSON.stringify(deltas));
  assert.equal(deltas.join(""), text);
  assert.equal(deltas[1], "", "first byte of é is held back");
  assert.equal(stream.flush(), "");

  const cut = new StreamDecoder(tok);
  ids.slice(0, 2).forEach((id) => cut.push(id));
  assert.equal(cut.flush(), "\uFFFD");
});
