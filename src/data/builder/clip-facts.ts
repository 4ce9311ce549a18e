// Facts the builder's templates read off a clip record: active AUs with their onset, peak and peak
// frame, the dominant AUs of the expression, and the actions by name. One place, so summaries, QA and
// RL samples can never disagree about what a clip shows.
import type { Action, ClipRecord } from "../records.ts";

export interface AuFact {
  au: string;
  peak: number;
  peakFrame: number;
  /** First frame at or above the activity threshold. */
  onset: number;
}

/** An AU counts as present when it reaches this intensity (FACS grade A, "trace", starts at 0.1). */
export const AU_PRESENT = 0.1;

export function auFacts(rec: ClipRecord): AuFact[] {
  const out: AuFact[] = [];
  for (const [au, values] of Object.entries(rec.labels.aus ?? {})) {
    let peak = 0;
    let peakFrame = 0;
    let onset = -1;
    values.forEach((v, t) => {
      if (v > peak + 1e-9) {
        peak = v;
        peakFrame = t;
      }
      if (onset < 0 && v >= AU_PRESENT) onset = t;
    });
    if (peak >= AU_PRESENT) out.push({ au, peak, peakFrame, onset });
  }
  return out.sort((a, b) => b.peak - a.peak);
}

/** AUs of the expression itself: blinks (AU43) and speech-driven mouth AUs are actions, not emotion. */
export function expressionAus(rec: ClipRecord): AuFact[] {
  const speaking = rec.labels.actions.some((a) => a.name === "speak");
  return auFacts(rec).filter((f) => f.au !== "AU43" && !(speaking && (f.au === "AU25" || f.au === "AU26")));
}

export function action(rec: ClipRecord, name: string): Action | undefined {
  return rec.labels.actions.find((a) => a.name === name);
}

export const frameCount = (rec: ClipRecord): number | undefined =>
  rec.labels.aus ? Object.values(rec.labels.aus)[0]?.length : rec.labels.faceBoxes?.length;
