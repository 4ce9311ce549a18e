// Optional rewriting of builder text through any OpenAI-compatible chat endpoint (the paper used GPT-4o
// to enrich its annotations). Off unless a URL is given; labels and answers are never sent for rewriting,
// only free text (summaries and questions), so the ground truth stays exact.
import { FavchatError } from "../../core/errors.ts";

export interface LlmOptions {
  /** Base URL, e.g. http://localhost:8000/v1 (the path /chat/completions is appended). */
  endpoint: string;
  model?: string;
  apiKey?: string;
  temperature?: number;
  /** Injected for tests and for runtimes with their own fetch. */
  fetchImpl?: typeof fetch;
}

const SYSTEM = "You rewrite annotation text for a facial-video data set. Keep every fact (emotions, action units, " +
  "frame numbers, counts, colours) exactly; change only the wording. Reply with the rewritten text only.";

export async function rewrite(text: string, o: LlmOptions): Promise<string> {
  const url = o.endpoint.replace(/\/+$/, "") + "/chat/completions";
  const f = o.fetchImpl ?? fetch;
  let res: Response;
  try {
    res = await f(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...(o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}) },
      body: JSON.stringify({ model: o.model ?? "default", temperature: o.temperature ?? 0.7, messages: [{ role: "system", content: SYSTEM }, { role: "user", content: text }] }),
    });
  } catch (err) {
    throw new FavchatError(`cannot reach the --llm-endpoint ${url}: ${(err as Error).message}; check the server is running`, { cause: err });
  }
  if (!res.ok) throw new FavchatError(`--llm-endpoint ${url} answered HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
  const body = (await res.json()) as { choices?: { message?: { content?: unknown } }[] };
  const content = body.choices?.[0]?.message?.content;
  if (typeof content !== "string" || !content.trim()) throw new FavchatError(`--llm-endpoint ${url} returned no choices[0].message.content`);
  return content.trim();
}
