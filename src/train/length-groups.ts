// Batches of examples of similar length (as Hugging Face's `group_by_length`): a batch is padded to its longest
// example, and FaceWorld's QA mixes 30-token answers with 170-token reasoning, so random batches of 8 were 2.5x
// padding in stage 2 (measured on the tiny recipe's records). Every example is still drawn with the same
// probability: a group is chosen in proportion to its size, then the batch is drawn uniformly from it.
import type { Rng } from "../core/rng.ts";

/** Example indices grouped by token length: group k holds lengths in [k * width, (k + 1) * width). */
export function lengthGroups(lengths: readonly number[], width: number): number[][] {
  if (!(Number.isInteger(width) && width >= 1)) throw new RangeError(`lengthGroups: width must be a whole number >= 1, got ${width}`);
  const byKey = new Map<number, number[]>();
  lengths.forEach((len, i) => {
    const k = Math.floor(len / width);
    const g = byKey.get(k) ?? [];
    g.push(i);
    byKey.set(k, g);
  });
  return [...byKey.keys()].sort((a, b) => a - b).map((k) => byKey.get(k)!);
}

/** `size` indices from one group, the group drawn in proportion to its size (so each index has probability size/N). */
export function drawGrouped(groups: readonly (readonly number[])[], size: number, rng: Rng): number[] {
  const total = groups.reduce((n, g) => n + g.length, 0);
  if (total === 0) throw new RangeError("drawGrouped: no examples");
  let r = rng.int(total);
  let group = groups[0];
  for (const g of groups) {
    if (r < g.length) {
      group = g;
      break;
    }
    r -= g.length;
  }
  return Array.from({ length: size }, () => group[rng.int(group.length)]);
}
