// `favchat lm generate` and `favchat lm logits`: run a Qwen2-architecture checkpoint directory on its own,
// so anyone can check favchat's numerics against another implementation.
import type { Command } from "commander";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { tf } from "../../core/backend.ts";
import { FavchatError } from "../../core/errors.ts";
import { loadQwen2 } from "../../model/llm/load.ts";
import { generate } from "../../model/llm/generate.ts";
import { loadTokenizer, type TextTokenizer } from "../../text/tokenizer.ts";
import { backendFromGlobals, parseFloatOption, parseIds, parseIntOption } from "../options.ts";

interface GenerateFlags {
  model: string;
  prompt?: string;
  ids?: string;
  chat?: boolean;
  maxTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  stop: string[];
  json?: boolean;
}

interface LogitsFlags {
  model: string;
  text?: string;
  ids?: string;
  json?: boolean;
}

function tokenizerIfAny(dir: string, needed: boolean): TextTokenizer | null {
  if (!existsSync(join(dir, "tokenizer.json"))) {
    if (needed) throw new FavchatError(`${dir} has no tokenizer.json, so text cannot be encoded; pass token ids with --ids 1,2,3`);
    return null;
  }
  return loadTokenizer(dir);
}

/** Exactly one of text/ids; returns the prompt ids. */
function promptIds(textFlag: string, text: string | undefined, ids: string | undefined, tok: TextTokenizer | null, vocab: number, chat: boolean): number[] {
  if ((text === undefined) === (ids === undefined)) throw new FavchatError(`give exactly one of ${textFlag} TEXT or --ids 1,2,3`);
  if (ids !== undefined) return parseIds("--ids", ids, vocab);
  if (!tok) throw new FavchatError("no tokenizer");
  const out = chat ? tok.encodeChat([{ role: "user", content: text! }]).ids : tok.encode(text!);
  if (out.length === 0) throw new FavchatError(`${textFlag} encodes to no tokens; give some text`);
  return out;
}

async function runGenerate(flags: GenerateFlags, cmd: Command): Promise<void> {
  // 1. Backend, model, tokenizer.
  await backendFromGlobals(cmd);
  const model = await loadQwen2(flags.model);
  model.freezeForInference();
  const tok = tokenizerIfAny(flags.model, flags.prompt !== undefined);
  // 2. Prompt.
  const ids = promptIds("--prompt", flags.prompt, flags.ids, tok, model.config.vocabSize, flags.chat ?? false);
  const stopTokens = tok && tok.eosIds.length > 0 ? [...tok.eosIds] : model.config.eosTokenId;
  const decode = tok ? (xs: number[]) => tok.decode(xs, { skipSpecialTokens: true }) : undefined;
  // 3. Generate, streaming to stdout unless --json.
  let shown = 0;
  const result = await generate(model, ids, {
    maxTokens: flags.maxTokens,
    temperature: flags.temperature,
    topK: flags.topK,
    topP: flags.topP,
    seed: flags.seed,
    stopTokens,
    stopStrings: flags.stop,
    decode,
    onToken: (id, text) => {
      if (flags.json) return;
      if (decode) {
        // Hold back a character still split across byte-level tokens (decoded as U+FFFD for now).
        const ready = text.replace(/\uFFFD+$/, "");
        if (ready.length > shown) process.stdout.write(ready.slice(shown));
        shown = Math.max(shown, ready.length);
      } else {
        process.stdout.write(`${id} `);
      }
    },
  });
  model.dispose();
  if (flags.json) {
    const out = {
      ids: result.ids,
      new_ids: result.newIds,
      text: result.text,
      finish_reason: result.finishReason,
      prompt_tokens: result.promptTokens,
      timings: { prefill_sec: result.prefillSec, decode_sec: result.decodeSec, tokens_per_sec: result.newIds.length / Math.max(result.decodeSec, 1e-9) },
    };
    process.stdout.write(JSON.stringify(out) + "\n");
  } else {
    if (decode && result.text.length > shown) process.stdout.write(result.text.slice(shown));
    process.stdout.write("\n");
  }
}

async function runLogits(flags: LogitsFlags, cmd: Command): Promise<void> {
  await backendFromGlobals(cmd);
  const model = await loadQwen2(flags.model);
  const tok = tokenizerIfAny(flags.model, flags.text !== undefined);
  const ids = promptIds("--text", flags.text, flags.ids, tok, model.config.vocabSize, false);
  const logits = tf.tidy(() => model.forward({ ids: tf.tensor2d([ids], [1, ids.length], "int32") }).squeeze([0])); // [T, V]
  const rows = (await logits.array()) as number[][];
  logits.dispose();
  model.dispose();
  if (flags.json) {
    process.stdout.write(JSON.stringify({ ids, logits: rows }) + "\n");
  } else {
    // A readable summary: the top-5 next tokens at each position.
    for (let t = 0; t < ids.length; t++) {
      const top = rows[t].map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).slice(0, 5);
      const label = tok ? JSON.stringify(tok.decode([ids[t]])) : String(ids[t]);
      process.stdout.write(`${String(t).padStart(4)} ${label.padEnd(14)} -> ${top.map(([v, i]) => `${i}:${v.toFixed(3)}`).join("  ")}\n`);
    }
  }
}

export function register(program: Command): void {
  const lm = program.command("lm").description("run a Qwen2-architecture LLM checkpoint directory on its own");
  lm.command("generate")
    .description("generate text (or ids) from a prompt with the KV cache")
    .requiredOption("--model <dir>", "Hugging Face style directory: config.json, *.safetensors, tokenizer.json")
    .option("--prompt <text>", "prompt text (encoded with the directory's tokenizer)")
    .option("--ids <ids>", "prompt as comma-separated token ids, e.g. 1,2,3")
    .option("--chat", "wrap --prompt as a user turn with the chat template")
    .option("--max-tokens <n>", "new tokens at most", parseIntOption("--max-tokens", 1), 64)
    .option("--temperature <t>", "0 = greedy", parseFloatOption("--temperature", 0, 100), 0)
    .option("--top-k <k>", "keep the k most likely tokens (0 = all)", parseIntOption("--top-k", 0), 0)
    .option("--top-p <p>", "nucleus sampling mass", parseFloatOption("--top-p", 0.000001, 1), 1)
    .option("--seed <s>", "sampling seed", parseIntOption("--seed", 0), 0)
    .option("--stop <text...>", "stop strings", [])
    .option("--json", "print {ids, new_ids, text, finish_reason, timings} instead of streaming text")
    .action((flags: GenerateFlags, cmd: Command) => runGenerate(flags, cmd));
  lm.command("logits")
    .description("print the logits at every input position")
    .requiredOption("--model <dir>", "Hugging Face style directory")
    .option("--text <text>", "input text (encoded with the directory's tokenizer)")
    .option("--ids <ids>", "input as comma-separated token ids")
    .option("--json", 'print {"ids": [...], "logits": [[...], ...]}, one row per input position')
    .action((flags: LogitsFlags, cmd: Command) => runLogits(flags, cmd));
}
