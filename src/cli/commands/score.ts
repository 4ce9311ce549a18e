// `favchat score --predictions FILE --task emotion|au|attribute`: scores a predictions file that `favchat eval`
// (or any other model) wrote, one `{"id", "prediction", "answer"}` per line. Prints the report's tables (or
// JSON) and, with --out, writes report.json, report.md and the confusion PNG there. Needs no model.
import type { Command } from "commander";
import { readPredictions } from "../../eval/predictions.ts";
import { reportMarkdown, writeReport } from "../../eval/report.ts";
import { scorePredictions } from "../../eval/score.ts";
import { choice } from "../options.ts";

const TASKS = ["emotion", "au", "attribute", "qa"] as const;
type Task = (typeof TASKS)[number];

interface ScoreOptions {
  predictions: string;
  task: Task;
  classes: "7" | "11";
  out?: string;
  json?: boolean;
  onBadLine: "skip" | "fail";
}

export function register(program: Command): void {
  program
    .command("score")
    .description("score a predictions file (JSONL of {id, prediction, answer}): WAR/UAR and confusion, AU F1, or attribute accuracy")
    .requiredOption("--predictions <file>", "predictions JSONL; free-text answers are mapped to labels")
    .option("--task <task>", `what the answers are: ${TASKS.join(", ")}`, choice("--task", TASKS), "emotion")
    .option("--classes <n>", "emotion classes: 7 (DFEW, FERV39k, FaceWorld) or 11 (MAFW)", choice("--classes", ["7", "11"] as const), "7")
    .option("--out <dir>", "also write report.json, report.md and PNGs into this directory")
    .option("--json", "print the report as JSON instead of tables")
    .option("--on-bad-line <policy>", "skip or fail on an invalid line", choice("--on-bad-line", ["skip", "fail"] as const), "fail")
    .action((o: ScoreOptions) => {
      // 1. read; 2. score; 3. report.
      const { records, bad } = readPredictions(o.predictions, {
        onBadLine: o.onBadLine,
        onSkip: (b) => process.stderr.write(`favchat: skipping ${b.file}:${b.line}: ${b.reason}\n`),
      });
      const meta = { predictions: o.predictions, ...(bad.length ? { "skipped lines": bad.length } : {}) };
      const report = scorePredictions(records, o.task, o.classes, meta);
      const written = o.out ? writeReport(o.out, report) : undefined;
      if (o.json) process.stdout.write(JSON.stringify(report) + "\n");
      else process.stdout.write(reportMarkdown(report) + "\n");
      if (written) process.stderr.write(`favchat: report written to ${written.markdown}\n`);
    });
}
