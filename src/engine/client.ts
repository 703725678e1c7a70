/**
 * The engine on the main thread: finds models, starts the inference worker
 * (`dist/engineWorker.js`) on first use, sends it typed requests with ids, forwards its
 * logs and progress, and cancels. A cancelled request rejects at once with a
 * `CancellationError` (no partial result); the worker stops at its next decode step. If it has
 * not answered within `cancelGraceMs`, it is retired: later requests go to a fresh worker, and
 * the old one is stopped once it has finished what it was running. A worker is never terminated
 * in the middle of a model step: onnxruntime-node aborts the whole process when its thread is
 * torn down inside a native run (`terminate called after throwing an instance of 'Napi::Error'`).
 *
 * A request for several candidates on the CPU can be split over two workers (`EngineOptions.parallel`;
 * by default on machines with four or more cores):
 * each decodes half of the candidates side by side in one batch, and the parts are merged as the
 * one worker would have returned them (candidate c always has seed + c; infill keeps the best
 * by the same ranking). The second worker starts on the first such request.
 *
 * Uses Node's `worker_threads`; no vscode.
 */

import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
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
import { poolOf } from './validate';
import type { Candidate, EngineApi, EngineOptions, GenerateProgress, GenerateRequest, ModelInfo } from './types';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  onProgress?: (p: GenerateProgress) => void;
  /** Set when the caller gave up (cancelled): the answer is awaited only to know the worker is free. */
  abandoned: boolean;
  graceTimer?: NodeJS.Timeout;
  /** The worker the request went to. */
  worker?: Worker;
  /** The request's cancellation flag (shared with the worker). */
  cancel?: SharedArrayBuffer;
}

/** Cores from which a request's candidates are split over two workers by default (see {@link EngineClient}). */
export const SPLIT_MIN_CORES = 4;

/** The worker slots: 0 runs every request, 1 the second half of a split request's candidates. */
type Slot = 0 | 1;

/** The default worker script: next to the bundle that contains this code (dist/). */
export function defaultWorkerPath(): string {
  return join(__dirname, 'engineWorker.js');
}

/** The generation engine's client; see the module comment. Implements {@link EngineApi}. */
export class EngineClient implements EngineApi {
  private readonly _o: EngineOptions;
  private readonly _log: Logger;
  private readonly _workers: (Worker | undefined)[] = [undefined, undefined];
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
    const pool = typeof req.candidates === 'number' && req.task !== undefined ? poolOf(req) : 1;
    if (!this._splits() || req.poolPart !== undefined || !(pool >= 2)) {
      return (await this._request(
        (id, cancel) => ({ type: 'generate', id, model: refOf(entry), request: req, cancel }),
        opts.signal,
        opts.onProgress,
      )) as Candidate[];
    }
    return this._generateSplit(entry, req, pool, opts);
  }

  /**
   * Whether multi-candidate requests are split over two workers: on the CPU, by default where the
   * machine has {@link SPLIT_MIN_CORES} or more cores. Each worker pays a step's fixed cost, so a
   * split request costs ~1.5x the CPU time of one batch; on two cores, shared with the editor, it
   * saved ~7% of the wall time (`npm run bench -- --workers 1|2`, docs/performance.md).
   */
  private _splits(): boolean {
    return this._o.executionProvider === 'cpu' && (this._o.parallel ?? availableParallelism() >= SPLIT_MIN_CORES);
  }

  /** One request's candidates in two halves, one per worker, merged (see the module comment). */
  private async _generateSplit(
    entry: ModelEntry,
    req: GenerateRequest,
    pool: number,
    opts: { signal?: AbortSignal; onProgress?: (p: GenerateProgress) => void },
  ): Promise<Candidate[]> {
    const half = Math.ceil(pool / 2);
    const parts = [
      { from: 0, count: half },
      { from: half, count: pool - half },
    ];
    // One part failing stops the other; the caller's cancellation stops both.
    const stop = new AbortController();
    const onAbort = (): void => stop.abort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    // Progress in the one-candidate-after-another shape over both parts (bars per candidate unknown for a form: candidates only).
    const task = req.task;
    const bars = task.kind === 'infill' ? task.toBar - task.fromBar : task.kind === 'continue' ? task.bars : 0;
    const seen = [0, 0].map(() => ({ candidate: 0, bars: 0, tokens: 0 }));
    const progress = (k: number, p: GenerateProgress): void => {
      seen[k] = { candidate: p.candidate, bars: p.bars, tokens: p.tokens };
      const tokens = seen[0].tokens + seen[1].tokens;
      if (bars > 0) {
        const total = seen[0].candidate * bars + seen[0].bars + seen[1].candidate * bars + seen[1].bars;
        const candidate = Math.min(pool - 1, Math.floor(total / bars));
        opts.onProgress?.({ candidate, bars: total - candidate * bars, tokens, phase: p.phase });
      } else {
        opts.onProgress?.({ candidate: Math.min(pool - 1, seen[0].candidate + seen[1].candidate), bars: Math.max(seen[0].bars, seen[1].bars), tokens, phase: p.phase });
      }
    };
    try {
      const results = await Promise.all(
        parts.map(async (part, k) => {
          try {
            return (await this._request(
              (id, cancel) => ({ type: 'generate', id, model: refOf(entry), request: { ...req, poolPart: part }, cancel }),
              stop.signal,
              opts.onProgress ? (p) => progress(k, p) : undefined,
              k as Slot,
            )) as Candidate[];
          } catch (e) {
            stop.abort();
            throw e;
          }
        }),
      );
      const all = [...results[0], ...results[1]];
      if (req.task.kind !== 'infill') {
        return all;
      }
      // generate's ranking: by the likelihood of the kept bars after the span, else the span's own.
      const key = (c: Candidate): number => c.metrics.suffixLogLikelihood ?? c.logLikelihood;
      return all.sort((a, b) => key(b) - key(a) || a.seed - b.seed).slice(0, req.candidates);
    } catch (e) {
      if (opts.signal?.aborted) {
        throw new CancellationError();
      }
      throw e;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
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
    for (const [id, p] of this._pending) {
      // Running requests stop at their next step, so that the workers go idle and can be stopped.
      if (p.cancel !== undefined) {
        Atomics.store(new Int32Array(p.cancel), 0, 1);
      }
      if (!p.abandoned) {
        p.reject(new CancellationError('The engine was disposed.'));
        p.abandoned = true;
      }
      this._pending.delete(id);
    }
    const workers = this._workers.filter((w): w is Worker => w !== undefined);
    this._workers.fill(undefined);
    await Promise.all(workers.map((w) => this._release(w)));
  }

  /**
   * Asks a worker to release its sessions and stops it once it has (it answers after the job it is
   * running). Waits at most `cancelGraceMs`; a worker still busy then is left to finish and stopped
   * when it answers (never torn down inside a model step; see the module comment).
   */
  private async _release(w: Worker): Promise<void> {
    const id = this._nextId++;
    let answered = false;
    const released = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this._o.cancelGraceMs ?? 2000);
      const done = (): void => {
        answered = true;
        clearTimeout(timer);
        resolve();
        void w.terminate();
      };
      this._pending.set(id, { resolve: done, reject: done, abandoned: false, worker: w });
    });
    w.ref();
    w.postMessage({ type: 'release', id } satisfies ToWorker);
    await released;
    if (!answered) {
      this._log.warn(`an engine worker is still busy ${this._o.cancelGraceMs ?? 2000} ms after it was asked to stop; it is stopped when it finishes`);
      w.unref();
    }
  }

  /** Sends later requests to a fresh worker and stops `w` once it has finished what it is running. */
  private _retire(w: Worker, error: Error): void {
    this._failAll(w, error);
    void this._release(w);
  }

  private _ensureWorker(slot: Slot): Worker {
    if (this._disposed) {
      throw new EngineError('worker-exited', 'The engine has been disposed.');
    }
    const running = this._workers[slot];
    if (running !== undefined) {
      return running;
    }
    const path = this._o.workerPath ?? defaultWorkerPath();
    const data: EngineWorkerData = {
      refrainEngineWorker: true,
      executionProvider: this._o.executionProvider,
      // Two workers share the cores: one intra-op thread each unless set (a decode step's kernels are
      // too small to gain from more; onnxruntime's own choice is one spinning thread per core).
      threads: this._o.threads ?? (this._splits() ? 1 : undefined),
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
      if (this._workers[slot] === w) {
        this._log.warn(`engine worker ${slot} exited with code ${code}`);
        this._failAll(w, new EngineError('worker-exited', `The engine worker stopped (exit code ${code}).`));
      }
    });
    this._workers[slot] = w;
    this._log.debug(`engine worker ${slot} started (${path}, provider ${this._o.executionProvider})`);
    return w;
  }

  /** Rejects the requests of a worker that failed or was stopped, and forgets it. */
  private _failAll(w: Worker, error: Error): void {
    const slot = this._workers.indexOf(w);
    if (slot >= 0) {
      this._workers[slot] = undefined;
    }
    for (const [id, p] of this._pending) {
      if (p.worker !== w) {
        continue;
      }
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
    slot: Slot = 0,
  ): Promise<unknown> {
    if (signal?.aborted) {
      return Promise.reject(new CancellationError());
    }
    const w = this._ensureWorker(slot);
    const id = this._nextId++;
    const cancel = new SharedArrayBuffer(4);
    return new Promise<unknown>((resolve, reject) => {
      const pending: Pending = { resolve, reject, onProgress, abandoned: false, worker: w, cancel };
      const onAbort = (): void => {
        if (pending.abandoned || !this._pending.has(id)) {
          return;
        }
        pending.abandoned = true;
        Atomics.store(new Int32Array(cancel), 0, 1);
        w.postMessage({ type: 'cancel', id } satisfies ToWorker);
        reject(new CancellationError());
        pending.graceTimer = setTimeout(() => {
          if (this._pending.has(id) && this._workers.includes(w)) {
            this._log.warn(`request ${id} did not stop within ${this._o.cancelGraceMs ?? 2000} ms of cancellation; later requests go to a fresh engine worker`);
            this._retire(w, new EngineError('worker-exited', 'The engine worker was restarted because a cancelled request did not stop.'));
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
    if (p.worker !== undefined && ![...this._pending.values()].some((q) => q.worker === p.worker)) {
      p.worker.unref();
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
