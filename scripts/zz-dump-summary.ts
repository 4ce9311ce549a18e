// throwaway: clip summary features (what the attribute read-out head reads) for every val/test clip
import { dirname, resolve } from "node:path";
import { writeFileSync } from "node:fs";
import { initBackend, tf } from "../src/core/backend.ts";
import { loadFavchat } from "../src/model/load.ts";
import { clipSummaryFeatures } from "../src/model/summary-tokens.ts";
import { readClipRecords } from "../src/data/records.ts";
import { readRawClip } from "../src/data/frames.ts";
import { pixelsFromRaw } from "../src/data/clip-pixels.ts";
import { pixelTensors } from "../src/data/collate.ts";
await initBackend("wasm");
const [dir, file, out] = process.argv.slice(2);
const model = await loadFavchat(dir);
const records = readClipRecords(file).records.filter((c) => c.split !== "train");
const base = dirname(resolve(file));
const rows: number[] = []; const ids: string[] = [];
for (const c of records) {
  const p = pixelsFromRaw(readRawClip(resolve(base, c.frames!)), c.labels.faceBoxes, { frames: 8, frameSize: model.config.vision.imageSize, faceSize: model.config.face.imageSize });
  const r = tf.tidy(() => { const { frames, faces } = pixelTensors(p); const f = model.encoderFeatures(frames, faces); return Array.from(tf.concat(clipSummaryFeatures(f.patches, f.blocks, 1, p.F), 1).dataSync()); });
  rows.push(...r); ids.push(c.id);
}
writeFileSync(out + ".f32", Buffer.from(new Float32Array(rows).buffer));
writeFileSync(out + ".json", JSON.stringify(ids));
console.log(ids.length, rows.length / ids.length);
