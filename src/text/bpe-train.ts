// Training a small byte-level BPE vocabulary (GPT-2 / Qwen style) from a corpus, written as a Hugging Face
// tokenizer.json. The tiny model's LLM cannot afford Qwen's 151k-entry embedding (DESIGN 5); a vocabulary
// learnt from the training text keeps every byte (so any text encodes, nothing maps to <unk>) and turns the
// words the data uses into single tokens.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FavchatError } from "../core/errors.ts";
import { IM_END, IM_START } from "./chat.ts";

/** GPT-2's pre-tokenisation, as the ByteLevel pre-tokenizer applies it with use_regex. */
const PRETOKENIZE = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** GPT-2's reversible map from bytes to printable characters (space -> "Ġ", newline -> "Ċ"). */
export function byteToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const out = new Array<string>(256);
  let n = 0;
  for (let b = 0; b < 256; b++) out[b] = printable.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + n++);
  return out;
}

export interface BpeTrainOptions {
  /** Size of the base vocabulary plus merges (special tokens come on top). */
  readonly vocabSize: number;
  /** Added tokens marked special (dropped by decode with skipSpecialTokens): ChatML markers, <video>. */
  readonly specialTokens: readonly string[];
  /** Added tokens kept in decoded text, e.g. <think>, </answer>. */
  readonly addedTokens?: readonly string[];
  /** Pairs seen fewer times than this are not merged (default 2). */
  readonly minFrequency?: number;
}

/** Learns merges on `texts` and returns a tokenizer.json object. Deterministic: ties break by symbol order. */
export function trainByteLevelBpe(texts: Iterable<string>, opts: BpeTrainOptions): Record<string, unknown> {
  const b2u = byteToUnicode();
  if (opts.vocabSize < 256) throw new FavchatError(`BPE vocabSize must be at least 256 (every byte), got ${opts.vocabSize}`);
  const added = [...(opts.addedTokens ?? [])];
  const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const addedRe = [...opts.specialTokens, ...added].length > 0 ? new RegExp([...opts.specialTokens, ...added].map(escapeRe).join("|"), "g") : null;
  const encoder = new TextEncoder();

  // 1. Word frequencies, in byte-level symbols; added tokens are cut out first, as the tokenizer does.
  const wordFreq = new Map<string, number>();
  for (const text of texts) {
    for (const piece of addedRe ? text.split(addedRe) : [text]) {
      for (const m of piece.matchAll(PRETOKENIZE)) {
        const word = Array.from(encoder.encode(m[0]), (b) => b2u[b]).join("");
        wordFreq.set(word, (wordFreq.get(word) ?? 0) + 1);
      }
    }
  }
  const words = [...wordFreq.keys()].sort();
  const freqs = words.map((w) => wordFreq.get(w)!);
  const symbols = words.map((w) => Array.from(w));

  // 2. Merge the most frequent pair until the vocabulary is full.
  const vocab = new Map<string, number>();
  for (const c of [...b2u].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!)) vocab.set(c, vocab.size);
  const merges: string[] = [];
  const minFreq = opts.minFrequency ?? 2;
  while (vocab.size < opts.vocabSize) {
    const pairCount = new Map<string, number>();
    for (let w = 0; w < symbols.length; w++) {
      const s = symbols[w];
      for (let i = 0; i + 1 < s.length; i++) {
        const key = `${s[i]} ${s[i + 1]}`;
        pairCount.set(key, (pairCount.get(key) ?? 0) + freqs[w]);
      }
    }
    let best: string | null = null;
    let bestCount = 0;
    for (const [key, count] of pairCount) {
      if (count > bestCount || (count === bestCount && best !== null && key < best)) {
        best = key;
        bestCount = count;
      }
    }
    if (best === null || bestCount < minFreq) break;
    const [a, b] = best.split(" ");
    const merged = a + b;
    merges.push(best);
    if (!vocab.has(merged)) vocab.set(merged, vocab.size);
    for (const s of symbols) {
      for (let i = 0; i + 1 < s.length; i++) {
        if (s[i] === a && s[i + 1] === b) s.splice(i, 2, merged);
      }
    }
  }

  // 3. Added tokens after the learnt vocabulary.
  const addedTokens = [
    ...opts.specialTokens.map((content) => ({ content, special: true })),
    ...added.map((content) => ({ content, special: false })),
  ].map((t, i) => ({ id: vocab.size + i, content: t.content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: t.special }));
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false, use_regex: false },
    decoder: { ...byteLevel, trim_offsets: false, use_regex: false },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab),
      merges,
    },
  };
}

/** ChatML as a Jinja template, the way Qwen2 writes it (no default system prompt). */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '" + IM_START + "' + message['role'] + '\\n' + message['content'] + '" + IM_END +
  "' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '" + IM_START + "assistant\\n' }}{% endif %}";

/** Writes tokenizer.json and tokenizer_config.json (ChatML template, eos <|im_end|>, pad <|endoftext|>) into dir. */
export function writeTokenizerDir(dir: string, tokenizerJson: Record<string, unknown>): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(tokenizerJson));
  const config = {
    tokenizer_class: "PreTrainedTokenizerFast",
    chat_template: CHATML_TEMPLATE,
    eos_token: IM_END,
    pad_token: "<|endoftext|>",
    bos_token: null,
    model_max_length: 4096,
  };
  writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify(config, null, 2) + "\n");
}
