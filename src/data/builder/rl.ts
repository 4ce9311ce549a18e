// RL samples (DESIGN section 2, DE-GRPO): a verifiable problem per clip (emotion multiple choice,
// a count, or a free-form AU question) with the facial fields the facial reward compares against.
import type { Rng } from "../../core/rng.ts";
import { EMOTIONS7, type ClipRecord, type RlRecord } from "../records.ts";
import { expressionAus } from "./clip-facts.ts";
import { AU_WORDS, describeAction, describeAppearance } from "./phrasing.ts";

export function rlSamples(rec: ClipRecord, rng: Rng): RlRecord[] {
  const L = rec.labels;
  const facial = {
    facial_attributes: describeAppearance(rng, L.attributes).join(", "),
    facial_emotion: L.emotion ?? "",
    facial_action: [
      ...expressionAus(rec).slice(0, 4).map((f) => `${f.au} ${AU_WORDS[f.au] ?? ""}`.trim()),
      ...L.actions.map(describeAction).filter((x): x is string => x !== null),
    ].join(", "),
  };
  const out: RlRecord[] = [];
  if (L.emotion) {
    const pool = (EMOTIONS7 as readonly string[]).includes(L.emotion) ? [...EMOTIONS7] : [L.emotion, ...EMOTIONS7];
    out.push({
      id: `${rec.id}#rl-emotion`, video: rec.video, problem_type: "multiple_choice",
      problem: rng.pick([
        "What emotion does the person show? Think about the facial movements first.",
        "Identify the facial emotion in the video. Reason about the action units, then answer.",
        "Which emotion is expressed? Look closely at the brows, eyes and mouth.",
      ]),
      options: rng.shuffle(pool), solution: L.emotion, ...facial,
    });
  }
  const blink = L.actions.find((a) => a.name === "blink" && a.count !== undefined);
  if (blink && rng.bool(0.5)) {
    out.push({ id: `${rec.id}#rl-blinks`, video: rec.video, problem_type: "numerical", problem: "How many times does the person blink? Answer with a number.", solution: String(blink.count), ...facial });
  }
  return out;
}
