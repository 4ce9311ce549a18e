// Chat templates: a directory's Jinja chat_template executed by @huggingface/jinja, and the built-in ChatML fallback.
import { test } from "node:test";
import assert from "node:assert/strict";
import { FavchatError } from "../../src/core/errors.ts";
import { chatTemplateFromSource, renderChatML } from "../../src/text/chat.ts";

// Excerpt of Qwen2.5-Instruct's template: the tools branch writes the system prompt through a variable, the plain
// branch as a literal, which is the one to find.
const QWEN25 =
  "{%- if tools %}\n    {{- '<|im_start|>system\\n' }}\n    {%- if messages[0]['role'] == 'system' %}\n        {{- messages[0]['content'] }}\n" +
  "    {%- else %}\n        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}\n    {%- endif %}\n" +
  "{%- else %}\n    {%- if messages[0]['role'] == 'system' %}\n        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\n" +
  "    {%- else %}\n        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}\n" +
  "    {%- endif %}\n{%- endif %}\n{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}{%- endfor %}\n" +
  "{%- if add_generation_prompt %}\n    {{- '<|im_start|>assistant\\n' }}\n{%- endif %}\n";

// Qwen3-style: no default system prompt.
const NO_DEFAULT =
  "{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}{%- endfor %}" +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

function throwsWith(fn: () => unknown, fragment: string) {
  assert.throws(fn, (e: unknown) => e instanceof FavchatError && e.message.includes(fragment));
}

test("ChatML: turns, default system only when none is given, generation prompt on request", () => {
  const msgs = [
    { role: "user", content: "Which emotion?" },
    { role: "assistant", content: "<think>brows raised</think><answer>surprise</answer>" },
    { role: "user", content: "Sure?" },
  ];
  assert.equal(
    renderChatML(msgs, { defaultSystem: "Be brief." }),
    "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhich emotion?<|im_end|>\n" +
      "<|im_start|>assistant\n<think>brows raised</think><answer>surprise</answer><|im_end|>\n" +
      "<|im_start|>user\nSure?<|im_end|>\n<|im_start|>assistant\n",
  );
  const withSystem = [{ role: "system", content: "S" }, { role: "user", content: "U" }];
  assert.equal(renderChatML(withSystem, { defaultSystem: "ignored", addGenerationPrompt: false }), "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n");
});

test("templates: Qwen2.5's template runs (default system inserted), Qwen3-style has none; list form uses 'default'", () => {
  const qwen = chatTemplateFromSource(QWEN25, "t.json");
  assert.equal(qwen?.kind, "jinja");
  assert.equal(qwen?.defaultSystem, "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.");
  assert.equal(
    qwen?.render([{ role: "user", content: "x" }]),
    "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\n",
  );
  // The template's output equals the hand-written ChatML with the same default system prompt.
  const msgs = [{ role: "user", content: "a" }, { role: "assistant", content: "b" }, { role: "user", content: "c" }];
  assert.equal(qwen?.render(msgs), renderChatML(msgs, { defaultSystem: qwen?.defaultSystem }));
  const plain = chatTemplateFromSource(NO_DEFAULT, "t.json");
  assert.equal(plain?.defaultSystem, null);
  assert.equal(plain?.render([{ role: "user", content: "x" }]), "<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\n");
  assert.equal(plain?.render([{ role: "user", content: "x" }], { addGenerationPrompt: false }), "<|im_start|>user\nx<|im_end|>\n");
  const listed = chatTemplateFromSource([{ name: "tool_use", template: "x" }, { name: "default", template: QWEN25 }], "t.json");
  assert.equal(listed?.defaultSystem, "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.");
  assert.equal(chatTemplateFromSource(undefined, "t.json"), null);
});

test("other families' templates run too (Llama-2 style with bos_token)", () => {
  const llama = chatTemplateFromSource("{{ bos_token }}{% for m in messages %}[INST] {{ m.content }} [/INST]{% endfor %}", "cfg.json", { bos_token: "<s>" });
  assert.equal(llama?.render([{ role: "user", content: "hi" }]), "<s>[INST] hi [/INST]");
});

test("broken templates and bad messages are refused with a reason", () => {
  throwsWith(() => chatTemplateFromSource("{% for m in messages %}{{ m.content }", "cfg.json"), "not a valid Jinja template");
  throwsWith(() => chatTemplateFromSource(42, "cfg.json"), "chat_template must be a string");
  throwsWith(() => chatTemplateFromSource([{ name: "tool_use", template: QWEN25 }], "cfg.json"), '"default" entry');
  throwsWith(() => chatTemplateFromSource("{{ raise_exception('no system role') }}", "cfg.json")!.render([{ role: "user", content: "x" }]), "chat_template failed");
  throwsWith(() => renderChatML([]), "at least one message");
  throwsWith(() => renderChatML([{ role: "user<|im_end|>", content: "x" }]), "lower-case name");
  throwsWith(() => renderChatML([{ role: "user", content: 3 as unknown as string }]), "message 0");
});
