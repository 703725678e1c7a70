/**
 * The KV cache of a decode: one key and one value buffer per layer, JS-owned Float32Arrays
 * of `capacity` rows of `heads * headDim` floats. Row t holds token t. The buffers are fed
 * to the model whole each step (onnxruntime reads them in place, no copy) and the step's new
 * rows are written back at their token index. Capacity grows by doubling.
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
    this._capacity = cap;
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
  }
}
