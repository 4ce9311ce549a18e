// Encoder benchmark (issue 5): forward and forward+backward time of the general encoder (SigLIP tower) and
// the facial encoder for one clip, as the shipped tiny FaVChat runs them and at the encoders' own tiny presets
// (16 frames / crops of 112 px), beside a PyTorch peer of the same shapes (bench/peers/encoders_torch.py) on the
// same machine. Medians of several runs, in ms.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { initBackend, tf } from "../src/core/backend.ts";
import { Rng } from "../src/core/rng.ts";
import { SIGLIP_VISION_PRESETS, type SiglipVisionConfig } from "../src/model/vision/config.ts";
import { SiglipVisionTower } from "../src/model/vision/siglip.ts";
import { readFileSync } from "node:fs";
import { FACE_ENCODER_PRESETS, faceEncoderConfigToJson, resolveFaceEncoderConfig, type FaceEncoderConfig } from "../src/model/face/config.ts";
import { favchatPreset } from "../src/model/config.ts";
import { FaceEncoder } from "../src/model/face/encoder.ts";
import type { Module } from "../src/nn/module.ts";
import { fmt, median, runPeer } from "./stats.ts";

const REPEATS = 7;
const THREADS = 2;

/** One measured setting: N frames through the tower and N face crops through the pyramid (one clip). */
interface Case {
  readonly name: string;
  readonly frames: number;
  readonly vision: SiglipVisionConfig;
  readonly face: FaceEncoderConfig;
}

// What the shipped tiny FaVChat runs (src/model/config.ts), and the encoder presets at the 16 x 112 px.
const tiny = favchatPreset("tiny");
// The recipe of models/favchat-tiny sets the facial encoder's stem and motion input over the preset.
const recipe = JSON.parse(readFileSync(join(import.meta.dirname, "..", "configs", "tiny.json"), "utf8")) as { model: { face_config?: object } };
const recipeFace = resolveFaceEncoderConfig({ ...faceEncoderConfigToJson(tiny.face), ...recipe.model.face_config }, "configs/tiny.json face_config");
const CASES: Case[] = [
  { name: "FaVChat tiny preset", frames: tiny.maxFrames, vision: tiny.vision, face: tiny.face },
  { name: `FaVChat tiny recipe (configs/tiny.json: stem ${recipeFace.stem}${recipeFace.stemFullResolution ? ", full resolution" : ""}${recipeFace.motion ? ", motion" : ""})`, frames: tiny.maxFrames, vision: tiny.vision, face: recipeFace },
  { name: "encoder presets tiny", frames: 16, vision: SIGLIP_VISION_PRESETS.tiny, face: FACE_ENCODER_PRESETS.tiny },
];

/** The peer's config (bench/peers/encoders_torch.py). */
function peerConfig(c: Case): Record<string, unknown> {
  const { vision: S, face: F } = c;
  return {
    frames: c.frames,
    repeats: REPEATS,
    threads: THREADS,
    siglip: { image: S.imageSize, patch: S.patchSize, hidden: S.hiddenSize, inter: S.intermediateSize, layers: S.numLayers, heads: S.numHeads, eps: S.layerNormEps },
    face: {
      image: F.imageSize, patch: F.patchSize, widths: F.widths, depths: F.depths, heads: F.numHeads, windows: F.windowSizes, mlp_ratio: F.mlpRatio, eps: F.layerNormEps,
      stem: F.stem, stem_full_resolution: F.stemFullResolution, motion: F.motion,
    },
  };
}

interface Timings {
  forward: number[];
  train: number[];
}

/** Seconds per forward (outputs read back) and per forward + backward into every parameter. */
function time(model: Module, run: (x: tf.Tensor) => tf.Tensor[], x: tf.Tensor): Timings {
  const out: Timings = { forward: [], train: [] };
  const vars = [...model.trainableVariables().values()];
  for (let r = 0; r <= REPEATS; r++) {
    const t0 = performance.now();
    tf.tidy(() => run(x).forEach((y) => y.dataSync()));
    if (r > 0) out.forward.push((performance.now() - t0) / 1000);
  }
  for (let r = 0; r <= REPEATS; r++) {
    const t0 = performance.now();
    // The same scalar as the peer: sum over outputs of mean(y^2).
    const { value, grads } = tf.variableGrads(() => tf.addN(run(x).map((y) => tf.mean(tf.square(y)))) as tf.Scalar, vars);
    for (const g of Object.values(grads)) g.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
    if (r > 0) out.train.push((performance.now() - t0) / 1000);
  }
  return out;
}

function pixels(rng: Rng, n: number, side: number): tf.Tensor {
  return tf.tensor(Float32Array.from({ length: n * side * side * 3 }, () => rng.next()), [n, side, side, 3], "float32");
}

async function runCase(c: Case, backend: string): Promise<void> {
  const rng = new Rng(0);
  const { vision: S, face: F } = c;
  const tower = new SiglipVisionTower(S, new Rng(1));
  const face = new FaceEncoder(F, new Rng(2));
  console.log(
    `${c.name}, one clip: ${c.frames} frames of ${S.imageSize} px through the SigLIP tower (patch ${S.patchSize}, D ${S.hiddenSize}, ` +
      `${S.numLayers} layers: ${c.frames}x${S.numPatches} tokens, ${(tower.numParams() / 1e6).toFixed(2)} M params) and ${c.frames} face crops ` +
      `of ${F.imageSize} px through the face pyramid (${F.stem} stem${F.stemFullResolution ? " from full resolution" : ""}${F.motion ? ", with motion" : ""}, patch ${F.patchSize}, widths ${F.widths.join("/")}, depths ${F.depths.join("/")}, ` +
      `windows ${F.windowSizes.join("/")}: ${F.blockTokens.join("/")} tokens, ${(face.numParams() / 1e6).toFixed(2)} M params); ` +
      `medians (and minima) of ${REPEATS} runs; favchat on ${backend}, PyTorch with ${THREADS} threads`,
  );
  const xs = pixels(rng, c.frames, S.imageSize);
  const xf = pixels(rng, c.frames, F.imageSize);
  const mine = {
    siglip: time(tower, (x) => [tower.forward(x)], xs),
    face: time(face, (x) => face.forwardClips(x.reshape([1, ...x.shape])), xf), // the crops are one clip (motion's reference: the first)
  };
  tf.dispose([xs, xf]);
  tower.dispose();
  face.dispose();
  const peer = runPeer<Record<"siglip" | "face", Timings>>(join(import.meta.dirname, "peers", "encoders_torch.py"), [JSON.stringify(peerConfig(c))]);
  for (const enc of ["siglip", "face"] as const) {
    for (const kind of ["forward", "train"] as const) {
      const a = median(mine[enc][kind]) * 1000;
      const b = peer ? median(peer[enc][kind]) * 1000 : NaN;
      // The fastest run too: on a shared machine the median moves with other load, PyTorch's threads most.
      const aMin = Math.min(...mine[enc][kind]) * 1000;
      const bMin = peer ? Math.min(...peer[enc][kind]) * 1000 : NaN;
      const label = `${enc === "siglip" ? "general (SigLIP)" : "facial"} ${kind === "forward" ? "forward" : "forward+backward"}`;
      console.log(
        `  ${label.padEnd(34)} favchat ${fmt(a).padStart(7)} ms (min ${fmt(aMin)})  pytorch ${fmt(b).padStart(7)} ms (min ${fmt(bMin)})  ` +
          `favchat/pytorch ${fmt(a / b, 2)} (min/min ${fmt(aMin / bMin, 2)})`,
      );
    }
  }
}

export async function run(): Promise<void> {
  const backend = await initBackend("wasm");
  for (const c of CASES) await runCase(c, backend);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
