// Readers for the emotion-labelled video data sets (DFEW with its 5 folds, MAFW's 11 single-label
// classes, FERV39k) that turn their label files into clip records. Layouts, as the data sets ship them:
//   DFEW    EmoLabel_DataSplit/{train,test}(single-labeled)/set_<k>.csv  "video_name,label" (1..7 = happy,
//           sad, neutral, angry, surprise, disgust, fear); videos <videoDir>/<5-digit name>.mp4
//   MAFW    a label list "<video> <label>" (label a name or 1..11 in MAFW's order below)
//   FERV39k a label list "<path> <label>" (label a name or 0..6 = angry, disgust, fear, happy, neutral, sad, surprise)
import { existsSync } from "node:fs";
import { join } from "node:path";
import { FavchatError } from "../../core/errors.ts";
import { EMOTIONS7, type ClipRecord } from "../records.ts";
import { mapLabel, readLabelLines } from "./label-lines.ts";

export const MAFW_CLASSES = ["anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise", "contempt", "anxiety", "helplessness", "disappointment"] as const;
export const FERV39K_CLASSES = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"] as const;

/** Maps MAFW's noun names to the adjectives the 7-class set uses, so one label vocabulary serves both. */
const MAFW_TO_COMMON: Record<string, string> = { anger: "angry", happiness: "happy", sadness: "sad" };

function record(id: string, video: string, emotion: string, source: string, extra: Partial<ClipRecord> = {}): ClipRecord {
  return { id, video, source, ...extra, labels: { emotion, attributes: {}, actions: [], identity: null } };
}

export interface DfewOptions {
  /** The DFEW root (holding EmoLabel_DataSplit). */
  root: string;
  /** Folds to read (1..5); default all five. */
  folds?: number[];
  /** Video folder relative to the output records (default "videos"); names are zero-padded to 5 digits. */
  videoDir?: string;
}

/** One record per (fold, split, clip): `fold` and `split` tell the 5-fold protocol which clips to use. */
export function readDfew(o: DfewOptions): ClipRecord[] {
  const out: ClipRecord[] = [];
  for (const fold of o.folds ?? [1, 2, 3, 4, 5]) {
    if (!(fold >= 1 && fold <= 5)) throw new FavchatError(`DFEW has folds 1..5, got ${fold}`);
    for (const split of ["train", "test"] as const) {
      const file = join(o.root, "EmoLabel_DataSplit", `${split}(single-labeled)`, `set_${fold}.csv`);
      if (!existsSync(file)) throw new FavchatError(`DFEW label file missing: ${file}; pass the DFEW root that holds EmoLabel_DataSplit`);
      for (const l of readLabelLines(file)) {
        const name = /^\d+$/.test(l.video) ? l.video.padStart(5, "0") : l.video;
        const emotion = mapLabel(l.label, EMOTIONS7, 1, `${file}:${l.line}`);
        out.push(record(`dfew-${name}-f${fold}-${split}`, `${o.videoDir ?? "videos"}/${name}.mp4`, emotion, "dfew", { split, fold }));
      }
    }
  }
  return out;
}

export function readMafw(file: string, o: { videoDir?: string; split?: "train" | "val" | "test" } = {}): ClipRecord[] {
  return readLabelLines(file).map((l) => {
    const cls = mapLabel(l.label, MAFW_CLASSES, 1, `${file}:${l.line}`);
    const video = /\.\w+$/.test(l.video) ? l.video : `${l.video}.mp4`;
    return record(`mafw-${l.video.replace(/\.\w+$/, "")}`, `${o.videoDir ?? "videos"}/${video}`, MAFW_TO_COMMON[cls] ?? cls, "mafw", o.split ? { split: o.split } : {});
  });
}

export function readFerv39k(file: string, o: { videoDir?: string; split?: "train" | "val" | "test" } = {}): ClipRecord[] {
  return readLabelLines(file).map((l) => {
    const emotion = mapLabel(l.label, FERV39K_CLASSES, 0, `${file}:${l.line}`, { surprised: "surprise", disgusted: "disgust", fearful: "fear" });
    return record(`ferv39k-${l.video.replace(/[/\\]/g, "_")}`, `${o.videoDir ?? "videos"}/${l.video}`, emotion, "ferv39k", o.split ? { split: o.split } : {});
  });
}
