/**
 * The engine worker: the only module that loads onnxruntime-node. Bundled by esbuild.mjs to
 * `dist/engineWorker.js` and started by `EngineClient` in a `worker_threads` Worker, so that
 * `InferenceSession.run()` (which blocks its thread for the whole run) never stalls the
 * extension host or the CLI's main thread.
 *
 * - Sessions are created lazily, one per model file, and released on `release`.
 * - Execution provider `'auto'` tries the GPU providers that can be present (WebGPU, CUDA)
 *   and falls back to CPU, logging which one runs and why the others do not.
 * - Feeds are checked against `session.inputNames`; a missing or corrupt model file gives an
 *   error that names the file.
 * - Cancellation is checked between decode steps (a shared flag set by the client).
 *
 * When imported on the main thread (tests, benchmark helpers) it only exports
 * {@link openModel} and {@link OrtStepModel}; the message loop starts only inside the worker.
 */

process.env.ORT_DISABLE_TELEMETRY = '1';

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type * as OrtModule from 'onnxruntime-node';
import { CancellationError } from '../platform/cancellation';
import { createLevelLogger } from '../platform/logger';
import type { Logger } from '../platform/logger';
import type { ModelCard } from './card';
import type { ModelShape, StepInputs, StepModel, StepOutputs } from './decoder';
import { EngineError, toErrorPayload } from './errors';
import { assertFiniteLogits } from './finite';
import { benchDecode } from './benchDecode';
import { generate } from './generate';
import { PromptCache } from './promptCache';
import { KvCache } from './kvCache';
import { END_UNKNOWN, NO_SOURCE } from './structure';
import { scorePieces } from './scoring';
import type { BenchDecodeResult, BenchDecodeSpec, EngineWorkerData, FromWorker, ModelRef, ToWorker } from './protocol';
import type { ExecutionProviderChoice, GenerateProgress } from './types';

// Loaded after ORT_DISABLE_TELEMETRY is set (an import would be hoisted above it), so that
// onnxruntime never writes its telemetry database: no data leaves the user's machine.
const ort = require('onnxruntime-node') as typeof OrtModule;

/** A loaded model: its session, the provider that runs it and how long loading took. */
export interface OpenedModel {
  session: OrtModule.InferenceSession;
  provider: string;
  loadMs: number;
  model: OrtStepModel;
}

/** Options of {@link openModel}. */
export interface OpenModelOptions {
  executionProvider: ExecutionProviderChoice;
  threads?: number;
  log?: Logger;
}

const LIB_VULKAN = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1', '/usr/lib64/libvulkan.so.1', '/usr/lib/libvulkan.so.1'];

/** The providers to try for a choice, with the reasons others are skipped. */
export function providerPlan(choice: ExecutionProviderChoice): { order: string[]; skipped: string[] } {
  if (choice !== 'auto') {
    return { order: [choice], skipped: [] };
  }
  const order: string[] = [];
  const skipped: string[] = [];
  let backends: { name: string; bundled: boolean }[] = [];
  try {
    backends = ort.listSupportedBackends();
  } catch {
    backends = [{ name: 'cpu', bundled: true }];
  }
  const has = (name: string): { name: string; bundled: boolean } | undefined => backends.find((b) => b.name === name);
  const webgpu = has('webgpu');
  if (!webgpu) {
    skipped.push('webgpu: not in this onnxruntime-node build');
  } else if (process.platform === 'linux' && !LIB_VULKAN.some((p) => existsSync(p))) {
    skipped.push('webgpu: libvulkan.so.1 not found (WebGPU needs Vulkan and a GPU driver)');
  } else {
    order.push('webgpu');
  }
  const cuda = has('cuda');
  let cudaLib = false;
  try {
    const bin = join(dirname(require.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
    cudaLib = existsSync(join(bin, 'libonnxruntime_providers_cuda.so'));
  } catch {
    cudaLib = false;
  }
  if (!cuda) {
    skipped.push('cuda: not in this onnxruntime-node build');
  } else if (!cuda.bundled && !cudaLib) {
    skipped.push('cuda: provider library not installed (reinstall onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12 on a CUDA machine)');
  } else {
    order.push('cuda');
  }
  order.push('cpu');
  return { order, skipped };
}

function firstLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0].slice(0, 300);
}

/**
 * Opens a model file with the chosen execution provider. Throws `EngineError('model-file')`
 * naming the file when it is missing or onnxruntime cannot load it.
 */
export async function openModel(path: string, card: ModelCard, options: OpenModelOptions): Promise<OpenedModel> {
  const log = options.log;
  if (!existsSync(path)) {
    throw new EngineError('model-file', `${path}: the model file is missing.`);
  }
  if (!statSync(path).isFile()) {
    throw new EngineError('model-file', `${path}: not a file.`);
  }
  const want = card.onnx.sha256;
  if (typeof want === 'string' && want.length === 64) {
    const got = createHash('sha256').update(readFileSync(path)).digest('hex');
    if (got !== want.toLowerCase()) {
      throw new EngineError('model-file', `${path}: its SHA-256 does not match its card; the file is damaged or belongs to another model.`);
    }
  }
  const { order, skipped } = providerPlan(options.executionProvider);
  for (const s of skipped) {
    log?.info(`execution provider ${s}`);
  }
  let lastError: unknown;
  for (const ep of order) {
    const t0 = performance.now();
    try {
      const session = await ort.InferenceSession.create(path, {
        executionProviders: ep === 'cpu' ? ['cpu'] : [ep, 'cpu'],
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3,
        ...(options.threads !== undefined ? { intraOpNumThreads: options.threads } : {}),
      });
      const loadMs = performance.now() - t0;
      log?.info(`loaded ${path} on ${ep} in ${loadMs.toFixed(0)} ms`);
      return { session, provider: ep, loadMs, model: new OrtStepModel(session, card, path) };
    } catch (e) {
      lastError = e;
      const msg = firstLine(e);
      if (ep === 'cpu' || options.executionProvider !== 'auto') {
        break;
      }
      log?.info(`execution provider ${ep} unavailable (${msg}); trying the next one`);
    }
  }
  const msg = firstLine(lastError);
  if (options.executionProvider !== 'auto' && options.executionProvider !== 'cpu') {
    throw new EngineError('runtime', `The ${options.executionProvider} execution provider could not load ${path}: ${msg}`);
  }
  throw new EngineError('model-file', `${path}: onnxruntime cannot load this model file (${msg}). It is damaged or not a Refrain decode model.`);
}

/** The shapes of a model from its card (and the session's input names). */
export function shapeOf(card: ModelCard, inputNames: readonly string[]): ModelShape {
  const logits = card.io.outputs.find((o) => o.name === 'logits');
  const v = card.vocab?.size ?? (typeof logits?.shape[1] === 'number' ? logits.shape[1] : 0);
  return {
    layers: card.model.layers,
    heads: card.model.heads,
    headDim: card.model.headDim,
    vocabSize: v,
    sing: inputNames.includes('ssm_idx'),
    sourceBars: inputNames.includes('sbar'),
    endEmbed: inputNames.includes('toend'),
  };
}

/** A request's KV cache is kept for the next request up to this many rows (8 KiB a row for the shipped models). */
const KEEP_CACHE_ROWS = 4096;

/** Steps of at most this many tokens reuse their token-input tensors and stage their new K/V rows. */
const SMALL_STEP = 8;

/** Reused tensors of a step size (see {@link OrtStepModel}). */
interface SmallStep {
  /** tokens, bar, pos, tpos, sbar, toend. */
  ints: { name: string; data: Int32Array; tensor: OrtModule.Tensor }[];
  /** new_k_0, new_v_0, new_k_1, ... */
  rows: { name: string; data: Float32Array; tensor: OrtModule.Tensor }[];
}

/** A {@link StepModel} backed by an onnxruntime session of a `refrain-decode-1` model. */
export class OrtStepModel implements StepModel {
  readonly shape: ModelShape;
  private readonly _session: OrtModule.InferenceSession;
  private readonly _path: string;
  private _checked = false;
  private readonly _buffers = new WeakMap<Float32Array, OrtModule.Tensor>();

  constructor(session: OrtModule.InferenceSession, card: ModelCard, path: string) {
    this._session = session;
    this._path = path;
    this.shape = shapeOf(card, session.inputNames);
    const need = ['tokens', 'bar', 'pos', 'tpos', 'logits'];
    const names = [...session.inputNames, ...session.outputNames];
    const missing = need.filter((n) => !names.includes(n));
    if (missing.length > 0) {
      throw new EngineError('model-file', `${path}: not a Refrain decode model (no ${missing.join(', ')}).`);
    }
  }

  private _check(feeds: Record<string, OrtModule.Tensor>): void {
    const want = new Set(this._session.inputNames);
    const given = Object.keys(feeds);
    const missing = [...want].filter((n) => !(n in feeds));
    const extra = given.filter((n) => !want.has(n));
    if (missing.length > 0 || extra.length > 0) {
      throw new EngineError(
        'bad-feed',
        `${this._path}: the model's inputs do not match its card` +
          `${missing.length > 0 ? `; missing: ${missing.join(', ')}` : ''}${extra.length > 0 ? `; not inputs of the model: ${extra.join(', ')}` : ''}.`,
      );
    }
    this._checked = true;
  }

  /**
   * Per small step size, the token inputs' tensors and staging outputs for the new K/V rows, made
   * once and refilled each step (a step of a few tokens is dominated by fixed costs, among them
   * making ~20 tensor objects). Used by one run at a time.
   */
  private readonly _small = new Map<number, SmallStep>();
  private _inflight = 0;

  private _smallStep(s: number): SmallStep | undefined {
    if (this._inflight > 0 || s > SMALL_STEP) {
      return undefined;
    }
    let st = this._small.get(s);
    if (st === undefined) {
      const { heads, headDim, layers } = this.shape;
      const ints = ['tokens', 'bar', 'pos', 'tpos', 'sbar', 'toend'].map((name) => {
        const data = new Int32Array(s);
        return { name, data, tensor: new ort.Tensor('int32', data, [s]) };
      });
      const rows: { name: string; data: Float32Array; tensor: OrtModule.Tensor }[] = [];
      for (let l = 0; l < layers; l++) {
        for (const kv of ['k', 'v']) {
          const data = new Float32Array(s * heads * headDim);
          rows.push({ name: `new_${kv}_${l}`, data, tensor: new ort.Tensor('float32', data, [s, heads, headDim]) });
        }
      }
      st = { ints, rows };
      this._small.set(s, st);
    }
    return st;
  }

  async run(inputs: StepInputs): Promise<StepOutputs> {
    const small = this._smallStep(inputs.tokens.length);
    this._inflight++;
    try {
      return await this._run(inputs, small);
    } finally {
      this._inflight--;
    }
  }

  private async _run(inputs: StepInputs, small: SmallStep | undefined): Promise<StepOutputs> {
    const s = inputs.tokens.length;
    const { heads, headDim, layers, sing } = this.shape;
    const cap = inputs.cache.capacity;
    const sbar = inputs.sbar ?? new Int32Array(s).fill(NO_SOURCE);
    const toend = inputs.toend ?? new Int32Array(s).fill(END_UNKNOWN);
    const feeds: Record<string, OrtModule.Tensor> = {};
    if (small) {
      const values = [inputs.tokens, inputs.bar, inputs.pos, inputs.tpos, sbar, toend];
      for (let i = 0; i < 6; i++) {
        const t = small.ints[i];
        t.data.set(values[i]);
        feeds[t.name] = t.tensor;
      }
    } else {
      feeds.tokens = new ort.Tensor('int32', inputs.tokens, [s]);
      feeds.bar = new ort.Tensor('int32', inputs.bar, [s]);
      feeds.pos = new ort.Tensor('int32', inputs.pos, [s]);
      feeds.tpos = new ort.Tensor('int32', inputs.tpos, [s]);
      feeds.sbar = new ort.Tensor('int32', sbar, [s]);
      feeds.toend = new ort.Tensor('int32', toend, [s]);
    }
    if (!this.shape.sourceBars) {
      delete feeds.sbar;
    }
    if (!this.shape.endEmbed) {
      delete feeds.toend;
    }
    // Layers with the same plan share its kidx/bias tensors; the cache buffers' tensors are
    // made once per buffer (onnxruntime reads a typed array in place, whatever its size).
    const planTensors = new Map<object, [OrtModule.Tensor, OrtModule.Tensor]>();
    for (let l = 0; l < layers; l++) {
      const lp = inputs.plan.layers[l];
      feeds[`past_k_${l}`] = this._bufferTensor(inputs.cache.keys(l), cap);
      feeds[`past_v_${l}`] = this._bufferTensor(inputs.cache.values(l), cap);
      let pt = planTensors.get(lp);
      if (pt === undefined) {
        pt = [new ort.Tensor('int32', lp.kidx, [lp.kidx.length]), new ort.Tensor('float32', lp.bias, [s, lp.kidx.length + s])];
        planTensors.set(lp, pt);
      }
      feeds[`kidx_${l}`] = pt[0];
      feeds[`bias_${l}`] = pt[1];
    }
    if (sing) {
      const sp = inputs.plan.sing;
      if (!sp) {
        throw new EngineError('bad-feed', `${this._path}: the model has a template head but the step has no template inputs.`);
      }
      const m = sp.idx.length;
      feeds.ssm_idx = new ort.Tensor('int32', sp.idx, [m]);
      feeds.ssm_row = new ort.Tensor('float32', sp.row, [s, m + s]);
      feeds.ssm_mask = new ort.Tensor('float32', sp.mask, [s, m + s]);
    }
    if (!this._checked) {
      this._check(feeds);
    }
    // Outputs: the new K/V rows go straight into the cache rows they belong to (onnxruntime
    // writes a pre-allocated output in place), logits into a fresh buffer.
    const row = inputs.row;
    const inCache = row !== undefined && row >= 0 && (row + s) * inputs.cache.rowSize <= inputs.cache.keys(0).length;
    let fetches: Record<string, OrtModule.Tensor | null> | undefined;
    const rs = inputs.cache.rowSize;
    if (inCache && small) {
      // Small steps: into the staging outputs, copied to the cache rows below.
      fetches = { logits: null };
      for (const t of small.rows) {
        fetches[t.name] = t.tensor;
      }
    } else if (inCache) {
      fetches = { logits: null };
      for (let l = 0; l < layers; l++) {
        fetches[`new_k_${l}`] = new ort.Tensor('float32', inputs.cache.keys(l).subarray(row * rs, (row + s) * rs), [s, heads, headDim]);
        fetches[`new_v_${l}`] = new ort.Tensor('float32', inputs.cache.values(l).subarray(row * rs, (row + s) * rs), [s, heads, headDim]);
      }
    }
    let out: OrtModule.InferenceSession.OnnxValueMapType;
    try {
      out = await (fetches ? this._session.run(feeds, fetches) : this._session.run(feeds));
    } catch (e) {
      const dims = Object.entries(feeds)
        .map(([k, t]) => `${k}:${t.type}[${t.dims.join(',')}]`)
        .join(' ');
      throw new EngineError('runtime', `${this._path}: the model failed on a step of ${s} token(s) (${firstLine(e)}). Feeds: ${dims}`);
    }
    const f = (name: string): Float32Array => {
      const t = out[name];
      if (!t || t.type !== 'float32') {
        throw new EngineError('runtime', `${this._path}: output ${name} is missing or not float32.`);
      }
      return t.data as Float32Array;
    };
    const newK: Float32Array[] = [];
    const newV: Float32Array[] = [];
    if (inCache && small) {
      for (let l = 0; l < layers; l++) {
        inputs.cache.keys(l).set(small.rows[2 * l].data, (row as number) * rs);
        inputs.cache.values(l).set(small.rows[2 * l + 1].data, (row as number) * rs);
      }
    }
    if (!inCache) {
      for (let l = 0; l < layers; l++) {
        newK.push(f(`new_k_${l}`));
        newV.push(f(`new_v_${l}`));
      }
    }
    const logits = f('logits');
    assertFiniteLogits(logits, this._path);
    return { logits, newK, newV, inCache };
  }

  /** The tensor over a whole cache buffer, made once per buffer (the cache replaces a buffer when it grows). */
  private _bufferTensor(buf: Float32Array, rows: number): OrtModule.Tensor {
    let t = this._buffers.get(buf);
    if (t === undefined) {
      t = new ort.Tensor('float32', buf, [rows, this.shape.heads, this.shape.headDim]);
      this._buffers.set(buf, t);
    }
    return t;
  }

  /** Releases the session. */
  async release(): Promise<void> {
    await this._session.release();
  }
}

// ---------------------------------------------------------------------------- worker side


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
    const result: BenchDecodeResult = { provider: opened.provider, loadMs: fresh ? opened.loadMs : Number.NaN, rows, peakRss, baseRss };
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
