/**
 * The engine's error type and its plain-data form for crossing the worker boundary.
 *
 * Pure TypeScript: no vscode, no Node-only APIs.
 */

import { MusicInputError } from '../music/score';
import { CancellationError } from '../platform/cancellation';
import type { EngineErrorCode } from './types';

/** An engine failure with a stable code and a user-readable message (file names included). */
export class EngineError extends Error {
  readonly code: EngineErrorCode;
  constructor(code: EngineErrorCode, message: string) {
    super(message);
    this.name = 'EngineError';
    this.code = code;
  }
}

/** An error as plain data (structured-clone safe). */
export interface ErrorPayload {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

/** Plain-data form of any thrown value. */
export function toErrorPayload(error: unknown): ErrorPayload {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, code: typeof code === 'string' ? code : undefined, stack: error.stack };
  }
  return { name: 'Error', message: String(error) };
}

/**
 * Rebuilds an error from its payload: cancellations become `CancellationError`, engine
 * codes `EngineError`, input problems keep their name and code.
 */
export function fromErrorPayload(p: ErrorPayload): Error {
  if (p.name === 'CancellationError' || p.code === 'cancelled') {
    return new CancellationError(p.message);
  }
  const engineCodes: readonly string[] = ['model-not-found', 'model-file', 'model-card', 'bad-request', 'bad-feed', 'runtime', 'worker-exited'];
  let e: Error;
  if (p.code !== undefined && engineCodes.includes(p.code)) {
    e = new EngineError(p.code as EngineErrorCode, p.message);
  } else if ((p.name === 'MusicInputError' || p.name === 'FormSyntaxError') && p.code !== undefined) {
    e = new MusicInputError(p.code, p.message);
  } else {
    e = new Error(p.message);
    e.name = p.name;
    if (p.code !== undefined) {
      (e as { code?: string }).code = p.code;
    }
  }
  if (p.stack) {
    e.stack = p.stack;
  }
  return e;
}
