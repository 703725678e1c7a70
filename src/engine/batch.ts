/**
 * Batched decoding: several sequences ("lanes", e.g. the candidates of one request) share each
 * model step, with no change to the exported decode graph. The graph takes S new tokens with a
 * per-token bias over gathered cache rows, so one step carries every lane's new tokens in its
 * S dimension:
 *
 * - one KV cache holds every lane's rows; a lane maps its own token index (its logical row, the
 *   `tpos` the positional encoding reads) to a physical row. Rows are handed out in step order,
 *   and a lane forked from another shares the parent's rows (the prompt is prefilled and stored
 *   once for all candidates);
 * - each lane builds its own plan on its own {@link TokenLayout} exactly as a lone decode would;
 *   the step's `kidx` is the union of the lanes' physical rows, and each token's bias row opens
 *   only its own lane's keys and its own lane's new tokens (everything else is blocked);
 * - the SING inputs are combined the same way (`ssm_idx` the union, other lanes' columns masked).
 *
 * A lane's keys, values and bias entries are those of a lone decode, in the same order, so its
 * logits equal a lone decode's up to float rounding (blocked columns weigh exactly 0).
 *
 * Pure TypeScript: no vscode, no Node-only APIs, no onnxruntime.
 */

import { barStructure } from './structure';
import type { BarStructure } from './structure';
import { KvCache } from './kvCache';
import { BLOCKED_BIAS, TokenLayout, buildStepPlan } from './plan';
import type { LayerStepPlan, SingStepPlan, StepPlan, StepPlanOptions } from './plan';
import type { DecoderOptions, DecoderStats, StepModel } from './decoder';
import { PromptCache, signStep } from './promptCache';

/**
 * Most lanes a generation decodes side by side (more candidates go in further rounds). Past a
 * few lanes a step's cost grows with the lanes: every token's attention runs over the union of
 * the lanes' keys.
 */
export const BATCH_WIDTH = 8;

/** Tokens one lane appends in a step. */
export interface LaneAppend {
  lane: number;
  ids: ArrayLike<number>;
  bars: ArrayLike<number>;
  pos: ArrayLike<number>;
}

interface Lane {
  layout: TokenLayout;
  /** Physical cache row of each of the lane's tokens. */
  rows: Int32Array;
  /** Whether every token's row is its token index (a lone sequence). */
  identity: boolean;
}

/** A lane's part of a step: its tokens' offset in S, their count and its plan. */
interface Part {
  lane: Lane;
  offset: number;
  count: number;
  plan: StepPlan;
}

/** Sorted distinct values of `a`. */
function sortedUnique(a: Int32Array): Int32Array {
  if (a.length === 0) {
    return a;
  }
  a.sort();
  let w = 1;
  for (let i = 1; i < a.length; i++) {
    if (a[i] !== a[w - 1]) {
      a[w++] = a[i];
    }
  }
  return a.subarray(0, w);
}

/**
 * Sorted distinct values of ascending runs `a[starts[i] .. starts[i + 1])`, written to `out`
 * (at least `a.length` long; `at` is scratch of at least `starts.length - 1`); returns the count.
 */
function mergeRuns(a: Int32Array, starts: Int32Array, runs: number, at: Int32Array, out: Int32Array): number {
  for (let r = 0; r < runs; r++) {
    at[r] = starts[r];
  }
  let w = 0;
  for (;;) {
    let best = -1;
    let min = 0;
    for (let r = 0; r < runs; r++) {
      if (at[r] < starts[r + 1] && (best < 0 || a[at[r]] < min)) {
        best = r;
        min = a[at[r]];
      }
    }
    if (best < 0) {
      return w;
    }
    if (w === 0 || out[w - 1] !== min) {
      out[w++] = min;
    }
    at[best]++;
  }
}

/** `a` if it holds `n` elements, else a larger array of its kind (contents not kept). */
function room<T extends Int32Array | Float32Array>(a: T, n: number): T {
  return a.length >= n ? a : (new (a.constructor as new (n: number) => T)(Math.max(n, 2 * a.length)));
}

/** Buffers of one combined plan (a layer group's or the template head's), reused step after step: valid until the next step. */
class PlanBuffers {
  all = new Int32Array(64);
  starts = new Int32Array(BATCH_WIDTH + 1);
  at = new Int32Array(BATCH_WIDTH);
  kidx = new Int32Array(64);
  /** The bias (layers), or the template row (the template head). */
  values = new Float32Array(256);
  mask = new Float32Array(256);
}

/** Many sequences decoded together through one {@link StepModel}. Lane 0 exists from the start. */
export class BatchDecoder {
  readonly cache: KvCache;
  readonly stats: DecoderStats = { steps: 0, tokens: 0, keys: 0, singKeys: 0 };
  private readonly _model: StepModel;
  private readonly _plan: StepPlanOptions;
  private readonly _chunk: number;
  private readonly _beforeStep?: () => void;
  private readonly _structure: BarStructure;
  private readonly _lanes: Lane[] = [];
  /** Next free physical row. */
  private _next = 0;
  /** Scratch: column of a physical row in the step being combined. */
  private _colOf: Int32Array = new Int32Array(0);
  /** Buffers of the combined plans, per layer and for the template head, reused step after step (a plan is read only during its step). */
  private readonly _layerBuffers: PlanBuffers[] = [];
  private readonly _singBuffers = new PlanBuffers();
  /** Scratch: the slots of one part's keys in the union. */
  private _cols = new Int32Array(64);
  private readonly _prompts?: PromptCache;
  private _reused = 0;

  constructor(model: StepModel, options: DecoderOptions) {
    this._model = model;
    this._plan = options.plan;
    this._chunk = Math.max(1, Math.floor(options.chunk ?? 256));
    this._beforeStep = options.beforeStep;
    this._structure = options.structure ?? barStructure(undefined, 0, false);
    this._prompts = options.promptCache;
    const s = model.shape;
    const reuse = options.cache;
    if (reuse !== undefined && reuse.layers === s.layers && reuse.rowSize === s.heads * s.headDim) {
      // Rows are only read where this decoder wrote them (or copied them from the prompt cache).
      reuse.ensure(options.capacity ?? 256, 0);
      this.cache = reuse;
    } else {
      this.cache = new KvCache(s.layers, s.heads, s.headDim, options.capacity ?? 256);
    }
    this._lanes.push({ layout: new TokenLayout(), rows: new Int32Array(256), identity: true });
  }

  /** Most tokens per model step when a lane appends many (prefill, rescoring). */
  get chunk(): number {
    return this._chunk;
  }

  /** Number of lanes. */
  get lanes(): number {
    return this._lanes.length;
  }

  /** Tokens of lane 0's prompt whose rows came from the prompt cache (no model step). */
  get reusedTokens(): number {
    return this._reused;
  }

  /** Physical rows in use (all lanes). */
  get rowsUsed(): number {
    return this._next;
  }

  /** The token layout of a lane (read only: append through {@link step}). */
  layout(lane: number): TokenLayout {
    return this._lane(lane).layout;
  }

  /** Tokens of a lane. */
  length(lane: number): number {
    return this._lane(lane).layout.length;
  }

  /**
   * Drops every lane but lane 0 and frees their rows (lane 0 must not have appended after the
   * first fork): the next round of candidates forks the prompt again.
   */
  restart(): void {
    const root = this._lanes[0];
    if (!root.identity) {
      throw new Error('Lane 0 appended after a fork: its rows are not the first rows.');
    }
    this._lanes.length = 1;
    this._next = root.layout.length;
  }

  /** A new lane that starts as a copy of `lane` (sharing its cache rows); returns its index. */
  fork(lane: number): number {
    const from = this._lane(lane);
    this._lanes.push({ layout: from.layout.clone(), rows: Int32Array.from(from.rows), identity: from.identity });
    return this._lanes.length - 1;
  }

  /**
   * Appends one lane's tokens in steps of at most `chunk` tokens; `onChunk` receives each
   * step's logits (`count x V`) and the index of its first token. Returns the last step's logits.
   *
   * With a {@link DecoderOptions.promptCache}, the first append of a fresh decoder (lane 0, no
   * `onChunk`) is a prompt: the rows of its longest prefix the cache holds (same tokens, same
   * structure inputs, same attention plan, see `./promptCache`) are copied in and only the rest
   * runs through the model (at least the last token, whose logits are returned); its rows are
   * then stored for the next request.
   */
  async append(
    lane: number,
    ids: ArrayLike<number>,
    bars: ArrayLike<number>,
    pos: ArrayLike<number>,
    onChunk?: (logits: Float32Array, first: number, count: number) => void,
  ): Promise<Float32Array> {
    if (this._prompts !== undefined && lane === 0 && onChunk === undefined && this._next === 0 && this._lanes.length === 1 && ids.length > 0) {
      return this._prefill(ids, bars, pos);
    }
    return this._append(lane, ids, bars, pos, 0, onChunk);
  }

  private async _append(
    lane: number,
    ids: ArrayLike<number>,
    bars: ArrayLike<number>,
    pos: ArrayLike<number>,
    from: number,
    onChunk?: (logits: Float32Array, first: number, count: number) => void,
  ): Promise<Float32Array> {
    let last: Float32Array = new Float32Array(0);
    for (let a = from; a < ids.length; a += this._chunk) {
      const e = Math.min(ids.length, a + this._chunk);
      const first = this.length(lane);
      const sl = (x: ArrayLike<number>): number[] => Array.prototype.slice.call(x, a, e) as number[];
      [last] = await this.step([{ lane, ids: sl(ids), bars: sl(bars), pos: sl(pos) }]);
      onChunk?.(last, first, e - a);
    }
    return last;
  }

  /**
   * One model step carrying every given lane's tokens (each lane at most once). Returns, per
   * append in order, its tokens' logits (`count x V`, a view of the step's output).
   */
  async step(appends: readonly LaneAppend[]): Promise<Float32Array[]> {
    this._beforeStep?.();
    let s = 0;
    for (const a of appends) {
      if (a.ids.length < 1 || a.bars.length !== a.ids.length || a.pos.length !== a.ids.length) {
        throw new RangeError(`Lane ${a.lane}: ${a.ids.length} ids, ${a.bars.length} bars, ${a.pos.length} positions.`);
      }
      s += a.ids.length;
    }
    if (s === 0) {
      return [];
    }
    const base = this._next;
    this.cache.ensure(base + s, base);
    const tokens = new Int32Array(s);
    const bar = new Int32Array(s);
    const pos = new Int32Array(s);
    const tpos = new Int32Array(s);
    const parts: Part[] = [];
    const seen = new Set<number>();
    let offset = 0;
    for (const a of appends) {
      if (seen.has(a.lane)) {
        throw new RangeError(`Lane ${a.lane} appears twice in one step.`);
      }
      seen.add(a.lane);
      const lane = this._lane(a.lane);
      const past = lane.layout.length;
      const count = a.ids.length;
      if (lane.rows.length < past + count) {
        let n = lane.rows.length;
        while (n < past + count) {
          n *= 2;
        }
        const grown = new Int32Array(n);
        grown.set(lane.rows.subarray(0, past));
        lane.rows = grown;
      }
      for (let q = 0; q < count; q++) {
        lane.layout.push(a.ids[q], a.bars[q], a.pos[q]);
        lane.rows[past + q] = base + offset + q;
        tokens[offset + q] = a.ids[q];
        bar[offset + q] = a.bars[q];
        pos[offset + q] = a.pos[q];
        tpos[offset + q] = past + q;
      }
      lane.identity &&= base + offset === past;
      parts.push({ lane, offset, count, plan: buildStepPlan(lane.layout, past, count, this._plan) });
      offset += count;
    }
    const plan = this._combine(parts, s);
    const shape = this._model.shape;
    const sbar = shape.sourceBars ? bar.map((b) => this._structure.source(b)) : undefined;
    const toend = shape.endEmbed ? bar.map((b) => this._structure.toEnd(b)) : undefined;
    const out = await this._model.run({ tokens, bar, pos, tpos, sbar, toend, cache: this.cache, plan, row: base });
    const v = shape.vocabSize;
    if (out.logits.length !== s * v) {
      throw new Error(`The model returned ${out.logits.length} logits for ${s} token(s) of a ${v}-token vocabulary.`);
    }
    if (!out.inCache) {
      for (let l = 0; l < this.cache.layers; l++) {
        this.cache.write(l, base, out.newK[l], out.newV[l]);
      }
    }
    this._next = base + s;
    this.stats.steps++;
    this.stats.tokens += s;
    for (const lp of plan.layers) {
      this.stats.keys += lp.kidx.length;
    }
    this.stats.singKeys += plan.sing?.idx.length ?? 0;
    return parts.map((p) => out.logits.subarray(p.offset * v, (p.offset + p.count) * v));
  }

  /** Lane 0's prompt through the prompt cache (see {@link append}). */
  private async _prefill(ids: ArrayLike<number>, bars: ArrayLike<number>, pos: ArrayLike<number>): Promise<Float32Array> {
    const cache = this._prompts as PromptCache;
    const n = ids.length;
    // Each token's signature, from the plan of the steps a fresh prefill would run (a token's
    // signature does not depend on how the prompt is cut into steps).
    const sig = new Uint32Array(2 * n);
    const scratch = new TokenLayout();
    for (let a = 0; a < n; a += this._chunk) {
      const e = Math.min(n, a + this._chunk);
      for (let i = a; i < e; i++) {
        scratch.push(ids[i], bars[i], pos[i]);
      }
      signStep(scratch, a, e - a, buildStepPlan(scratch, a, e - a, this._plan), this._structure, sig);
    }
    const hit = cache.lookup(sig, this.cache.layers, this.cache.rowSize);
    const reuse = Math.min(n - 1, hit?.tokens ?? 0);
    if (hit !== undefined && reuse > 0) {
      this.cache.ensure(reuse, 0);
      const rs = this.cache.rowSize;
      for (let l = 0; l < this.cache.layers; l++) {
        this.cache.keys(l).set(hit.keys[l].subarray(0, reuse * rs));
        this.cache.values(l).set(hit.values[l].subarray(0, reuse * rs));
      }
      this.cache.touch(0, reuse);
      const root = this._lanes[0];
      if (root.rows.length < reuse) {
        root.rows = new Int32Array(Math.max(reuse, 2 * root.rows.length));
      }
      for (let i = 0; i < reuse; i++) {
        root.layout.push(ids[i], bars[i], pos[i]);
        root.rows[i] = i;
      }
      this._next = reuse;
    }
    this._reused = reuse;
    const last = await this._append(0, ids, bars, pos, reuse);
    cache.store(sig, this.cache, n);
    return last;
  }

  private _lane(lane: number): Lane {
    const l = this._lanes[lane];
    if (l === undefined) {
      throw new RangeError(`No lane ${lane} (${this._lanes.length} lanes).`);
    }
    return l;
  }

  /** The step's plan from its parts' own plans (one part whose rows are its token indices: its own plan). */
  private _combine(parts: Part[], s: number): StepPlan {
    if (parts.length === 1 && parts[0].lane.identity) {
      return parts[0].plan;
    }
    if (this._colOf.length < this.cache.capacity) {
      this._colOf = new Int32Array(this.cache.capacity);
    }
    const memo = new Map<LayerStepPlan, LayerStepPlan>();
    const layers = parts[0].plan.layers.map((first, l) => {
      let c = memo.get(first);
      if (c === undefined) {
        c = this._combineLayer(parts, s, l);
        memo.set(first, c);
      }
      return c;
    });
    const sing = parts[0].plan.sing ? this._combineSing(parts, s) : undefined;
    return { layers, sing };
  }

  /**
   * Physical rows of the union of `rowsOf(part)` (logical rows of each part's lane), sorted, and
   * each row's column in `_colOf`; the result is a view of `buf.kidx`.
   */
  private _union(parts: Part[], rowsOf: (p: Part) => Int32Array, buf: PlanBuffers): Int32Array {
    let total = 0;
    for (const p of parts) {
      total += rowsOf(p).length;
    }
    const all = (buf.all = room(buf.all, total));
    const starts = (buf.starts = room(buf.starts, parts.length + 1));
    // Each part's physical rows, in a run of `all`; a lane's rows grow with its token index, so
    // each run is ascending and the union is a merge (a sort otherwise).
    let w = 0;
    let ascending = true;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      const logical = rowsOf(p);
      const rows = p.lane.rows;
      starts[i] = w;
      for (let j = 0; j < logical.length; j++) {
        const r = rows[logical[j]];
        ascending &&= j === 0 || r > all[w - 1];
        all[w++] = r;
      }
    }
    starts[parts.length] = w;
    const out = (buf.kidx = room(buf.kidx, total));
    let k: number;
    if (ascending) {
      k = mergeRuns(all, starts, parts.length, (buf.at = room(buf.at, parts.length)), out);
    } else {
      const u = sortedUnique(all.subarray(0, total));
      out.set(u);
      k = u.length;
    }
    const kidx = out.subarray(0, k);
    for (let j = 0; j < k; j++) {
      this._colOf[kidx[j]] = j;
    }
    return kidx;
  }

  private _combineLayer(parts: Part[], s: number, l: number): LayerStepPlan {
    const buf = (this._layerBuffers[l] ??= new PlanBuffers());
    const kidx = this._union(parts, (p) => p.plan.layers[l].kidx, buf);
    const k = kidx.length;
    const width = k + s;
    const bias = (buf.values = room(buf.values, s * width)).subarray(0, s * width).fill(BLOCKED_BIAS);
    for (const p of parts) {
      const own = p.plan.layers[l];
      const kp = own.kidx.length;
      const wp = kp + p.count;
      const cols = (this._cols = room(this._cols, kp));
      for (let j = 0; j < kp; j++) {
        cols[j] = this._colOf[p.lane.rows[own.kidx[j]]];
      }
      for (let q = 0; q < p.count; q++) {
        const src = q * wp;
        const dst = (p.offset + q) * width;
        for (let j = 0; j < kp; j++) {
          bias[dst + cols[j]] = own.bias[src + j];
        }
        for (let q2 = 0; q2 < p.count; q2++) {
          bias[dst + k + p.offset + q2] = own.bias[src + kp + q2];
        }
      }
    }
    return { kidx, bias };
  }

  private _combineSing(parts: Part[], s: number): SingStepPlan {
    const sp = (p: Part): SingStepPlan => p.plan.sing as SingStepPlan;
    const buf = this._singBuffers;
    const idx = this._union(parts, (p) => sp(p).idx, buf);
    const m = idx.length;
    const width = m + s;
    const row = (buf.values = room(buf.values, s * width)).subarray(0, s * width).fill(0);
    const mask = (buf.mask = room(buf.mask, s * width)).subarray(0, s * width).fill(0);
    for (const p of parts) {
      const own = sp(p);
      const mp = own.idx.length;
      const wp = mp + p.count;
      for (let q = 0; q < p.count; q++) {
        const src = q * wp;
        const dst = (p.offset + q) * width;
        for (let j = 0; j < mp; j++) {
          const col = this._colOf[p.lane.rows[own.idx[j]]];
          row[dst + col] = own.row[src + j];
          mask[dst + col] = own.mask[src + j];
        }
        for (let q2 = 0; q2 < p.count; q2++) {
          row[dst + m + p.offset + q2] = own.row[src + mp + q2];
          mask[dst + m + p.offset + q2] = own.mask[src + mp + q2];
        }
      }
    }
    return { idx, row, mask };
  }
}
