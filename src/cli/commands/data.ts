// `favchat data build` (clip records -> summaries, QA and RL records) and `favchat data import`
// (a real data set's label files -> clip records). The LLM endpoint and its key are read here only.
import type { Command } from "commander";
import { FavchatError } from "../../core/errors.ts";
import { buildDataset } from "../../data/builder/build.ts";
import { readCelebvHq } from "../../data/datasets/celebvhq.ts";
import { readDfew, readFerv39k, readMafw } from "../../data/datasets/emotion-sets.ts";
import { clipRecordSchema, writeJsonl, type ClipRecord } from "../../data/records.ts";

function badLinePolicy(v: string): "skip" | "fail" {
  if (v !== "skip" && v !== "fail") throw new FavchatError(`--on-bad-line must be skip or fail, got "${v}"`);
  return v;
}

export function register(program: Command): void {
  const data = program.command("data").description("build training records from clip labels, or import a real data set's labels");
  data
    .command("build")
    .description("write summaries.jsonl (stage 1), qa.jsonl (stages 2-3) and rl.jsonl (RL) from clip records")
    .requiredOption("--clips <file>", "clip records (JSONL), e.g. the clips.jsonl `favchat synth` wrote")
    .requiredOption("--out <dir>", "output directory")
    .option("--seed <s>", "random seed for template choices", (v) => Number(v), 0)
    .option("--on-bad-line <policy>", "skip or fail on an invalid clip record", badLinePolicy, "fail")
    .option("--llm-endpoint <url>", "OpenAI-compatible base URL (e.g. http://localhost:8000/v1) to rewrite summaries and questions")
    .option("--llm-model <name>", "model name sent to the endpoint", "default")
    .action(async (o: { clips: string; out: string; seed: number; onBadLine: "skip" | "fail"; llmEndpoint?: string; llmModel: string }) => {
      const r = await buildDataset({
        clips: o.clips, out: o.out, seed: o.seed, onBadLine: o.onBadLine,
        onSkip: (b) => process.stderr.write(`favchat: skipped ${b.file}:${b.line}: ${b.reason}\n`),
        llm: o.llmEndpoint ? { endpoint: o.llmEndpoint, model: o.llmModel, apiKey: process.env.OPENAI_API_KEY } : undefined,
      });
      const cats = new Map<string, number>();
      for (const q of r.qa) cats.set(q.category, (cats.get(q.category) ?? 0) + 1);
      process.stdout.write(
        `wrote ${r.summaries.length} summaries, ${r.qa.length} QA (${[...cats].map(([k, v]) => `${k} ${v}`).join(", ")}), ${r.rl.length} RL samples to ${o.out}` +
          (r.bad.length ? `; skipped ${r.bad.length} bad line(s)` : "") + "\n",
      );
    });
  data
    .command("import")
    .description("turn DFEW, MAFW, FERV39k or CelebV-HQ annotation files into clip records (clips.jsonl)")
    .requiredOption("--format <name>", "dfew, mafw, ferv39k or celebvhq")
    .requiredOption("--labels <path>", "DFEW: the data set root; MAFW/FERV39k: a label list; CelebV-HQ: celebvhq_info.json")
    .requiredOption("--out <file>", "clip records to write (JSONL)")
    .option("--video-dir <dir>", "folder of the videos, relative to the output file", "videos")
    .option("--folds <list>", "DFEW folds, e.g. 1,2,3,4,5", "1,2,3,4,5")
    .option("--split <name>", "MAFW/FERV39k: mark every record train, val or test")
    .action((o: { format: string; labels: string; out: string; videoDir: string; folds: string; split?: string }) => {
      if (o.split !== undefined && !["train", "val", "test"].includes(o.split)) throw new FavchatError(`--split must be train, val or test, got "${o.split}"`);
      const split = o.split as "train" | "val" | "test" | undefined;
      let records: ClipRecord[];
      switch (o.format.toLowerCase()) {
        case "dfew":
          records = readDfew({ root: o.labels, videoDir: o.videoDir, folds: o.folds.split(",").map(Number) });
          break;
        case "mafw":
          records = readMafw(o.labels, { videoDir: o.videoDir, split });
          break;
        case "ferv39k":
          records = readFerv39k(o.labels, { videoDir: o.videoDir, split });
          break;
        case "celebvhq":
        case "celebv-hq":
          records = readCelebvHq(o.labels, { videoDir: o.videoDir });
          break;
        default:
          throw new FavchatError(`--format must be dfew, mafw, ferv39k or celebvhq, got "${o.format}"`);
      }
      writeJsonl(o.out, records, clipRecordSchema, "clip");
      process.stdout.write(`wrote ${records.length} clip records to ${o.out}\n`);
    });
}
