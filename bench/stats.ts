// Small helpers shared by the benchmarks: medians, the PyTorch peer runner, and a table printer.
import { execFileSync } from "node:child_process";

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Debian's python3 with torch; the pyenv python on PATH has no torch. */
export const PYTHON = "/usr/bin/python3";

/** Runs a peer script that prints one JSON object on its last line; null (with a reason printed) when torch is missing. */
export function runPeer<T>(script: string, args: string[], timeoutMs = 600_000): T | null {
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
