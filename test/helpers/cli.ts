// Running the real `favchat` command in a child process, as a user would: exit code, stdout and stderr.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
export const ROOT = join(import.meta.dirname, "..", "..");
const BIN = join(ROOT, "bin", "favchat.js");

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `favchat ARGS`; `input`, when given, is piped to its standard input (then closed). */
export async function favchat(args: readonly string[], timeoutMs = 120_000, input?: string): Promise<CliResult> {
  try {
    const child = run(process.execPath, [BIN, ...args], { cwd: ROOT, timeout: timeoutMs, maxBuffer: 1 << 24 });
    if (input !== undefined) child.child.stdin?.end(input);
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
