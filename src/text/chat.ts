// Chat prompts. A directory's own `chat_template` (Jinja) is executed with @huggingface/jinja, the renderer made
// for Hugging Face chat templates, so any model family's format comes out as its tokenizer_config.json says.
// Without a template, Qwen's ChatML (`<|im_start|>role\ncontent<|im_end|>\n`) is rendered by hand.

import { Template } from "@huggingface/jinja";
import { FavchatError } from "../core/errors.ts";

export interface ChatMessage {
  /** "system", "user", "assistant" (any lower-case name is passed through, as the template would). */
  readonly role: string;
  readonly content: string;
}

export interface ChatRenderOptions {
  /** End with `<|im_start|>assistant\n` so the model writes the answer (default true). */
  readonly addGenerationPrompt?: boolean;
}

export interface ChatTemplate {
  /** "jinja": the directory's template executed; "chatml": favchat's built-in ChatML. */
  readonly kind: "jinja" | "chatml";
  /** Inserted as the first message when the conversation has no system message; null: none. */
  readonly defaultSystem: string | null;
  render(messages: readonly ChatMessage[], options?: ChatRenderOptions): string;
}

export const IM_START = "<|im_start|>";
export const IM_END = "<|im_end|>";

/** Renders ChatML exactly as Qwen2-Instruct's template does (byte for byte, checked against the fixture). */
export function renderChatML(
  messages: readonly ChatMessage[],
  { addGenerationPrompt = true, defaultSystem = null }: ChatRenderOptions & { defaultSystem?: string | null } = {},
): string {
  validateMessages(messages);
  let out = "";
  if (defaultSystem !== null && messages[0].role !== "system") out += `${IM_START}system\n${defaultSystem}${IM_END}\n`;
  for (const m of messages) out += `${IM_START}${m.role}\n${m.content}${IM_END}\n`;
  if (addGenerationPrompt) out += `${IM_START}assistant\n`;
  return out;
}

/** A ChatML template with the given default system prompt. */
export function chatML(defaultSystem: string | null = null): ChatTemplate {
  return {
    kind: "chatml",
    defaultSystem,
    render: (messages, options) => renderChatML(messages, { ...options, defaultSystem }),
  };
}

/** Special tokens a template may refer to (`{{ bos_token }}`, `{{ eos_token }}`). */
export interface TemplateTokens {
  readonly bos_token?: string | null;
  readonly eos_token?: string | null;
}

/**
 * Compiles a tokenizer_config.json `chat_template` (a string, or HF's list of {name, template}: "default" is used).
 * `where` names the file for errors. Returns null when there is no template.
 */
export function chatTemplateFromSource(source: unknown, where: string, tokens: TemplateTokens = {}): ChatTemplate | null {
  if (source === undefined || source === null) return null;
  let text: unknown = source;
  if (Array.isArray(source)) {
    const named = source.find((t) => typeof t === "object" && t !== null && (t as { name?: unknown }).name === "default");
    text = named === undefined ? undefined : (named as { template?: unknown }).template;
  }
  if (typeof text !== "string") {
    throw new FavchatError(`${where}: chat_template must be a string (or a list with a "default" entry), got ${JSON.stringify(source).slice(0, 80)}`);
  }
  let template: Template;
  try {
    template = new Template(text);
  } catch (e) {
    throw new FavchatError(`${where}: chat_template is not a valid Jinja template (${(e as Error).message})`, { cause: e });
  }
  return {
    kind: "jinja",
    defaultSystem: defaultSystemOf(text),
    render: (messages, options = {}) => {
      validateMessages(messages);
      try {
        return template.render({
          messages: messages.map((m) => ({ role: m.role, content: m.content })),
          add_generation_prompt: options.addGenerationPrompt ?? true,
          bos_token: tokens.bos_token ?? "",
          eos_token: tokens.eos_token ?? "",
        });
      } catch (e) {
        throw new FavchatError(`${where}: chat_template failed on these messages (${(e as Error).message})`, { cause: e });
      }
    },
  };
}

/**
 * The literal default system prompt a Qwen template writes, e.g. `'<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n'`
 * (informational: the template itself inserts it). In the Jinja source the newline is the two characters `\n`.
 */
function defaultSystemOf(template: string): string | null {
  const m = /<\|im_start\|>system(?:\\n|\n)([^'"<{}]+)<\|im_end\|>/.exec(template);
  return m === null ? null : m[1].replace(/\\n/g, "\n");
}

function validateMessages(messages: readonly ChatMessage[]): void {
  if (!Array.isArray(messages) || messages.length === 0) throw new FavchatError("chat: expected at least one message {role, content}");
  messages.forEach((m, i) => {
    if (typeof m !== "object" || m === null || typeof m.role !== "string" || typeof m.content !== "string") {
      throw new FavchatError(`chat: message ${i} must be {role: string, content: string}, got ${JSON.stringify(m)}`);
    }
    // A role is spliced between markers: anything but a plain name would forge turn boundaries.
    if (!/^[a-z_]+$/.test(m.role)) {
      throw new FavchatError(`chat: message ${i} has role ${JSON.stringify(m.role)}; use a lower-case name such as system, user or assistant`);
    }
  });
}
