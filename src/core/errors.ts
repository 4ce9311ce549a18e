// Errors meant for people (STYLE.md 9): what was wrong, with the value, and what to do.
// The CLI prints `message` of a FavchatError without a stack trace; anything else is a bug and keeps its stack.

export class FavchatError extends Error {
  override readonly name = "FavchatError";
  /** Process exit code the CLI uses for this error (2 = bad input). */
  readonly exitCode: number;
  constructor(message: string, options: { cause?: unknown; exitCode?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = options.exitCode ?? 2;
  }
}

/** Throws a FavchatError when `condition` is false. */
export function check(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new FavchatError(typeof message === "string" ? message : message());
}
