/**
 * The attended cache rows of a 'rows-1' decode graph, kept from step to step.
 *
 * A 'rows-1' graph takes, per layer, the K/V rows its plan allows (`kidx`) as contiguous
 * inputs instead of gathering them from the whole cache itself (inside onnxruntime a Gather of
 * a few hundred 1 KiB rows, a second copy into the concatenation with the new rows, every step).
 * Consecutive steps attend nearly the same rows (the bar being written grows by one token, the
 * related bars and summaries change only at a bar line), so the rows stay in slots: a step
 * copies only the rows that entered the plan (or were rewritten in the cache since they were
 * copied: {@link KvCache.versions}), frees the slots of rows that left and fills freed slots
 * first. The step's bias is the plan's bias moved to the slots' columns; a free slot's column is
 * blocked (weight exactly 0 after the softmax), so the attention is the plan's, over the same
 * rows, summed in slot order.
 *
 * Layers whose plan is the same object in a step (layers of the same plan and window) share one
 * slot map: the first of them decides the slots, the others copy the same rows from their own
 * cache buffers. A layer whose plan stops being its group's gets a map of its own.
 *
 * Pure TypeScript: no vscode, no Node-only APIs, no onnxruntime.
 */

import type { KvCache } from './kvCache';
import { BLOCKED_BIAS } from './plan';
import type { LayerStepPlan } from './plan';

/** One layer's rows for a step: slots 0 .. size - 1 of the layer's buffers, and the bias over them. */
export interface LayerRows {
  /** The layer's key buffer (slot i at `i * rowSize`; replaced when it grows; only the first `size` slots are read). */
  keys: Float32Array;
  values: Float32Array;
  size: number;
  /** `S x (size + S)`: the plan's bias at each row's slot, blocked at free slots (reused while its shape holds; shared by a group). */
  bias: Float32Array;
}

/** Share of a step's rows that, when new, makes the map lay every row out afresh (see {@link SlotMap.update}): a lone decode's bar line (most of its related rows move), not one lane's bar line in a batch's union. */
const REBUILD_SHARE = 0.5;

/** Floats of gathered rows a layer keeps between steps (1 MiB: ~1,000 rows of the shipped models' 256 floats). */
const GATHER_KEEP = 1 << 18;

/** Counts of the copying work, for tests and the benchmark. */
export interface RowViewStats {
  /** Rows copied into slots (all layers). */
  copied: number;
  /** Rows a step attended that were already in their slot (per slot map). */
  kept: number;
}

type Typed = Int32Array | Uint32Array | Float32Array;

/** `a` grown to `n` elements (its values kept, the new ones `fill`). */
function grown<T extends Typed>(a: T, n: number, fill = 0): T {
  const out = new (a.constructor as new (n: number) => T)(n);
  if (fill !== 0) {
    out.fill(fill);
  }
  out.set(a);
  return out;
}

/** Which cache row sits in which slot, for one layer or a group of layers with the same plans. */
class SlotMap {
  /** Cache row in each slot, -1 for a free slot. */
  rowAt = new Int32Array(0);
  /** The row's cache version when it was copied. */
  verAt = new Uint32Array(0);
  /** The step that last attended the slot. */
  seenAt = new Uint32Array(0);
  /** Slot of each cache row (meaningful only where `rowAt[slot] === row`). */
  slotOf = new Int32Array(0);
  /** Slots in use: every slot from `size` on is free. */
  size = 0;
  free: number[] = [];
  /** Scratch: each kidx entry's slot. */
  col = new Int32Array(0);
  /** The rows this step copied: slot, row, slot, row, ... (`copies` entries). */
  copied = new Int32Array(64);
  copies = 0;
  bias = new Float32Array(0);

  /** Room for `n` slots. */
  reserve(n: number): void {
    if (this.rowAt.length >= n) {
      return;
    }
    let cap = Math.max(64, this.rowAt.length);
    while (cap < n) {
      cap *= 2;
    }
    this.rowAt = grown(this.rowAt, cap, -1);
    this.verAt = grown(this.verAt, cap);
    this.seenAt = grown(this.seenAt, cap);
  }

  private _record(slot: number, row: number): void {
    if (this.copied.length < 2 * this.copies + 2) {
      this.copied = grown(this.copied, 2 * this.copied.length);
    }
    this.copied[2 * this.copies] = slot;
    this.copied[2 * this.copies + 1] = row;
    this.copies++;
  }

  /**
   * Moves the map to a step's rows; the rows to copy are left in `copied`. Returns how many rows
   * stayed. When many rows are new (a bar line: the related bars move with the bar being written)
   * or the slots have grown holes, every row is laid out afresh in the plan's order, so that the
   * copies are runs of consecutive rows (a bar's tokens) into consecutive slots.
   */
  update(kidx: Int32Array, versions: Uint32Array, capacity: number, step: number): number {
    const k = kidx.length;
    if (this.slotOf.length < capacity) {
      this.slotOf = grown(this.slotOf, capacity, -1);
    }
    if (this.col.length < k) {
      this.col = new Int32Array(Math.max(k, 2 * this.col.length));
    }
    this.copies = 0;
    const { slotOf, col } = this;
    let rowAt = this.rowAt;
    const verAt = this.verAt;
    const seenAt = this.seenAt;
    // 1. Rows already in a slot stay there (copied again if the cache row was rewritten since).
    let missing = 0;
    let kept = 0;
    for (let j = 0; j < k; j++) {
      const r = kidx[j];
      const slot = slotOf[r];
      if (slot >= 0 && slot < this.size && rowAt[slot] === r) {
        if (verAt[slot] !== versions[r]) {
          verAt[slot] = versions[r];
          this._record(slot, r);
        } else {
          kept++;
        }
        seenAt[slot] = step;
        col[j] = slot;
      } else {
        col[j] = -1;
        missing++;
      }
    }
    if (missing > k * REBUILD_SHARE || this.size > 2 * k + 64) {
      this._layOut(kidx, versions, step);
      return 0;
    }
    // 2. Rows that left the plan free their slots.
    for (let slot = 0; slot < this.size; slot++) {
      const r = rowAt[slot];
      if (r >= 0 && seenAt[slot] !== step) {
        rowAt[slot] = -1;
        slotOf[r] = -1;
        this.free.push(slot);
      }
    }
    while (this.size > 0 && rowAt[this.size - 1] < 0) {
      this.size--;
    }
    // 3. New rows go to free slots, then past the last used one.
    if (missing > 0) {
      this.reserve(this.size + missing);
      rowAt = this.rowAt;
      for (let j = 0; j < k; j++) {
        if (col[j] >= 0) {
          continue;
        }
        const slot = this._alloc();
        const r = kidx[j];
        rowAt[slot] = r;
        slotOf[r] = slot;
        this.seenAt[slot] = step;
        this.verAt[slot] = versions[r];
        this._record(slot, r);
        col[j] = slot;
      }
    }
    return kept;
  }

  /** Every row of the plan in slot j = its position j (all copied). */
  private _layOut(kidx: Int32Array, versions: Uint32Array, step: number): void {
    const k = kidx.length;
    for (let slot = 0; slot < this.size; slot++) {
      const r = this.rowAt[slot];
      if (r >= 0) {
        this.slotOf[r] = -1;
        this.rowAt[slot] = -1;
      }
    }
    this.free.length = 0;
    this.size = 0;
    this.copies = 0;
    this.reserve(k);
    for (let j = 0; j < k; j++) {
      const r = kidx[j];
      this.rowAt[j] = r;
      this.slotOf[r] = j;
      this.seenAt[j] = step;
      this.verAt[j] = versions[r];
      this.col[j] = j;
      this._record(j, r);
    }
    this.size = k;
  }

  private _alloc(): number {
    while (this.free.length > 0) {
      const slot = this.free.pop() as number;
      if (slot < this.size && this.rowAt[slot] < 0) {
        return slot;
      }
    }
    return this.size++;
  }

  /** The plan's bias (`s x (k + s)`) moved to the slots' columns (`s x (size + s)`). */
  moveBias(k: number, plan: Float32Array, s: number): Float32Array {
    const size = this.size;
    const width = size + s;
    if (this.bias.length !== s * width) {
      this.bias = new Float32Array(s * width);
    }
    const out = this.bias;
    const col = this.col;
    const pw = k + s;
    for (let q = 0; q < s; q++) {
      const dst = q * width;
      const src = q * pw;
      out.fill(BLOCKED_BIAS, dst, dst + size);
      for (let j = 0; j < k; j++) {
        out[dst + col[j]] = plan[src + j];
      }
      for (let q2 = 0; q2 < s; q2++) {
        out[dst + size + q2] = plan[src + k + q2];
      }
    }
    return out;
  }
}

/** A layer's slot buffers. */
interface LayerBuffers {
  keys: Float32Array;
  values: Float32Array;
  /** Index of the layer whose slot map this layer follows (itself when it leads). */
  leader: number;
  /** Scratch rows of a gathered step ({@link RowViews.gather}). */
  gatherKeys: Float32Array;
  gatherValues: Float32Array;
}

/** Per layer, the rows the plan lets a step see, gathered into slots and kept across steps. */
export class RowViews {
  readonly stats: RowViewStats = { copied: 0, kept: 0 };
  private readonly _rowSize: number;
  private readonly _buffers: LayerBuffers[] = [];
  private readonly _maps: (SlotMap | undefined)[] = [];
  private _step = 0;
  private _grouped = false;

  constructor(layers: number, rowSize: number) {
    this._rowSize = rowSize;
    for (let l = 0; l < layers; l++) {
      this._buffers.push({ keys: new Float32Array(0), values: new Float32Array(0), leader: l, gatherKeys: new Float32Array(0), gatherValues: new Float32Array(0) });
      this._maps.push(undefined);
    }
  }

  /** Every layer's rows for a step of `s` tokens with these layer plans (`bias`: `s x (kidx.length + s)`), read from `cache`. */
  step(plans: readonly LayerStepPlan[], cache: KvCache, s: number): LayerRows[] {
    const step = ++this._step;
    const layers = this._buffers;
    if (!this._grouped) {
      // Layers with the same plan object share the first such layer's slot map.
      for (let l = 0; l < layers.length; l++) {
        layers[l].leader = plans.findIndex((p) => p === plans[l]);
      }
      this._grouped = true;
    }
    const versions = cache.versions();
    const out: LayerRows[] = [];
    for (let l = 0; l < layers.length; l++) {
      const buf = layers[l];
      const lp = plans[l];
      if (buf.leader !== l && plans[buf.leader] !== lp) {
        // This layer's plan is no longer its group's: it keeps its own map from now on (and copies all its rows once).
        buf.leader = l;
        this._maps[l] = undefined;
      }
      let map = this._maps[buf.leader];
      if (buf.leader === l) {
        if (map === undefined) {
          map = new SlotMap();
          this._maps[l] = map;
        }
        this.stats.kept += map.update(lp.kidx, versions, cache.capacity, step);
        map.moveBias(lp.kidx.length, lp.bias, s);
      }
      map = map as SlotMap;
      this._copyInto(buf, map, cache.keys(l), cache.values(l));
      out.push({ keys: buf.keys, values: buf.values, size: map.size, bias: map.bias });
    }
    return out;
  }

  /**
   * Every layer's rows for a step of many tokens (a prefill or rescoring chunk), gathered afresh
   * in the plan's order with the plan's own bias: such a step sees most of the rows before it, so
   * keeping them in slots would only add the bias remapping (`s x (size + s)` per step). The slots
   * stay as they were (rows rewritten since are recopied by version when a later step keeps them).
   */
  gather(plans: readonly LayerStepPlan[], cache: KvCache): LayerRows[] {
    const n = this._rowSize;
    const out: LayerRows[] = [];
    for (let l = 0; l < this._buffers.length; l++) {
      const buf = this._buffers[l];
      const { kidx, bias } = plans[l];
      const need = kidx.length * n;
      // Kept for the next chunk up to GATHER_KEEP floats; a larger step (a dense plan deep into a long
      // piece) gets buffers of its own, so that they are not held for the rest of the decode.
      let gk = buf.gatherKeys;
      let gv = buf.gatherValues;
      if (gk.length < need) {
        gk = new Float32Array(need <= GATHER_KEEP ? Math.min(GATHER_KEEP, Math.max(need, 2 * gk.length)) : need);
        gv = new Float32Array(gk.length);
        if (gk.length <= GATHER_KEEP) {
          buf.gatherKeys = gk;
          buf.gatherValues = gv;
        }
      }
      const keys = cache.keys(l);
      const values = cache.values(l);
      for (let j = 0; j < kidx.length; j++) {
        const from = kidx[j] * n;
        gk.set(keys.subarray(from, from + n), j * n);
        gv.set(values.subarray(from, from + n), j * n);
      }
      out.push({ keys: gk, values: gv, size: kidx.length, bias });
    }
    return out;
  }

  /** The rows the map copied this step, from the layer's cache buffers into its slot buffers. */
  private _copyInto(buf: LayerBuffers, map: SlotMap, keys: Float32Array, values: Float32Array): void {
    const n = this._rowSize;
    const cap = map.rowAt.length * n;
    if (buf.keys.length < cap) {
      buf.keys = grown(buf.keys, cap);
      buf.values = grown(buf.values, cap);
    }
    const copied = map.copied;
    const bk = buf.keys;
    const bv = buf.values;
    // Consecutive rows into consecutive slots go as one copy.
    for (let c = 0; c < map.copies; ) {
      const slot = copied[2 * c];
      const row = copied[2 * c + 1];
      let run = 1;
      while (c + run < map.copies && copied[2 * (c + run)] === slot + run && copied[2 * (c + run) + 1] === row + run) {
        run++;
      }
      bk.set(keys.subarray(row * n, (row + run) * n), slot * n);
      bv.set(values.subarray(row * n, (row + run) * n), slot * n);
      c += run;
    }
    this.stats.copied += map.copies;
  }
}
