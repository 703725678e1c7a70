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

/** Picks one token id from logits restricted to a mask. */
export interface TokenSampler {
  /** `logits` has at least `mask.length` entries; throws when the mask allows nothing. */
  sample(logits: ArrayLike<number>, mask: Uint8Array, rng: Prng): number;
}

function noneAllowed(): Error {
  return new Error('The grammar allows no token here (internal error).');
}

/** The most likely allowed id (ties to the lower id). */
export class GreedySampler implements TokenSampler {
  sample(logits: ArrayLike<number>, mask: Uint8Array): number {
    let best = -1;
    let bestV = -Infinity;
    for (let i = 0; i < mask.length; i++) {
      if (mask[i] && (best < 0 || logits[i] > bestV)) {
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

/** Temperature, then top-k, then top-p (nucleus) over the allowed ids, then one draw. */
export class SamplingSampler implements TokenSampler {
  private readonly _temperature: number;
  private readonly _topK: number;
  private readonly _topP: number;

  constructor(temperature: number, topK: number, topP: number) {
    this._temperature = temperature;
    this._topK = topK;
    this._topP = topP;
  }

  sample(logits: ArrayLike<number>, mask: Uint8Array, rng: Prng): number {
    const ids: number[] = [];
    for (let i = 0; i < mask.length; i++) {
      if (mask[i] && Number.isFinite(logits[i])) {
        ids.push(i);
      }
    }
    if (ids.length === 0) {
      for (let i = 0; i < mask.length; i++) {
        if (mask[i]) {
          ids.push(i);
        }
      }
      if (ids.length === 0) {
        throw noneAllowed();
      }
      return ids[Math.min(ids.length - 1, Math.floor(rng.next() * ids.length))];
    }
    // Most likely first; ties to the lower id, so the order never depends on the sort algorithm.
    ids.sort((a, b) => logits[b] - logits[a] || a - b);
    let n = ids.length;
    if (this._topK > 0 && this._topK < n) {
      n = this._topK;
    }
    const maxL = logits[ids[0]];
    const w = new Float64Array(n);
    let total = 0;
    for (let r = 0; r < n; r++) {
      w[r] = Math.exp((logits[ids[r]] - maxL) / this._temperature);
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
export function logProbAt(logits: ArrayLike<number>, offset: number, size: number, id: number): number {
  let maxL = -Infinity;
  for (let i = 0; i < size; i++) {
    const v = logits[offset + i];
    if (v > maxL) {
      maxL = v;
    }
  }
  let sum = 0;
  for (let i = 0; i < size; i++) {
    sum += Math.exp(logits[offset + i] - maxL);
  }
  return logits[offset + id] - maxL - Math.log(sum);
}
