/**
 * Seeded sampling: a small deterministic PRNG and the token samplers (greedy, or
 * temperature + top-k + top-p), chosen from a typed {@link GenerationConfig}. Every sampler
 * takes the model's logits and a 0/1 mask of the ids the grammar allows, and never returns
 * a masked id. Same seed, same logits, same masks: same tokens.
 *
 * Pure TypeScript: no vscode, no Node-only APIs.
 */

/**
 * A seeded 32-bit PRNG (SplitMix32-seeded xoshiro128**). `next()` gives a float in [0, 1)
 * with 32 random bits; the sequence depends only on the seed.
 */
export class Prng {
  private _s0: number;
  private _s1: number;
  private _s2: number;
  private _s3: number;

  constructor(seed: number) {
    let x = seed >>> 0;
    const mix = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this._s0 = mix();
    this._s1 = mix();
    this._s2 = mix();
    this._s3 = mix();
    if ((this._s0 | this._s1 | this._s2 | this._s3) === 0) {
      this._s0 = 1;
    }
  }

  /** The next 32-bit unsigned integer. */
  nextUint32(): number {
    const r = Math.imul(rotl(Math.imul(this._s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this._s1 << 9) >>> 0;
    this._s2 ^= this._s0;
    this._s3 ^= this._s1;
    this._s1 ^= this._s2;
    this._s0 ^= this._s3;
    this._s2 ^= t;
    this._s3 = rotl(this._s3 >>> 0, 11);
    this._s0 >>>= 0;
    this._s1 >>>= 0;
    this._s2 >>>= 0;
    return r;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** How to pick each token. */
export type GenerationConfig =
  | { kind: 'greedy' }
  | {
      kind: 'sample';
      /** Softmax temperature, > 0. */
      temperature: number;
      /** Keep the k most likely allowed ids; 0 = all. */
      topK: number;
      /** Keep the smallest set of most likely ids whose probability reaches p; 1 = all. */
      topP: number;
    };

/** Picks one token id from logits restricted to a mask (or to the list of the ids it allows). */
export interface TokenSampler {
  /** `logits` has at least `mask.length` entries; throws when the mask allows nothing. */
  sample(logits: Float32Array, mask: Uint8Array, rng: Prng): number;
  /** The same draw as {@link sample} for the mask that allows exactly `allowed` (ascending ids). */
  sampleIds(logits: Float32Array, allowed: Int32Array, rng: Prng): number;
}

function noneAllowed(): Error {
  return new Error('The grammar allows no token here (internal error).');
}

let maskScratch = new Int32Array(0);

/** The ids a 0/1 mask allows, ascending (a view of a scratch buffer, valid until the next call). */
function idsOfMask(mask: Uint8Array): Int32Array {
  if (maskScratch.length < mask.length) {
    maskScratch = new Int32Array(mask.length);
  }
  let n = 0;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i]) {
      maskScratch[n++] = i;
    }
  }
  return maskScratch.subarray(0, n);
}

/** The most likely allowed id (ties to the lower id). */
export class GreedySampler implements TokenSampler {
  sample(logits: Float32Array, mask: Uint8Array): number {
    return this.sampleIds(logits, idsOfMask(mask));
  }

  sampleIds(logits: Float32Array, allowed: Int32Array): number {
    let best = -1;
    let bestV = -Infinity;
    for (let j = 0; j < allowed.length; j++) {
      const i = allowed[j];
      if (best < 0 || logits[i] > bestV) {
        best = i;
        bestV = logits[i];
      }
    }
    if (best < 0) {
      throw noneAllowed();
    }
    return best;
  }
}

/** Allowed ids past which {@link SamplingSampler} sorts with the built-in sort instead of by insertion. */
const INSERTION_SORT_MAX = 64;

/**
 * Temperature, then top-k, then top-p (nucleus) over the allowed ids, then one draw. Its buffers
 * are reused from draw to draw (one sampler serves the lanes of a request one after another).
 */
export class SamplingSampler implements TokenSampler {
  private readonly _temperature: number;
  private readonly _topK: number;
  private readonly _topP: number;
  /** The allowed ids, most likely first, and their logits and weights by rank. */
  private _ids = new Int32Array(0);
  private _logits = new Float64Array(0);
  private _w = new Float64Array(0);

  constructor(temperature: number, topK: number, topP: number) {
    this._temperature = temperature;
    this._topK = topK;
    this._topP = topP;
  }

  sample(logits: Float32Array, mask: Uint8Array, rng: Prng): number {
    return this.sampleIds(logits, idsOfMask(mask), rng);
  }

  sampleIds(logits: Float32Array, allowed: Int32Array, rng: Prng): number {
    if (this._ids.length < allowed.length) {
      this._ids = new Int32Array(allowed.length);
      this._logits = new Float64Array(allowed.length);
      this._w = new Float64Array(allowed.length);
    }
    const ids = this._ids;
    const ls = this._logits;
    let count = 0;
    for (let j = 0; j < allowed.length; j++) {
      const v = logits[allowed[j]];
      if (Number.isFinite(v)) {
        ids[count] = allowed[j];
        ls[count++] = v;
      }
    }
    if (count === 0) {
      if (allowed.length === 0) {
        throw noneAllowed();
      }
      // No finite logit: a uniform draw over the allowed ids.
      return allowed[Math.min(allowed.length - 1, Math.floor(rng.next() * allowed.length))];
    }
    // Most likely first; ties to the lower id, so the order never depends on the sort algorithm.
    sortByLogit(ids, ls, count);
    let n = count;
    if (this._topK > 0 && this._topK < n) {
      n = this._topK;
    }
    const maxL = ls[0];
    const w = this._w;
    let total = 0;
    for (let r = 0; r < n; r++) {
      w[r] = Math.exp((ls[r] - maxL) / this._temperature);
      total += w[r];
    }
    if (this._topP < 1) {
      let acc = 0;
      let keep = n;
      for (let r = 0; r < n; r++) {
        acc += w[r] / total;
        if (acc >= this._topP) {
          keep = r + 1;
          break;
        }
      }
      n = keep;
      total = 0;
      for (let r = 0; r < n; r++) {
        total += w[r];
      }
    }
    let u = rng.next() * total;
    for (let r = 0; r < n; r++) {
      u -= w[r];
      if (u < 0) {
        return ids[r];
      }
    }
    return ids[n - 1];
  }
}

/**
 * Sorts the first `n` (id, logit) pairs, given in ascending id order, by logit descending and id
 * ascending on ties: a stable insertion sort for a few, else the built-in sort with that order.
 */
let sortOrder = new Int32Array(0);
let sortIds = new Int32Array(0);
let sortLs = new Float64Array(0);

function sortByLogit(ids: Int32Array, ls: Float64Array, n: number): void {
  if (n > INSERTION_SORT_MAX) {
    // Through reused scratch buffers: this runs for every lane at every step.
    if (sortOrder.length < n) {
      sortOrder = new Int32Array(n);
      sortIds = new Int32Array(n);
      sortLs = new Float64Array(n);
    }
    const order = sortOrder.subarray(0, n);
    for (let r = 0; r < n; r++) {
      order[r] = r;
      sortIds[r] = ids[r];
      sortLs[r] = ls[r];
    }
    order.sort((a, b) => sortLs[b] - sortLs[a] || sortIds[a] - sortIds[b]);
    for (let r = 0; r < n; r++) {
      ids[r] = sortIds[order[r]];
      ls[r] = sortLs[order[r]];
    }
    return;
  }
  for (let r = 1; r < n; r++) {
    const id = ids[r];
    const v = ls[r];
    let q = r - 1;
    while (q >= 0 && ls[q] < v) {
      ids[q + 1] = ids[q];
      ls[q + 1] = ls[q];
      q--;
    }
    ids[q + 1] = id;
    ls[q + 1] = v;
  }
}

/** The sampler a config asks for. */
export function createSampler(config: GenerationConfig): TokenSampler {
  if (config.kind === 'greedy') {
    return new GreedySampler();
  }
  return new SamplingSampler(config.temperature, config.topK, config.topP);
}

/**
 * The config for user-facing sampling options: a temperature at or below 1e-3 is greedy;
 * throws `RangeError` for values out of range.
 */
export function generationConfigOf(options: { temperature: number; topK?: number; topP?: number }): GenerationConfig {
  const { temperature } = options;
  const topK = options.topK ?? 0;
  const topP = options.topP ?? 1;
  if (!Number.isFinite(temperature) || temperature < 0) {
    throw new RangeError(`temperature must be a number >= 0, got ${temperature}.`);
  }
  if (!Number.isInteger(topK) || topK < 0) {
    throw new RangeError(`topK must be a whole number >= 0, got ${topK}.`);
  }
  if (!Number.isFinite(topP) || topP <= 0 || topP > 1) {
    throw new RangeError(`topP must be in (0, 1], got ${topP}.`);
  }
  if (temperature <= 1e-3) {
    return { kind: 'greedy' };
  }
  return { kind: 'sample', temperature, topK, topP };
}

/** Natural-log softmax probability of `id` under `logits[offset .. offset + size)`. */
export function logProbAt(logits: Float32Array, offset: number, size: number, id: number): number {
  const end = offset + size;
  let maxL = -Infinity;
  for (let i = offset; i < end; i++) {
    const v = logits[i];
    if (v > maxL) {
      maxL = v;
    }
  }
  let sum = 0;
  for (let i = offset; i < end; i++) {
    sum += Math.exp(logits[i] - maxL);
  }
  return logits[offset + id] - maxL - Math.log(sum);
}
