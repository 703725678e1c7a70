/** Where CLI commands write, and the signal that cancels them (Ctrl-C). */
export interface CliContext {
  out(text: string): void;
  err(text: string): void;
  /** A transient one-line progress message (a TTY status line; dropped when not a TTY). */
  progress(text: string): void;
  signal?: AbortSignal;
}

/** A mistake in the command line itself (exit code 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A whole-number option of at least `min`, or undefined when it was not given (a {@link UsageError} otherwise). */
export function optionalInt(value: string | undefined, flag: string, min: number): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new UsageError(`${flag} needs a whole number of at least ${min}, not "${value}".`);
  }
  return n;
}
