/**
 * Decode steps on an onnxruntime session ({@link OrtStepModel}): feeds checked against the
 * model's inputs, token inputs and staging outputs reused for small steps, new K/V rows written
 * straight into the cache, and the two ways a decode graph reads the cache:
 *
 * - 'rows-1' graphs (`rows_k_l`, `rows_v_l`, `ssm_v` inputs) take the rows the plan allows,
 *   gathered and kept from step to step by `./rowViews` (a step copies only the rows that
 *   changed);
 * - earlier graphs ('fused-1', 'functions-1': `past_k_l`, `kidx_l`, `ssm_idx`) take the whole
 *   cache buffers (read in place) and gather inside the graph.
 *
 * onnxruntime-node itself is loaded by `./ortSession`, which passes its `Tensor` class in.
 */

import type * as OrtModule from 'onnxruntime-node';
import type { ModelCard } from './card';
import type { ModelShape, StepInputs, StepModel, StepOutputs } from './decoder';
import { EngineError } from './errors';
import { assertFiniteLogits } from './finite';
import type { KvCache } from './kvCache';
import { RowViews } from './rowViews';
import { END_UNKNOWN, NO_SOURCE } from './structure';

type Tensor = OrtModule.Tensor;
type TensorCtor = typeof OrtModule.Tensor;
type Fetches = Record<string, Tensor | null>;

/** What {@link OrtStepModel} needs of a session: onnxruntime-common's `InferenceSession`, or `./ortSession`'s direct one. */
export interface StepSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, Tensor>, fetches?: Fetches): Promise<Record<string, OrtModule.OnnxValue>> | Record<string, OrtModule.OnnxValue>;
  release(): Promise<void>;
  /** Whether `run` returns synchronously (then {@link OrtStepModel} yields to the event loop every {@link YIELD_MS}). */
  readonly sync?: boolean;
}

/**
 * With a synchronous session, a decode never leaves its microtask chain: {@link OrtStepModel.run}
 * lets the worker's event loop turn (messages: a new request, a cancellation of a queued one)
 * before a step once this long has passed since it last did.
 */
export const YIELD_MS = 4;

/** The shapes of a model from its card (and the session's input names). */
export function shapeOf(card: ModelCard, inputNames: readonly string[]): ModelShape {
  const logits = card.io.outputs.find((o) => o.name === 'logits');
  const v = card.vocab?.size ?? (typeof logits?.shape[1] === 'number' ? logits.shape[1] : 0);
  return {
    layers: card.model.layers,
    heads: card.model.heads,
    headDim: card.model.headDim,
    vocabSize: v,
    sing: inputNames.includes('ssm_idx') || inputNames.includes('ssm_v'),
    sourceBars: inputNames.includes('sbar'),
    endEmbed: inputNames.includes('toend'),
  };
}

export function firstLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0].slice(0, 300);
}

/** Steps of at most this many tokens reuse their token-input tensors and stage their new K/V rows. */
const SMALL_STEP = 8;

interface Staged {
  name: string;
  data: Float32Array;
  tensor: Tensor;
}

/** Reused tensors of a step size (see {@link OrtStepModel}). */
interface SmallStep {
  /** tokens, bar, pos, tpos, sbar, toend. */
  ints: { name: string; data: Int32Array; tensor: Tensor }[];
  /** new_k_0, new_v_0, new_k_1, ... */
  rows: Staged[];
}

/** Per layer, the last rows tensors of a 'rows-1' step (reused while the buffers and the slot count hold). */
interface RowsTensors {
  keys: Float32Array;
  size: number;
  k: Tensor;
  v: Tensor;
  bias: Float32Array;
  b: Tensor;
}

/** A {@link StepModel} backed by an onnxruntime session of a `refrain-decode-1` model. */
export class OrtStepModel implements StepModel {
  readonly shape: ModelShape;
  /** Whether the graph takes the plan's rows ('rows-1') rather than the whole cache. */
  readonly rowsGraph: boolean;
  private readonly _session: StepSession;
  private readonly _path: string;
  private readonly _T: TensorCtor;
  private _checked = false;
  private readonly _buffers = new WeakMap<Float32Array, Tensor>();
  private readonly _views = new WeakMap<KvCache, RowViews>();
  private readonly _rowsTensors = new WeakMap<RowViews, (RowsTensors | undefined)[]>();
  /** The last step's `ssm_v` (see {@link OrtStepModel._summaryValues}). */
  private _ssmV: { cache: KvCache; idx: Int32Array; ver: Uint32Array; tensor: Tensor } | undefined;
  /** The layer of the SING template head (its last head's values are `ssm_v`). */
  private readonly _singLayer: number;

  constructor(session: StepSession, card: ModelCard, path: string, tensor: TensorCtor) {
    this._session = session;
    this._path = path;
    this._T = tensor;
    this.shape = shapeOf(card, session.inputNames);
    this.rowsGraph = session.inputNames.includes('rows_k_0');
    this._singLayer = Math.max(0, card.plan.layers.findIndex((l) => l.sing === true));
    const need = ['tokens', 'bar', 'pos', 'tpos', 'logits'];
    const names = [...session.inputNames, ...session.outputNames];
    const missing = need.filter((n) => !names.includes(n));
    if (missing.length > 0) {
      throw new EngineError('model-file', `${path}: not a Refrain decode model (no ${missing.join(', ')}).`);
    }
  }

  /** The rows kept for a cache ('rows-1' graphs; undefined before its first step). */
  rowViews(cache: KvCache): RowViews | undefined {
    return this._views.get(cache);
  }

  private _check(feeds: Record<string, Tensor>): void {
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
        return { name, data, tensor: new this._T('int32', data, [s]) };
      });
      const rows: Staged[] = [];
      for (let l = 0; l < layers; l++) {
        for (const kv of ['k', 'v']) {
          const data = new Float32Array(s * heads * headDim);
          rows.push({ name: `new_${kv}_${l}`, data, tensor: new this._T('float32', data, [s, heads, headDim]) });
        }
      }
      st = { ints, rows };
      this._small.set(s, st);
    }
    return st;
  }

  private _lastYield = 0;

  async run(inputs: StepInputs): Promise<StepOutputs> {
    if (this._session.sync === true && performance.now() - this._lastYield > YIELD_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      this._lastYield = performance.now();
    }
    const small = this._smallStep(inputs.tokens.length);
    this._inflight++;
    try {
      return await this._run(inputs, small);
    } finally {
      this._inflight--;
    }
  }

  private _tokenFeeds(inputs: StepInputs, small: SmallStep | undefined, feeds: Record<string, Tensor>): void {
    const s = inputs.tokens.length;
    const sbar = inputs.sbar ?? new Int32Array(s).fill(NO_SOURCE);
    const toend = inputs.toend ?? new Int32Array(s).fill(END_UNKNOWN);
    const values = [inputs.tokens, inputs.bar, inputs.pos, inputs.tpos, sbar, toend];
    const names = ['tokens', 'bar', 'pos', 'tpos', 'sbar', 'toend'];
    for (let i = 0; i < 6; i++) {
      if ((i === 4 && !this.shape.sourceBars) || (i === 5 && !this.shape.endEmbed)) {
        continue;
      }
      if (small) {
        const t = small.ints[i];
        t.data.set(values[i]);
        feeds[t.name] = t.tensor;
      } else {
        feeds[names[i]] = new this._T('int32', values[i], [s]);
      }
    }
  }

  /** The whole-cache inputs of 'fused-1' / 'functions-1' graphs. */
  private _cacheFeeds(inputs: StepInputs, feeds: Record<string, Tensor>): void {
    const s = inputs.tokens.length;
    const cap = inputs.cache.capacity;
    // Layers with the same plan share its kidx/bias tensors; the cache buffers' tensors are
    // made once per buffer (onnxruntime reads a typed array in place, whatever its size).
    const planTensors = new Map<object, [Tensor, Tensor]>();
    for (let l = 0; l < this.shape.layers; l++) {
      const lp = inputs.plan.layers[l];
      feeds[`past_k_${l}`] = this._bufferTensor(inputs.cache.keys(l), cap);
      feeds[`past_v_${l}`] = this._bufferTensor(inputs.cache.values(l), cap);
      let pt = planTensors.get(lp);
      if (pt === undefined) {
        pt = [new this._T('int32', lp.kidx, [lp.kidx.length]), new this._T('float32', lp.bias, [s, lp.kidx.length + s])];
        planTensors.set(lp, pt);
      }
      feeds[`kidx_${l}`] = pt[0];
      feeds[`bias_${l}`] = pt[1];
    }
    if (this.shape.sing) {
      const sp = this._singPlan(inputs);
      feeds.ssm_idx = new this._T('int32', sp.idx, [sp.idx.length]);
    }
  }

  /** The plan's rows of a 'rows-1' graph (kept across steps per cache by {@link RowViews}). */
  private _rowsFeeds(inputs: StepInputs, feeds: Record<string, Tensor>): void {
    const s = inputs.tokens.length;
    const { heads, headDim, layers } = this.shape;
    const cache = inputs.cache;
    let views = this._views.get(cache);
    if (views === undefined) {
      views = new RowViews(layers, cache.rowSize);
      this._views.set(cache, views);
    }
    let kept = this._rowsTensors.get(views);
    if (kept === undefined) {
      kept = [];
      this._rowsTensors.set(views, kept);
    }
    // One-token (and other small) steps keep their rows in slots; a prefill chunk gathers them.
    const rows = s > SMALL_STEP ? views.gather(inputs.plan.layers, cache) : views.step(inputs.plan.layers, cache, s);
    for (let l = 0; l < layers; l++) {
      const r = rows[l];
      let t = kept[l];
      if (t === undefined || t.keys !== r.keys || t.size !== r.size) {
        const n = r.size * cache.rowSize;
        t = {
          keys: r.keys,
          size: r.size,
          k: new this._T('float32', r.keys.subarray(0, n), [r.size, heads, headDim]),
          v: new this._T('float32', r.values.subarray(0, n), [r.size, heads, headDim]),
          bias: r.bias,
          b: new this._T('float32', r.bias, [s, r.size + s]),
        };
        kept[l] = t;
      } else if (t.bias !== r.bias || t.b.dims[0] !== s) {
        t.bias = r.bias;
        t.b = new this._T('float32', r.bias, [s, r.size + s]);
      }
      feeds[`rows_k_${l}`] = t.k;
      feeds[`rows_v_${l}`] = t.v;
      feeds[`bias_${l}`] = t.b;
    }
    if (this.shape.sing) {
      feeds.ssm_v = this._summaryValues(this._singPlan(inputs).idx, cache);
    }
  }

  /**
   * `ssm_v`: the template head's values of the summary rows `idx` (the last head's part of the
   * SING layer's cache rows). The summaries change at bar lines only, so the tensor of the last
   * step is reused while the rows and their cache versions are the same.
   */
  private _summaryValues(idx: Int32Array, cache: KvCache): Tensor {
    const { heads, headDim } = this.shape;
    const versions = cache.versions();
    const last = this._ssmV;
    if (last !== undefined && last.cache === cache && last.idx.length === idx.length) {
      let same = true;
      for (let j = 0; j < idx.length && same; j++) {
        same = last.idx[j] === idx[j] && last.ver[j] === versions[idx[j]];
      }
      if (same) {
        return last.tensor;
      }
    }
    const values = cache.values(this._singLayer);
    const rs = cache.rowSize;
    const from = (heads - 1) * headDim;
    const out = new Float32Array(idx.length * headDim);
    const ver = new Uint32Array(idx.length);
    for (let j = 0; j < idx.length; j++) {
      const at = idx[j] * rs + from;
      out.set(values.subarray(at, at + headDim), j * headDim);
      ver[j] = versions[idx[j]];
    }
    const tensor = new this._T('float32', out, [idx.length, headDim]);
    this._ssmV = { cache, idx: Int32Array.from(idx), ver, tensor };
    return tensor;
  }

  private _singPlan(inputs: StepInputs): NonNullable<StepInputs['plan']['sing']> {
    const sp = inputs.plan.sing;
    if (!sp) {
      throw new EngineError('bad-feed', `${this._path}: the model has a template head but the step has no template inputs.`);
    }
    return sp;
  }

  private async _run(inputs: StepInputs, small: SmallStep | undefined): Promise<StepOutputs> {
    const s = inputs.tokens.length;
    const { heads, headDim, layers, sing } = this.shape;
    const feeds: Record<string, Tensor> = {};
    this._tokenFeeds(inputs, small, feeds);
    if (this.rowsGraph) {
      this._rowsFeeds(inputs, feeds);
    } else {
      this._cacheFeeds(inputs, feeds);
    }
    if (sing) {
      const sp = this._singPlan(inputs);
      const m = sp.idx.length;
      feeds.ssm_row = new this._T('float32', sp.row, [s, m + s]);
      feeds.ssm_mask = new this._T('float32', sp.mask, [s, m + s]);
    }
    if (!this._checked) {
      this._check(feeds);
    }
    // Outputs: the new K/V rows go straight into the cache rows they belong to (onnxruntime
    // writes a pre-allocated output in place), logits into a fresh buffer.
    const row = inputs.row;
    const cache = inputs.cache;
    const rs = cache.rowSize;
    const inCache = row !== undefined && row >= 0 && (row + s) * rs <= cache.keys(0).length;
    let fetches: Fetches | undefined;
    if (inCache && small) {
      // Small steps: into the staging outputs, copied to the cache rows below.
      fetches = { logits: null };
      for (const t of small.rows) {
        fetches[t.name] = t.tensor;
      }
    } else if (inCache) {
      fetches = { logits: null };
      for (let l = 0; l < layers; l++) {
        fetches[`new_k_${l}`] = new this._T('float32', cache.keys(l).subarray(row * rs, (row + s) * rs), [s, heads, headDim]);
        fetches[`new_v_${l}`] = new this._T('float32', cache.values(l).subarray(row * rs, (row + s) * rs), [s, heads, headDim]);
      }
    }
    let out: Record<string, OrtModule.OnnxValue>;
    try {
      out = await (fetches ? this._session.run(feeds, fetches) : this._session.run(feeds));
    } catch (e) {
      const dims = Object.entries(feeds)
        .map(([k, t]) => `${k}:${t.type}[${t.dims.join(',')}]`)
        .join(' ');
      throw new EngineError('runtime', `${this._path}: the model failed on a step of ${s} token(s) (${firstLine(e)}). Feeds: ${dims}`);
    }
    const f = (name: string): Float32Array => {
      const t = out[name] as Tensor | undefined;
      if (!t || t.type !== 'float32') {
        throw new EngineError('runtime', `${this._path}: output ${name} is missing or not float32.`);
      }
      return t.data as Float32Array;
    };
    const newK: Float32Array[] = [];
    const newV: Float32Array[] = [];
    if (inCache && small) {
      for (let l = 0; l < layers; l++) {
        cache.keys(l).set(small.rows[2 * l].data, (row as number) * rs);
        cache.values(l).set(small.rows[2 * l + 1].data, (row as number) * rs);
      }
    }
    if (inCache) {
      cache.touch(row as number, s);
    } else {
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
  private _bufferTensor(buf: Float32Array, rows: number): Tensor {
    let t = this._buffers.get(buf);
    if (t === undefined) {
      t = new this._T('float32', buf, [rows, this.shape.heads, this.shape.headDim]);
      this._buffers.set(buf, t);
    }
    return t;
  }

  /** Releases the session. */
  async release(): Promise<void> {
    await this._session.release();
  }
}
