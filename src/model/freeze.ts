// The freeze plan of DESIGN 2 (the paper's training figure): which parts of FaVChat each stage trains.
//   stage 1 align:   frozen LLM and Q-Formers (their output MLPs train: they are the "MLPs" of the table)
//   stage 2 QA:      frozen adapters
//   stage 3 emotion: frozen both encoders
//   RL:              as stage 3 (the frozen reference model is the RL loop's own copy)
//   encoders (ours): the two encoders only, before stage 1 (src/train/encoder-task.ts)
//   connector (ours): CA², Q-Formers, adapters and MLPs, after the encoders (visualTask in src/train/favchat-task.ts)
// "LLM embeddings" (the token embedding table, which is also the output head when tied, and the prompt the visual
// path reads) is part of the LLM: freezing "LLM" freezes it too; it can be frozen alone. A model with a prompt table
// of its own (config.promptTable) has "prompt table", which no stage trains: stage 0 copies the LLM's table into it.
// Parts the table names in neither column (CA², the output MLPs, the fusion norm, the summary tokens' projections, the read-outs)
// train in every stage.
import type { FavChat } from "./favchat.ts";

export type TrainingStage = "encoders" | "connector" | 1 | 2 | 3 | "rl";
export const TRAINING_STAGES: readonly TrainingStage[] = ["encoders", "connector", 1, 2, 3, "rl"];

/** The parts the plan talks about, each a set of parameter-name prefixes. */
export type PartName = "general encoder" | "facial encoder" | "CA²" | "Q-Formers" | "MLPs" | "adapters" | "LLM" | "LLM embeddings" | "prompt table";
export const PART_NAMES: readonly string[] = ["general encoder", "facial encoder", "CA²", "Q-Formers", "MLPs", "adapters", "LLM", "LLM embeddings", "prompt table"];

const FROZEN: Record<string, readonly PartName[]> = {
  // Encoder pretraining (ours; the paper's encoders arrive pretrained): the encoders alone, through label heads.
  encoders: ["CA²", "Q-Formers", "MLPs", "adapters", "LLM"],
  // Connector pretraining (ours): the path from the encoders to V, through label heads on V; the LLM does not run.
  connector: ["general encoder", "facial encoder", "LLM"],
  "1": ["LLM", "Q-Formers"],
  "2": ["adapters"],
  "3": ["general encoder", "facial encoder"],
  rl: ["general encoder", "facial encoder"],
};

/** Which part a parameter belongs to, by its checkpoint name. */
export function partOf(name: string): PartName {
  if (name.startsWith("vision_tower.") || name === "vision_temporal_embedding") return "general encoder";
  if (name.startsWith("face_encoder.")) return "facial encoder";
  if (name.startsWith("ca2.") || name.startsWith("face_proj.")) return "CA²";
  if (/^qformer_[gf]\.(out_norm|out_mlp)\./.test(name) || name.startsWith("fusion.norm.") || name.startsWith("summary.") || name.startsWith("au_readout.") || name.startsWith("attribute_readout.") || name.startsWith("emotion_readout.")) return "MLPs";
  if (name.startsWith("qformer_g.") || name.startsWith("qformer_f.")) return "Q-Formers";
  if (name.startsWith("fusion.adapter_")) return "adapters";
  if (name.startsWith("llm.model.embed_tokens.")) return "LLM embeddings";
  if (name.startsWith("prompt_table.")) return "prompt table";
  if (name.startsWith("llm.")) return "LLM";
  // A new parameter must be placed in the plan on purpose, never trained or frozen by accident.
  throw new Error(`freeze plan: parameter "${name}" belongs to no part; add it to partOf`);
}

export interface FreezeSummary {
  readonly stage: TrainingStage;
  /** Parts present in this model, trained or frozen in this stage. */
  readonly trained: PartName[];
  readonly frozen: PartName[];
  /** Trainable parameter count after the plan is applied. */
  readonly trainableParams: number;
}

/** Sets every parameter's trainable flag for `stage` (or freezes exactly the `override` parts); returns what it did. */
export function applyFreezePlan(model: FavChat, stage: TrainingStage, override?: readonly string[]): FreezeSummary {
  const listed = override ?? FROZEN[String(stage)];
  if (!listed) throw new Error(`freeze plan: unknown stage ${String(stage)}; stages are ${TRAINING_STAGES.join(", ")}`);
  const frozenParts: readonly string[] = listed.includes("LLM") ? [...listed, "LLM embeddings"] : listed;
  const trained = new Set<PartName>();
  const frozen = new Set<PartName>();
  let trainableParams = 0;
  for (const [name, p] of model.namedParams()) {
    const part = partOf(name);
    const train = part !== "prompt table" && !frozenParts.includes(part);
    p.variable.trainable = train;
    (train ? trained : frozen).add(part);
    if (train) trainableParams += p.variable.size;
  }
  // The embeddings go with the rest of the LLM unless the plan separates them.
  for (const set of [trained, frozen]) if (set.has("LLM")) set.delete("LLM embeddings");
  return { stage, trained: [...trained], frozen: [...frozen], trainableParams };
}
