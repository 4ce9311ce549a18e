// Small helpers shared by the benchmarks: medians, the PyTorch peer runner, and a table printer.
import { execFileSync } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Debian's python3 with torch; the pyenv python on PATH has no torch. */
export const PYTHON = "/usr/bin/python3";

/** Debian's BLAS, as the dynamic linker finds it: the reference one unless an optimised one provides it. */
const DEBIAN_BLAS = "/usr/lib/x86_64-linux-gnu/libblas.so.3";
let blasChecked = false;

/**
 * Says so (once) when Debian's torch would run on the reference BLAS: its matmuls are then ~20x slower (the `llm`
 * peer trained at 150 tokens/s instead of 3,500, session 26), which makes every ratio look better than it is.
 */
function warnReferenceBlas(): void {
  if (blasChecked || !existsSync(DEBIAN_BLAS)) return;
  blasChecked = true;
  const target = realpathSync(DEBIAN_BLAS);
  if (!/openblas|blis|mkl/i.test(target)) {
    console.log(`  WARNING: ${DEBIAN_BLAS} is ${target} (the reference BLAS): the PyTorch peer's numbers are not fair; apt-get install libopenblas0-pthread`);
  }
}

/** Runs a peer script that prints one JSON object on its last line; null (with a reason printed) when torch is missing. */
export function runPeer<T>(script: string, args: string[], timeoutMs = 600_000): T | null {
  warnReferenceBlas();
  try {
    const out = execFileSync(PYTHON, [script, ...args], { encoding: "utf8", timeout: timeoutMs, stdio: ["ignore", "pipe", "pipe"] });
    const lines = out.trim().split("\n");
    return JSON.parse(lines[lines.length - 1]) as T;
  } catch (err) {
    console.log(`  peer ${script} did not run (${(err as Error).message.split("\n")[0]}); install python3-torch (apt-get install python3-torch) to compare`);
    return null;
  }
}

export function fmt(x: number, digits = 1): string {
  return Number.isFinite(x) ? x.toFixed(digits) : "n/a";
}
