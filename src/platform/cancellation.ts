/**
 * Cancellation helpers. Pure code takes an `AbortSignal`; host code converts VS Code
 * cancellation tokens with {@link toAbortSignal}.
 */

/** The error thrown when work stops because its signal was aborted. */
export class CancellationError extends Error {
  constructor(message = 'Cancelled') {
    super(message);
    this.name = 'CancellationError';
  }
}

/** True for errors that mean "the user or a newer request cancelled this": log at debug, never show. */
export function isCancellationError(error: unknown): boolean {
  return (
    error instanceof CancellationError ||
    (error instanceof Error && (error.name === 'AbortError' || error.name === 'CancellationError' || error.name === 'Canceled'))
  );
}

/** Throws a {@link CancellationError} when the signal is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new CancellationError();
  }
}

/** Anything with the shape of `vscode.CancellationToken`. */
export interface CancellationTokenLike {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => void): { dispose(): void };
}

/** An `AbortSignal` that aborts when the token is cancelled. */
export function toAbortSignal(token: CancellationTokenLike): AbortSignal {
  const controller = new AbortController();
  if (token.isCancellationRequested) {
    controller.abort();
  } else {
    const sub = token.onCancellationRequested(() => {
      sub.dispose();
      controller.abort();
    });
  }
  return controller.signal;
}
