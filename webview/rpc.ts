/**
 * The webview end of the message protocol: requests with ids and timeouts, commands, and
 * notifications handed to a listener. Free of the DOM: it posts through a function and reads
 * time through injectable timers, so plain-Node tests drive it.
 */

import { GENERATE_TIMEOUT_MS, REQUEST_TIMEOUT_MS, command as commandMessage, isHostMessage, request as requestMessage } from '../src/protocol/messages';
import type {
  CommandMap,
  CommandMethod,
  ErrorCode,
  NotificationMessage,
  RequestMethod,
  RequestParams,
  RequestResult,
  WebviewToHostMessage,
} from '../src/protocol/messages';

/** A failed request: the host's error, a timeout, a cancellation or a closed client. */
export class RpcError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

/** Timers the client uses (defaults: the global ones). */
export interface RpcTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const globalTimers: RpcTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Options of one request. */
export interface RequestOptions {
  /** Milliseconds before the request fails with `timeout` (default by method). */
  readonly timeoutMs?: number;
  /** Aborting it fails the request with `cancelled` at once and tells the host to stop. */
  readonly signal?: AbortSignal;
}

interface Pending {
  readonly method: RequestMethod;
  resolve(value: unknown): void;
  reject(error: RpcError): void;
  readonly timer: unknown;
  readonly cleanup: () => void;
}

/** The default timeout of a request method. */
export function defaultTimeout(method: RequestMethod): number {
  switch (method) {
    case 'generate':
      return GENERATE_TIMEOUT_MS;
    case 'pickTemplateFile':
      // The user is looking at a file dialog.
      return 10 * 60_000;
    default:
      return REQUEST_TIMEOUT_MS;
  }
}

/** The webview's protocol client. */
export class RpcClient {
  private _nextId = 1;
  private readonly _pending = new Map<number, Pending>();
  private readonly _listeners: ((message: NotificationMessage) => void)[] = [];
  private _closed = false;

  constructor(
    private readonly _post: (message: WebviewToHostMessage) => void,
    private readonly _timers: RpcTimers = globalTimers,
  ) {}

  /** Number of requests awaiting an answer. */
  get pendingCount(): number {
    return this._pending.size;
  }

  /** Sends a command. */
  command<M extends CommandMethod>(method: M, params: CommandMap[M]): void {
    if (!this._closed) {
      this._post(commandMessage(method, params));
    }
  }

  /**
   * Sends a request; resolves with the host's result, rejects with an {@link RpcError} (the
   * host's error, `timeout`, `cancelled` or `disposed`). The id is passed to `onId` first, for
   * progress matching and cancel.
   */
  request<M extends RequestMethod>(method: M, params: RequestParams<M>, options: RequestOptions = {}, onId?: (id: number) => void): Promise<RequestResult<M>> {
    if (this._closed) {
      return Promise.reject(new RpcError('disposed', 'The view is closing.'));
    }
    if (options.signal?.aborted) {
      return Promise.reject(new RpcError('cancelled', 'Cancelled.'));
    }
    const id = this._nextId++;
    onId?.(id);
    return new Promise<RequestResult<M>>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? defaultTimeout(method);
      const onAbort = (): void => {
        this._settle(id, undefined, new RpcError('cancelled', 'Cancelled.'));
        this.command('cancel', { requestId: id });
      };
      const timer = this._timers.setTimeout(() => {
        this._settle(id, undefined, new RpcError('timeout', `No answer from Refrain after ${Math.round(timeoutMs / 1000)} s.`));
        this.command('cancel', { requestId: id });
      }, timeoutMs);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this._pending.set(id, {
        method,
        resolve: resolve as (value: unknown) => void,
        reject,
        timer,
        cleanup: () => options.signal?.removeEventListener('abort', onAbort),
      });
      this._post(requestMessage(id, method, params));
    });
  }

  /** Registers a notification listener. */
  onNotification(listener: (message: NotificationMessage) => void): void {
    this._listeners.push(listener);
  }

  /**
   * Handles a message from the host: settles the matching request or passes a notification on.
   * Returns false for anything that is not a host message (ignored).
   */
  handle(raw: unknown): boolean {
    if (this._closed || !isHostMessage(raw)) {
      return false;
    }
    if (raw.kind === 'response') {
      const pending = this._pending.get(raw.id);
      if (!pending || pending.method !== raw.method) {
        // Late answer to a request that timed out or was cancelled: nothing waits for it.
        return true;
      }
      if (raw.error) {
        this._settle(raw.id, undefined, new RpcError(raw.error.code, raw.error.message));
      } else {
        this._settle(raw.id, raw.result, undefined);
      }
      return true;
    }
    for (const listener of this._listeners) {
      listener(raw);
    }
    return true;
  }

  private _settle(id: number, result: unknown, error: RpcError | undefined): void {
    const pending = this._pending.get(id);
    if (!pending) {
      return;
    }
    this._pending.delete(id);
    this._timers.clearTimeout(pending.timer);
    pending.cleanup();
    if (error) {
      pending.reject(error);
    } else {
      pending.resolve(result);
    }
  }

  /** Fails every pending request with `disposed` and stops. */
  dispose(): void {
    for (const id of [...this._pending.keys()]) {
      this._settle(id, undefined, new RpcError('disposed', 'The view is closing.'));
    }
    this._closed = true;
  }
}
