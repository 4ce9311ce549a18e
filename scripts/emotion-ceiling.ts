// How much emotion can a face crop show? Step 1 of 2: writes, for every FaceWorld clip with an emotion label, the
// face crop of its apex frame and of its first frame (the same crops training makes: ground-truth box mapped to the
// detector's framing, 40% margin), so scripts/emotion-ceiling.py can train a plain CNN on them in PyTorch. The CNN's
// test accuracy is a reference for what the facial encoder could learn from the same pixels.
// Usage: node --import tsx scripts/emotion-ceiling.ts CLIPS_JSONL OUT_PREFIX [CROP_SIZE=64]
//   writes OUT_PREFIX.u8 ([N, 2, S, S, 3] uint8: apex, first) and OUT_PREFIX.json (one {id, split, emotion, band} per clip)
import { writeFileSync } from "node:fs";
import { FavchatError } from "../src/core/errors.ts";
import { readRawClip } from "../src/data/frames.ts";
import { pixelsFromRaw } from "../src/data/clip-pixels.ts";
import { indexClips } from "../src/train/favchat-data.ts";

const [clipsFile, outPrefix, sizeArg = "64"] = process.argv.slice(2);
if (!clipsFile || !outPrefix) {
  console.error("usage: node --import tsx scripts/emotion-ceiling.ts CLIPS_JSONL OUT_PREFIX [CROP_SIZE=64]");
  process.exit(2);
}
const S = Number(sizeArg);
const clips = [...indexClips(clipsFile).values()].filter((c) => c.record.labels.emotion);
if (clips.length === 0) throw new FavchatError(`${clipsFile}: no clip has an emotion label`);
const crops = new Uint8Array(clips.length * 2 * S * S * 3);
const meta = clips.map((c, i) => {
  if (!c.raw) throw new FavchatError(`${clipsFile}: clip ${c.id} has no raw frames file; make the clips with \`favchat synth\``);
  const { labels } = c.record;
  const px = pixelsFromRaw(readRawClip(c.raw), labels.faceBoxes, { frames: 2, frameSize: S, faceSize: S }, undefined, [labels.apex ?? 0, 0]);
  crops.set(px.faces, i * 2 * S * S * 3);
  return { id: c.id, split: c.record.split, emotion: labels.emotion, band: labels.band ?? null };
});
writeFileSync(`${outPrefix}.u8`, crops);
writeFileSync(`${outPrefix}.json`, JSON.stringify(meta));
console.log(`${clips.length} clips -> ${outPrefix}.u8 (${S} px crops: apex, first frame)`);
