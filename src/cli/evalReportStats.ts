/**
 * The statistics of `refrain eval --report` (`./evalReport`): paired bootstrap weights and
 * intervals, weighted means, the pooled L_t curve, and rounding for the JSON.
 */

import { mulberry32 } from '../platform/prng';
import { T, round } from './evalFormsMeasure';

/** Paired bootstrap resamples of the differences (per-piece figures and SE). */
export const DIFF_BOOTSTRAP = 1000;
/** Paired bootstrap resamples of the distribution-metric differences (each resample recomputes densities). */
export const DIST_BOOTSTRAP = 200;

/** Bootstrap draws: `count` resamples of `n` units, as per-unit weights (how often each was drawn). */
export function bootstrapWeights(n: number, count: number, seed: number): Float64Array[] {
  const rand = mulberry32(seed);
  const out: Float64Array[] = [];
  for (let r = 0; r < count; r++) {
    const w = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      w[Math.floor(rand() * n)]++;
    }
    out.push(w);
  }
  return out;
}

/** 2.5th and 97.5th percentiles (nearest rank) of finite draws. */
export function percentileInterval(draws: readonly number[]): [number, number] {
  const ok = draws.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (ok.length === 0) {
    return [Number.NaN, Number.NaN];
  }
  const at = (q: number): number => ok[Math.min(ok.length - 1, Math.max(0, Math.round(q * (ok.length - 1))))];
  return [at(0.025), at(0.975)];
}

/** Weighted mean of per-piece values (weights per piece; NaN values and zero weights skipped). */
export function weightedMean(values: readonly number[], weights: ArrayLike<number> | undefined): number {
  let s = 0;
  let w = 0;
  for (let k = 0; k < values.length; k++) {
    const wk = weights ? weights[k] : 1;
    if (wk > 0 && Number.isFinite(values[k])) {
      s += wk * values[k];
      w += wk;
    }
  }
  return w > 0 ? s / w : Number.NaN;
}

/** Pooled L_t (sum of pair sums over sum of pair counts per t) of weighted pieces. */
export function pooledLt(sums: readonly (Float64Array | null)[], counts: readonly (Float64Array | null)[], weights?: ArrayLike<number>): Float64Array {
  const lt = new Float64Array(T + 1);
  for (let t = 0; t <= T; t++) {
    let s = 0;
    let c = 0;
    for (let k = 0; k < sums.length; k++) {
      const wk = weights ? weights[k] : 1;
      const sk = sums[k];
      const ck = counts[k];
      if (wk > 0 && sk && ck) {
        s += wk * sk[t];
        c += wk * ck[t];
      }
    }
    lt[t] = c > 0 ? s / c : Number.NaN;
  }
  return lt;
}

/** Element-wise product. */
export function mul(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    out[i] = a[i] * b[i];
  }
  return out;
}

/** A difference with its bootstrap interval, and whether the interval excludes 0. */
export function interval(value: number, draws: number[], better: 'higher' | 'lower' | 'closer'): Record<string, unknown> {
  const [lo, hi] = percentileInterval(draws);
  return { value: round(value, 4), ci95: [round(lo, 4), round(hi, 4)], excludesZero: Number.isFinite(lo) && (lo > 0 || hi < 0), better };
}

/** Each value rounded to 3 decimals. */
export function roundAll(xs: ArrayLike<number>): number[] {
  return Array.from(xs, (v) => Math.round(v * 1000) / 1000);
}

/** Each non-integer value rounded to 4 decimals. */
export function roundObj(o: Record<string, number>): Record<string, number | null> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Number.isInteger(v) ? v : round(v, 4)]));
}
