/**
 * onnxruntime-node sessions for the engine: opening a model file on the best execution provider
 * that can run it ({@link openModel}, {@link providerPlan}), reading its shape from the card
 * ({@link shapeOf}), and running decode steps with checked feeds and reused buffers
 * ({@link OrtStepModel}). The only module that loads onnxruntime-node; the engine worker
 * (`./worker`) runs it off the extension host's thread, and tests and benchmark helpers import
 * it directly.
 */

process.env.ORT_DISABLE_TELEMETRY = '1';

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type * as OrtModule from 'onnxruntime-node';
import type { Logger } from '../platform/logger';
import type { ModelCard } from './card';
import type { ModelShape, StepInputs, StepModel, StepOutputs } from './decoder';
import { EngineError } from './errors';
import { assertFiniteLogits } from './finite';
import { END_UNKNOWN, NO_SOURCE } from './structure';
import type { ExecutionProviderChoice } from './types';

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

export function firstLine(e: unknown): string {
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
