/**
 * Reads user text in a worker thread with a time limit. The ABC parser (abcjs) has had inputs on
 * which it never returns; run on the extension host's thread, one of them typed into an .abc file
 * froze VS Code. Here requests run one at a time in the worker, each with its own limit (counted
 * from when the worker starts on it); one that overruns ends the worker and rejects with
 * `MusicInputError('parse-timeout')`, which says what happened, and the requests queued behind it
 * run in a fresh worker.
 *
 * Node `worker_threads`; no vscode.
 */

import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LoadResult } from '../music/load';
import { MusicInputError } from '../music/score';
import type { TuneAtResult } from '../music/select';
import { Disposable } from '../platform/disposable';
import type { Logger } from '../platform/logger';
import { silentLogger } from '../platform/logger';
import type { ParseRequest, ParseResponse } from './parseProtocol';
import { RefrainError } from '../platform/errors';

/** Default time limit of one request, in milliseconds. */
export const PARSE_TIME_LIMIT_MS = 3000;
/** Longest the worker may take to load its code. */
const LOAD_LIMIT_MS = 30_000;

type RequestBody = ParseRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (e: Error) => void;
  body: RequestBody;
  what: string;
  timer?: NodeJS.Timeout;
}

/** Options of {@link ParseHost}. */
export interface ParseHostOptions {
  /** The worker script; default `parseWorker.js` next to this bundle (dist/). */
  workerPath?: string;
  /** Time limit of one request (ms); default {@link PARSE_TIME_LIMIT_MS}. */
  timeLimitMs?: number;
  log?: Logger;
}

/** The parse worker's client; see the module comment. */
export class ParseHost extends Disposable {
  private _worker: Worker | undefined;
  private _online: Promise<void> | undefined;
  private _nextId = 1;
  private readonly _pending = new Map<number, Pending>();
  /** Requests waiting for the worker, oldest first; and the one it is working on. */
  private readonly _queue: number[] = [];
  private _current: number | undefined;
  private readonly _path: string;
  private readonly _limit: number;
  private readonly _log: Logger;

  constructor(options: ParseHostOptions = {}) {
    super();
    this._path = options.workerPath ?? join(__dirname, 'parseWorker.js');
    this._limit = options.timeLimitMs ?? PARSE_TIME_LIMIT_MS;
    this._log = options.log ?? silentLogger();
    this._register({ dispose: () => this._stop(new RefrainError('disposed', 'Refrain is shutting down.')) });
  }

  /** The ABC tune at `offset` of `text` (only that tune is read). */
  tuneAt(text: string, offset: number): Promise<TuneAtResult> {
    return this._request({ op: 'tuneAt', text, offset }, 'the tune') as Promise<TuneAtResult>;
  }

  /** The ABC tune with this 0-based index in `text`. */
  tuneByIndex(text: string, index: number): Promise<TuneAtResult> {
    return this._request({ op: 'tuneByIndex', text, index }, `tune ${index + 1}`) as Promise<TuneAtResult>;
  }

  /** Every piece of a file (`loadPieces`). */
  pieces(path: string, bytes: Uint8Array): Promise<LoadResult> {
    return this._request({ op: 'pieces', path, bytes }, path.split('/').pop() ?? path) as Promise<LoadResult>;
  }

  private _request(body: RequestBody, what: string): Promise<unknown> {
    if (this.isDisposed) {
      return Promise.reject(new RefrainError('disposed', 'Refrain is shutting down.'));
    }
    const id = this._nextId++;
    return new Promise((resolve, reject) => {
      this._pending.set(id, { resolve, reject, body, what });
      this._queue.push(id);
      this._pump();
    });
  }

  /** Sends the oldest waiting request when the worker is free; its clock starts once the worker has loaded. */
  private _pump(): void {
    if (this._current !== undefined) {
      return;
    }
    const id = this._queue.shift();
    const p = id === undefined ? undefined : this._pending.get(id);
    if (id === undefined || !p) {
      return;
    }
    this._current = id;
    const { worker, online } = this._ensureWorker();
    void online.then(() => {
      if (this._current === id && this._worker === worker) {
        p.timer = setTimeout(() => this._timeout(id), this._limit);
        worker.postMessage({ ...p.body, id } as ParseRequest);
      }
    });
  }

  private _timeout(id: number): void {
    const p = this._pending.get(id);
    if (!p || this._current !== id) {
      return;
    }
    const seconds = (this._limit / 1000).toLocaleString('en-US');
    this._log.warn(`reading ${p.what} took over ${seconds} s: parser stopped`);
    this._endWorker();
    this._settle(id, (q) =>
      q.reject(
        new MusicInputError(
          'parse-timeout',
          `Reading ${p.what} took longer than ${seconds} s, so Refrain stopped it (VS Code was not blocked). Something in the tune trips the ABC parser: look near the last change, and please report the text.`,
        ),
      ),
    );
  }

  private _ensureWorker(): { worker: Worker; online: Promise<void> } {
    if (this._worker && this._online) {
      return { worker: this._worker, online: this._online };
    }
    const w = new Worker(this._path, { stdout: false, stderr: false });
    w.unref();
    // The worker says `ready` (message id 0) once its code is loaded; one that never does is ended.
    const online = new Promise<void>((resolve) => {
      const loading = setTimeout(() => {
        if (this._worker === w) {
          this._stop(new RefrainError('failed', `The parser did not start within ${LOAD_LIMIT_MS / 1000} s; try again.`));
        }
      }, LOAD_LIMIT_MS);
      loading.unref();
      const onReady = (m: ParseResponse): void => {
        if (m.id === 0) {
          clearTimeout(loading);
          w.off('message', onReady);
          resolve();
        }
      };
      w.on('message', onReady);
    });
    this._online = online;
    w.on('message', (m: ParseResponse) => this._onMessage(m));
    w.on('error', (e) => {
      this._log.error('worker failed', e);
      if (this._worker === w) {
        this._stop(new RefrainError('failed', `The parser stopped with an error: ${e.message}`));
      }
    });
    w.on('exit', () => {
      if (this._worker === w) {
        this._stop(new RefrainError('failed', 'The parser stopped unexpectedly; try again.'));
      }
    });
    this._worker = w;
    return { worker: w, online };
  }

  private _onMessage(m: ParseResponse): void {
    if (m.id === 0) {
      return;
    }
    this._settle(m.id, (p) => (m.ok ? p.resolve(m.value) : p.reject(new MusicInputError(m.code, m.message))));
  }

  /** Ends request `id` with `how`, then starts the next one. */
  private _settle(id: number, how: (p: Pending) => void): void {
    const p = this._pending.get(id);
    if (!p) {
      return;
    }
    this._pending.delete(id);
    clearTimeout(p.timer);
    if (this._current === id) {
      this._current = undefined;
    }
    how(p);
    this._pump();
  }

  private _endWorker(): void {
    const w = this._worker;
    this._worker = undefined;
    this._online = undefined;
    if (w) {
      void w.terminate();
    }
  }

  /** Ends the worker and rejects every request, running or waiting, with `error`. */
  private _stop(error: Error): void {
    this._endWorker();
    this._current = undefined;
    this._queue.length = 0;
    for (const p of this._pending.values()) {
      clearTimeout(p.timer);
      p.reject(error);
    }
    this._pending.clear();
  }
}
