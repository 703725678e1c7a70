/**
 * K/V rows of a prompt kept between requests. Typing adds a few tokens to a prompt the engine
 * has just prefilled; the rows of the tokens that did not change are reused instead of run
 * through the model again.
 *
 * A token's K/V rows are a function of its own inputs (id, bar, position, row, source bar, bars
 * to the end) and of what it attends to in every layer (the cache rows its plan lets it see,
 * with their bias; the SING head's summary rows, mask and template values), over the rows of
 * earlier tokens. So each token gets a 64-bit signature of exactly those inputs ({@link signStep}),
 * and a prompt reuses the rows of the longest prefix whose signatures all equal the cached
 * ones: by induction over the tokens, those rows are what a fresh prefill would compute, up to
 * float rounding (another split of the prompt into steps sums in another order). A change
 * anywhere that alters an earlier token's view (a template that now pairs other bars, a new
 * structure) changes its signature, and the rows from there on are computed afresh.
 *
 * Signatures do not depend on how the prompt is cut into steps: the same token sees the same
 * keys whether it is prefilled in a chunk of 256 or one at a time (tested).
 *
 * Pure TypeScript: no vscode, no Node-only APIs.
 */

import type { KvCache } from './kvCache';
import { BLOCKED_BIAS } from './plan';
import type { StepPlan, TokenLayout } from './plan';
import type { BarStructure } from './structure';

/** Most prompt tokens kept (rows of every layer: 8 KiB a token for a 4-layer, 256-wide model, so at most 16 MiB; a folk tune is a few hundred tokens). */
export const PROMPT_CACHE_TOKENS = 2048;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Two independent 32-bit hashes (FNV-1a over words, and MurmurHash3's mix) fed word by word. */
class Hash2 {
  a = 0x811c9dc5;
  b = 0x9747b28c;

  word(x: number): void {
    this.a = Math.imul(this.a ^ x, 0x01000193);
    let k = Math.imul(x, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    let h = this.b ^ k;
    h = (h << 13) | (h >>> 19);
    this.b = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }

  float(x: number): void {
    f32[0] = x;
    this.word(u32[0]);
  }

  /** Writes the hash pair at `out[2 * i]`, `out[2 * i + 1]` (with a final avalanche). */
  put(out: Uint32Array, i: number): void {
    out[2 * i] = fmix(this.a);
    out[2 * i + 1] = fmix(this.b);
  }
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Signatures of the tokens [past, past + count) of `layout` from their step's plan, written at
 * `out[2 * i]` and `out[2 * i + 1]` for token i. Covers everything the model reads for the token:
 * its inputs (id, bar, pos, row, source bar, bars to the end), per layer the rows it may see
 * (kidx entries and new tokens whose bias is not blocked, with the bias), and the SING head's
 * entries (rows with their mask and template value).
 */
export function signStep(layout: TokenLayout, past: number, count: number, plan: StepPlan, structure: BarStructure, out: Uint32Array): void {
  const ids = layout.ids();
  const bars = layout.barArray();
  const poss = layout.posArray();
  // Layers that share a plan share its object: each distinct plan's row is hashed once.
  const distinct = [...new Set(plan.layers)];
  const which = plan.layers.map((lp) => distinct.indexOf(lp));
  const rowHash = new Uint32Array(2 * distinct.length);
  for (let r = 0; r < count; r++) {
    const i = past + r;
    for (let p = 0; p < distinct.length; p++) {
      const lp = distinct[p];
      const k = lp.kidx.length;
      const width = k + count;
      const row = r * width;
      const hp = new Hash2();
      for (let j = 0; j < width; j++) {
        const b = lp.bias[row + j];
        if (b !== BLOCKED_BIAS) {
          hp.word(j < k ? lp.kidx[j] : past + j - k);
          hp.float(b);
        }
      }
      hp.put(rowHash, p);
    }
    const h = new Hash2();
    const bar = bars[i];
    h.word(ids[i]);
    h.word(bar);
    h.word(poss[i]);
    h.word(i);
    h.word(structure.source(bar));
    h.word(structure.toEnd(bar));
    for (const p of which) {
      h.word(0x4c41594e); // layer separator
      h.word(rowHash[2 * p]);
      h.word(rowHash[2 * p + 1]);
    }
    const sp = plan.sing;
    if (sp !== undefined) {
      const m = sp.idx.length;
      const width = m + count;
      const row = r * width;
      h.word(0x53494e47); // SING separator
      for (let j = 0; j < width; j++) {
        const mask = sp.mask[row + j];
        const value = sp.row[row + j];
        if (mask !== 0 || value !== 0) {
          h.word(j < m ? sp.idx[j] : past + j - m);
          h.float(mask);
          h.float(value);
        }
      }
    }
    h.put(out, i);
  }
}

/** A cached prompt: its tokens' signatures and K/V rows. */
interface Entry {
  sig: Uint32Array;
  tokens: number;
  layers: number;
  rowSize: number;
  keys: Float32Array[];
  values: Float32Array[];
}

/** The rows of a cached prefix of a prompt. */
export interface PromptHit {
  /** Tokens whose rows can be reused (the longest prefix with equal signatures). */
  tokens: number;
  /** Per layer, at least `tokens` rows of keys / values (`rowSize` floats a row). */
  keys: readonly Float32Array[];
  values: readonly Float32Array[];
}

/** The last prompt's rows, for one model (the worker keeps one per loaded model). */
export class PromptCache {
  private _entry: Entry | undefined;
  private readonly _max: number;

  constructor(maxTokens = PROMPT_CACHE_TOKENS) {
    this._max = Math.max(1, Math.floor(maxTokens));
  }

  /** The cached rows of the longest prefix of a prompt with these signatures (undefined: none). */
  lookup(sig: Uint32Array, layers: number, rowSize: number): PromptHit | undefined {
    const e = this._entry;
    if (e === undefined || e.layers !== layers || e.rowSize !== rowSize) {
      return undefined;
    }
    const n = Math.min(e.tokens, sig.length >> 1);
    let t = 0;
    while (t < n && e.sig[2 * t] === sig[2 * t] && e.sig[2 * t + 1] === sig[2 * t + 1]) {
      t++;
    }
    return t > 0 ? { tokens: t, keys: e.keys, values: e.values } : undefined;
  }

  /** Keeps the first tokens (at most the cache's size) of a prompt whose rows 0 .. tokens - 1 are in `kv`. */
  store(sig: Uint32Array, kv: KvCache, tokens: number): void {
    const n = Math.min(tokens, this._max, sig.length >> 1);
    const rs = kv.rowSize;
    const old = this._entry;
    const reuse = old !== undefined && old.layers === kv.layers && old.rowSize === rs && old.keys[0].length >= n * rs;
    const keys: Float32Array[] = [];
    const values: Float32Array[] = [];
    for (let l = 0; l < kv.layers; l++) {
      const k = reuse ? old.keys[l] : new Float32Array(n * rs);
      const v = reuse ? old.values[l] : new Float32Array(n * rs);
      k.set(kv.keys(l).subarray(0, n * rs));
      v.set(kv.values(l).subarray(0, n * rs));
      keys.push(k);
      values.push(v);
    }
    this._entry = { sig: sig.slice(0, 2 * n), tokens: n, layers: kv.layers, rowSize: rs, keys, values };
  }

  /** Forgets the cached prompt. */
  clear(): void {
    this._entry = undefined;
  }
}
