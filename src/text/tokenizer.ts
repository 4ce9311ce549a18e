// The tokenizer of a Hugging Face model directory: tokenizer.json through @huggingface/tokenizers (BPE, WordPiece,
// Unigram; not WordLevel), plus what the other files say: special tokens and chat template (tokenizer_config.json),
// and the ids that end generation (generation_config.json, config.json and tokenizer_config.json together).

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { FavchatError } from "../core/errors.ts";
import { chatML, chatTemplateFromSource, IM_END, IM_START, type ChatMessage, type ChatRenderOptions, type ChatTemplate } from "./chat.ts";

const SUPPORTED_MODELS = ["BPE", "WordPiece", "Unigram"];

export interface EncodeOptions {
  /** Let the tokenizer's post-processor add its special tokens (BOS/EOS templates). Default false: Qwen adds none,
   *  and chat prompts carry their specials in the text. */
  readonly addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Drop special tokens (<|im_end|>, ...) from the text. Default false. */
  readonly skipSpecialTokens?: boolean;
}

export class TextTokenizer {
  private constructor(
    readonly dir: string,
    private readonly tk: Tokenizer,
    /** One more than the largest id the tokenizer knows (added tokens included). */
    readonly vocabSize: number,
    /** Added tokens marked special, content to id. */
    readonly specialTokens: ReadonlyMap<string, number>,
    /** Ids that end generation, in priority order; may be empty when no file names one. */
    readonly eosIds: readonly number[],
    readonly eosToken: string | null,
    readonly padId: number | null,
    readonly bosId: number | null,
    /** ChatML template of the directory; null when it has none and no ChatML tokens either. */
    readonly chatTemplate: ChatTemplate | null,
  ) {}

  /** Loads DIR/tokenizer.json (+ tokenizer_config.json, generation_config.json, config.json when present). */
  static load(dir: string): TextTokenizer {
    if (!existsSync(dir)) throw new FavchatError(`tokenizer directory ${dir} does not exist`);
    const tokenizerPath = join(dir, "tokenizer.json");
    if (!existsSync(tokenizerPath)) {
      throw new FavchatError(`${dir} has no tokenizer.json; copy the model's tokenizer.json (Hugging Face format) into it`);
    }
    const tokenizerJson = readJson(tokenizerPath);
    // @huggingface/tokenizers quietly falls back to a pass-through "Legacy" model for types it lacks (WordLevel):
    // that would encode whole words to unknown ids, so refuse them here.
    const modelType = tokenizerJson.model?.type;
    if (!SUPPORTED_MODELS.includes(modelType)) {
      throw new FavchatError(
        `${tokenizerPath} could not be loaded: model type ${JSON.stringify(modelType)} is not supported (supported models: ${SUPPORTED_MODELS.join(", ")})`,
      );
    }
    const configPath = join(dir, "tokenizer_config.json");
    const tokConfig = existsSync(configPath) ? readJson(configPath) : {};
    let tk: Tokenizer;
    try {
      tk = new Tokenizer(tokenizerJson, tokConfig);
    } catch (e) {
      throw new FavchatError(
        `${tokenizerPath} could not be loaded: ${(e as Error).message} (supported models: BPE, WordPiece, Unigram)`,
        { cause: e },
      );
    }
    const vocab = tk.get_vocab(true);
    let vocabSize = 0;
    for (const id of vocab.values()) vocabSize = Math.max(vocabSize, id + 1);
    if (vocabSize === 0) throw new FavchatError(`${tokenizerPath}: the vocabulary is empty`);
    const special = new Map<string, number>();
    for (const [id, added] of tk.get_added_tokens_decoder()) if (added.special) special.set(added.content, id);

    const idOf = (token: string | null, field: string, file: string): number | null => {
      if (token === null) return null;
      const id = tk.token_to_id(token);
      if (id === undefined) throw new FavchatError(`${file}: ${field} ${JSON.stringify(token)} is not in the vocabulary of ${tokenizerPath}`);
      return id;
    };
    const eosToken = tokenString(tokConfig.eos_token, "eos_token", configPath);
    const eosFromTokenizer = idOf(eosToken, "eos_token", configPath);
    const padId = idOf(tokenString(tokConfig.pad_token, "pad_token", configPath), "pad_token", configPath);
    const bosId = idOf(tokenString(tokConfig.bos_token, "bos_token", configPath), "bos_token", configPath);

    // HF generate() stops on generation_config's eos ids (config.json's when that file is absent); Qwen instruct
    // models list <|im_end|> and <|endoftext|> there. The tokenizer's eos_token is added so either file suffices.
    const eosIds: number[] = [];
    const genPath = join(dir, "generation_config.json");
    const modelConfigPath = join(dir, "config.json");
    const fromGen = existsSync(genPath) ? idList(readJson(genPath).eos_token_id, genPath) : [];
    const fromModel = existsSync(modelConfigPath) ? idList(readJson(modelConfigPath).eos_token_id, modelConfigPath) : [];
    for (const id of [...fromGen, ...(fromGen.length > 0 ? [] : fromModel), ...(eosFromTokenizer === null ? [] : [eosFromTokenizer])]) {
      if (id >= vocabSize) throw new FavchatError(`${dir}: eos token id ${id} is outside the tokenizer's ${vocabSize} ids`);
      if (!eosIds.includes(id)) eosIds.push(id);
    }

    let chatTemplate = chatTemplateFromSource(tokConfig.chat_template, configPath, {
      bos_token: tokenString(tokConfig.bos_token, "bos_token", configPath),
      eos_token: eosToken,
    });
    // Without a template, a vocabulary that has the ChatML markers is a Qwen-style one: render ChatML without a
    // default system prompt rather than sending unmarked text the model was not tuned on.
    if (chatTemplate === null && special.has(IM_START) && special.has(IM_END)) chatTemplate = chatML(null);
    return new TextTokenizer(dir, tk, vocabSize, special, eosIds, eosToken, padId, bosId, chatTemplate);
  }

  encode(text: string, { addSpecialTokens = false }: EncodeOptions = {}): number[] {
    if (typeof text !== "string") throw new FavchatError(`tokenizer: encode expects a string, got ${typeof text}`);
    return this.tk.encode(text, { add_special_tokens: addSpecialTokens }).ids;
  }

  /** Token strings of `text` (byte-level symbols such as "Ġthe" for BPE). */
  tokenize(text: string): string[] {
    return this.tk.tokenize(text);
  }

  /** Ids to text. Ids the tokenizer does not know (a model's padded vocabulary rows) are skipped, as HF does. */
  decode(ids: readonly number[], { skipSpecialTokens = false }: DecodeOptions = {}): string {
    const known: number[] = [];
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0) throw new FavchatError(`tokenizer: token id ${id} is not a non-negative integer`);
      if (this.tk.id_to_token(id) !== undefined) known.push(id);
    }
    if (known.length === 0) return "";
    return this.tk.decode(known, { skip_special_tokens: skipSpecialTokens });
  }

  tokenToId(token: string): number | undefined {
    return this.tk.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.tk.id_to_token(id);
  }

  isSpecial(id: number): boolean {
    const token = this.tk.id_to_token(id);
    return token !== undefined && this.specialTokens.get(token) === id;
  }

  /** Renders `messages` with the directory's chat template and encodes the result. */
  encodeChat(messages: readonly ChatMessage[], options: ChatRenderOptions = {}): { text: string; ids: number[] } {
    if (this.chatTemplate === null) {
      throw new FavchatError(`${this.dir} has no chat template (tokenizer_config.json chat_template) and no ChatML tokens; send a plain prompt instead`);
    }
    const text = this.chatTemplate.render(messages, options);
    return { text, ids: this.encode(text) };
  }
}

/**
 * Incremental decoding for streaming output: `push` returns only the text that later tokens cannot change.
 * Byte-level BPE splits a multi-byte character (é, emoji) over several tokens, and decoding a prefix that ends
 * inside one gives U+FFFD; that tail is held back until the character is complete (or `flush` is called).
 * Each push re-decodes all ids so far: quadratic, but cheap next to a model step for answer-sized outputs.
 */
export class StreamDecoder {
  private readonly ids: number[] = [];
  private emitted = "";

  constructor(
    private readonly tokenizer: TextTokenizer,
    private readonly options: DecodeOptions = {},
  ) {}

  push(id: number): string {
    this.ids.push(id);
    let stable = this.tokenizer.decode(this.ids, this.options);
    while (stable.endsWith("\uFFFD")) stable = stable.slice(0, -1);
    return this.advance(stable);
  }

  /** Whatever is still held back (an incomplete character decodes as U+FFFD here, as HF does). */
  flush(): string {
    return this.advance(this.tokenizer.decode(this.ids, this.options));
  }

  /** All text returned so far. */
  get text(): string {
    return this.emitted;
  }

  private advance(stable: string): string {
    // Text already handed out cannot be taken back; with byte-level decoders a stable prefix never changes.
    if (stable.length <= this.emitted.length) return "";
    const delta = stable.slice(this.emitted.length);
    this.emitted = stable;
    return delta;
  }
}

/** Loads the tokenizer of a model directory (see TextTokenizer.load). */
export function loadTokenizer(dir: string): TextTokenizer {
  return TextTokenizer.load(dir);
}

function readJson(path: string): Record<string, any> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new FavchatError(`${path} is not valid JSON (${(e as Error).message}); re-copy it from the model`, { cause: e });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new FavchatError(`${path} must hold a JSON object`);
  return value as Record<string, any>;
}

/** tokenizer_config.json writes a token as a string or as an AddedToken object {content, ...}. */
function tokenString(value: unknown, field: string, path: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "string") return value;
  if (typeof value === "object" && typeof (value as { content?: unknown }).content === "string") return (value as { content: string }).content;
  throw new FavchatError(`${path}: ${field} must be a string or {content: string}, got ${JSON.stringify(value)}`);
}

function idList(value: unknown, path: string): number[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((v) => Number.isInteger(v) && v >= 0)) {
    throw new FavchatError(`${path}: eos_token_id must be an id or a list of ids, got ${JSON.stringify(value)}`);
  }
  return list as number[];
}
