/**
 * The one user-facing error of Refrain: a stable code, a short message a writer can act on, and
 * the action that helps. Every surface maps failures through {@link toUserError} once: commands
 * (a notification with buttons), webviews (the `error` of a response) and the CLI (a line on
 * stderr and an exit code).
 *
 * Pure TypeScript with no imports: the engine's `EngineError` and the music layer's
 * `MusicInputError` are recognised by their `name` (they cross the worker boundary as plain data
 * too), so no layer below has to know this module.
 */

/** Why something failed, as the user and the webview protocol see it. */
export const ERROR_CODES = [
  /** A webview sent a malformed request. */
  'invalid-request',
  /** There is no piece to work on (no ABC editor, no tune under the cursor, no MIDI file). */
  'no-piece',
  /** No model is installed, or the chosen one is not. */
  'no-model',
  /** A model's files are there but unusable (broken card, unreadable ONNX, foreign vocabulary). */
  'model-broken',
  /** An argument of a command is out of range. */
  'bad-argument',
  /** The music cannot be read or cannot take the request (the message says which bar or field). */
  'music-input',
  /** The document changed since the candidates were made. */
  'stale',
  /** VS Code refused the edit (a read-only file). */
  'edit-refused',
  /** The candidate or file asked for is gone. */
  'not-found',
  /** The model run failed (the log has the detail). */
  'engine-failed',
  'cancelled',
  'timeout',
  'disposed',
  /** Anything else: a bug; the log has the stack. */
  'failed',
] as const;

/** One of {@link ERROR_CODES}. */
export type UserErrorCode = (typeof ERROR_CODES)[number];

/** What the user can do about an error: the button a notification or a view offers. */
export type ErrorAction = 'show-logs' | 'choose-model' | 'generate-again' | 'none';

/** The action each code offers unless an error names its own. */
const DEFAULT_ACTIONS: { readonly [C in UserErrorCode]: ErrorAction } = {
  'invalid-request': 'show-logs',
  'no-piece': 'none',
  'no-model': 'choose-model',
  'model-broken': 'show-logs',
  'bad-argument': 'none',
  'music-input': 'none',
  stale: 'generate-again',
  'edit-refused': 'none',
  'not-found': 'generate-again',
  'engine-failed': 'show-logs',
  cancelled: 'none',
  timeout: 'show-logs',
  disposed: 'none',
  failed: 'show-logs',
};

/** A failure the user can act on, thrown by the host-side services and fronts. */
export class RefrainError extends Error {
  readonly code: UserErrorCode;
  readonly action: ErrorAction;
  constructor(code: UserErrorCode, message: string, action: ErrorAction = DEFAULT_ACTIONS[code]) {
    super(message);
    this.name = 'RefrainError';
    this.code = code;
    this.action = action;
  }
}

/** An error as every surface shows it. */
export interface UserError {
  readonly code: UserErrorCode;
  readonly message: string;
  readonly action: ErrorAction;
  /** True for failures that are bugs or runtime faults: logged with their stack. */
  readonly unexpected: boolean;
}

/** Engine error codes (`engine/types.ts` `EngineErrorCode`) as user codes. */
const ENGINE_CODES: Readonly<Record<string, UserErrorCode>> = {
  'model-not-found': 'no-model',
  'model-file': 'model-broken',
  'model-card': 'model-broken',
  'bad-request': 'invalid-request',
  'bad-feed': 'engine-failed',
  runtime: 'engine-failed',
  'worker-exited': 'engine-failed',
  cancelled: 'cancelled',
};

/** True for errors that mean "the user or a newer request cancelled this". */
function isCancelled(error: Error): boolean {
  return error.name === 'AbortError' || error.name === 'CancellationError' || error.name === 'Canceled';
}

/**
 * The user-facing form of any thrown value: the code, the message to show (kept as the layer
 * below wrote it: those messages name the file, bar or setting) and the action.
 */
export function toUserError(error: unknown): UserError {
  if (!(error instanceof Error)) {
    return { code: 'failed', message: String(error), action: 'show-logs', unexpected: true };
  }
  if (isCancelled(error)) {
    return { code: 'cancelled', message: 'Cancelled.', action: 'none', unexpected: false };
  }
  const code = (error as { code?: unknown }).code;
  if (error instanceof RefrainError) {
    return { code: error.code, message: error.message, action: error.action, unexpected: false };
  }
  if (error.name === 'EngineError' && typeof code === 'string') {
    const mapped = ENGINE_CODES[code] ?? 'engine-failed';
    const message = mapped === 'engine-failed' ? `The model failed: ${error.message}` : error.message;
    return { code: mapped, message, action: DEFAULT_ACTIONS[mapped], unexpected: mapped === 'engine-failed' || mapped === 'invalid-request' };
  }
  if ((error.name === 'MusicInputError' || error.name === 'FormSyntaxError') && typeof code === 'string') {
    return { code: 'music-input', message: error.message, action: 'none', unexpected: false };
  }
  return { code: 'failed', message: error.message, action: 'show-logs', unexpected: true };
}

/** True when a code is one of {@link ERROR_CODES}. */
export function isUserErrorCode(value: unknown): value is UserErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}
