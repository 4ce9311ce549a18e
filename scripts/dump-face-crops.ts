// Each clip's first face crop as the model's training path makes it (labelled box, margin 0.4, no jitter), for
// pixel-level probes (scripts/attribute-pixel-probe.py): OUT.u8 holds N x S x S x 3 bytes, OUT.json each clip's split
// and attributes, in clips.jsonl's order.
//   node --import tsx scripts/dump-face-crops.ts runs/tiny/data/clips.jsonl /tmp/crops64 64
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pixelsFromRaw } from "../src/data/clip-pixels.ts";
import { readRawClip } from "../src/data/frames.ts";
import type { ClipRecord } from "../src/data/records.ts";

const [clipsFile, out, sizeArg = "64"] = process.argv.slice(2);
if (!clipsFile || !out) throw new Error("usage: node --import tsx scripts/dump-face-crops.ts CLIPS_JSONL OUT_PREFIX [SIZE]");
const S = Number(sizeArg);
const records = readFileSync(clipsFile, "utf8").trim().split("\n").map((l) => JSON.parse(l) as ClipRecord);
const crops = Buffer.alloc(records.length * S * S * 3);
records.forEach((r, i) => {
  if (!r.frames) throw new Error(`${r.id} has no raw frames`);
  const px = pixelsFromRaw(readRawClip(join(dirname(clipsFile), r.frames)), r.labels.faceBoxes, { frames: 8, frameSize: 64, faceSize: S });
  crops.set(px.faces.subarray(0, S * S * 3), i * S * S * 3);
});
writeFileSync(`${out}.u8`, crops);
writeFileSync(`${out}.json`, JSON.stringify(records.map((r) => ({ split: r.split, attributes: r.labels.attributes }))));
console.log(`${records.length} crops of ${S} px in ${out}.u8`);
