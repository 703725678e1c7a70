/**
 * The host end of a webview's message channel: validates what the webview posts, answers
 * every request (result or error), gates posting on the webview's `ready`, and replays the
 * latest state after the webview reloads (a hidden webview without `retainContextWhenHidden`
 * loses its page and receives nothing; it posts `ready` again when shown).
 *
 * No `vscode` import: it talks to anything with `postMessage` / `onDidReceiveMessage`, so
 * plain-Node tests drive it with a fake webview.
 */

import type { Logger } from '../../platform/logger';
import { Disposable, toDisposable } from '../../platform/disposable';
import type { IDisposable } from '../../platform/disposable';
import { toUserError } from '../../platform/errors';
import { assertNever, errorResponse, notification, okResponse } from '../../protocol/messages';
import { parseWebviewMessage } from '../../protocol/validate';
import type {
  CommandMessage,
  ProtocolError,
  HostToWebviewMessage,
  NotificationMap,
  NotificationMethod,
  RequestMethod,
  RequestParams,
  RequestResult,
} from '../../protocol/messages';

/** The part of `vscode.Webview` the channel uses. */
export interface WebviewPort {
  postMessage(message: unknown): Thenable<boolean> | Promise<boolean>;
  onDidReceiveMessage(listener: (message: unknown) => unknown): IDisposable;
}

/** Context a request handler gets: its id and a signal aborted by `cancel` or disposal. */
export interface RequestContext {
  readonly id: number;
  readonly signal: AbortSignal;
}

/** One handler per request method. */
export type RequestHandlers = {
  readonly [M in RequestMethod]: (params: RequestParams<M>, context: RequestContext) => Promise<RequestResult<M>>;
};

/**
 * Which replay slot a notification fills: the latest message of each slot is posted again after
 * the webview (re)loads. `undefined`: transient, queued only until the next `ready`.
 */
export function replaySlot(method: NotificationMethod): string | undefined {
  switch (method) {
    case 'piece':
    case 'noPiece':
      return 'piece';
    case 'config':
      return 'config';
    case 'generation':
      return 'generation';
    case 'candidates':
      return 'candidates';
    case 'progress':
    case 'playback':
      return undefined;
    default:
      return assertNever(method, 'notification');
  }
}

/** Replay order after `ready`: settings first, then the piece, then generation state. */
const SLOT_ORDER = ['config', 'piece', 'generation', 'candidates'];
/** Most transient messages kept while the webview is not ready. */
const MAX_QUEUED = 32;

/**
 * Maps a handler's failure to the error a webview sees: the user-facing error (`platform/errors`)
 * with its code, message and action; unexpected errors are logged with their stacks.
 */
export function toProtocolError(error: unknown, log: Logger, method: string): ProtocolError {
  const e = toUserError(error);
  if (e.unexpected) {
    log.error(`${method} failed [${e.code}]`, error);
    return { code: e.code, message: `${method} failed: ${e.message}. See the Refrain log for details.`, action: e.action };
  }
  return { code: e.code, message: e.message, action: e.action };
}

/** The host end of one webview's channel. */
export class WebviewChannel extends Disposable {
  private _ready = false;
  private readonly _slots = new Map<string, HostToWebviewMessage>();
  private readonly _queue: HostToWebviewMessage[] = [];
  private readonly _inFlight = new Map<number, AbortController>();
  private _readyWaiters: (() => void)[] = [];

  constructor(
    private readonly _port: WebviewPort,
    private readonly _handlers: RequestHandlers,
    private readonly _onCommand: (message: CommandMessage) => void,
    private readonly _log: Logger,
  ) {
    super();
    this._register(_port.onDidReceiveMessage((m) => this._receive(m)));
    this._register(
      toDisposable(() => {
        for (const c of this._inFlight.values()) {
          c.abort();
        }
        this._inFlight.clear();
        this._readyWaiters = [];
      }),
    );
  }

  /** True between the webview's `ready` and the next time it is hidden or reloads. */
  get isReady(): boolean {
    return this._ready;
  }

  /** Resolves at the next (or current) `ready`. */
  whenReady(): Promise<void> {
    if (this._ready) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this._readyWaiters.push(resolve));
  }

  /**
   * Posts a notification now when the webview is ready; otherwise keeps it (the latest of its
   * replay slot, or queued if transient) until the next `ready`.
   */
  notify<M extends NotificationMethod>(method: M, params: NotificationMap[M]): void {
    if (this.isDisposed) {
      return;
    }
    const message = notification(method, params);
    const slot = replaySlot(method);
    if (slot !== undefined) {
      this._slots.set(slot, message);
    }
    if (this._ready) {
      this._post(message);
    } else if (slot === undefined) {
      this._queue.push(message);
      if (this._queue.length > MAX_QUEUED) {
        this._queue.shift();
      }
    }
  }

  /**
   * Stores a notification as its slot's latest state without posting it now (the webview already
   * has it, e.g. from a response); it is replayed after the next `ready`.
   */
  remember<M extends NotificationMethod>(method: M, params: NotificationMap[M]): void {
    const slot = replaySlot(method);
    if (slot !== undefined && !this.isDisposed) {
      this._slots.set(slot, notification(method, params));
    }
  }

  /** Drops a replay slot's message (e.g. the candidates once they no longer apply). */
  forget(slot: string): void {
    this._slots.delete(slot);
  }

  /** Call when the webview is hidden: it will reload and post `ready` again. */
  markNotReady(): void {
    this._ready = false;
  }

  private _post(message: HostToWebviewMessage): void {
    void Promise.resolve(this._port.postMessage(message)).then(
      (delivered) => {
        if (!delivered) {
          this._log.debug(`${message.kind} ${message.method} not delivered (webview hidden or gone)`);
        }
      },
      (e: unknown) => this._log.warn(`posting ${message.method} failed: ${e instanceof Error ? e.message : String(e)}`),
    );
  }

  private _receive(raw: unknown): void {
    void this.handle(raw);
  }

  /**
   * Handles a message as the webview's own (validated the same way); resolves with the response
   * posted for a request, undefined for a command or a refused message. The integration tests
   * drive a view through it.
   */
  async handle(raw: unknown): Promise<HostToWebviewMessage | undefined> {
    if (this.isDisposed) {
      return undefined;
    }
    const parsed = parseWebviewMessage(raw);
    if (!parsed.ok) {
      this._log.warn(`refused a webview message: ${parsed.reason}`);
      if (parsed.request) {
        const response = errorResponse(parsed.request.id, parsed.request.method, 'invalid-request', `Invalid request: ${parsed.reason}.`);
        this._post(response);
        return response;
      }
      return undefined;
    }
    const message = parsed.message;
    if (message.kind === 'command') {
      this._command(message);
      return undefined;
    }
    return this._request(message.id, message.method, message.params);
  }

  private _command(message: CommandMessage): void {
    switch (message.method) {
      case 'ready': {
        this._ready = true;
        for (const slot of SLOT_ORDER) {
          const m = this._slots.get(slot);
          if (m) {
            this._post(m);
          }
        }
        for (const m of this._queue.splice(0)) {
          this._post(m);
        }
        for (const w of this._readyWaiters.splice(0)) {
          w();
        }
        break;
      }
      case 'cancel':
        this._inFlight.get(message.params.requestId)?.abort();
        break;
      case 'log': {
        // The page's own lines, tagged as the page's.
        const page = this._log.child('webview');
        const line = message.params.message;
        if (message.params.level === 'error') {
          page.error(line);
        } else if (message.params.level === 'warn') {
          page.warn(line);
        } else {
          page.info(line);
        }
        break;
      }
      case 'selectBars':
      case 'rendered':
        break;
      default:
        assertNever(message, 'command');
    }
    try {
      this._onCommand(message);
    } catch (e) {
      this._log.error(`command ${message.method} failed`, e);
    }
  }

  private async _request<M extends RequestMethod>(id: number, method: M, params: RequestParams<M>): Promise<HostToWebviewMessage> {
    const controller = new AbortController();
    this._inFlight.get(id)?.abort();
    this._inFlight.set(id, controller);
    let response: HostToWebviewMessage;
    try {
      const handler = this._handlers[method] as (p: RequestParams<M>, c: RequestContext) => Promise<RequestResult<M>>;
      const result = await handler(params, { id, signal: controller.signal });
      response = controller.signal.aborted ? errorResponse(id, method, 'cancelled', 'Cancelled.') : okResponse(id, method, result);
    } catch (e) {
      const error = toProtocolError(e, this._log, method);
      response = errorResponse(id, method, error.code, error.message, error.action);
    } finally {
      if (this._inFlight.get(id) === controller) {
        this._inFlight.delete(id);
      }
    }
    if (!this.isDisposed) {
      this._post(response);
    }
    return response;
  }
}
