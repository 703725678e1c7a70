/**
 * The engine worker: bundled by esbuild.mjs to `dist/engineWorker.js` and started by
 * `EngineClient` in a `worker_threads` Worker, so that `InferenceSession.run()` (which blocks
 * its thread for the whole run) never stalls the extension host or the CLI's main thread.
 *
 * - Sessions (`./ortSession`, the only module that loads onnxruntime-node) are created lazily,
 *   one per model file, and released on `release`.
 * - Execution provider `'auto'` tries the GPU providers that can be present (WebGPU, CUDA)
 *   and falls back to CPU, logging which one runs and why the others do not.
 * - Feeds are checked against `session.inputNames`; a missing or corrupt model file gives an
 *   error that names the file.
 * - Cancellation is checked between decode steps (a shared flag set by the client).
 * - The last prompt's K/V rows and one KV cache are kept per model for the next request.
 *
 * When imported on the main thread (tests, benchmark helpers) it only re-exports the session
 * API; the message loop starts only inside the worker.
 */

import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { CancellationError } from '../platform/cancellation';
import { createLevelLogger } from '../platform/logger';
import type { Logger } from '../platform/logger';
import type { ModelShape } from './decoder';
import { toErrorPayload } from './errors';
import { benchDecode, benchLaneSteps } from './benchDecode';
import { generate } from './generate';
import { firstLine, openModel } from './ortSession';
import type { OpenedModel } from './ortSession';
import { PromptCache } from './promptCache';
import { KvCache } from './kvCache';
import { scorePieces } from './scoring';
import type { BenchDecodeResult, BenchDecodeSpec, EngineWorkerData, FromWorker, ModelRef, ToWorker } from './protocol';
import type { GenerateProgress } from './types';

/** A request's KV cache is kept for the next request up to this many rows (8 KiB a row for the shipped models). */
const KEEP_CACHE_ROWS = 4096;

export { OrtStepModel, openModel, providerPlan, shapeOf } from './ortSession';
export type { OpenModelOptions, OpenedModel } from './ortSession';

/** The worker's message loop. */
class EngineWorker {
  private readonly _data: EngineWorkerData;
  private readonly _post: (m: FromWorker) => void;
  private readonly _log: Logger;
  private readonly _models = new Map<string, Promise<OpenedModel>>();
  /** Per model file, the K/V rows of its last prompt (typing extends the prompt a few tokens at a time). */
  private readonly _prompts = new Map<string, PromptCache>();
  /** Per model file, a KV cache the next request decodes into (not kept past {@link KEEP_CACHE_ROWS}). */
  private readonly _caches = new Map<string, KvCache>();
  private readonly _cancelled = new Set<number>();
  private _queue: Promise<void> = Promise.resolve();
  private _running: number | undefined;

  constructor(data: EngineWorkerData, post: (m: FromWorker) => void) {
    this._data = data;
    this._post = post;
    this._log = createLevelLogger((level, message) => post({ type: 'log', level, message }), data.logLevel, 'engine-worker');
  }

  onMessage(msg: ToWorker): void {
    if (msg.type === 'cancel') {
      this._cancelled.add(msg.id);
      if (msg.id !== this._running) {
        // Still queued: answer now, so the client does not wait on the job ahead of it.
        this._post({ type: 'error', id: msg.id, error: toErrorPayload(new CancellationError()) });
      }
      return;
    }
    // Jobs run one at a time, in order.
    this._queue = this._queue.then(() => this._run(msg)).catch(() => undefined);
  }

  private async _run(msg: Exclude<ToWorker, { type: 'cancel' }>): Promise<void> {
    this._running = msg.id;
    try {
      switch (msg.type) {
        case 'generate':
          await this._generate(msg.id, msg.model, msg.request, msg.cancel);
          break;
        case 'benchDecode':
          await this._bench(msg.id, msg.model, msg.spec, msg.cancel);
          break;
        case 'score': {
          const opened = await this._model(msg.model);
          const result = await scorePieces(opened.model, msg.model.card, msg.spec, this._checker(msg.id, msg.cancel));
          this._post({ type: 'scoreResult', id: msg.id, result });
          break;
        }
        case 'release':
          await this._release();
          this._post({ type: 'released', id: msg.id });
          break;
      }
    } catch (e) {
      if (!(e instanceof CancellationError)) {
        this._log.debug(`request ${msg.id} failed: ${firstLine(e)}`);
      }
      this._post({ type: 'error', id: msg.id, error: toErrorPayload(e) });
    } finally {
      this._cancelled.delete(msg.id);
      this._running = undefined;
    }
  }

  private _checker(id: number, cancel: SharedArrayBuffer | undefined): () => void {
    const flag = cancel ? new Int32Array(cancel) : undefined;
    return () => {
      if ((flag !== undefined && Atomics.load(flag, 0) !== 0) || this._cancelled.has(id)) {
        throw new CancellationError();
      }
    };
  }

  private _model(ref: ModelRef): Promise<OpenedModel> {
    let p = this._models.get(ref.onnxPath);
    if (p === undefined) {
      p = openModel(ref.onnxPath, ref.card, {
        executionProvider: this._data.executionProvider,
        threads: this._data.threads,
        log: this._log,
      });
      this._models.set(ref.onnxPath, p);
      p.catch(() => this._models.delete(ref.onnxPath));
    }
    return p;
  }

  private async _generate(id: number, ref: ModelRef, request: Parameters<typeof generate>[1], cancel?: SharedArrayBuffer): Promise<void> {
    const check = this._checker(id, cancel);
    check();
    let lastSent = 0;
    let lastPhase: string | undefined;
    const onProgress = (p: GenerateProgress): void => {
      const now = performance.now();
      if (p.phase !== lastPhase || now - lastSent >= 100) {
        lastSent = now;
        lastPhase = p.phase;
        this._post({ type: 'progress', id, progress: p });
      }
    };
    onProgress({ candidate: 0, bars: 0, tokens: 0, phase: 'load' });
    const opened = await this._model(ref);
    const t0 = performance.now();
    const candidates = await generate(
      {
        model: opened.model,
        card: ref.card,
        cardPath: ref.cardPath,
        refrainVocab: ref.refrainVocab,
        checkCancelled: check,
        onProgress,
        log: this._log,
        promptCache: this._promptCache(ref.onnxPath),
        kvCache: this._kvCache(ref.onnxPath, opened.model.shape),
      },
      request,
    );
    const kept = this._caches.get(ref.onnxPath);
    if (kept !== undefined && kept.capacity > KEEP_CACHE_ROWS) {
      this._caches.delete(ref.onnxPath);
    }
    this._log.debug(`request ${id}: ${candidates.length} candidate(s) in ${(performance.now() - t0).toFixed(0)} ms`);
    this._post({ type: 'result', id, candidates });
  }

  private _kvCache(path: string, shape: ModelShape): KvCache {
    let c = this._caches.get(path);
    if (c === undefined) {
      c = new KvCache(shape.layers, shape.heads, shape.headDim, 256);
      this._caches.set(path, c);
    }
    return c;
  }

  private _promptCache(path: string): PromptCache {
    let c = this._prompts.get(path);
    if (c === undefined) {
      c = new PromptCache();
      this._prompts.set(path, c);
    }
    return c;
  }

  private async _bench(id: number, ref: ModelRef, spec: BenchDecodeSpec, cancel?: SharedArrayBuffer): Promise<void> {
    const check = this._checker(id, cancel);
    const baseRss = process.memoryUsage().rss;
    let peakRss = baseRss;
    const sample = (): void => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    };
    const fresh = !this._models.has(ref.onnxPath);
    const opened = await this._model(ref);
    sample();
    const rows = await benchDecode(opened.model, ref.card, spec, check, sample);
    const laneSteps = spec.laneSteps !== undefined && spec.laneSteps > 1 ? await benchLaneSteps(opened.model, ref.card, spec, spec.laneSteps, check) : undefined;
    const result: BenchDecodeResult = { provider: opened.provider, loadMs: fresh ? opened.loadMs : Number.NaN, rows, laneSteps, peakRss, baseRss };
    this._post({ type: 'benchResult', id, result });
  }

  private async _release(): Promise<void> {
    const all = [...this._models.values()];
    this._models.clear();
    this._prompts.clear();
    this._caches.clear();
    for (const p of all) {
      try {
        const m = await p;
        await m.model.release();
      } catch {
        // a model that failed to load has nothing to release
      }
    }
  }
}

function isEngineWorkerData(d: unknown): d is EngineWorkerData {
  return typeof d === 'object' && d !== null && (d as { refrainEngineWorker?: unknown }).refrainEngineWorker === true;
}

if (!isMainThread && parentPort && isEngineWorkerData(workerData)) {
  const port = parentPort;
  const w = new EngineWorker(workerData, (m) => port.postMessage(m));
  port.on('message', (m: ToWorker) => w.onMessage(m));
}
