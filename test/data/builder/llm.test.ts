// The optional LLM rewrite against a real local HTTP server speaking the OpenAI chat-completions shape.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { rewrite } from "../../../src/data/builder/llm.ts";

let server: Server;
let base = "";
const seen: { path: string; body: { model: string; messages: { role: string; content: string }[] } }[] = [];

before(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      const parsed = JSON.parse(body);
      seen.push({ path: req.url ?? "", body: parsed });
      const user = parsed.messages.find((m: { role: string }) => m.role === "user").content as string;
      if (user.includes("FAIL")) {
        res.writeHead(500).end("boom");
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ choices: [{ message: { role: "assistant", content: `  ${user.toUpperCase()}  ` } }] }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

after(() => server.close());

test("rewrite posts a chat completion and returns the trimmed content", async () => {
  assert.equal(await rewrite("the brows rise", { endpoint: base + "/", model: "m1" }), "THE BROWS RISE");
  assert.equal(seen[0].path, "/v1/chat/completions");
  assert.equal(seen[0].body.model, "m1");
  assert.equal(seen[0].body.messages[0].role, "system");
});

test("server errors and unreachable endpoints are reported with the URL", async () => {
  await assert.rejects(rewrite("FAIL", { endpoint: base }), /answered HTTP 500: boom/);
  await assert.rejects(rewrite("x", { endpoint: "http://127.0.0.1:1/v1" }), /cannot reach the --llm-endpoint http:\/\/127\.0\.0\.1:1\/v1\/chat\/completions/);
});
