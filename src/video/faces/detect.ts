// Face detection, landmarks and identity embeddings on RGB frames (issue 3), with human's pretrained models:
// BlazeFace + the 468-point face mesh for boxes and landmarks, HSE FaceRes for a 1024-d identity descriptor,
// computed on favchat's own aligned crop and only for the faces the tracker asks about (it is the slow model).
import { tf, type BackendName } from "../../core/backend.ts";
import type { RgbFrame } from "../frame.ts";
import { cropWindow, faceWindow } from "./align.ts";
import type { Box, FaceCandidate, Landmarks, Point } from "./geometry.ts";
import { createHuman, loadHumanGraphModel, type HumanFace, type HumanInstance } from "./human.ts";

export interface DetectorOptions {
  /** Most faces looked at per frame (default 5). */
  readonly maxFaces?: number;
  /** Detector confidence below which a face is ignored (default 0.5). */
  readonly minScore?: number;
  readonly backend?: BackendName;
}

/** MediaPipe face-mesh indices of the mouth corners. */
const MOUTH_CORNERS = [61, 291] as const;
/** FaceRes input side and crop margin (its training crops hold the face with a little context). */
const EMBED_SIZE = 224;
const EMBED_MARGIN = 0.25;

function mean(points: readonly [number, number, number][]): Point {
  let x = 0;
  let y = 0;
  for (const p of points) {
    x += p[0];
    y += p[1];
  }
  return [x / points.length, y / points.length];
}

/** The five landmarks from a mesh result, sides ordered as seen in the image. */
export function landmarksFromMesh(face: HumanFace): Landmarks {
  const a = face.annotations;
  const eyeA = mean([...a.leftEyeUpper0, ...a.leftEyeLower0]);
  const eyeB = mean([...a.rightEyeUpper0, ...a.rightEyeLower0]);
  const nose: Point = [a.noseTip[0][0], a.noseTip[0][1]];
  const m0: Point = [face.mesh[MOUTH_CORNERS[0]][0], face.mesh[MOUTH_CORNERS[0]][1]];
  const m1: Point = [face.mesh[MOUTH_CORNERS[1]][0], face.mesh[MOUTH_CORNERS[1]][1]];
  const [eyeL, eyeR] = eyeA[0] <= eyeB[0] ? [eyeA, eyeB] : [eyeB, eyeA];
  const [mouthL, mouthR] = m0[0] <= m1[0] ? [m0, m1] : [m1, m0];
  return [eyeL, eyeR, nose, mouthL, mouthR];
}

/**
 * The face box as the bounds of the 468 mesh points (brow to chin, ear to ear). human's own box is the detector's
 * box enlarged by a factor that varies with the scene, which made crops of the same face differ in scale.
 */
export function meshBox(mesh: readonly [number, number, number][]): Box {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const [x, y] of mesh) {
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
  }
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

export class FaceDetector {
  private constructor(
    private readonly human: HumanInstance,
    private readonly embedder: tf.GraphModel,
  ) {}

  /** Loads the models (about half a second); reuse one detector for many videos. */
  static async create(options: DetectorOptions = {}): Promise<FaceDetector> {
    const human = await createHuman({ maxFaces: options.maxFaces ?? 5, minScore: options.minScore ?? 0.5, backend: options.backend });
    const embedder = await loadHumanGraphModel("faceres.json");
    return new FaceDetector(human, embedder);
  }

  /** Faces in one frame, best score first; boxes and landmarks in the frame's pixels. */
  async detect(frame: RgbFrame): Promise<FaceCandidate[]> {
    const input = tf.tensor3d(frame.data, [frame.height, frame.width, 3], "int32");
    let result;
    try {
      result = await this.human.detect(input);
    } finally {
      input.dispose();
    }
    if (result.error) throw new Error(`face detection failed: ${result.error}`);
    const faces: FaceCandidate[] = [];
    for (const f of result.face) {
      if (f.mesh.length < 468 || !f.annotations.leftEyeUpper0) continue; // mesh failed: no landmarks to align with
      const box = meshBox(f.mesh);
      faces.push({ box, landmarks: landmarksFromMesh(f), score: Math.round(f.score * 1000) / 1000 });
    }
    return faces.sort((a, b) => b.score - a.score);
  }

  /** A unit-length identity descriptor of one face (FaceRes, 1024-d). */
  async embed(frame: RgbFrame, face: FaceCandidate): Promise<Float32Array> {
    const crop = cropWindow(frame, faceWindow(face.box, face.landmarks, EMBED_MARGIN), EMBED_SIZE);
    const input = tf.tidy(() => tf.tensor4d(crop.data, [1, EMBED_SIZE, EMBED_SIZE, 3], "int32").toFloat());
    const outputs = this.embedder.execute(input) as tf.Tensor[];
    input.dispose();
    try {
      const desc = outputs.find((t) => t.shape[1] === 1024);
      if (!desc) throw new Error("faceres model gave no 1024-d descriptor");
      const v = (await desc.data()) as Float32Array;
      let norm = 0;
      for (const x of v) norm += x * x;
      norm = Math.sqrt(norm) || 1;
      return Float32Array.from(v, (x) => x / norm);
    } finally {
      for (const t of outputs) t.dispose();
    }
  }

  dispose(): void {
    this.embedder.dispose();
  }
}
