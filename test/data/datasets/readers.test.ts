// Real data set readers on small files written in each data set's layout.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { readCelebvHq } from "../../../src/data/datasets/celebvhq.ts";
import { readDfew, readFerv39k, readMafw } from "../../../src/data/datasets/emotion-sets.ts";
import { clipRecordSchema } from "../../../src/data/records.ts";

const tmp = () => mkdtempSync(join(tmpdir(), "fv-ds-"));

test("DFEW: 5 folds of train/test CSVs, labels 1..7", () => {
  const root = tmp();
  for (const split of ["train", "test"]) {
    mkdirSync(join(root, "EmoLabel_DataSplit", `${split}(single-labeled)`), { recursive: true });
    for (let k = 1; k <= 5; k++) {
      writeFileSync(join(root, "EmoLabel_DataSplit", `${split}(single-labeled)`, `set_${k}.csv`), `video_name,label\n${k},1\n${k + 10},7\n`);
    }
  }
  const recs = readDfew({ root });
  assert.equal(recs.length, 20);
  const r = recs.find((x) => x.fold === 2 && x.split === "test" && x.labels.emotion === "fear")!;
  assert.equal(r.video, "videos/00012.mp4");
  assert.equal(recs[0].labels.emotion, "happy");
  for (const x of recs) assert.ok(clipRecordSchema.safeParse(x).success);
  writeFileSync(join(root, "EmoLabel_DataSplit", "train(single-labeled)", "set_3.csv"), "video_name,label\n5,9\n");
  assert.throws(() => readDfew({ root, folds: [3] }), /set_3\.csv:2: unknown label "9"/);
  assert.throws(() => readDfew({ root: tmp() }), /DFEW label file missing/);
});

test("MAFW: 11 classes by name or 1-based index; FERV39k: 7 classes 0-based", () => {
  const dir = tmp();
  writeFileSync(join(dir, "mafw.txt"), "00019.mp4 contempt\n00020.mp4 1\n00021.mp4 happiness\n");
  const m = readMafw(join(dir, "mafw.txt"), { split: "train" });
  assert.deepEqual(m.map((r) => r.labels.emotion), ["contempt", "angry", "happy"]);
  assert.equal(m[0].split, "train");
  writeFileSync(join(dir, "ferv.txt"), "Scene/Crime/0001 3\nScene/Crime/0002 Surprise\n");
  const f = readFerv39k(join(dir, "ferv.txt"));
  assert.deepEqual(f.map((r) => r.labels.emotion), ["happy", "surprise"]);
  assert.equal(f[0].id, "ferv39k-Scene_Crime_0001");
  writeFileSync(join(dir, "bad.txt"), "onlyonefield\n");
  assert.throws(() => readMafw(join(dir, "bad.txt")), /bad\.txt:1: expected "<video> <label>"/);
});

test("CelebV-HQ: appearance and action flags become attributes and actions", () => {
  const dir = tmp();
  const info = {
    meta_info: { appearance_mapping: ["Blond_Hair", "Eyeglasses", "Smiling"], action_mapping: ["blink", "talk", "nod"] },
    clips: {
      abc_1: { attributes: { appearance: [1, 0, 1], action: [1, 1, 0], emotion: { sep_flag: false, labels: "happy" } } },
      abc_2: { attributes: { appearance: [0, 1, 0], action: [0, 0, 1], emotion: { sep_flag: true, labels: [["neutral", 0, 1.5], ["sad", 1.5, 3]] } } },
    },
  };
  writeFileSync(join(dir, "celebvhq_info.json"), JSON.stringify(info));
  const recs = readCelebvHq(join(dir, "celebvhq_info.json"));
  assert.deepEqual(recs[0].labels.attributes, { blond_hair: true, eyeglasses: false, smiling: true });
  assert.deepEqual(recs[0].labels.actions.map((a) => a.name), ["blink", "talk"]);
  assert.equal(recs[1].labels.emotion, "neutral");
  assert.deepEqual(recs[1].labels.emotions, ["neutral", "sad"]);
  info.clips.abc_1.attributes.appearance = [1];
  writeFileSync(join(dir, "bad.json"), JSON.stringify(info));
  assert.throws(() => readCelebvHq(join(dir, "bad.json")), /clip abc_1: 1 appearance flags but 3 names/);
});
