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
