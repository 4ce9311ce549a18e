// A facial encoder on its own as a model directory: config.json (model_type "favchat_face_encoder" plus the
// config's fields) and model.safetensors. The FaVChat checkpoint holds the same tensors under its own prefix;
// this form lets a face encoder be trained, shipped or inspected separately.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { readConfigJson } from "../../core/config-file.ts";
import { FavchatError } from "../../core/errors.ts";
import { loadSafetensorsDir, writeSafetensors } from "../../core/safetensors.ts";
import { faceEncoderConfigToJson, resolveFaceEncoderConfig, type FaceEncoderConfig, type FaceEncoderConfigInput } from "./config.ts";
import { FaceEncoder } from "./encoder.ts";

export const FACE_ENCODER_MODEL_TYPE = "favchat_face_encoder";

/** Reads and resolves DIR/config.json as a facial-encoder config. */
export function readFaceEncoderConfig(dir: string): FaceEncoderConfig {
  const { path, raw } = readConfigJson(dir, { missingDir: "pass a favchat face encoder directory", missingFile: "is it a favchat face encoder directory?" });
  const { model_type: modelType, ...fields } = raw;
  if (modelType !== FACE_ENCODER_MODEL_TYPE) {
    throw new FavchatError(`${path}: model_type ${JSON.stringify(modelType)} is not a favchat face encoder (expected "${FACE_ENCODER_MODEL_TYPE}")`);
  }
  return resolveFaceEncoderConfig(fields as Partial<FaceEncoderConfigInput>, path);
}

/** Builds the encoder from DIR/config.json and loads its weights; any tensor it does not use is an error. */
export async function loadFaceEncoder(dir: string): Promise<FaceEncoder> {
  const config = readFaceEncoderConfig(dir);
  const weights = await loadSafetensorsDir(dir);
  const encoder = new FaceEncoder(config, null);
  try {
    const unused = encoder.loadStateDict(weights, dir);
    if (unused.length > 0) {
      throw new FavchatError(`${dir}: ${unused.length} tensor(s) not used by a face encoder with this config, e.g. ${unused.slice(0, 3).join(", ")}`);
    }
  } catch (err) {
    encoder.dispose();
    throw err;
  }
  return encoder;
}

/** Writes config.json and model.safetensors (F32) to DIR. */
export async function saveFaceEncoder(encoder: FaceEncoder, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeSafetensors(join(dir, "model.safetensors"), encoder.stateDict(), { format: "pt" });
  const json = { model_type: FACE_ENCODER_MODEL_TYPE, ...faceEncoderConfigToJson(encoder.config) };
  await writeFile(join(dir, "config.json"), JSON.stringify(json, null, 2) + "\n");
}
