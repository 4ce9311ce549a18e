// Stage 1 data: one paragraph per clip (about 100 words) naming the appearance, the expression's
// dynamics (which AUs, when they rise and peak, how strong) and the actions, in varied wording.
import type { Rng } from "../../core/rng.ts";
import type { ClipRecord, SummaryRecord } from "../records.ts";
import { expressionAus, frameCount } from "./clip-facts.ts";
import { AU_LOOKS, AU_WORDS, auGrade, describeAction, describeAppearance, emotionAdj, fill, frameText } from "./phrasing.ts";

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

function sentenceList(parts: string[]): string {
  if (parts.length <= 1) return parts.join("");
  return `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]}`;
}

export function summarize(rec: ClipRecord, rng: Rng): SummaryRecord {
  const L = rec.labels;
  const out: string[] = [];
  const look = describeAppearance(rng, L.attributes);
  if (look.length) out.push(cap(look.slice(0, 3).join(", ")) + ".", ...(look.length > 3 ? [cap(sentenceList(look.slice(3))) + "."] : []));
  if (L.scene) {
    const s = L.scene;
    out.push(fill(rng, ["The background is {bg} ({wall}) with {light} light{obj}.", "Behind them is {bg} in {wall} tones, lit {light}{obj}."], {
      bg: s.background ?? "a wall", wall: s.wall_colour ?? "neutral", light: s.lighting === "even" ? "even" : s.lighting ?? "even",
      obj: s.object && s.object !== "none" ? `; a ${s.object} moves ${s.object_motion}` : "",
    }));
  }
  const aus = expressionAus(rec);
  const emotion = L.emotion;
  if (emotion && aus.length) {
    const main = aus.slice(0, 3);
    const n = frameCount(rec) ?? 16;
    out.push(fill(rng, [
      "Over the {n} frames the face becomes {adj}: {looks}.",
      "The expression turns {adj} as {looks}.",
      "Watching closely, {looks}, which reads as {adj}.",
    ], { n, adj: emotionAdj(rng, emotion), looks: sentenceList(main.map((f) => rng.pick(AU_LOOKS[f.au] ?? [AU_WORDS[f.au] ?? f.au]))) }));
    const first = [...main].sort((a, b) => a.onset - b.onset)[0];
    const apex = L.apex ?? main[0].peakFrame;
    out.push(fill(rng, [
      "The movement starts at {on}, peaks at {apex} and is {grade} at its strongest ({top} reaches {v}).",
      "It begins around {on} and is at its height at {apex}; the {topw} is {grade} ({v}).",
    ], { on: frameText(first.onset), apex: frameText(apex), grade: auGrade(main[0].peak), top: main[0].au, topw: AU_WORDS[main[0].au] ?? main[0].au, v: main[0].peak.toFixed(2) }));
    if (L.band === "subtle" || L.short) {
      out.push(L.short ? "It is brief, held for only a few frames, so it is easy to miss." : "The change is subtle and only visible when comparing frames.");
    }
  } else if (emotion) {
    out.push(fill(rng, ["The person looks {adj} overall.", "Their expression is {adj}."], { adj: emotionAdj(rng, emotion) }));
    if (emotion === "neutral" && aus.length === 0) out.push("No facial muscle moves enough to change the expression.");
  }
  const acts = L.actions.map(describeAction).filter((x): x is string => x !== null);
  if (acts.length) out.push(cap(fill(rng, ["the person {acts}.", "during the clip the person {acts}."], { acts: sentenceList(acts) })));
  return { id: rec.id, video: rec.video, summary: out.join(" ") };
}
