// `npm run train:tiny`: the recipe that makes models/favchat-tiny (issue 5). FaceWorld data, the records of every
// stage, stages 0, encoders, connector, 1, 2, 3 with configs/tiny.json, then the model is copied into models/ and evaluated on the test split
// (unseen identities). Each step runs as `favchat ...` in its own process; a step whose output is complete is
// skipped, so an interrupted recipe continues where it stopped (stages resume from their checkpoints).
//   node --import tsx scripts/train-tiny.ts [--work DIR] [--clips N] [--config FILE] [--out DIR] [--eval-clips N]
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

const ROOT = join(import.meta.dirname, "..");
const { values: a } = parseArgs({
  options: {
    work: { type: "string", default: join(ROOT, "runs", "tiny") },
    clips: { type: "string", default: "6000" },
    seed: { type: "string", default: "0" },
    config: { type: "string", default: join(ROOT, "configs", "tiny.json") },
    out: { type: "string", default: join(ROOT, "models", "favchat-tiny") },
    "eval-clips": { type: "string", default: "600" },
  },
});
const work = a.work!;
const data = join(work, "data");
const built = join(data, "built");
const t0 = performance.now();

function favchat(label: string, args: string[]): void {
  const t = performance.now();
  console.log(`\n[train:tiny] ${label}: favchat ${args.join(" ")}`);
  const r = spawnSync(process.execPath, [join(ROOT, "bin", "favchat.js"), ...args], { stdio: "inherit" });
  if (r.status !== 0) {
    console.error(`[train:tiny] ${label} failed (exit ${r.status}); fix the cause and run npm run train:tiny again: finished steps are kept`);
    process.exit(r.status ?? 1);
  }
  console.log(`[train:tiny] ${label} done in ${((performance.now() - t) / 60000).toFixed(1)} min (total ${((performance.now() - t0) / 60000).toFixed(1)} min)`);
}

// 1. Data: clips (raw frames only: training reads those) and the records of every stage. The raw frames are the
// clips' H.264 round trip (what `favchat chat` decodes from a video), not the renderer's clean frames: trained on
// clean frames, the model named the emotion of 78% of fresh clips from their frames and 57% from their MP4s.
mkdirSync(work, { recursive: true });
if (!existsSync(join(data, "clips.jsonl"))) favchat("FaceWorld clips", ["synth", "--out", data, "--clips", a.clips!, "--seed", a.seed!, "--no-mp4", "--h264-frames"]);
if (!existsSync(join(built, "qa.jsonl"))) favchat("training records", ["data", "build", "--clips", join(data, "clips.jsonl"), "--out", built, "--seed", a.seed!]);

// 2. Stages 0, encoders, connector, 1, 2, 3, each from the previous one's model.
// A config without a section for a stage (an older recipe, an ablation) skips that stage.
const STAGES = ["0", "encoders", "connector", "1", "2", "3"].filter((s) => s in (JSON.parse(readFileSync(a.config!, "utf8")) as { stages: object }).stages);
const named = (stage: string) => (/^\d$/.test(stage) ? `stage${stage}` : stage);
const stageDir = (stage: string) => join(work, named(stage));
let prev: string | null = null;
for (const stage of STAGES) {
  const out = stageDir(stage);
  const finished = existsSync(join(out, "config.json")) && existsSync(join(out, "curves.png"));
  if (!finished) {
    const args = ["train", "--stage", stage, "--config", a.config!, "--data", built, "--out", out];
    if (prev) args.push("--init", prev);
    if (existsSync(join(out, "checkpoint"))) args.push("--resume");
    favchat(`stage ${stage}`, args);
  }
  prev = out;
}

// 3. The shipped model: weights, config, tokenizer, and the training curves.
const final = prev!;
mkdirSync(join(a.out!, "training"), { recursive: true });
for (const f of ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(final, f), join(a.out!, f));
for (const stage of STAGES) {
  const name = named(stage);
  copyFileSync(join(stageDir(stage), "curves.png"), join(a.out!, "training", `${name}-curves.png`));
  copyFileSync(join(stageDir(stage), "metrics.jsonl"), join(a.out!, "training", `${name}-metrics.jsonl`));
}

const modelMinutes = (performance.now() - t0) / 60000;
console.log(`\n[train:tiny] model ready in ${a.out} after ${modelMinutes.toFixed(1)} min (this invocation); evaluating it`);

// 4. Evaluation on the test split: identities never seen in training.
for (const task of ["emotion", "au", "attribute"]) {
  favchat(`eval ${task}`, ["eval", "--model", a.out!, "--clips", join(data, "clips.jsonl"), "--task", task, "--split", "test", "--limit", a["eval-clips"]!, "--out", join(a.out!, "eval", task), "--predictions", join(work, "eval", `${task}.jsonl`)]);
}
// The attribute questions again, answered by the most likely option (what the model knows, apart from whether it
// writes an option).
favchat("eval attribute, options scored", ["eval", "--model", a.out!, "--clips", join(data, "clips.jsonl"), "--task", "attribute", "--answers", "choose", "--split", "test", "--limit", a["eval-clips"]!, "--out", join(a.out!, "eval", "attribute-choose"), "--predictions", join(work, "eval", "attribute-choose.jsonl")]);
// Emotion and attribute questions as people ask them in `favchat chat`: no format instruction, no options.
for (const task of ["emotion", "attribute"]) {
  favchat(`eval ${task}, plain questions`, ["eval", "--model", a.out!, "--clips", join(data, "clips.jsonl"), "--task", task, "--plain", "--split", "test", "--limit", a["eval-clips"]!, "--out", join(a.out!, "eval", `${task}-plain`), "--predictions", join(work, "eval", `${task}-plain.jsonl`)]);
}
// Minutes of training per stage, from the steps' own timings: right even when the recipe ran in several invocations.
const stageMinutes = Object.fromEntries(
  STAGES.map((stage) => {
    const lines = readFileSync(join(stageDir(stage), "metrics.jsonl"), "utf8").split("\n").filter((l) => l.trim());
    const sec = lines.reduce((sum, l) => sum + ((JSON.parse(l) as { sec?: number }).sec ?? 0), 0);
    return [named(stage), Math.round((sec / 60) * 10) / 10];
  }),
);
const summary = { minutes: (performance.now() - t0) / 60000, modelMinutes, stageMinutes, clips: Number(a.clips), seed: Number(a.seed), config: readFileSync(a.config!, "utf8") };
writeFileSync(join(a.out!, "training", "recipe.json"), JSON.stringify(summary, null, 2) + "\n");
console.log(`\n[train:tiny] done in ${summary.minutes.toFixed(1)} min (this invocation; the model was ready after ${modelMinutes.toFixed(1)}); training minutes per stage ${JSON.stringify(stageMinutes)}; model in ${a.out}`);
