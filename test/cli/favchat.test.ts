// The product's commands as a user runs them, on a small model made at test time: train (stages 0 and 1 for a few
// steps), eval on FaceWorld clips, chat about a FaceWorld video; and each bad input a user can give, refused with
// a one-line message and no stack trace.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { patternClip } from "../video/fixtures.ts";
import { favchat, ROOT } from "../helpers/cli.ts";
import { readSafetensors } from "../../src/core/safetensors.ts";

const work = mkdtempSync(join(tmpdir(), "favchat-cli-"));
const data = join(work, "fw");
const model = join(work, "s1");

before(async () => {
  // 24 FaceWorld clips with MP4 (chat reads videos) and their records.
  const s = await favchat(["synth", "--out", data, "--clips", "24", "--seed", "5"]);
  assert.equal(s.code, 0, s.stderr);
  const b = await favchat(["data", "build", "--clips", join(data, "clips.jsonl"), "--out", join(data, "built")]);
  assert.equal(b.code, 0, b.stderr);
  writeFileSync(
    join(work, "cfg.json"),
    JSON.stringify({
      model: { preset: "tiny", max_frames: 2, llm_config: { num_hidden_layers: 1 }, vision_config: { num_hidden_layers: 1 }, au_readout: true, prompt_table: true },
      vocab_size: 300,
      frames: 2,
      stages: {
        "0": { steps: 2, batch_size: 2, warmup_steps: 1, checkpoint_every: 1 },
        encoders: { steps: 2, batch_size: 2, warmup_steps: 1, checkpoint_every: 1, eval_every: 1, val_batches: 1 },
        connector: { steps: 2, batch_size: 2, warmup_steps: 1, checkpoint_every: 1, eval_every: 1, val_batches: 1 },
        "1": { steps: 2, batch_size: 2, warmup_steps: 1, checkpoint_every: 1, eval_every: 1, val_batches: 1 },
      },
    }),
  );
});

test("train: stage 0, encoders, connector, then stage 1 write model directories, metrics and curves", async () => {
  const s0 = await favchat(["train", "--stage", "0", "--config", join(work, "cfg.json"), "--data", join(data, "built"), "--out", join(work, "s0")]);
  assert.equal(s0.code, 0, s0.stderr);
  assert.match(s0.stdout, /stage 0 done: 2 steps/);
  const enc = await favchat(["train", "--stage", "encoders", "--config", join(work, "cfg.json"), "--data", join(data, "built"), "--out", join(work, "enc"), "--init", join(work, "s0")]);
  assert.equal(enc.code, 0, enc.stderr);
  assert.match(enc.stdout, /stage encoders done: 2 steps.*au_f1 [\d.]+ au_mae [\d.]+ face_attr_acc [\d.]+ frame_emotion_acc [\d.]+ apex_emotion_acc [\d.]+ general_acc/);
  assert.match(enc.stderr, /training general encoder, facial encoder and their label heads/);
  for (const f of ["config.json", "model.safetensors", "tokenizer.json", "curves.png"]) assert.ok(existsSync(join(work, "enc", f)), f);
  const conn = await favchat(["train", "--stage", "connector", "--config", join(work, "cfg.json"), "--data", join(data, "built"), "--out", join(work, "conn"), "--init", join(work, "enc")]);
  assert.equal(conn.code, 0, conn.stderr);
  assert.match(conn.stdout, /stage connector done: 2 steps.*val_visual_loss [\d.]+ visual_emotion_acc [\d.]+ visual_attr_acc [\d.]+/);
  assert.match(conn.stderr, /training CA², Q-Formers, MLPs, adapters .*frozen: general encoder, facial encoder, LLM/);
  const s1 = await favchat(["train", "--stage", "1", "--config", join(work, "cfg.json"), "--data", join(data, "built"), "--out", model, "--init", join(work, "conn")]);
  assert.equal(s1.code, 0, s1.stderr);
  assert.match(s1.stdout, /validation val_loss/);
  assert.match(s1.stderr, /frozen: .*LLM/);
  // The visual path's own prompt table: stage 0 leaves the LLM's token table in it, and no later stage moves it
  // (stage 2 trains the LLM's table, below).
  const table = async (dir: string, name: string) => Array.from((await readSafetensors(join(work, dir, "model.safetensors"))).get(name)!.data as Float32Array);
  const llmTable = "llm.model.embed_tokens.weight";
  assert.deepEqual(await table("s0", "prompt_table.weight"), await table("s0", llmTable));
  for (const dir of ["enc", "conn", "s1"]) assert.deepEqual(await table(dir, "prompt_table.weight"), await table("s0", llmTable), dir);
  for (const f of ["config.json", "model.safetensors", "tokenizer.json", "metrics.jsonl", "curves.png"]) assert.ok(existsSync(join(model, f)), f);
  for (const r of [enc, conn, s1]) assert.doesNotMatch(r.stderr, /WARNING/, "the config's model section is the --init model's");
  // Stage 2 without --init is refused: it builds on stage 1.
  const s2 = await favchat(["train", "--stage", "2", "--config", join(work, "cfg.json"), "--data", join(data, "built"), "--out", join(work, "s2")]);
  assert.notEqual(s2.code, 0);
  assert.match(s2.stderr, /pass --init DIR/);
  // "categories" keeps only those questions: stage 2 on the attribute questions of the training clips.
  const only = (categories: string[], switches: Record<string, unknown> = {}) => {
    const cfg = JSON.parse(readFileSync(join(work, "cfg.json"), "utf8")) as { model: Record<string, unknown>; stages: Record<string, unknown> };
    cfg.model = { ...cfg.model, ...switches };
    cfg.stages = { "2": { steps: 1, batch_size: 2, warmup_steps: 1, categories } };
    const name = `${categories.join("-")}${Object.keys(switches).length > 0 ? "-switched" : ""}`;
    const file = join(work, `cfg-${name}.json`);
    writeFileSync(file, JSON.stringify(cfg));
    return favchat(["train", "--stage", "2", "--config", file, "--data", join(data, "built"), "--out", join(work, `s2-${name}`), "--init", model]);
  };
  const attr = await only(["attribute"]);
  assert.equal(attr.code, 0, attr.stderr);
  const split = new Map(readFileSync(join(data, "clips.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { video: string; split?: string }).map((c) => [c.video, c.split ?? "train"]));
  const want = readFileSync(join(data, "built", "qa.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { video: string; category: string })
    .filter((q) => q.category === "attribute" && split.get(q.video.replace(/^\.\.\//, "")) === "train").length;
  assert.match(attr.stderr, new RegExp(`stage 2: ${want} training examples`));
  assert.deepEqual(await table("s2-attribute", "prompt_table.weight"), await table("s0", llmTable));
  assert.notDeepEqual(await table("s2-attribute", llmTable), await table("s0", llmTable), "stage 2 trains the LLM's table");
  // A switch added to the config's model section does not reach a model from --init: the stage says so and keeps the model's.
  const switched = await only(["attribute"], { emotion_readout: true });
  assert.equal(switched.code, 0, switched.stderr);
  assert.match(switched.stderr, /WARNING: the --init model's config\.json differs from the training config's "model" section in emotion_readout; the stage keeps the model's/);
  assert.ok(!("emotion_readout" in (JSON.parse(readFileSync(join(work, "s2-attribute-switched", "config.json"), "utf8")) as object)));
  const none = await only(["nonexistent"]);
  assert.notEqual(none.code, 0);
  assert.match(none.stderr, /no training examples of the categories \["nonexistent"\]/);
});

test("train --threads 2: a worker thread computes every other micro-batch, and every step's numbers are the same as on one thread", async () => {
  const cfg = JSON.parse(readFileSync(join(work, "cfg.json"), "utf8")) as { stages: Record<string, unknown> };
  const split = { steps: 2, batch_size: 1, grad_accum: 2, warmup_steps: 1, checkpoint_every: 2, val_batches: 1 };
  cfg.stages = { encoders: split, "1": { ...split, visual_aux: 1 } };
  const file = join(work, "cfg-threads.json");
  writeFileSync(file, JSON.stringify(cfg));
  // Stage 1 with the encoders' feature cache: the worker reads and fills the main thread's cache.
  const frozen = ["general encoder", "facial encoder", "CA²", "Q-Formers", "adapters"];
  cfg.stages = { "1": { ...split, visual_aux: 1, frozen, feature_cache: 1 } };
  const cached = join(work, "cfg-threads-cache.json");
  writeFileSync(cached, JSON.stringify(cfg));
  const losses = (dir: string) => readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { loss?: number; grad_norm?: number })
    .filter((m) => m.loss !== undefined).map((m) => [m.loss, m.grad_norm]);
  for (const [stage, init, config] of [["encoders", "s0", file], ["1", "conn", file], ["1", "conn", cached]]) {
    const runs = [];
    for (const threads of ["1", "2"]) {
      const out = join(work, `threads-${stage}-${threads}${config === cached ? "-cache" : ""}`);
      const r = await favchat(["train", "--stage", stage, "--config", config, "--data", join(data, "built"), "--out", out, "--init", join(work, init), "--threads", threads]);
      assert.equal(r.code, 0, r.stderr);
      if (threads === "2") assert.match(r.stderr, /2 threads share each step's 2 micro-batches/);
      if (config === cached) assert.match(r.stderr, /encoder features cached in .*feature-cache/);
      runs.push(losses(out));
    }
    assert.equal(runs[0].length, 2);
    assert.deepEqual(runs[1], runs[0], `stage ${stage}${config === cached ? " with the feature cache" : ""}: the same losses and gradient norms with 2 threads`);
  }
  // The cache needs the encoders frozen: stage 1's own plan trains them.
  cfg.stages = { "1": { ...split, feature_cache: 1 } };
  writeFileSync(cached, JSON.stringify(cfg));
  const trained = await favchat(["train", "--stage", "1", "--config", cached, "--data", join(data, "built"), "--out", join(work, "t-cache"), "--init", join(work, "conn")]);
  assert.notEqual(trained.code, 0);
  assert.match(trained.stderr, /feature_cache needs the encoders frozen, but this stage trains the general encoder and facial encoder/);
  const bad = await favchat(["train", "--stage", "1", "--config", file, "--data", join(data, "built"), "--out", join(work, "t0"), "--init", join(work, "conn"), "--threads", "0"]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--threads must be a whole number >= 1, got "0"/);
});

test("eval: predictions and a scored report on held-out clips", async () => {
  const preds = join(work, "preds.jsonl");
  const r = await favchat(["eval", "--model", model, "--clips", join(data, "clips.jsonl"), "--task", "emotion", "--split", "all", "--limit", "3", "--predictions", preds, "--out", join(work, "report"), "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { overall: Record<string, number> };
  assert.equal(report.overall.items, 3);
  assert.ok("WAR" in report.overall && "UAR" in report.overall);
  // Each expression band's scores beside the whole set's: the bands' clip counts add up to the clips asked.
  const bandCounts = Object.keys(report.overall).flatMap((k) => /^WAR, (subtle|moderate|strong|neutral) clips \(n=(\d+)\)$/.exec(k)?.[2] ?? []).map(Number);
  assert.ok(bandCounts.length > 0, JSON.stringify(report.overall));
  assert.equal(bandCounts.reduce((a, b) => a + b, 0), 3);
  assert.ok(existsSync(preds) && existsSync(join(work, "report", "report.md")));
  // Multiple-choice scoring: every answer to a question with options is one of them (a question without, asked of an
  // attribute with one value among these clips, is answered by generation).
  const chosen = join(work, "chosen.jsonl");
  const c = await favchat(["eval", "--model", model, "--clips", join(data, "clips.jsonl"), "--task", "attribute", "--split", "all", "--limit", "3", "--answers", "choose", "--predictions", chosen, "--json"]);
  assert.equal(c.code, 0, c.stderr);
  const rows = readFileSync(chosen, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { prediction: string; options?: string[] });
  assert.equal(rows.length, 3);
  assert.ok(rows.some((row) => row.options), "some attribute questions have options");
  for (const row of rows.filter((x) => x.options)) assert.ok(row.options!.includes(row.prediction), `${row.prediction} is one of ${row.options!.join(", ")}`);
  // Plain questions: the attribute questions as people ask them, without options, scored against every value.
  const plainFile = join(work, "plain.jsonl");
  const p = await favchat(["eval", "--model", model, "--clips", join(data, "clips.jsonl"), "--task", "attribute", "--split", "all", "--limit", "3", "--plain", "--predictions", plainFile, "--json"]);
  assert.equal(p.code, 0, p.stderr);
  assert.equal((JSON.parse(p.stdout) as { meta: Record<string, string> }).meta.questions, "plain");
  const plainRows = readFileSync(plainFile, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { question: string; options?: string[] });
  assert.equal(plainRows.length, 3);
  for (const row of plainRows) assert.ok(!row.options && !/Options:|Choose one option|Answer with/.test(row.question), row.question);
  // Yes/no checks about attributes: one per clip, the report scored per attribute with yes/no answers.
  const checkFile = join(work, "check.jsonl");
  const k = await favchat(["eval", "--model", model, "--clips", join(data, "clips.jsonl"), "--task", "attribute-check", "--split", "all", "--limit", "3", "--predictions", checkFile, "--json"]);
  assert.equal(k.code, 0, k.stderr);
  const checkRows = readFileSync(checkFile, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { answer: string; label: string; options?: string[] });
  assert.equal(checkRows.length, 3);
  for (const row of checkRows) assert.ok(["yes", "no"].includes(row.answer) && row.label && row.options?.join() === "yes,no", JSON.stringify(row));
  assert.equal((JSON.parse(k.stdout) as { overall: Record<string, number> }).overall.questions, 3);
  // Through the face detector, a clip with no face is answered with nothing (counted wrong) and named; the rest are scored.
  const first = JSON.parse(readFileSync(join(data, "clips.jsonl"), "utf8").split("\n")[0]) as Record<string, unknown>;
  await patternClip(join(data, "pattern.mp4"), { seconds: 1 });
  writeFileSync(join(data, "with-noface.jsonl"), [first, { ...first, id: "noface", video: "pattern.mp4", split: first.split }].map((c) => JSON.stringify(c)).join("\n") + "\n");
  const d = await favchat(["eval", "--model", model, "--clips", join(data, "with-noface.jsonl"), "--task", "emotion", "--split", "all", "--faces", "detect", "--json"]);
  assert.equal(d.code, 0, d.stderr);
  assert.match(d.stderr, /clip noface not answered \(counted wrong\): no face found/);
  const dr = JSON.parse(d.stdout) as { overall: Record<string, number>; meta: Record<string, number> };
  assert.equal(dr.overall.items, 2);
  assert.equal(dr.meta["clips not answered (counted wrong)"], 1);
});

test("chat --json: answer, adapter weights that sum to 1, the AU read-out, frames with face boxes, timings", async () => {
  const r = await favchat(["chat", "--model", model, "--video", join(data, "clips", "fw-000001.mp4"), "--max-tokens", "4", "--json", "Is", "AU12", "active?"]);
  assert.equal(r.code, 0, r.stderr);
  type Readout = { asked_au: string | null; asked_probability: number; p_active: number; au_probabilities: Record<string, number> };
  const out = JSON.parse(r.stdout) as { question: string; answer: string; w_general: number; w_face: number; au_readout: Readout; frames: { timeSec: number; box: unknown; window: { side: number } | null }[]; timings: Record<string, number> };
  assert.equal(out.question, "Is AU12 active?");
  assert.equal(typeof out.answer, "string");
  assert.ok(Math.abs(out.w_general + out.w_face - 1) < 1e-5);
  // The test model has the read-out (trained for 2 steps: its values are arbitrary, their form is not).
  assert.ok(out.au_readout.asked_au === null || /^AU\d+$/.test(out.au_readout.asked_au), String(out.au_readout.asked_au));
  assert.ok(out.au_readout.asked_probability > 0 && out.au_readout.asked_probability <= 1);
  assert.ok(out.au_readout.p_active > 0 && out.au_readout.p_active < 1);
  assert.equal(Object.keys(out.au_readout.au_probabilities).length, 16);
  assert.equal(out.frames.length, 2);
  assert.ok(out.frames.every((f) => f.box !== null), "the FaceWorld face is detected");
  assert.ok(out.frames.every((f) => f.window !== null && f.window.side > 0), "each frame says where its crop was cut");
  for (const k of ["decode_sec", "faces_sec", "encoders_sec", "generate_sec", "total_sec"]) assert.ok(out.timings[k] >= 0, k);
});

test("bad input: clear message, non-zero exit, no stack trace", async () => {
  const noFace = await patternClip(join(work, "pattern.mp4"), { seconds: 1 });
  const cases: [string[], RegExp][] = [
    [["chat", "--model", model, "What is the emotion?"], /a question needs a video: favchat chat --video FILE/],
    [["chat", "--model", model, "--video", join(work, "missing.mp4"), "hi"], /missing\.mp4/],
    [["chat", "--model", model, "--video", noFace, "hi"], /no face found .*--no-face-crop/],
    [["chat", "--model", join(ROOT, "test", "fixtures", "qwen2", "gqa"), "--video", noFace, "hi"], /not a favchat model|model_type/],
    [["eval", "--model", model, "--clips", join(work, "nope.jsonl")], /nope\.jsonl/],
    [["train", "--stage", "5", "--config", join(work, "cfg.json"), "--data", data, "--out", join(work, "x")], /--stage must be one of 0, encoders, connector, 1, 2, 3, got "5"/],
  ];
  for (const [args, message] of cases) {
    const r = await favchat(args);
    assert.notEqual(r.code, 0, args.join(" "));
    assert.match(r.stderr, message, args.join(" "));
    assert.doesNotMatch(r.stderr, /\n\s+at /, `stack trace printed for ${args.join(" ")}`);
  }
  // Whole frames instead of face crops when asked.
  const whole = await favchat(["chat", "--model", model, "--video", noFace, "--no-face-crop", "--max-tokens", "2", "--json", "hi"]);
  assert.equal(whole.code, 0, whole.stderr);
});
