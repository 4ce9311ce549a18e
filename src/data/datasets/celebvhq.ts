// CelebV-HQ reader: its celebvhq_info.json holds `meta_info.appearance_mapping` (40 names),
// `meta_info.action_mapping` (35 names) and `clips.<id>.attributes.{appearance, action}` as 0/1 lists
// plus `emotion.labels` (a name, or [[name, start_s, end_s], ...] when `sep_flag` is true).
import { readFileSync } from "node:fs";
import { z } from "zod";
import { FavchatError } from "../../core/errors.ts";
import type { ClipRecord } from "../records.ts";

const infoSchema = z.object({
  meta_info: z.object({ appearance_mapping: z.array(z.string()), action_mapping: z.array(z.string()) }),
  clips: z.record(z.string(), z.object({
    attributes: z.object({
      appearance: z.array(z.number()),
      action: z.array(z.number()),
      emotion: z.object({ sep_flag: z.boolean(), labels: z.union([z.string(), z.array(z.tuple([z.string(), z.number(), z.number()]))]) }).optional(),
    }),
  })),
});

export function readCelebvHq(file: string, o: { videoDir?: string } = {}): ClipRecord[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new FavchatError(`cannot read CelebV-HQ info ${file}: ${(err as Error).message}`, { cause: err });
  }
  const parsed = infoSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new FavchatError(`${file}: not a CelebV-HQ info file: ${i.path.join(".")}: ${i.message}`);
  }
  const { meta_info: meta, clips } = parsed.data;
  return Object.entries(clips).map(([id, c]) => {
    const where = `${file}: clip ${id}`;
    if (c.attributes.appearance.length !== meta.appearance_mapping.length) throw new FavchatError(`${where}: ${c.attributes.appearance.length} appearance flags but ${meta.appearance_mapping.length} names`);
    if (c.attributes.action.length !== meta.action_mapping.length) throw new FavchatError(`${where}: ${c.attributes.action.length} action flags but ${meta.action_mapping.length} names`);
    const attributes: Record<string, boolean> = {};
    meta.appearance_mapping.forEach((name, k) => (attributes[name.toLowerCase()] = c.attributes.appearance[k] === 1));
    const actions = meta.action_mapping.filter((_, k) => c.attributes.action[k] === 1).map((name) => ({ name: name.toLowerCase() }));
    const em = c.attributes.emotion?.labels;
    const emotions = em === undefined ? [] : typeof em === "string" ? [em] : em.map(([name]) => name);
    return {
      id: `celebvhq-${id}`, video: `${o.videoDir ?? "videos"}/${id}.mp4`, source: "celebvhq",
      labels: { emotion: emotions[0] ?? null, ...(emotions.length > 1 ? { emotions } : {}), attributes, actions, identity: null },
    } satisfies ClipRecord;
  });
}
