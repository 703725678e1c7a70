/**
 * The token layout of a generation as it grows (ids, bar index and position of each token and a
 * bar table), the input of the attention plan (`./plan`). Row t of the KV cache is token t.
 *
 * Pure TypeScript.
 */

import { HEADER_BAR, SUM_ID } from '../tokens/vocab';

/**
 * The token layout of a piece as it grows: ids and bar index per token, plus a bar table
 * (first token and summary token of each bar) kept up to date by {@link push}, so the plan
 * never scans the whole sequence. Row t of the KV cache is token t.
 */
export class TokenLayout {
  private _ids: Int32Array = new Int32Array(256);
  private _bar: Int32Array = new Int32Array(256);
  private _pos: Int32Array = new Int32Array(256);
  private _length = 0;
  private _headerEnd = 0;
  /** First token index of each bar. */
  private _barFirst: number[] = [];
  /** Index of each bar's `SUM` token, or -1 while the bar is open. */
  private _barSum: number[] = [];
  private readonly _sumId: number;
  private _revision = 0;

  constructor(sumId: number = SUM_ID) {
    this._sumId = sumId;
  }

  /** Number of tokens. */
  get length(): number {
    return this._length;
  }

  /** Number of header tokens (they form a prefix). */
  get headerEnd(): number {
    return this._headerEnd;
  }

  /** Number of bars begun. */
  get bars(): number {
    return this._barFirst.length;
  }

  /**
   * Changes whenever tokens are dropped ({@link truncate}); while it stays the same, the layout
   * only grows, so every closed bar (and the header) is as it was: the plan caches per bar on it.
   */
  get revision(): number {
    return this._revision;
  }

  /** Token ids (a view of the first `length` entries). */
  ids(): Int32Array {
    return this._ids.subarray(0, this._length);
  }

  /** Bar index per token ({@link HEADER_BAR} for header tokens). */
  barArray(): Int32Array {
    return this._bar.subarray(0, this._length);
  }

  /** Onset position per token (255 for none). */
  posArray(): Int32Array {
    return this._pos.subarray(0, this._length);
  }

  /** Token id at i. */
  idAt(i: number): number {
    return this._ids[i];
  }

  /** Bar index of token i. */
  barAt(i: number): number {
    return this._bar[i];
  }

  /** Whether token i is a summary token of a bar. */
  isSum(i: number): boolean {
    return this._ids[i] === this._sumId && this._bar[i] !== HEADER_BAR;
  }

  /** First token of bar b. */
  barFirst(b: number): number {
    return this._barFirst[b];
  }

  /** One past the last token of bar b so far (the next bar's first token, or the length). */
  barEnd(b: number): number {
    return b + 1 < this._barFirst.length ? this._barFirst[b + 1] : this._length;
  }

  /** The summary token of bar b, or -1. */
  barSum(b: number): number {
    return b < this._barSum.length ? this._barSum[b] : -1;
  }

  /**
   * Appends a token. Header tokens must come first; bar indices never decrease; a new bar
   * index opens a bar (indices may not skip).
   */
  push(id: number, bar: number, pos: number): void {
    const i = this._length;
    if (i === this._ids.length) {
      this._grow(i * 2);
    }
    if (bar === HEADER_BAR) {
      if (i !== this._headerEnd) {
        throw new Error(`Header token at ${i} after the first bar: header tokens must form a prefix.`);
      }
      this._headerEnd++;
    } else {
      const open = this._barFirst.length - 1;
      if (bar === open + 1) {
        this._barFirst.push(i);
        this._barSum.push(-1);
      } else if (bar !== open) {
        throw new Error(`Token ${i} has bar ${bar} after bar ${open}: bars must be contiguous and in order.`);
      }
      if (id === this._sumId && this._barSum[bar] < 0) {
        this._barSum[bar] = i;
      }
    }
    this._ids[i] = id;
    this._bar[i] = bar;
    this._pos[i] = pos;
    this._length = i + 1;
  }

  /** Drops tokens from index n on (candidates restart from the prompt). */
  truncate(n: number): void {
    if (n >= this._length) {
      return;
    }
    this._revision++;
    this._length = Math.max(0, n);
    this._headerEnd = Math.min(this._headerEnd, this._length);
    while (this._barFirst.length > 0 && this._barFirst[this._barFirst.length - 1] >= this._length) {
      this._barFirst.pop();
      this._barSum.pop();
    }
    for (let b = 0; b < this._barSum.length; b++) {
      if (this._barSum[b] >= this._length) {
        this._barSum[b] = -1;
      }
    }
  }

  /** An independent copy (a candidate forks the prompt's layout). */
  clone(): TokenLayout {
    const c = new TokenLayout(this._sumId);
    c._ids = Int32Array.from(this._ids);
    c._bar = Int32Array.from(this._bar);
    c._pos = Int32Array.from(this._pos);
    c._length = this._length;
    c._headerEnd = this._headerEnd;
    c._barFirst = [...this._barFirst];
    c._barSum = [...this._barSum];
    return c;
  }

  private _grow(capacity: number): void {
    const grow = (a: Int32Array): Int32Array => {
      const out = new Int32Array(capacity);
      out.set(a.subarray(0, this._length));
      return out;
    };
    this._ids = grow(this._ids);
    this._bar = grow(this._bar);
    this._pos = grow(this._pos);
  }
}
