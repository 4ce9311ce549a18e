// `favchat train --stage 0|encoders|1|2|3 --config FILE --data DIR --out DIR [--init DIR] [--resume]`: one training stage.
import type { Command } from "commander";
import { FavchatError } from "../../core/errors.ts";
import { readRunConfig } from "../../train/run-config.ts";
import { runStage } from "../../train/run-stage.ts";
import { parseStage, STAGES } from "../../train/favchat-data.ts";
import { backendFromGlobals } from "../options.ts";

interface TrainFlags {
  stage: string;
  config: string;
  data: string;
  clips?: string;
  out: string;
  init?: string;
  resume?: boolean;
  threads?: string;
}

export function register(program: Command): void {
  program
    .command("train")
    .description("run one training stage (0 language, encoders, 1 align, 2 QA, 3 emotion) and write a model directory")
    .requiredOption("--stage <n>", "0: LLM on the data's text; encoders: encoders on the clips' labels; connector: the path to the visual tokens on the clips' labels; 1: video-summary alignment; 2: fine-grained QA; 3: emotion with reasoning")
    .requiredOption("--config <file>", "training config JSON (see configs/tiny.json)")
    .requiredOption("--data <dir>", "records from `favchat data build` (summaries.jsonl, qa.jsonl)")
    .option("--clips <file>", "clip records (default: clips.jsonl in --data or its parent)")
    .requiredOption("--out <dir>", "output: checkpoint, metrics.jsonl, curves.png, then the model directory")
    .option("--init <dir>", "start from this favchat model directory (the previous stage's --out)")
    .option("--resume", "continue the checkpoint in --out after an interruption")
    .option("--threads <n>", "threads sharing each step's grad_accum micro-batches (default: the stage's \"threads\", else 1); the numbers do not change")
    .action(async (flags: TrainFlags, cmd: Command) => {
      // 1. Parse and validate.
      const stage = parseStage(flags.stage);
      if (stage === null) throw new FavchatError(`--stage must be one of ${STAGES.join(", ")}, got "${flags.stage}"`);
      if (stage !== 0 && !flags.init && !flags.resume) {
        const before = STAGES[STAGES.indexOf(stage) - 1];
        throw new FavchatError(`stage ${stage} builds on the previous stage: pass --init DIR (the --out of stage ${before})`);
      }
      const config = readRunConfig(flags.config);
      const threads = flags.threads === undefined ? undefined : Number(flags.threads);
      if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) throw new FavchatError(`--threads must be a whole number >= 1, got "${flags.threads}"`);
      // 2. Run.
      await backendFromGlobals(cmd);
      const result = await runStage({
        stage,
        config,
        dataDir: flags.data,
        clipsFile: flags.clips,
        outDir: flags.out,
        init: flags.init,
        resume: flags.resume ?? false,
        threads,
        tty: Boolean(process.stderr.isTTY),
        log: (line) => process.stderr.write(line + "\n"),
      });
      // 3. Report.
      const last = result.summary.evals.at(-1);
      process.stdout.write(
        `stage ${stage} done: ${result.summary.steps} steps (from ${result.summary.startStep}), final loss ${result.summary.finalLoss.toFixed(4)}` +
          (last ? `, validation ${Object.entries(last.metrics).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(" ")}` : "") +
          `; model in ${result.modelDir}\n`,
      );
    });
}
