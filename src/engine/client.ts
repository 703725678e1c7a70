/**
 * The engine on the main thread: finds models, starts the inference worker
 * (`dist/engineWorker.js`) on first use, sends it typed requests with ids, forwards its
 * logs and progress, and cancels. A cancelled request rejects at once with a
 * `CancellationError` (no partial result); the worker stops at its next decode step, and if
 * it has not answered within `cancelGraceMs` it is terminated (the last resort: a running
 * `session.run()` cannot be interrupted) and started afresh on the next request.
 *
 * Uses Node's `worker_threads`; no vscode.
 */

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CancellationError } from '../platform/cancellation';
import { silentLogger } from '../platform/logger';
import type { LogLevel, Logger } from '../platform/logger';
import { modelInfoOf, pickModel, scanModels } from './card';
import type { CatalogScan, ModelEntry } from './card';
import { EngineError, fromErrorPayload } from './errors';
import type { BenchDecodeResult, BenchDecodeSpec, EngineWorkerData, FromWorker, ModelRef, ToWorker } from './protocol';
import type { ScoreResult, ScoreSpec } from './scoring';
import type { Candidate, EngineApi, EngineOptions, GenerateProgress, GenerateRequest, ModelInfo } from './types';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  onProgress?: (p: GenerateProgress) => void;
  /** Set when the caller gave up (cancelled): the answer is awaited only to know the worker is free. */
  abandoned: boolean;
  graceTimer?: NodeJS.Timeout;
}

/** The default worker script: next to the bundle that contains this code (dist/). */
export function defaultWorkerPath(): string {
  return join(__dirname, 'engineWorker.js');
}

/** The generation engine's client; see the module comment. Implements {@link EngineApi}. */
export class EngineClient implements EngineApi {
  private readonly _o: EngineOptions;
  private readonly _log: Logger;
  private _worker: Worker | undefined;
  private _nextId = 1;
  private readonly _pending = new Map<number, Pending>();
  private _disposed = false;
  /** The last scan, and each of its models' card and model file stamps when it was made. */
  private _catalog: Promise<{ scan: CatalogScan; stamps: Map<string, string> }> | undefined;

  constructor(options: EngineOptions) {
    this._o = options;
    this._log = (options.log ?? silentLogger()).child('engine');
  }

  /** The directories searched for models, in order. */
  get modelDirs(): string[] {
    return [this._o.modelsDir, ...(this._o.extraModelDirs ?? [])];
  }

  /** Scans the model directories (cards and file sizes; no model is loaded). */
  async scan(): Promise<CatalogScan> {
    const catalog = this._scanStamped();
    this._catalog = catalog;
    catalog.catch(() => {
      if (this._catalog === catalog) {
        this._catalog = undefined;
      }
    });
    return (await catalog).scan;
  }

  private async _scanStamped(): Promise<{ scan: CatalogScan; stamps: Map<string, string> }> {
    const scan = await scanModels(this.modelDirs);
    for (const b of scan.broken) {
      this._log.warn(`skipping model folder ${b.dir}: ${b.error.message}`);
    }
    const stamps = new Map<string, string>();
    await Promise.all(scan.models.map(async (m) => stamps.set(m.onnxPath, await stampOf(m))));
    return { scan, stamps };
  }

  /** Every usable model, the default (folk-tsrope when present) first. */
  async listModels(): Promise<ModelInfo[]> {
    return (await this.scan()).models.map(modelInfoOf);
  }

  /**
   * The model entry for an id (undefined: the default); throws `EngineError('model-not-found')`
   * listing the ids. Requests come with every keystroke of inline ghost text, and reading every
   * card takes tens of milliseconds: the last scan answers while the chosen model's card and
   * file are unchanged (their size and modification time); otherwise, or when it does not know
   * the id, the folders are scanned again.
   */
  async resolveModel(id: string | undefined): Promise<ModelEntry> {
    const cached = this._catalog;
    if (cached !== undefined) {
      try {
        const { scan, stamps } = await cached;
        const entry = pickModel(scan, id);
        if (stamps.get(entry.onnxPath) === (await stampOf(entry))) {
          return entry;
        }
      } catch {
        // not known, or the scan failed: scan again
      }
    }
    return pickModel(await this.scan(), id);
  }

  /** Generates candidates; see {@link EngineApi.generate}. */
  async generate(req: GenerateRequest, opts: { signal?: AbortSignal; onProgress?: (p: GenerateProgress) => void } = {}): Promise<Candidate[]> {
    if (opts.signal?.aborted) {
      throw new CancellationError();
    }
    const entry = await this.resolveModel(req.model);
    return (await this._request(
      (id, cancel) => ({ type: 'generate', id, model: refOf(entry), request: req, cancel }),
      opts.signal,
      opts.onProgress,
    )) as Candidate[];
  }

  /** Benchmark support: decode timings of a model at several contexts (see `src/cli/bench.ts`). */
  async benchDecode(modelId: string | undefined, spec: BenchDecodeSpec, signal?: AbortSignal): Promise<BenchDecodeResult> {
    const entry = await this.resolveModel(modelId);
    return (await this._request((id, cancel) => ({ type: 'benchDecode', id, model: refOf(entry), spec, cancel }), signal)) as BenchDecodeResult;
  }

  /** Held-out scoring: summed negative log-likelihood of token sequences (see `./scoring`). */
  async score(modelId: string | undefined, spec: ScoreSpec, signal?: AbortSignal): Promise<ScoreResult> {
    const entry = await this.resolveModel(modelId);
    return (await this._request((id, cancel) => ({ type: 'score', id, model: refOf(entry), spec, cancel }), signal)) as ScoreResult;
  }

  /** Releases the sessions and stops the worker. Pending requests reject as cancelled. */
  async dispose(): Promise<void> {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    const w = this._worker;
    if (w === undefined) {
      return;
    }
    for (const [id, p] of this._pending) {
      if (!p.abandoned) {
        p.reject(new CancellationError('The engine was disposed.'));
        p.abandoned = true;
      }
      this._pending.delete(id);
    }
    const id = this._nextId++;
    const released = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this._o.cancelGraceMs ?? 2000);
      this._pending.set(id, {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: () => {
          clearTimeout(timer);
          resolve();
        },
        abandoned: false,
      });
    });
    w.postMessage({ type: 'release', id } satisfies ToWorker);
    await released;
    this._worker = undefined;
    await w.terminate();
  }

  private _ensureWorker(): Worker {
    if (this._disposed) {
      throw new EngineError('worker-exited', 'The engine has been disposed.');
    }
    if (this._worker !== undefined) {
      return this._worker;
    }
    const path = this._o.workerPath ?? defaultWorkerPath();
    const data: EngineWorkerData = {
      refrainEngineWorker: true,
      executionProvider: this._o.executionProvider,
      threads: this._o.threads,
      logLevel: 'debug',
    };
    const w = new Worker(path, { workerData: data, stdout: false, stderr: false });
    w.unref();
    w.on('message', (m: FromWorker) => this._onMessage(m));
    w.on('error', (e) => {
      this._log.error('engine worker failed', e);
      this._failAll(w, new EngineError('worker-exited', `The engine worker failed: ${e.message}`));
    });
    w.on('exit', (code) => {
      if (this._worker === w) {
        this._log.warn(`engine worker exited with code ${code}`);
        this._failAll(w, new EngineError('worker-exited', `The engine worker stopped (exit code ${code}).`));
      }
    });
    this._worker = w;
    this._log.debug(`engine worker started (${path}, provider ${this._o.executionProvider})`);
    return w;
  }

  private _failAll(w: Worker, error: Error): void {
    if (this._worker === w) {
      this._worker = undefined;
    }
    for (const [id, p] of this._pending) {
      clearTimeout(p.graceTimer);
      if (!p.abandoned) {
        p.reject(error);
      }
      this._pending.delete(id);
    }
  }

  private _request(
    make: (id: number, cancel: SharedArrayBuffer) => ToWorker,
    signal?: AbortSignal,
    onProgress?: (p: GenerateProgress) => void,
  ): Promise<unknown> {
    if (signal?.aborted) {
      return Promise.reject(new CancellationError());
    }
    const w = this._ensureWorker();
    const id = this._nextId++;
    const cancel = new SharedArrayBuffer(4);
    return new Promise<unknown>((resolve, reject) => {
      const pending: Pending = { resolve, reject, onProgress, abandoned: false };
      const onAbort = (): void => {
        if (pending.abandoned || !this._pending.has(id)) {
          return;
        }
        pending.abandoned = true;
        Atomics.store(new Int32Array(cancel), 0, 1);
        w.postMessage({ type: 'cancel', id } satisfies ToWorker);
        reject(new CancellationError());
        pending.graceTimer = setTimeout(() => {
          if (this._pending.has(id) && this._worker === w) {
            this._log.warn(`request ${id} did not stop within ${this._o.cancelGraceMs ?? 2000} ms of cancellation; restarting the engine worker`);
            this._failAll(w, new EngineError('worker-exited', 'The engine worker was restarted because a cancelled request did not stop.'));
            void w.terminate();
          }
        }, this._o.cancelGraceMs ?? 2000);
        pending.graceTimer.unref?.();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = (): void => signal?.removeEventListener('abort', onAbort);
      pending.resolve = (v) => {
        done();
        resolve(v);
      };
      pending.reject = (e) => {
        done();
        reject(e);
      };
      this._pending.set(id, pending);
      w.ref();
      w.postMessage(make(id, cancel));
    });
  }

  private _onMessage(m: FromWorker): void {
    if (m.type === 'log') {
      this._logAt(m.level, m.message);
      return;
    }
    const p = this._pending.get(m.id);
    if (p === undefined) {
      return;
    }
    if (m.type === 'progress') {
      if (!p.abandoned) {
        try {
          p.onProgress?.(m.progress);
        } catch (e) {
          this._log.warn(`progress listener failed: ${(e as Error).message}`);
        }
      }
      return;
    }
    this._pending.delete(m.id);
    clearTimeout(p.graceTimer);
    if (this._pending.size === 0) {
      this._worker?.unref();
    }
    if (p.abandoned) {
      return;
    }
    switch (m.type) {
      case 'result':
        p.resolve(m.candidates);
        break;
      case 'benchResult':
      case 'scoreResult':
        p.resolve(m.result);
        break;
      case 'released':
        p.resolve(undefined);
        break;
      case 'error':
        p.reject(fromErrorPayload(m.error));
        break;
    }
  }

  private _logAt(level: LogLevel, message: string): void {
    switch (level) {
      case 'trace':
        this._log.trace(message);
        break;
      case 'debug':
        this._log.debug(message);
        break;
      case 'info':
        this._log.info(message);
        break;
      case 'warn':
        this._log.warn(message);
        break;
      case 'error':
        this._log.error(message);
        break;
    }
  }
}

/** Size and modification time of a model's card and model file ('' when either is gone). */
async function stampOf(e: ModelEntry): Promise<string> {
  try {
    const [c, m] = await Promise.all([stat(join(e.dir, 'card.json')), stat(e.onnxPath)]);
    return `${c.size}:${c.mtimeMs}:${m.size}:${m.mtimeMs}`;
  } catch {
    return '';
  }
}

function refOf(e: ModelEntry): ModelRef {
  return { id: e.id, onnxPath: e.onnxPath, cardPath: join(e.dir, 'card.json'), card: e.card, refrainVocab: e.refrainVocab };
}
