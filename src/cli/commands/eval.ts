// `favchat eval [--model DIR] --clips FILE --task emotion|au|attribute|attribute-check|qa`: asks the model the task's questions
// about every clip (of the test split by default), writes the predictions, and prints the scores.
import type { Command } from "commander";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { FavchatError } from "../../core/errors.ts";
import type { BackendName } from "../../core/backend.ts";
import { readClipRecords, type ClipRecord } from "../../data/records.ts";
import { loadFavchat } from "../../model/load.ts";
import { loadTokenizer } from "../../text/tokenizer.ts";
import { EVAL_TASKS, attributeReadoutRows, emotionReadoutRows, evalItems, meanFaceWeight, predict, rawPixelSource, videoPixelSource, type EvalTask } from "../../eval/run-model.ts";
import { EXPRESSION_BANDS, emotionBandRows, writePredictions, type ExpressionBand } from "../../eval/predictions.ts";
import { reportMarkdown, writeReport } from "../../eval/report.ts";
import { emotionClasses, scorePredictions } from "../../eval/score.ts";
import { createProgress } from "../../train/progress.ts";
import { loadClip } from "../../video/clip.ts";
import { FaceDetector } from "../../video/faces/detect.ts";
import { DEFAULT_MODEL } from "../defaults.ts";
import { backendFromGlobals, choice, parseIntOption } from "../options.ts";
import { ffmpegFromEnv } from "./probe.ts";

/** A FaceWorld clip's expression band: its label, or "neutral" for a clip without expression; undefined otherwise. */
const bandOf = (c: ClipRecord): ExpressionBand | undefined => c.labels.band ?? (c.labels.intensity === 0 ? "neutral" : undefined);

interface EvalFlags {
  model: string;
  clips: string;
  task: EvalTask;
  split: "train" | "val" | "test" | "all";
  limit?: number;
  faces: "labels" | "detect";
  predictions?: string;
  out?: string;
  json?: boolean;
  seed: number;
  classes: "7" | "11";
  band?: ExpressionBand;
  answers: "generate" | "choose";
  plain?: boolean;
}

export function register(program: Command): void {
  program
    .command("eval")
    .description("run the model on every clip and score it: emotion WAR/UAR, AU presence F1, attribute or QA accuracy")
    .option("--model <dir>", "favchat model directory", DEFAULT_MODEL)
    .requiredOption("--clips <file>", "clip records with labels (favchat synth's clips.jsonl, or favchat data import's)")
    .option("--task <task>", `${EVAL_TASKS.join(", ")}`, choice("--task", EVAL_TASKS), "emotion")
    .option("--split <split>", "which clips: train, val, test or all", choice("--split", ["train", "val", "test", "all"] as const), "test")
    .option("--limit <n>", "at most this many clips", parseIntOption("--limit", 1))
    .option("--faces <how>", "labels: crop with the records' face boxes from raw frames (fast); detect: decode the video and detect faces (as favchat chat does)", choice("--faces", ["labels", "detect"] as const), "labels")
    .option("--predictions <file>", "write one {id, prediction, answer} per line here")
    .option("--out <dir>", "write report.json, report.md and the confusion matrix PNG here")
    .option("--classes <n>", "emotion classes: 7 or 11", choice("--classes", ["7", "11"] as const), "7")
    .option("--band <band>", "only clips of this expression intensity (FaceWorld labels): subtle, moderate, strong or neutral", choice("--band", EXPRESSION_BANDS))
    .option("--answers <how>", "generate: score the model's free-text answers; choose: answer each question that lists options with the option the model finds most likely (multiple-choice scoring)", choice("--answers", ["generate", "choose"] as const), "generate")
    .option("--plain", "ask each question as people would: without its format instruction (\"Answer with one word.\") and, for attribute, emotion, action and timing questions, without its options; the answer is mapped onto every value of its kind")
    .option("--seed <s>", "seed of the question wording", parseIntOption("--seed", 0), 0)
    .option("--json", "print the report as JSON")
    .action(async (o: EvalFlags, cmd: Command) => {
      // 1. Clips and questions.
      const all = readClipRecords(o.clips, { onBadLine: "fail" }).records;
      let clips = o.split === "all" ? all : all.filter((c) => (c.split ?? "test") === o.split);
      if (clips.length === 0) throw new FavchatError(`${o.clips} has no ${o.split} clips; pass --split all to use every clip`);
      if (o.band) clips = clips.filter((c) => bandOf(c) === o.band);
      if (clips.length === 0) throw new FavchatError(`no ${o.split} clips with band ${o.band} in ${o.clips}`);
      if (o.limit !== undefined) clips = clips.slice(0, o.limit);
      const items = evalItems(clips, o.task, o.seed, o.plain ?? false);
      if (items.length === 0) throw new FavchatError(`none of the ${clips.length} clips has labels for the ${o.task} task`);
      // 2. Model and pixels.
      const backend = await backendFromGlobals(cmd);
      const model = await loadFavchat(o.model);
      const tok = loadTokenizer(o.model);
      let detector: FaceDetector | undefined;
      let pixels = rawPixelSource(o.clips, model);
      if (o.faces === "detect") {
        const ffmpeg = ffmpegFromEnv();
        detector = await FaceDetector.create({ backend: backend as BackendName });
        pixels = videoPixelSource(o.clips, model, (file, frames, size) =>
          loadClip(file, { ffmpeg, detector }, { sample: { mode: "uniform", frames }, size }),
        );
      }
      // 3. Predict, with progress.
      const progress = createProgress({ label: `eval ${o.task}`, total: items.length, tty: Boolean(process.stderr.isTTY) });
      const t0 = performance.now();
      const { predictions, weights, failed } = await predict(model, tok, items, pixels, { answers: o.answers, onItem: (done) => progress.update(done) });
      progress.stop();
      detector?.dispose();
      model.dispose();
      if (o.predictions) {
        mkdirSync(dirname(o.predictions), { recursive: true });
        writePredictions(o.predictions, predictions);
      }
      // 4. Score and report.
      const meta: Record<string, string | number> = {
        model: o.model, clips: o.clips, split: o.split, ...(o.band ? { band: o.band } : {}), items: items.length, "clip count": clips.length, faces: o.faces, answers: o.answers, questions: o.plain ? "plain" : "as built",
        "seconds per item": Number(((performance.now() - t0) / 1000 / items.length).toFixed(3)),
      };
      for (const [cat, w] of Object.entries(meanFaceWeight(weights))) meta[`mean w_face, ${cat} questions`] = Number(w.toFixed(3));
      if (failed.length > 0) {
        meta["clips not answered (counted wrong)"] = failed.length;
        for (const f of failed) process.stderr.write(`favchat: clip ${f.clip} not answered (counted wrong): ${f.reason}\n`);
      }
      // Yes/no checks are scored as attributes are: per attribute, the answer read as yes or no.
      let report = scorePredictions(predictions, o.task === "attribute-check" ? "attribute" : o.task, o.classes, meta);
      if (o.task === "emotion" && !o.band) {
        // Subtle expressions are the hard part of FaceWorld: each band's scores beside the whole split's.
        const bands = new Map(items.map((it) => [it.id, bandOf(it.clip)]));
        report = { ...report, overall: { ...report.overall, ...emotionBandRows(predictions, (id) => bands.get(id), emotionClasses(o.classes)) } };
      }
      // A model with the emotion read-out token: how often its head was right, and how often the LLM said what it offered.
      if (o.task === "emotion") report = { ...report, overall: { ...report.overall, ...emotionReadoutRows(predictions, weights, emotionClasses(o.classes)) } };
      // A model with the attribute read-out token: what the token offered the LLM, beside what the LLM answered.
      if (o.task === "attribute" || o.task === "attribute-check") report = { ...report, overall: { ...report.overall, ...attributeReadoutRows(items, weights) } };
      const written = o.out ? writeReport(o.out, report) : undefined;
      process.stdout.write(o.json ? JSON.stringify(report) + "\n" : reportMarkdown(report) + "\n");
      if (written) process.stderr.write(`favchat: report written to ${written.markdown}\n`);
    });
}
