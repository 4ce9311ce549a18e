// The CLI's front door: the only place that reads argv and the environment (STYLE.md 3).
// Each command lives in src/cli/commands/<name>.ts and exports `register(program)`.
import { Command, CommanderError } from "commander";
import { FavchatError } from "../core/errors.ts";
import { COMMANDS } from "./commands/index.ts";

export function buildProgram(): Command {
  const program = new Command("favchat")
    .description("FaVChat: fine-grained facial video understanding with a video LLM")
    .version("0.1.0")
    .option("--backend <name>", "tensor backend: auto, tensorflow, wasm or cpu", "auto")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  for (const register of COMMANDS) register(program);
  return program;
}

/** Runs the CLI and returns the process exit code; errors for people are printed without a stack. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof FavchatError) {
      process.stderr.write(`favchat: ${err.message}\n`);
      return err.exitCode;
    }
    // A bug, not bad input: say so with the stack, but never let it reach the wasm runtime's
    // uncaughtException handler, which would print its whole minified source instead.
    const e = err as Error;
    process.stderr.write(`favchat: internal error: ${e?.stack ?? String(err)}\nPlease report this with the command that caused it.\n`);
    return 1;
  }
}

/** `favchat ... | head` closes stdout early: that is the reader's choice, not an error. */
export function exitQuietlyOnClosedStdout(): void {
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
    throw err;
  });
}
