// `npm run bench`: runs every bench/*.bench.ts in its own process, one after another (they would
// disturb each other's timings in parallel). `npm run bench -- llm video` runs the ones whose name matches.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const dir = import.meta.dirname;
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`no benchmark matches ${filters.join(", ")}; available: ${readdirSync(dir).filter((f) => f.endsWith(".bench.ts")).join(", ")}`);
  process.exit(2);
}
let failed = 0;
for (const f of files) {
  console.log(`\n=== ${f} ===`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ["--import", "tsx", join(dir, f)], { stdio: "inherit" });
  console.log(`=== ${f}: ${r.status === 0 ? "done" : `FAILED (exit ${r.status})`} in ${((performance.now() - t0) / 1000).toFixed(1)} s ===`);
  if (r.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
