/**
 * The attention plan of one decode step, in TypeScript: which cached keys each new token may
 * see, per layer, and the SING template head's inputs. It mirrors
 * `models/train/plan.py` `decode_inputs` exactly (parity test: `test/unit/engine/plan.test.ts`
 * against cases written by that reference), generalised in one way: the related bars of a
 * bar may be any set of earlier bars (structure-derived related bars), not only fixed offsets.
 *
 * Rules (query token i of bar b, key token j <= i; the header is the prefix of tokens with bar
 * index {@link HEADER_BAR}):
 * - plan `'dense'`: every earlier token;
 * - plan `'fc'` (Museformer fine/coarse): header keys always; a header query sees every
 *   earlier token; a summary (`SUM`) query its own bar; any other query its own bar so far,
 *   every token of its related bars, and only the summary token of the other earlier bars;
 * - window W (PerceiverS scale), on top of either: a non-header key is kept only when
 *   i - j < W;
 * - a token always sees itself.
 *
 * Each query's visible keys are a short sorted list of ranges built from the bar table, so
 * a one-token step costs O(header + k*m + b) (k related bars of m tokens, b summaries), not
 * O(n) for a piece of n tokens. The bias matrix of a multi-token (prefill) step is
 * S x (K + S), inherent in the model's input.
 *
 * Pure TypeScript: no vscode, no Node-only APIs.
 */

import { HEADER_BAR } from '../tokens/vocab';
import type { Ssm } from '../structure/ssm';
import type { TokenLayout } from './tokenLayout';

// The layout is the plan's input; callers import both from here.
export { TokenLayout } from './tokenLayout';

/** Bias of a blocked key (finite, as in the trainer, so a fully blocked row gives no NaN). */
export const BLOCKED_BIAS = -1.0e9;

/** The attention plan of one layer for this generation. */
export interface LayerPlan {
  plan: 'fc' | 'dense';
  /** PerceiverS window in tokens, or null for the whole piece. */
  window: number | null;
  /**
   * Coarse horizon of a fine/coarse layer, in bars: only the summary tokens of the last
   * `summaryHorizon` bars are keys (related bars are always seen in full, however far back).
   * Undefined or null: every earlier bar's summary (Museformer as trained).
   */
  summaryHorizon?: number | null;
}

/**
 * Pushes, in order, the keys a fine/coarse query of `bar` sees in the earlier bars: every token of
 * its related bars, and the summary token of the other bars within the layer's coarse horizon; returns `out`.
 */
function pushEarlierBars(out: Ranges, layout: TokenLayout, bar: number, layer: LayerPlan, related: RelatedBars): Ranges {
  const rel = [...new Set(related(bar))].filter((c) => c >= 0 && c < bar).sort((a, b) => a - b);
  const first = layer.summaryHorizon ? Math.max(0, bar - layer.summaryHorizon) : 0;
  let r = 0;
  // Related bars before the horizon, in order, then every bar from the horizon on.
  for (; r < rel.length && rel[r] < first; r++) {
    pushRange(out, layout.barFirst(rel[r]), layout.barEnd(rel[r]));
  }
  for (let c = first; c < bar; c++) {
    if (r < rel.length && rel[r] === c) {
      pushRange(out, layout.barFirst(c), layout.barEnd(c));
      r++;
    } else {
      const sIdx = layout.barSum(c);
      if (sIdx >= 0) {
        pushRange(out, sIdx, sIdx + 1);
      }
    }
  }
  return out;
}

/**
 * For bar b, the earlier bars (< b) whose tokens a fine/coarse query of bar b sees in full; the
 * same for the same b (a one-token step reads them once per bar).
 */
export type RelatedBars = (bar: number) => readonly number[];

/** Related bars from fixed offsets: bar b sees bars b - o (Museformer). */
export function offsetRelatedBars(offsets: readonly number[]): RelatedBars {
  const offs = [...new Set(offsets.filter((o) => Number.isInteger(o) && o > 0))].sort((a, b) => a - b);
  return (bar) => {
    const out: number[] = [];
    for (const o of offs) {
      if (bar - o >= 0) {
        out.push(bar - o);
      }
    }
    return out;
  };
}

/** Per-layer inputs of one step: `kidx` (cache rows any new token may see) and the 0 / blocked bias. */
export interface LayerStepPlan {
  kidx: Int32Array;
  /** `S x (K + S)`, row-major. */
  bias: Float32Array;
}

/** The SING head's inputs of one step. */
export interface SingStepPlan {
  /** Cache rows of the earlier bars' summary tokens. */
  idx: Int32Array;
  /** `S x (M + S)`: template value between the query's bar and the candidate summary's bar. */
  row: Float32Array;
  /** `S x (M + S)`: 1 where the candidate is a summary of an earlier bar. */
  mask: Float32Array;
}

/** Everything the plan contributes to one step's feeds. */
export interface StepPlan {
  /** One entry per layer; layers with the same plan and window share the same object. */
  layers: LayerStepPlan[];
  sing?: SingStepPlan;
}

/** Ranges [start, end) of keys, sorted and disjoint, as a flat list. */
type Ranges = number[];

function pushRange(out: Ranges, a: number, b: number): void {
  if (b <= a) {
    return;
  }
  const n = out.length;
  if (n > 0 && out[n - 1] >= a) {
    out[n - 1] = Math.max(out[n - 1], b);
    return;
  }
  out.push(a, b);
}

function lowerBound(a: Int32Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < x) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

/** kidx and bias of one layer for the step of tokens [past, past + count). */
export function layerStepPlan(layout: TokenLayout, past: number, count: number, layer: LayerPlan, related: RelatedBars): LayerStepPlan {
  return count === 1 ? singleQueryPlan(layout, past, layer, related) : multiQueryPlan(layout, past, count, layer, related);
}

function singleQueryPlan(layout: TokenLayout, past: number, layer: LayerPlan, related: RelatedBars): LayerStepPlan {
  const h = layout.headerEnd;
  const bar = layout.barAt(past);
  const lo = layer.window === null ? 0 : past - layer.window + 1;
  // The header's keys; for a fine/coarse query of a bar but its summary, the earlier bars' keys
  // (built once per bar), past the window's cut; then its own bar so far (all within the window).
  const dense = layer.plan === 'dense' || bar === HEADER_BAR;
  const a = Math.min(h, past);
  const earlier = dense || layout.isSum(past) ? NO_KEYS : perBar(layout, bar, 'keys', related, layer.summaryHorizon || 0, () => keysIn(pushEarlierBars([], layout, bar, layer, related)));
  const from = lo > h ? lowerBound(earlier, lo) : 0;
  const own = Math.max(dense ? a : layout.barFirst(bar), lo);
  const kidx = int32s.take(a + earlier.length - from + Math.max(0, past - own));
  for (let j = 0; j < a; j++) {
    kidx[j] = j;
  }
  let w = a;
  for (let e = from; e < earlier.length; e++) {
    kidx[w++] = earlier[e];
  }
  for (let j = own; j < past; j++) {
    kidx[w++] = j;
  }
  // Every past key in kidx is visible; the query sees itself.
  return { kidx, bias: float32s.take(kidx.length + 1) };
}

const NO_KEYS = new Int32Array(0);

/**
 * The arrays of one-token steps are views of shared chunks, each handed out once and never written
 * again here: a fresh typed array of more than 64 bytes has its own off-heap buffer, which costs
 * microseconds (mostly in the garbage collector), and a step of n lanes needs several per lane.
 */
class Chunks<T extends Int32Array | Float32Array> {
  private _chunk: T;
  private _used = 0;

  constructor(private readonly _make: (n: number) => T) {
    this._chunk = _make(0);
  }

  /** A new zero-filled array of n entries. */
  take(n: number): T {
    if (n > CHUNK >> 4) {
      return this._make(n);
    }
    if (this._used + n > this._chunk.length) {
      this._chunk = this._make(CHUNK);
      this._used = 0;
    }
    this._used += n;
    return this._chunk.subarray(this._used - n, this._used) as T;
  }

  /** A new array holding `src` (copied by a loop: these arrays are short). */
  copy(src: ArrayLike<number>): T {
    const a = this.take(src.length);
    for (let i = 0; i < src.length; i++) {
      a[i] = src[i];
    }
    return a;
  }
}

const CHUNK = 1 << 16;
const int32s = new Chunks((n) => new Int32Array(n));
const float32s = new Chunks((n) => new Float32Array(n));

/** Every key of sorted ranges, ascending. */
function keysIn(rs: Ranges): Int32Array {
  let k = 0;
  for (let p = 0; p < rs.length; p += 2) {
    k += rs[p + 1] - rs[p];
  }
  const keys = new Int32Array(k);
  for (let p = 0, w = 0; p < rs.length; p += 2) {
    for (let j = rs[p]; j < rs[p + 1]; j++) {
      keys[w++] = j;
    }
  }
  return keys;
}

/** A value a one-token step builds once per bar (and kind, inputs `a`, `b`): while the layout's {@link TokenLayout.revision} stays, its header and closed bars stay. */
type BarMemo = { kind: string; a: unknown; b: unknown; bar: number; value: unknown };

/** Most memo entries per layout (one per kind and inputs in use). */
const MEMO_ENTRIES = 8;

const memos = new WeakMap<TokenLayout, { revision: number; entries: BarMemo[] }>();

/** `make()` for `bar` of the layout, made once per bar, kind and inputs. */
function perBar<T>(layout: TokenLayout, bar: number, kind: string, a: unknown, b: unknown, make: () => T): T {
  let m = memos.get(layout);
  if (m === undefined || m.revision !== layout.revision) {
    m = { revision: layout.revision, entries: [] };
    memos.set(layout, m);
  }
  for (const e of m.entries) {
    if (e.kind === kind && e.a === a && e.b === b) {
      if (e.bar !== bar) {
        e.value = make();
        e.bar = bar;
      }
      return e.value as T;
    }
  }
  const value = make();
  if (m.entries.length >= MEMO_ENTRIES) {
    m.entries.shift();
  }
  m.entries.push({ kind, a, b, bar, value });
  return value;
}

/** Clips sorted ranges at `lo` (keys below it dropped), header keys [0, h) exempt. */
function clipRanges(rs: Ranges, lo: number, h: number): Ranges {
  const out: Ranges = [];
  for (let p = 0; p < rs.length; p += 2) {
    let a = rs[p];
    const b = rs[p + 1];
    if (a < h) {
      pushRange(out, a, Math.min(b, h));
      a = h;
    }
    pushRange(out, Math.max(a, lo), b);
  }
  return out;
}

/**
 * A multi-token (prefill) step. Queries are grouped by what they may see apart from
 * causality and the window (header queries; or, per bar, its summary vs its other tokens):
 * each group's key ranges are built once, written once as a template bias row, and each
 * query's row is that template with its own causal and window cut.
 */
function multiQueryPlan(layout: TokenLayout, past: number, count: number, layer: LayerPlan, related: RelatedBars): LayerStepPlan {
  const h = layout.headerEnd;
  const end = past + count;
  const w = layer.window;
  interface Group {
    ranges: Ranges;
    queries: number[];
  }
  const groups = new Map<string, Group>();
  for (let i = past; i < end; i++) {
    const bar = layout.barAt(i);
    let key: string;
    if (layer.plan === 'dense' || bar === HEADER_BAR) {
      key = 'all';
    } else {
      key = `${bar}:${layout.isSum(i) ? 's' : 'n'}`;
    }
    let g = groups.get(key);
    if (g === undefined) {
      let rs: Ranges;
      if (key === 'all') {
        rs = [0, end];
      } else if (layout.isSum(i)) {
        rs = [];
        pushRange(rs, 0, h);
        pushRange(rs, layout.barFirst(bar), end);
      } else {
        rs = [];
        pushRange(rs, 0, h);
        pushEarlierBars(rs, layout, bar, layer, related);
        pushRange(rs, layout.barFirst(bar), end);
      }
      g = { ranges: rs, queries: [] };
      groups.set(key, g);
    }
    g.queries.push(i);
  }
  // Each group's keys, clipped by the window of its earliest query (the widest view).
  const clipped = new Map<Group, Ranges>();
  const all: [number, number][] = [];
  for (const g of groups.values()) {
    const lo = w === null ? 0 : g.queries[0] - w + 1;
    const c = clipRanges(g.ranges, lo, h);
    clipped.set(g, c);
    for (let p = 0; p < c.length; p += 2) {
      if (c[p] < past) {
        all.push([c[p], Math.min(c[p + 1], past)]);
      }
    }
  }
  all.sort((x, y) => x[0] - y[0]);
  const merged: Ranges = [];
  for (const [a, b] of all) {
    pushRange(merged, a, b);
  }
  const kidx = keysIn(merged);
  const k = kidx.length;
  const width = k + count;
  const bias = new Float32Array(count * width);
  const template = new Float32Array(width);
  const headerCols = lowerBound(kidx, h);
  for (const g of groups.values()) {
    template.fill(BLOCKED_BIAS);
    const c = clipped.get(g) as Ranges;
    for (let p = 0; p < c.length; p += 2) {
      const a = c[p];
      const b = c[p + 1];
      if (a < past) {
        const e = Math.min(b, past);
        const col = lowerBound(kidx, a);
        template.fill(0, col, col + (e - a));
      }
      if (b > past) {
        const st = Math.max(a, past);
        template.fill(0, k + (st - past), k + (b - past));
      }
    }
    for (const i of g.queries) {
      const r = i - past;
      const row = r * width;
      bias.set(template, row);
      // Causality within the step: no later new token.
      bias.fill(BLOCKED_BIAS, row + k + r + 1, row + width);
      if (w !== null) {
        const lo = i - w + 1;
        if (lo > h) {
          const cut = lowerBound(kidx, lo);
          if (cut > headerCols) {
            bias.fill(BLOCKED_BIAS, row + headerCols, row + cut);
          }
          if (lo > past) {
            bias.fill(BLOCKED_BIAS, row + k + Math.max(0, h - past), row + k + (lo - past));
          }
        }
      }
      bias[row + k + r] = 0;
    }
  }
  return { kidx, bias };
}

/**
 * The SING inputs for the step of tokens [past, past + count): candidates of a query in bar b
 * are the summary tokens (at or before it) of bars c < b, and with a `horizon` only those of
 * bars c >= b - horizon (as the coarse keys of a fine/coarse layer); the row value is
 * `template[b][c]` (0 outside the template); header queries have none.
 */
export function singStepPlan(layout: TokenLayout, past: number, count: number, template: Ssm | undefined, horizon: number | null = null): SingStepPlan {
  const bar = layout.barAt(past);
  if (count === 1 && bar !== HEADER_BAR) {
    // A one-token step's candidates are the summaries of its bar's earlier bars (all before it),
    // the same for each token of the bar; its own column is none.
    const p = perBar(layout, bar, 'sing', template, horizon, () => singPlanOf(layout, past, 1, template, horizon));
    return { idx: int32s.copy(p.idx), row: float32s.copy(p.row), mask: float32s.copy(p.mask) };
  }
  return singPlanOf(layout, past, count, template, horizon);
}

function singPlanOf(layout: TokenLayout, past: number, count: number, template: Ssm | undefined, horizon: number | null): SingStepPlan {
  let maxBar = -1;
  let minBar = Infinity;
  for (let r = 0; r < count; r++) {
    const b = layout.barAt(past + r);
    if (b !== HEADER_BAR) {
      maxBar = Math.max(maxBar, b);
      minBar = Math.min(minBar, b);
    }
  }
  const near = (b: number, c: number): boolean => horizon === null || c >= b - horizon;
  const idxList: number[] = [];
  for (let c = horizon === null || maxBar < 0 ? 0 : Math.max(0, minBar - horizon); c < maxBar; c++) {
    const s = layout.barSum(c);
    if (s >= 0 && s < past) {
      idxList.push(s);
    }
  }
  const idx = Int32Array.from(idxList);
  const m = idx.length;
  const width = m + count;
  const row = new Float32Array(count * width);
  const mask = new Float32Array(count * width);
  const size = template?.size ?? 0;
  const value = (b: number, c: number): number => (template !== undefined && b < size && c < size ? template.data[b * size + c] : 0);
  for (let r = 0; r < count; r++) {
    const i = past + r;
    const b = layout.barAt(i);
    if (b === HEADER_BAR) {
      continue;
    }
    const base = r * width;
    for (let col = 0; col < m; col++) {
      const cb = layout.barAt(idx[col]);
      if (cb < b && near(b, cb)) {
        mask[base + col] = 1;
        row[base + col] = value(b, cb);
      }
    }
    for (let q = 0; q <= r; q++) {
      const j = past + q;
      const cb = layout.barAt(j);
      if (layout.isSum(j) && cb < b && near(b, cb)) {
        mask[base + m + q] = 1;
        row[base + m + q] = value(b, cb);
      }
    }
  }
  return { idx, row, mask };
}

/** Options of {@link buildStepPlan}. */
export interface StepPlanOptions {
  layers: readonly LayerPlan[];
  related: RelatedBars;
  /** Whether the model has a SING head (then `template` feeds it). */
  sing: boolean;
  template?: Ssm;
}

/** Every plan input of the step of tokens [past, past + count) (they must already be in the layout). */
export function buildStepPlan(layout: TokenLayout, past: number, count: number, options: StepPlanOptions): StepPlan {
  if (count < 1 || past < 0 || past + count > layout.length) {
    throw new RangeError(`Bad step: tokens ${past}..${past + count - 1} of a layout of ${layout.length}.`);
  }
  const ls = options.layers;
  const layers: LayerStepPlan[] = [];
  for (let n = 0; n < ls.length; n++) {
    // Layers with the same plan and window share the first one's object.
    let e = 0;
    while (e < n && !(ls[e].plan === ls[n].plan && (ls[e].window ?? null) === (ls[n].window ?? null))) {
      e++;
    }
    layers.push(e < n ? layers[e] : layerStepPlan(layout, past, count, ls[n], options.related));
  }
  return { layers, sing: options.sing ? singStepPlan(layout, past, count, options.template, singHorizonOf(options.layers)) : undefined };
}

/**
 * The SING head's coarse horizon: the layers' summary horizon (the largest when they differ),
 * or null (every earlier bar's summary) when any layer has none. Without it the head's
 * candidates grow with the piece (a step at 16k tokens gathered ~800 summaries); with it a
 * step sees what a fine/coarse layer sees, and a piece within the horizon is unchanged.
 */
export function singHorizonOf(layers: readonly LayerPlan[]): number | null {
  let h = 0;
  for (const l of layers) {
    if (!l.summaryHorizon) {
      return null;
    }
    h = Math.max(h, l.summaryHorizon);
  }
  return layers.length > 0 ? h : null;
}
