// Why does the model answer worse through the face detector than with FaceWorld's labelled boxes? Emotion accuracy
// of one model on the same clips with the face crops cut in several ways, the same 8 sampled frames each time:
//   label          the labelled boxes mapped to the detector's framing (what training sees), raw frames
//   <policy>       every crop-window policy of src/video/faces/stabilize.ts over the same detections, raw frames
//                  ("frame" is what `favchat chat` did before "steady")
//   steady-*       variants of the steady window (no roll, nose-only anchor, 8% larger or 7% smaller)
//   mp4-label      the labelled boxes on the MP4's decoded frames (the codec's loss)
//   mp4-steady     detection and steady crops on the decoded frames (what `chat` does now)
//   mp4-steady-noroll  the same, the crops kept upright (as the labelled boxes' are)
//   mp4-labelcentre  the labelled windows' centres with the steady windows' sizes, on the decoded frames
//   mp4-labelsize    the steady windows' centres and roll with the labelled windows' sizes, on the decoded frames
//   raw-ends-steady  steady crops on the frames `chat` samples (first and last included)
//   yuv420-label   the labelled boxes on raw frames with only 4:2:0 chroma simulated
// ONLY=name,name runs some of them. GEOMETRY=1 instead compares the steady windows' motion with the labelled boxes'
// on the raw frames: each frame's window against the clip's first (what the facial encoder's crop-minus-first input
// sees), as RMS over clips and frames of the centre shift and scale change (fractions of the first window's side) and
// the roll change (degrees), for the labelled windows, the steady ones, and their difference; GEOMETRY=mp4 detects
// on the MP4's decoded frames instead.
// Usage: node --import tsx scripts/detector-gap.ts MODEL_DIR CLIPS_JSONL [LIMIT=60]
import { dirname, resolve } from "node:path";
import { initBackend } from "../src/core/backend.ts";
import { FavchatError } from "../src/core/errors.ts";
import { labelledWindow, pixelsFromRaw, uniformIndices, type ClipPixels } from "../src/data/clip-pixels.ts";
import { readRawClip } from "../src/data/frames.ts";
import { readClipRecords, type ClipRecord } from "../src/data/records.ts";
import { evalItems, predict } from "../src/eval/run-model.ts";
import { scorePredictions } from "../src/eval/score.ts";
import { loadFavchat } from "../src/model/load.ts";
import { loadTokenizer } from "../src/text/tokenizer.ts";
import { cropWindow, wholeFrameWindow, type CropWindow } from "../src/video/faces/align.ts";
import { ffmpegFromEnv } from "../src/cli/commands/probe.ts";
import { decodeSamples } from "../src/video/decode.ts";
import { FaceDetector } from "../src/video/faces/detect.ts";
import { probeVideo } from "../src/video/probe.ts";
import { cropWindows, CROP_POLICIES } from "../src/video/faces/stabilize.ts";
import { DEFAULT_TRACK, trackMainFace, type TrackedFace } from "../src/video/faces/track.ts";
import type { RgbFrame } from "../src/video/frame.ts";

/** RGB -> BT.601 Y'CbCr, chroma averaged over 2 x 2 pixels, back to RGB (what yuv420p keeps of colour). */
function chroma420(rgb: Uint8Array, W: number, H: number, frames: number): Uint8Array {
  const out = new Uint8Array(rgb.length);
  for (let f = 0; f < frames; f++) {
    const o = f * W * H * 3;
    for (let y = 0; y < H; y += 2) {
      for (let x = 0; x < W; x += 2) {
        const px: number[] = [];
        for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]]) if (y + dy < H && x + dx < W) px.push(o + ((y + dy) * W + x + dx) * 3);
        let cb = 0;
        let cr = 0;
        for (const p of px) {
          cb += -0.168736 * rgb[p] - 0.331264 * rgb[p + 1] + 0.5 * rgb[p + 2];
          cr += 0.5 * rgb[p] - 0.418688 * rgb[p + 1] - 0.081312 * rgb[p + 2];
        }
        cb /= px.length;
        cr /= px.length;
        for (const p of px) {
          const Y = 0.299 * rgb[p] + 0.587 * rgb[p + 1] + 0.114 * rgb[p + 2];
          out[p] = Math.max(0, Math.min(255, Math.round(Y + 1.402 * cr)));
          out[p + 1] = Math.max(0, Math.min(255, Math.round(Y - 0.344136 * cb - 0.714136 * cr)));
          out[p + 2] = Math.max(0, Math.min(255, Math.round(Y + 1.772 * cb)));
        }
      }
    }
  }
  return out;
}

const [modelDir, clipsFile, limitArg = "60"] = process.argv.slice(2);
if (!modelDir || !clipsFile) {
  console.error("usage: node --import tsx scripts/detector-gap.ts MODEL_DIR CLIPS_JSONL [LIMIT=60]");
  process.exit(2);
}
await initBackend("wasm");
const model = await loadFavchat(modelDir);
const tok = loadTokenizer(modelDir);
const detector = await FaceDetector.create({ backend: "wasm" });
const ffmpeg = ffmpegFromEnv();
const base = dirname(resolve(clipsFile));
const clips = readClipRecords(clipsFile).records.filter((c) => c.labels.emotion).slice(0, Number(limitArg));
const F = model.config.maxFrames;
const S = model.config.face.imageSize;
const frameSize = model.config.vision.imageSize;

interface Detected {
  frames: RgbFrame[];
  idx: number[];
  tracked: TrackedFace[];
}
const detected = new Map<string, Detected>();
async function detect(clip: ClipRecord, from: "raw" | "mp4" | "raw-ends" = "raw"): Promise<Detected> {
  const hit = detected.get(clip.id + from);
  if (hit) return hit;
  const raw = readRawClip(resolve(base, clip.frames!));
  if (from === "mp4") raw.data.set(await decodedFrames(clip, raw.frames));
  const bytes = raw.width * raw.height * 3;
  // raw-ends: the frames `favchat chat` samples (first and last included) instead of uniformIndices'.
  const idx = from === "raw-ends" ? Array.from({ length: F }, (_, k) => Math.round((k * (raw.frames - 1)) / (F - 1))) : uniformIndices(raw.frames, F);
  const frames = idx.map((i) => ({ width: raw.width, height: raw.height, data: raw.data.slice(i * bytes, (i + 1) * bytes) }));
  const candidates: Awaited<ReturnType<FaceDetector["detect"]>>[] = [];
  for (const f of frames) candidates.push(await detector.detect(f));
  const tracked = await trackMainFace(candidates, raw.width, raw.height, (f, c) => detector.embed(frames[f], candidates[f][c]), DEFAULT_TRACK);
  if (!tracked.some((t) => t.kind === "detected")) throw new FavchatError(`no face in ${clip.id}`);
  const d = { frames, idx, tracked };
  detected.set(clip.id + from, d);
  return d;
}

function pixels(frames: RgbFrame[], windows: CropWindow[]): ClipPixels {
  const fr = new Uint8Array(F * frameSize * frameSize * 3);
  const faces = new Uint8Array(F * S * S * 3);
  frames.forEach((f, k) => {
    fr.set(cropWindow(f, wholeFrameWindow(f), frameSize).data, k * frameSize * frameSize * 3);
    faces.set(cropWindow(f, windows[k], S).data, k * S * S * 3);
  });
  return { F, frames: fr, frameSize, faces, faceSize: S };
}

const sources: Record<string, (clip: ClipRecord) => Promise<ClipPixels>> = {
  label: async (clip) => pixelsFromRaw(readRawClip(resolve(base, clip.frames!)), clip.labels.faceBoxes, { frames: F, frameSize, faceSize: S }),
};
for (const policy of CROP_POLICIES) {
  sources[policy] = async (clip) => {
    const d = await detect(clip);
    return pixels(d.frames, cropWindows(d.tracked, d.frames[0].width, d.frames[0].height, 0.4, policy));
  };
}

// Variants of the steady window, to see which part of the difference is left: no roll, the nose alone as anchor.
const steady = (d: Detected) => cropWindows(d.tracked, d.frames[0].width, d.frames[0].height, 0.4, "steady");
sources["steady-noroll"] = async (clip) => {
  const d = await detect(clip);
  return pixels(d.frames, steady(d).map((w) => ({ ...w, angle: 0 })));
};
sources["steady-nose"] = async (clip) => {
  const d = await detect(clip);
  const noseOnly = d.tracked.map((t) => (t.landmarks ? { ...t, landmarks: t.landmarks.map(() => t.landmarks![2]) as typeof t.landmarks } : t));
  return pixels(d.frames, cropWindows(noseOnly, d.frames[0].width, d.frames[0].height, 0.4, "steady"));
};
sources["steady-big"] = async (clip) => {
  const d = await detect(clip);
  return pixels(d.frames, steady(d).map((w) => ({ ...w, side: w.side * 1.08 })));
};
sources["steady-small"] = async (clip) => {
  const d = await detect(clip);
  return pixels(d.frames, steady(d).map((w) => ({ ...w, side: w.side * 0.93 })));
};
// The video's frames instead of the raw ones (the codec's loss), with the labelled boxes; and the raw frames with
// only the codec's 4:2:0 chroma subsampling simulated.
async function decodedFrames(clip: ClipRecord, frames: number): Promise<Uint8Array> {
  const probe = await probeVideo(ffmpeg, resolve(base, clip.video!), { timeoutMs: 60_000, imageFps: 25 });
  const d = await decodeSamples(ffmpeg, probe, { sample: { mode: "uniform", frames }, maxSide: 1280, timeoutMs: 60_000 });
  const data = new Uint8Array(d.frames.length * d.frames[0].data.length);
  d.frames.forEach((f, i) => data.set(f.data, i * f.data.length));
  return data;
}
sources["mp4-label"] = async (clip) => {
  const raw = readRawClip(resolve(base, clip.frames!));
  return pixelsFromRaw({ ...raw, data: await decodedFrames(clip, raw.frames) }, clip.labels.faceBoxes, { frames: F, frameSize, faceSize: S });
};
for (const from of ["mp4", "raw-ends"] as const) {
  sources[`${from}-steady`] = async (clip) => {
    const d = await detect(clip, from);
    return pixels(d.frames, cropWindows(d.tracked, d.frames[0].width, d.frames[0].height, 0.4, "steady"));
  };
}
sources["mp4-steady-noroll"] = async (clip) => {
  const d = await detect(clip, "mp4");
  return pixels(d.frames, steady(d).map((w) => ({ ...w, angle: 0 })));
};
// The steady window at one size for the whole clip (its median): the rigid points' size varies frame to frame (GEOMETRY).
const oneSize = (w: CropWindow[]) => {
  const sides = w.map((x) => x.side).sort((a, b) => a - b);
  return w.map((x) => ({ ...x, side: sides[sides.length >> 1] }));
};
sources["steady-onesize"] = async (clip) => {
  const d = await detect(clip);
  return pixels(d.frames, oneSize(steady(d)));
};
sources["mp4-steady-onesize"] = async (clip) => {
  const d = await detect(clip, "mp4");
  return pixels(d.frames, oneSize(steady(d)));
};
// Half of each: the labelled windows' centres (and roll: none) with the steady windows' sizes, and the reverse, on the
// MP4's frames: which part of the steady window (where it sits, how large it is) costs what against the labels'.
const labelled = (clip: ClipRecord, d: Detected) => d.idx.map((i) => labelledWindow(clip.labels.faceBoxes![i], 0.4));
sources["mp4-labelcentre"] = async (clip) => {
  const d = await detect(clip, "mp4");
  const st = steady(d);
  return pixels(d.frames, labelled(clip, d).map((w, k) => ({ ...w, side: st[k].side })));
};
sources["mp4-labelsize"] = async (clip) => {
  const d = await detect(clip, "mp4");
  const lab = labelled(clip, d);
  return pixels(d.frames, steady(d).map((w, k) => ({ ...w, side: lab[k].side })));
};
sources["yuv420-label"] = async (clip) => {
  const raw = readRawClip(resolve(base, clip.frames!));
  return pixelsFromRaw({ ...raw, data: chroma420(raw.data, raw.width, raw.height, raw.frames) }, clip.labels.faceBoxes, { frames: F, frameSize, faceSize: S });
};
if (process.env.GEOMETRY) {
  const rel = (w: readonly CropWindow[]) => w.slice(1).map((x) => [(x.cx - w[0].cx) / w[0].side, (x.cy - w[0].cy) / w[0].side, x.side / w[0].side - 1, ((x.angle - w[0].angle) * 180) / Math.PI]);
  const sq = { label: [0, 0, 0, 0], steady: [0, 0, 0, 0], diff: [0, 0, 0, 0] };
  let n = 0;
  let skipped = 0;
  for (const clip of clips) {
    const d = await detect(clip, process.env.GEOMETRY === "mp4" ? "mp4" : "raw").catch(() => null);
    const boxes = clip.labels.faceBoxes;
    if (!d || !boxes) {
      skipped++;
      continue;
    }
    const label = d.idx.map((i) => labelledWindow(boxes[i], 0.4));
    const [l, st] = [rel(label), rel(steady(d))];
    l.forEach((lk, k) => {
      for (let j = 0; j < 4; j++) {
        sq.label[j] += lk[j] ** 2;
        sq.steady[j] += st[k][j] ** 2;
        sq.diff[j] += (st[k][j] - lk[j]) ** 2;
      }
      n++;
    });
  }
  for (const [name, v] of Object.entries(sq)) {
    const r = v.map((x) => Math.sqrt(x / n));
    console.log(`${name.padEnd(7)} RMS vs first window over ${n} frames (${skipped} clips without a detected face skipped): centre x ${r[0].toFixed(4)}, y ${r[1].toFixed(4)}, scale ${r[2].toFixed(4)}, roll ${r[3].toFixed(2)} deg`);
  }
  process.exit(0);
}
const only = process.env.ONLY?.split(",");
const items = evalItems(clips, "emotion", 0);
for (const [name, source] of Object.entries(sources)) {
  if (only && !only.includes(name)) continue;
  const { predictions } = await predict(model, tok, items, source);
  const r = scorePredictions(predictions, "emotion", "7", {});
  const wrong = new Map<string, number>();
  for (const p of predictions) if (p.prediction.trim() !== p.answer) wrong.set(p.prediction.trim(), (wrong.get(p.prediction.trim()) ?? 0) + 1);
  console.log(`${name.padEnd(12)} WAR ${Number(r.overall.WAR).toFixed(3)} UAR ${Number(r.overall.UAR).toFixed(3)}  wrong answers: ${[...wrong].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", ")}`);
}
detector.dispose();
