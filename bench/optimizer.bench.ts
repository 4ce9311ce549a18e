// Optimizer benchmark (issue 2): one AdamW step over the trainable parameters of the tiny FaVChat model (what
// stage connector and stages 1-3 update every step on the main thread), favchat's fused wasm kernel
// (src/core/adamw.wat) and its op form (11 tfjs kernels per parameter), beside torch.optim.AdamW on the same
// shapes (default foreach implementation, and fused=True), PyTorch on 2 threads. No target of its own: it says how
// much of a training step the optimizer costs.
import { join } from "node:path";
import { initBackend, tf } from "../src/core/backend.ts";
import { Rng } from "../src/core/rng.ts";
import { resolveFavchatConfig } from "../src/model/config.ts";
import { FavChat } from "../src/model/favchat.ts";
import { AdamW } from "../src/train/optimizer.ts";
import { fmt, median, runPeer } from "./stats.ts";

const REPEATS = 9;

async function main(): Promise<void> {
  const backend = await initBackend("wasm");
  const model = new FavChat(resolveFavchatConfig({ preset: "tiny" }, "bench"), new Rng(0));
  const shapes = [...model.namedParams()].map(([, p]) => p.variable.shape);
  const count = shapes.reduce((a, s) => a + s.reduce((x, d) => x * d, 1), 0);
  model.dispose();
  console.log(`AdamW step: ${shapes.length} tensors, ${(count / 1e6).toFixed(2)}M parameters (the tiny FaVChat model); medians of ${REPEATS}; favchat on ${backend}`);
  const rng = new Rng(1);
  const params = new Map(shapes.map((s, i) => [`p${i}.weight`, tf.variable(tf.randomNormal(s, 0, 1, "float32", rng.int(1e9)))]));
  const grads = new Map([...params].map(([n, p]) => [n, tf.randomNormal(p.shape, 0, 1, "float32", rng.int(1e9))]));
  const time = (fused: boolean): number[] => {
    const opt = new AdamW(params, { lr: 1e-3, weightDecay: 0.01 });
    opt.fused = fused;
    opt.step(grads);
    const out: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      const t = performance.now();
      opt.step(grads);
      out.push(performance.now() - t);
    }
    opt.dispose();
    return out;
  };
  const fused = median(time(true));
  const ops = median(time(false));
  tf.dispose([...params.values(), ...grads.values()]);
  const peer = runPeer<{ default_ms: number[]; fused_ms: number[] | null }>(join(import.meta.dirname, "peers", "adamw_torch.py"), [JSON.stringify({ shapes, repeats: REPEATS, threads: 2 })]);
  const torchDefault = peer ? median(peer.default_ms) : NaN;
  const torchFused = peer?.fused_ms ? median(peer.fused_ms) : NaN;
  console.log(`  favchat fused kernel  ${fmt(fused, 1).padStart(7)} ms`);
  console.log(`  favchat op form       ${fmt(ops, 1).padStart(7)} ms   (fused is ${fmt(ops / fused, 2)}x faster)`);
  console.log(`  pytorch AdamW         ${fmt(torchDefault, 1).padStart(7)} ms   (favchat fused / pytorch: ${fmt(fused / torchDefault, 2)}x the time)`);
  if (Number.isFinite(torchFused)) console.log(`  pytorch AdamW fused   ${fmt(torchFused, 1).padStart(7)} ms   (favchat fused / pytorch fused: ${fmt(fused / torchFused, 2)}x the time)`);
  else if (peer) console.log("  pytorch AdamW fused       n/a      (this torch has no fused=True AdamW on CPU)");
}

await main();
