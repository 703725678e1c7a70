/**
 * The statistics read from bar SSMs (`./ssm`) by interval: Museformer's similarity distribution
 * L_t (eq. 5: the mean similarity of the bar pairs (i, i+t); for a corpus the pairs of every
 * piece pooled by default, or the per-piece mean), its similarity error SE between two L_t
 * curves, and a piece's most structure-related intervals.
 *
 * Pure TypeScript: no vscode, no DOM, no Node-only APIs.
 */

import { MusicInputError } from '../music/score';
import type { Ssm } from './ssm';

/** Default largest interval, as in Museformer's SE (T = 40). */
export const DEFAULT_MAX_INTERVAL = 40;

/** Options of {@link similarityByInterval} and the corpus functions. */
export interface IntervalOptions {
  /**
   * Leave out pairs where either bar is empty (per {@link Ssm.empty}; SSMs without the flag
   * are unaffected). Default false, as in eq. 5, where all pairs count.
   */
  readonly skipEmpty?: boolean;
}

/** Options of {@link corpusSimilarityByInterval}. */
export interface CorpusIntervalOptions extends IntervalOptions {
  /**
   * `'pairs'` (default, the paper's eq. 5): one mean over every pair at distance t of every
   * piece. `'pieces'`: the mean over pieces of each piece's own L_t (pieces without a pair at
   * distance t are left out for that t).
   */
  readonly weighting?: 'pairs' | 'pieces';
}

/** The result of {@link corpusSimilarityByInterval}. */
export interface CorpusIntervalResult {
  /** L_t for t = 0..maxInterval, as in {@link similarityByInterval}; NaN where no pair exists. */
  readonly lt: Float64Array;
  /** Number of bar pairs counted at each t (index 0: number of bars). */
  readonly pairs: Float64Array;
  /** Number of SSMs (pieces) seen. */
  readonly pieces: number;
}

/** One interval picked by {@link topIntervals}. */
export interface StructureInterval {
  /** Distance in bars. */
  readonly interval: number;
  /** L_t at that distance. */
  readonly value: number;
  /** How far L_t rises above its local trend (mean of the neighbours within the window). */
  readonly prominence: number;
}

/** Options of {@link topIntervals}. */
export interface TopIntervalsOptions {
  /** Neighbours on each side that define the local trend. Default 2. */
  readonly window?: number;
  /** Smallest interval considered. Default 1. */
  readonly minInterval?: number;
  /** Largest interval considered. Default: the last index of `lt`. */
  readonly maxInterval?: number;
  /** Keep only intervals whose prominence is strictly above this. Default 0. */
  readonly minProminence?: number;
  /**
   * Bars in the piece (the SSM's size). When given, an interval is considered only when at least
   * {@link TopIntervalsOptions.minPairs} pairs of bars lie that far apart (`bars - t >= minPairs`):
   * interval 31 of a 32-bar piece rests on one pair and says nothing about its structure.
   */
  readonly bars?: number;
  /** Fewest bar pairs an interval needs when `bars` is given. Default {@link MIN_INTERVAL_PAIRS}. */
  readonly minPairs?: number;
}

/** Fewest pairs of bars at one distance for that distance to be suggested as a structure interval. */
export const MIN_INTERVAL_PAIRS = 4;

function checkMaxInterval(maxInterval: number): void {
  if (!Number.isInteger(maxInterval) || maxInterval < 0) {
    throw new MusicInputError(
      'structure-bad-interval',
      `The largest interval must be a whole number of bars >= 0, got ${maxInterval}.`,
    );
  }
}

/**
 * Adds the diagonal sums of one SSM into `sums`/`counts` (index t = distance in bars). Index 0
 * sums the diagonal itself.
 */
function accumulateDiagonals(
  ssm: Ssm,
  maxInterval: number,
  skipEmpty: boolean,
  sums: Float64Array,
  counts: Float64Array,
): void {
  const n = ssm.size;
  const empty = skipEmpty ? ssm.empty : undefined;
  const last = Math.min(maxInterval, n - 1);
  for (let t = 0; t <= last; t++) {
    let sum = 0;
    let count = 0;
    for (let i = 0; i + t < n; i++) {
      if (empty !== undefined && (empty[i] === 1 || empty[i + t] === 1)) {
        continue;
      }
      sum += ssm.data[i * n + i + t];
      count++;
    }
    sums[t] += sum;
    counts[t] += count;
  }
}

/**
 * L_t of one piece: `lt[t]` is the mean of s(i, i+t) over all bars i with i+t in the piece,
 * for t = 1..maxInterval (default 40). Index 0 holds the mean of the diagonal (exactly 1 for
 * every SSM this module builds). Where the piece has no pair at distance t (t >= size, or all
 * pairs skipped) the value is NaN. The array has `maxInterval + 1` entries.
 */
export function similarityByInterval(
  ssm: Ssm,
  maxInterval: number = DEFAULT_MAX_INTERVAL,
  options: IntervalOptions = {},
): Float64Array {
  checkMaxInterval(maxInterval);
  const sums = new Float64Array(maxInterval + 1);
  const counts = new Float64Array(maxInterval + 1);
  accumulateDiagonals(ssm, maxInterval, options.skipEmpty === true, sums, counts);
  const lt = new Float64Array(maxInterval + 1);
  for (let t = 0; t <= maxInterval; t++) {
    lt[t] = counts[t] > 0 ? sums[t] / counts[t] : Number.NaN;
  }
  return lt;
}

/**
 * Streaming accumulator of corpus L_t: call {@link add} once per piece (the SSM can be dropped
 * right after), then {@link result}. Works with async sources, where
 * {@link corpusSimilarityByInterval} needs a synchronous iterable.
 */
export class IntervalSimilarityAccumulator {
  private readonly _maxInterval: number;
  private readonly _skipEmpty: boolean;
  private readonly _weighting: 'pairs' | 'pieces';
  private readonly _sums: Float64Array;
  private readonly _counts: Float64Array;
  private readonly _pieceSums: Float64Array;
  private readonly _pieceCounts: Float64Array;
  private readonly _scratchSums: Float64Array;
  private readonly _scratchCounts: Float64Array;
  private _pieces = 0;

  constructor(maxInterval: number = DEFAULT_MAX_INTERVAL, options: CorpusIntervalOptions = {}) {
    checkMaxInterval(maxInterval);
    this._maxInterval = maxInterval;
    this._skipEmpty = options.skipEmpty === true;
    this._weighting = options.weighting ?? 'pairs';
    this._sums = new Float64Array(maxInterval + 1);
    this._counts = new Float64Array(maxInterval + 1);
    this._pieceSums = new Float64Array(maxInterval + 1);
    this._pieceCounts = new Float64Array(maxInterval + 1);
    this._scratchSums = new Float64Array(maxInterval + 1);
    this._scratchCounts = new Float64Array(maxInterval + 1);
  }

  /** Adds one piece's SSM. */
  add(ssm: Ssm): void {
    this._scratchSums.fill(0);
    this._scratchCounts.fill(0);
    accumulateDiagonals(ssm, this._maxInterval, this._skipEmpty, this._scratchSums, this._scratchCounts);
    for (let t = 0; t <= this._maxInterval; t++) {
      const c = this._scratchCounts[t];
      this._sums[t] += this._scratchSums[t];
      this._counts[t] += c;
      if (c > 0) {
        this._pieceSums[t] += this._scratchSums[t] / c;
        this._pieceCounts[t] += 1;
      }
    }
    this._pieces++;
  }

  /** The corpus L_t so far (fresh arrays; the accumulator can keep going). */
  result(): CorpusIntervalResult {
    const lt = new Float64Array(this._maxInterval + 1);
    for (let t = 0; t <= this._maxInterval; t++) {
      if (this._weighting === 'pieces') {
        lt[t] = this._pieceCounts[t] > 0 ? this._pieceSums[t] / this._pieceCounts[t] : Number.NaN;
      } else {
        lt[t] = this._counts[t] > 0 ? this._sums[t] / this._counts[t] : Number.NaN;
      }
    }
    return { lt, pairs: Float64Array.from(this._counts), pieces: this._pieces };
  }
}

/**
 * Corpus L_t over many pieces, streaming: each SSM is read once and not kept, so a generator
 * that builds one SSM at a time holds one in memory. By default (the paper's eq. 5) `lt[t]`
 * is the mean of s(i, i+t) over every pair at distance t of every piece; `pairs[t]` is how
 * many pairs that was. Index 0 as in {@link similarityByInterval}.
 */
export function corpusSimilarityByInterval(
  ssms: Iterable<Ssm>,
  maxInterval: number = DEFAULT_MAX_INTERVAL,
  options: CorpusIntervalOptions = {},
): CorpusIntervalResult {
  const acc = new IntervalSimilarityAccumulator(maxInterval, options);
  for (const ssm of ssms) {
    acc.add(ssm);
  }
  return acc.result();
}

/**
 * Museformer's similarity error (eq. 6): `SE = (1/T) * sum_{t=1..T} |generated_t - reference_t|`
 * with T = `maxInterval` (default 40). Both arrays are indexed by interval as
 * {@link similarityByInterval} returns them (index 0 is ignored). A t where either value is
 * missing (beyond the array, or NaN because the piece is too short) is left out and the mean is
 * taken over the remaining t; with none left the result is NaN. The result is a fraction: the
 * paper prints it in percent (x100).
 */
export function similarityError(
  generated: Float64Array,
  reference: Float64Array,
  maxInterval: number = DEFAULT_MAX_INTERVAL,
): number {
  checkMaxInterval(maxInterval);
  let sum = 0;
  let count = 0;
  for (let t = 1; t <= maxInterval; t++) {
    const g = t < generated.length ? generated[t] : Number.NaN;
    const r = t < reference.length ? reference[t] : Number.NaN;
    if (Number.isNaN(g) || Number.isNaN(r)) {
      continue;
    }
    sum += Math.abs(g - r);
    count++;
  }
  return count > 0 ? sum / count : Number.NaN;
}

/**
 * The `k` intervals most related to the piece's structure: local peaks of L_t (not below
 * either neighbour) that rise above the local trend, ranked by that rise (prominence), ties
 * to the shorter interval. The trend at t is the mean of the defined L values within `window`
 * intervals on each side (index 0 excluded). NaN entries are never picked. With `bars`, an
 * interval needs at least `minPairs` (default 4) pairs of bars. The result is sorted by
 * prominence, highest first.
 */
export function topIntervals(lt: Float64Array, k: number, options: TopIntervalsOptions = {}): StructureInterval[] {
  const window = Math.max(1, Math.floor(options.window ?? 2));
  const minT = Math.max(1, Math.floor(options.minInterval ?? 1));
  const byPairs = options.bars !== undefined ? Math.floor(options.bars) - Math.max(1, Math.floor(options.minPairs ?? MIN_INTERVAL_PAIRS)) : Number.POSITIVE_INFINITY;
  const maxT = Math.min(lt.length - 1, Math.floor(options.maxInterval ?? lt.length - 1), byPairs);
  const minProminence = options.minProminence ?? 0;
  // Neighbours and trend read every defined interval (1..end), not only the candidate range.
  const at = (t: number): number => (t >= 1 && t < lt.length ? lt[t] : Number.NaN);
  const found: StructureInterval[] = [];
  for (let t = minT; t <= maxT; t++) {
    const v = lt[t];
    if (Number.isNaN(v)) {
      continue;
    }
    const left = at(t - 1);
    const right = at(t + 1);
    if ((!Number.isNaN(left) && left > v) || (!Number.isNaN(right) && right > v)) {
      continue;
    }
    let sum = 0;
    let count = 0;
    for (let d = 1; d <= window; d++) {
      for (const u of [at(t - d), at(t + d)]) {
        if (!Number.isNaN(u)) {
          sum += u;
          count++;
        }
      }
    }
    if (count === 0) {
      continue;
    }
    const prominence = v - sum / count;
    if (prominence > minProminence) {
      found.push({ interval: t, value: v, prominence });
    }
  }
  found.sort((a, b) => b.prominence - a.prominence || a.interval - b.interval);
  return found.slice(0, Math.max(0, Math.floor(k)));
}
