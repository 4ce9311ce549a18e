// The README's picture of FaceWorld: one row per emotion (same person, pose and scene within a row),
// columns rest frame, subtle apex (peak <= 0.3), moderate apex and strong apex, so the reader sees how
// small a subtle expression is next to a strong one.
import { Rng } from "../../core/rng.ts";
import { EMOTIONS7 } from "../records.ts";
import { contactSheetPng, type SheetTile } from "./contact-sheet.ts";
import type { Band } from "./expression.ts";
import { makeIdentity } from "./identity.ts";
import { planClip } from "./plan.ts";
import { renderClip } from "./render.ts";

export function emotionSheetPng(seed: number, size = 112, zoom = 2): Buffer {
  const tiles: SheetTile[] = [];
  const n = size * size * 3;
  EMOTIONS7.forEach((emotion, row) => {
    const identity = makeIdentity(seed, row);
    (["subtle", "moderate", "strong"] as Band[]).forEach((band, col) => {
      // The same Rng stream for the three bands: same pose, scene and timing, only the peak differs.
      const plan = planClip(new Rng(seed).fork("sheet", emotion), `${emotion}-${band}`, identity, { frames: 16, size, fps: 8, emotion, band, short: false, calm: true });
      const { rgb } = renderClip(plan);
      if (col === 0) tiles.push({ rgb: rgb.subarray(0, n), width: size, height: size, caption: `${emotion}: frame 1` });
      const peak = plan.expression.peak.toFixed(2);
      tiles.push({ rgb: rgb.subarray(plan.apex * n, (plan.apex + 1) * n), width: size, height: size, caption: emotion === "neutral" ? `neutral (${band} draw)` : `${band} ${peak}, frame ${plan.apex + 1}` });
    });
  });
  return contactSheetPng(tiles, 4, zoom);
}
