// How a question about a video becomes model input, and an answer becomes the training target: one format for
// training (src/train) and answering (favchat chat, the HTTP API), so what the model saw in training is what it
// sees when used. The video is a single `<video>` placeholder the model replaces with its visual tokens.
import { FavchatError } from "../core/errors.ts";
import type { TextTokenizer } from "../text/tokenizer.ts";

export const VIDEO_TOKEN = "<video>";

/**
 * Where the first user turn puts the `<video>` placeholder (config.json "video_position"): on its own line before the
 * question (LLaVA's layout; models written before the field existed), or after it, so that the LLM's causal
 * attention lets every visual token read the question before the answer reads them (ours).
 */
export type VideoPosition = "before_question" | "after_question";
export const VIDEO_POSITIONS: readonly VideoPosition[] = ["before_question", "after_question"];

/** The first user turn's content: the question text with the placeholder where `position` puts it. */
export function firstTurnContent(text: string, position: VideoPosition = "before_question"): string {
  return position === "after_question" ? `${text}\n${VIDEO_TOKEN}` : `${VIDEO_TOKEN}\n${text}`;
}
export const THINK_TOKENS = ["<think>", "</think>", "<answer>", "</answer>"] as const;
/** Appended to a question when the answer should show its reasoning (DESIGN 1). */
export const REASON_INSTRUCTION = "Look at the face closely, reason about the evidence in <think></think>, then give the answer in <answer></answer>.";

export interface Question {
  readonly question: string;
  readonly options?: readonly string[];
  /** Ask for `<think>...</think><answer>...</answer>`. */
  readonly reason?: boolean;
}

export interface Target {
  readonly answer: string;
  readonly think?: string;
}

/** The question as the user turn says it (options listed, reasoning requested). */
export function questionText(q: Question): string {
  let text = q.question.trim();
  if (q.options && q.options.length > 0) text += ` Options: ${q.options.join(", ")}.`;
  if (q.reason) text += ` ${REASON_INSTRUCTION}`;
  return text;
}

/** The assistant turn: plain answer, or think + answer when reasoning is asked for. */
export function targetText(q: Question, t: Target): string {
  if (!q.reason) return t.answer.trim();
  return `<think>${(t.think ?? "").trim()}</think><answer>${t.answer.trim()}</answer>`;
}

export interface EncodedExample {
  /** Chat-formatted ids with one `<video>` id. */
  readonly ids: number[];
  /** 1 where the token is part of the target (answer and its closing end-of-turn), else 0. */
  readonly targetMask: number[];
  /** The question alone (no template, no video), for the prompt-guided visual modules. */
  readonly promptIds: number[];
}

/** Ids of a user turn (`<video>\nquestion`, or `question\n<video>`), ready for generation (ends with the assistant header). */
export function encodeQuestion(tok: TextTokenizer, q: Question, position: VideoPosition = "before_question"): EncodedExample {
  const text = questionText(q);
  const ids = tok.encodeChat([{ role: "user", content: firstTurnContent(text, position) }], { addGenerationPrompt: true }).ids;
  return { ids, targetMask: ids.map(() => 0), promptIds: promptIdsOf(tok, text) };
}

/** Ids of a whole exchange, with the target tokens marked for the loss. */
export function encodeExample(tok: TextTokenizer, q: Question, t: Target, position: VideoPosition = "before_question"): EncodedExample {
  return encodeConversation(tok, [{ question: q, target: t }], position);
}

/** One question and its answer in a conversation. */
export interface Turn {
  readonly question: Question;
  readonly target: Target;
}

/**
 * Ids of a conversation about one video: the first user turn holds the `<video>` placeholder, later turns ask more
 * questions about the same video; every assistant turn is a target (its tokens and its end-of-turn). The prompt for
 * the prompt-guided modules is the first question. A single turn is exactly encodeExample's exchange.
 */
export function encodeConversation(tok: TextTokenizer, turns: readonly Turn[], position: VideoPosition = "before_question"): EncodedExample {
  if (turns.length === 0) throw new FavchatError("a conversation needs at least one question");
  const messages = turns.flatMap((turn, k) => [
    { role: "user" as const, content: k === 0 ? firstTurnContent(questionText(turn.question), position) : questionText(turn.question) },
    { role: "assistant" as const, content: targetText(turn.question, turn.target) },
  ]);
  const full = tok.encodeChat(messages, { addGenerationPrompt: false }).ids;
  const prefix = tok.encodeChat(messages.slice(0, 1), { addGenerationPrompt: true }).ids;
  const bare = tok.encodeChat(messages.slice(0, 1), { addGenerationPrompt: false }).ids;
  if (full.length <= prefix.length || prefix.some((id, i) => full[i] !== id) || bare.some((id, i) => prefix[i] !== id)) {
    throw new FavchatError(`chat format: the prompt's tokens are not a prefix of the whole exchange's; is the tokenizer's chat template ChatML?`);
  }
  // Each answer starts after an assistant header (the ids the generation prompt adds) and runs through its
  // end-of-turn token (the template's newline after it is not learnt). One pass over the ids, not one encoding per turn.
  const header = prefix.slice(bare.length);
  const spans: [number, number][] = [];
  for (let i = bare.length; i + header.length <= full.length && spans.length < turns.length; i++) {
    if (!header.every((id, j) => full[i + j] === id)) continue;
    const start = i + header.length;
    const end = tok.eosIds.length > 0 ? full.findIndex((id, t) => t >= start && tok.eosIds.includes(id)) : -1;
    spans.push([start, end >= 0 ? end : full.length - 1]);
    i = spans[spans.length - 1][1];
  }
  if (spans.length !== turns.length || spans[0][0] !== prefix.length) {
    throw new FavchatError(`chat format: found ${spans.length} assistant turns in a conversation of ${turns.length}; is the tokenizer's chat template ChatML?`);
  }
  const last = spans[spans.length - 1][1];
  const ids = full.slice(0, last + 1);
  const targetMask = ids.map((_, i) => (spans.some(([a, b]) => i >= a && i <= b) ? 1 : 0));
  return { ids, targetMask, promptIds: promptIdsOf(tok, questionText(turns[0].question)) };
}

function promptIdsOf(tok: TextTokenizer, text: string): number[] {
  const ids = tok.encode(text);
  if (ids.length === 0) throw new FavchatError("the question is empty; ask something about the video");
  return ids;
}

/** Splits a generated reply into its reasoning and answer (plain text when the tags are missing). */
export function parseReply(text: string): { think: string | null; answer: string } {
  const think = /<think>([\s\S]*?)<\/think>/.exec(text);
  const answer = /<answer>([\s\S]*?)(?:<\/answer>|$)/.exec(text);
  if (answer) return { think: think ? think[1].trim() : null, answer: answer[1].trim() };
  return { think: think ? think[1].trim() : null, answer: text.replace(/<think>[\s\S]*?<\/think>/, "").trim() };
}
