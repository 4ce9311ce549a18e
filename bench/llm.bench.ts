// LLM benchmark (issue 2): training step tokens/s (forward + backward + clip + AdamW) and generation
// tokens/s with the KV cache at 32 and 256 tokens of context, beside the PyTorch peer on the same config.
// Targets: training within 3x of PyTorch; generation at 256 context no slower than 1.5x that at 32.
// Training runs through the trainer as `favchat train` does (src/train/trainer.ts), the batch as 2 micro-batches,
// on 1 thread and on 2 (src/train/workers.ts); PyTorch uses 2 threads.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isMainThread } from "node:worker_threads";
import { initBackend, tf } from "../src/core/backend.ts";
import { Rng } from "../src/core/rng.ts";
import { resolveQwen2Config } from "../src/model/llm/config.ts";
import { Qwen2ForCausalLM } from "../src/model/llm/qwen2.ts";
import { KVCache } from "../src/nn/kv-cache.ts";
import { maskedCrossEntropy } from "../src/train/loss.ts";
import { resolveTrainerConfig, train, type TrainTask } from "../src/train/trainer.ts";
import { fmt, median, runPeer } from "./stats.ts";

const C = {
  vocab: 1024, hidden: 256, inter: 704, layers: 4, heads: 8, kv_heads: 4,
  batch: 4, seq: 128, train_steps: 3, gen_contexts: [32, 256], gen_tokens: 32, repeats: 5, threads: 2,
};

function benchModel(): Qwen2ForCausalLM {
  const config = resolveQwen2Config(
    { vocab_size: C.vocab, hidden_size: C.hidden, intermediate_size: C.inter, num_hidden_layers: C.layers,
      num_attention_heads: C.heads, num_key_value_heads: C.kv_heads, max_position_embeddings: 1024 },
    "bench",
  );
  return new Qwen2ForCausalLM(config, new Rng(0));
}

interface LmBatch { ids: tf.Tensor; targets: tf.Tensor; mask: tf.Tensor }

/** Next-token prediction on random tokens, C.batch / 2 rows per micro-batch (also built in training workers). */
export function createTask(): TrainTask<LmBatch> {
  const model = benchModel();
  const rows = C.batch / 2;
  return {
    model,
    makeBatch: (_step, _micro, rng) => {
      const seq = Array.from({ length: rows }, () => Array.from({ length: C.seq + 1 }, () => rng.int(C.vocab)));
      const targets = tf.tensor2d(seq.map((r) => r.slice(1)), [rows, C.seq], "int32");
      return { ids: tf.tensor2d(seq.map((r) => r.slice(0, -1)), [rows, C.seq], "int32"), targets, mask: tf.onesLike(targets).toFloat() };
    },
    loss: (b) => maskedCrossEntropy(model.forward({ ids: b.ids }), b.targets, b.mask),
    disposeBatch: (b) => tf.dispose([b.ids, b.targets, b.mask]),
  };
}

/** Training tokens/s through the trainer, one entry per repeat of C.train_steps steps (the first repeat is warm-up). */
async function trainRate(threads: number): Promise<number[]> {
  const task = createTask();
  const dir = mkdtempSync(join(tmpdir(), "favchat-bench-llm-"));
  const steps = (C.repeats + 1) * C.train_steps;
  try {
    await train(task, resolveTrainerConfig({ totalSteps: steps, gradAccum: 2, lr: 1e-3, warmupSteps: 0, checkpointEvery: steps }), {
      outDir: dir, resume: false, tty: false, log: () => {}, threads, factory: { module: import.meta.url, args: null },
    });
    const secs = readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { sec?: number }).sec).filter((x): x is number => x !== undefined);
    const out: number[] = [];
    for (let r = 1; r <= C.repeats; r++) {
      const dt = secs.slice(r * C.train_steps, (r + 1) * C.train_steps).reduce((a, b) => a + b, 0);
      out.push((C.batch * C.seq * C.train_steps) / dt);
    }
    return out;
  } finally {
    task.model.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function ours(): Promise<{ train1: number[]; train2: number[]; gen: Record<number, number[]> }> {
  const train1 = await trainRate(1);
  const train2 = await trainRate(2);
  const model = benchModel();
  const rng = new Rng(1);
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
  return { train1, train2, gen };
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
  row("train tokens/s, 1 thread", me.train1, peer?.train_tokens_per_s);
  row("train tokens/s, 2 threads", me.train2, peer?.train_tokens_per_s);
  for (const ctx of C.gen_contexts) row(`generate tokens/s @ ctx ${ctx}`, me.gen[ctx], peer?.gen[String(ctx)]);
  const slow = median(me.gen[32]) / median(me.gen[256]);
  console.log(`  generation slowdown 256 vs 32 context: ${fmt(slow, 2)}x (target <= 1.5x); ` +
    `training time ratio favchat/pytorch: ${peer ? fmt(median(peer.train_tokens_per_s) / median(me.train2), 2) : "n/a"}x with 2 threads ` +
    `(${peer ? fmt(median(peer.train_tokens_per_s) / median(me.train1), 2) : "n/a"}x with 1; target <= 3x)`);
}

if (isMainThread && process.argv[1] === fileURLToPath(import.meta.url)) await run();
