// Chat prompts in Qwen's ChatML (`<|im_start|>role\ncontent<|im_end|>\n`), rendered by hand: no Jinja renderer is
// installed (neither @huggingface/jinja nor any other), so a directory's `chat_template` is recognised, not executed.
// What is taken from the template: that it is ChatML, and its default system prompt (Qwen2/2.5 insert one when the
// conversation has none). Tool calls and Qwen3's reasoning-stripping of past turns are not reproduced.

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
  readonly kind: "chatml";
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

/**
 * Recognises a tokenizer_config.json `chat_template` (a string, or HF's list of {name, template}: "default" is used).
 * `where` names the file for errors. Returns null when there is no template; throws when it is not ChatML.
 */
export function chatTemplateFromSource(source: unknown, where: string): ChatTemplate | null {
  if (source === undefined || source === null) return null;
  let text: unknown = source;
  if (Array.isArray(source)) {
    const named = source.find((t) => typeof t === "object" && t !== null && (t as { name?: unknown }).name === "default");
    text = named === undefined ? undefined : (named as { template?: unknown }).template;
  }
  if (typeof text !== "string") {
    throw new FavchatError(`${where}: chat_template must be a string (or a list with a "default" entry), got ${JSON.stringify(source).slice(0, 80)}`);
  }
  if (!text.includes(IM_START) || !text.includes(IM_END)) {
    throw new FavchatError(
      `${where}: chat_template is not ChatML (no ${IM_START}/${IM_END}); favchat renders ChatML only, since no Jinja ` +
        `renderer is installed. Use a Qwen-family tokenizer, or remove chat_template to send prompts as plain text`,
    );
  }
  return chatML(defaultSystemOf(text));
}

/**
 * The literal default system prompt a Qwen template writes, e.g. `'<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n'`.
 * In the Jinja source the newline is the two characters `\n` inside a string literal; a real newline is accepted too.
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
