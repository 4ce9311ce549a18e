// LLM benchmark (issue 2): training step tokens/s (forward + backward + clip + AdamW) and generation
// tokens/s with the KV cache at 32 and 256 tokens of context, beside the PyTorch peer on the same config.
// Targets: training within 3x of PyTorch; generation at 256 context no slower than 1.5x that at 32.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { initBackend, tf } from "../src/core/backend.ts";
import { Rng } from "../src/core/rng.ts";
import { resolveQwen2Config } from "../src/model/llm/config.ts";
import { Qwen2ForCausalLM } from "../src/model/llm/qwen2.ts";
import { KVCache } from "../src/nn/kv-cache.ts";
import { AdamW } from "../src/train/optimizer.ts";
import { lmTrainStep } from "../src/train/lm-step.ts";
import { fmt, median, runPeer } from "./stats.ts";

const C = {
  vocab: 1024, hidden: 256, inter: 704, layers: 4, heads: 8, kv_heads: 4,
  batch: 4, seq: 128, train_steps: 3, gen_contexts: [32, 256], gen_tokens: 32, repeats: 5, threads: 2,
};

async function ours(): Promise<{ train: number[]; gen: Record<number, number[]> }> {
  const config = resolveQwen2Config(
    { vocab_size: C.vocab, hidden_size: C.hidden, intermediate_size: C.inter, num_hidden_layers: C.layers,
      num_attention_heads: C.heads, num_key_value_heads: C.kv_heads, max_position_embeddings: 1024 },
    "bench",
  );
  const model = new Qwen2ForCausalLM(config, new Rng(0));
  const opt = new AdamW(model.trainableVariables(), { lr: 1e-3 });
  const rng = new Rng(1);
  const seq = Array.from({ length: C.batch }, () => Array.from({ length: C.seq + 1 }, () => rng.int(C.vocab)));
  const ids = tf.tensor2d(seq.map((r) => r.slice(0, -1)), [C.batch, C.seq], "int32");
  const targets = tf.tensor2d(seq.map((r) => r.slice(1)), [C.batch, C.seq], "int32");
  const mask = tf.onesLike(targets).toFloat();
  const train: number[] = [];
  for (let r = 0; r <= C.repeats; r++) {
    const t0 = performance.now();
    for (let s = 0; s < C.train_steps; s++) lmTrainStep(model, opt, { ids, targets, mask }, 1e-3);
    const dt = (performance.now() - t0) / 1000;
    if (r > 0) train.push((C.batch * C.seq * C.train_steps) / dt);
  }
  tf.dispose([ids, targets, mask]);
  model.freezeForInference();
  const gen: Record<number, number[]> = {};
  for (const ctx of C.gen_contexts) {
    gen[ctx] = [];
    const prompt = Array.from({ length: ctx }, () => rng.int(C.vocab));
    for (let r = 0; r <= C.repeats; r++) {
      const cache = new KVCache(C.layers);
      const step = (tokens: number[]) =>
        tf.tidy(() => model.forward({ ids: tf.tensor2d([tokens], [1, tokens.length], "int32"), cache, lastOnly: true }).argMax(-1));
      let next = step(prompt);
      let id = (await next.data())[0];
      next.dispose();
      const t0 = performance.now();
      for (let i = 0; i < C.gen_tokens; i++) {
        next = step([id]);
        id = (await next.data())[0];
        next.dispose();
      }
      const dt = (performance.now() - t0) / 1000;
      cache.dispose();
      if (r > 0) gen[ctx].push(C.gen_tokens / dt);
    }
  }
  model.dispose();
  opt.dispose();
  return { train, gen };
}

export async function run(): Promise<void> {
  const backend = await initBackend("wasm");
  console.log(`LLM benchmark: hidden ${C.hidden}, ${C.layers} layers, ${C.heads} heads (${C.kv_heads} kv), vocab ${C.vocab}; ` +
    `train batch ${C.batch} x ${C.seq} tokens; medians of ${C.repeats} runs; favchat on ${backend}`);
  const me = await ours();
  const peer = runPeer<{ train_tokens_per_s: number[]; gen: Record<string, number[]> }>(
    join(import.meta.dirname, "peers", "qwen2_torch.py"), [JSON.stringify(C)]);
  const row = (name: string, mine: number[], theirs: number[] | undefined) => {
    const a = median(mine);
    const b = theirs ? median(theirs) : NaN;
    console.log(`  ${name.padEnd(28)} favchat ${fmt(a).padStart(8)}  pytorch ${fmt(b).padStart(8)}  favchat/pytorch ${fmt(a / b, 2)}`);
  };
  row("train tokens/s", me.train, peer?.train_tokens_per_s);
  for (const ctx of C.gen_contexts) row(`generate tokens/s @ ctx ${ctx}`, me.gen[ctx], peer?.gen[String(ctx)]);
  const slow = median(me.gen[32]) / median(me.gen[256]);
  console.log(`  generation slowdown 256 vs 32 context: ${fmt(slow, 2)}x (target <= 1.5x); ` +
    `training time ratio favchat/pytorch: ${peer ? fmt(median(peer.train_tokens_per_s) / median(me.train), 2) : "n/a"}x (target <= 3x)`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
