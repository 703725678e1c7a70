/**
 * The KV cache of a decode: one key and one value buffer per layer, JS-owned Float32Arrays
 * of `capacity` rows of `heads * headDim` floats. Row t holds token t. A step's new rows are
 * written back at their token index; the model reads the rows its plan allows (the whole
 * buffers for earlier graphs, the rows gathered by `./rowViews` for 'rows-1' graphs).
 * Capacity grows by doubling.
 *
 * Every row has a version, changed whenever the row is written ({@link KvCache.write},
 * {@link KvCache.touch}): copies of rows kept elsewhere (`./rowViews`) compare versions to know
 * they are stale. Whoever writes the buffers directly must call {@link KvCache.touch}.
 *
 * Pure TypeScript: no vscode, no Node-only APIs.
 */

/** Key and value buffers of every layer. */
export class KvCache {
  readonly layers: number;
  readonly rowSize: number;
  private _capacity: number;
  private _k: Float32Array[];
  private _v: Float32Array[];
  private _ver: Uint32Array;
  private _clock = 0;

  constructor(layers: number, heads: number, headDim: number, capacity = 256) {
    this.layers = layers;
    this.rowSize = heads * headDim;
    this._capacity = Math.max(1, Math.ceil(capacity));
    this._k = [];
    this._v = [];
    for (let l = 0; l < layers; l++) {
      this._k.push(new Float32Array(this._capacity * this.rowSize));
      this._v.push(new Float32Array(this._capacity * this.rowSize));
    }
    this._ver = new Uint32Array(this._capacity);
  }

  /** Rows the buffers hold. */
  get capacity(): number {
    return this._capacity;
  }

  /** Bytes held by all buffers. */
  get bytes(): number {
    return 2 * this.layers * this._capacity * this.rowSize * 4;
  }

  /** Key buffer of layer l (replaced when the cache grows: do not keep it across steps). */
  keys(l: number): Float32Array {
    return this._k[l];
  }

  /** Value buffer of layer l. */
  values(l: number): Float32Array {
    return this._v[l];
  }

  /** Makes room for `rows` rows, doubling the capacity as often as needed (the first `keep` rows are kept). */
  ensure(rows: number, keep: number = this._capacity): void {
    if (rows <= this._capacity) {
      return;
    }
    let cap = this._capacity;
    while (cap < rows) {
      cap *= 2;
    }
    const n = Math.min(keep, this._capacity) * this.rowSize;
    for (let l = 0; l < this.layers; l++) {
      const k = new Float32Array(cap * this.rowSize);
      k.set(this._k[l].subarray(0, n));
      this._k[l] = k;
      const v = new Float32Array(cap * this.rowSize);
      v.set(this._v[l].subarray(0, n));
      this._v[l] = v;
    }
    const ver = new Uint32Array(cap);
    ver.set(this._ver);
    this._ver = ver;
    const old = this._capacity;
    this._capacity = cap;
    // Rows past `keep` were not carried over: whatever copy of them exists is stale.
    const kept = Math.min(keep, old);
    this.touch(kept, old - kept);
  }

  /** Every row's version, changed whenever the row is written (read only; replaced when the cache grows). */
  versions(): Uint32Array {
    return this._ver;
  }

  /** Marks rows `row .. row + count - 1` as written (copies of them elsewhere are stale). */
  touch(row: number, count: number): void {
    if (count > 0) {
      this._clock = (this._clock + 1) >>> 0;
      this._ver.fill(this._clock, row, Math.min(row + count, this._capacity));
    }
  }

  /** Writes the rows of tokens starting at `row` for layer l (`k`, `v`: S rows each). */
  write(l: number, row: number, k: Float32Array, v: Float32Array): void {
    if (k.length !== v.length || k.length % this.rowSize !== 0) {
      throw new RangeError(`KV rows of layer ${l}: ${k.length} keys and ${v.length} values are not whole rows of ${this.rowSize}.`);
    }
    if (row * this.rowSize + k.length > this._k[l].length) {
      throw new RangeError(`KV rows ${row}..${row + k.length / this.rowSize - 1} exceed the capacity ${this._capacity}.`);
    }
    this._k[l].set(k, row * this.rowSize);
    this._v[l].set(v, row * this.rowSize);
    this.touch(row, k.length / this.rowSize);
  }
}
