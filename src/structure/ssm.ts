/**
 * Bar-level self-similarity matrices (SSMs) and the statistics read from them (the interval
 * statistics in `./intervals`, re-exported here).
 *
 * - {@link barSsm}: the SSM of a Score for one bar feature (`'jaccard'`, `'chroma'`,
 *   `'rhythm'`, `'combined'`).
 * - {@link similarityByInterval}, {@link corpusSimilarityByInterval},
 *   {@link IntervalSimilarityAccumulator}: Museformer's similarity distribution L_t.
 * - {@link similarityError}: Museformer's SE between two L_t curves.
 * - {@link topIntervals}: a piece's most structure-related bar intervals.
 * - {@link ssmDistance}: SING's mean-squared SSM distance.
 * - {@link ssmToImageText}: a small text heatmap.
 *
 * Form strings and template SSMs are in `form.ts`; per-bar feature extraction in
 * `barFeatures.ts`.
 *
 * ## Bar features
 *
 * Four similarities between two bars i and j, all in [0, 1], all symmetric, all exactly 1
 * when i = j:
 *
 * - `'jaccard'`: Museformer's note-set similarity (its eq. 4),
 *   `|N(i) ∩ N(j)| / |N(i) ∪ N(j)|`, where N(i) is the set of notes starting in bar i and two
 *   notes are equal when pitch, duration and onset within the bar are equal (after snapping
 *   onset and duration to the {@link BarSsmOptions.grid}). Notes of several tracks are pooled
 *   into one set, so the same note in two tracks counts once.
 * - `'chroma'`: cosine similarity of 12-bin pitch-class vectors, each pitch class weighted by
 *   how long it sounds inside the bar (a note held across a barline adds to every bar it
 *   overlaps, by the overlap).
 * - `'rhythm'`: Jaccard similarity of the sets of onset positions within the bar (snapped to
 *   the grid; pitch ignored). Positions are ticks from the downbeat, so bars of different
 *   lengths compare position by position; a short first bar (anacrusis) is right-aligned,
 *   i.e. its notes are placed where they fall in a full bar of its meter.
 * - `'combined'`: the mean of the three.
 *
 * Empty bars: two bars with empty sets (no note starts in either, or for chroma no note
 * sounds in either) are identical, so their similarity is 1; an empty bar against a non-empty
 * one is 0. This keeps the rule "identical bars score 1" and the diagonal at exactly 1.
 * Every SSM from {@link barSsm} also carries {@link Ssm.empty} (1 where no analysed note
 * starts in the bar) so that statistics can leave such pairs out (`skipEmpty`).
 *
 * ## Similarity by interval
 *
 * Museformer eq. 5: `L_t = Mean( sum_D sum_{j=i+t} l_ij )`, the mean similarity of all bar
 * pairs (i, i+t). For one piece that is the mean of the t-th superdiagonal of its SSM. Over a
 * corpus the paper pools the pairs of every piece into one mean (each pair weighs the same, so
 * long pieces weigh more); {@link corpusSimilarityByInterval} does that by default and offers
 * the per-piece mean as an option.
 *
 * Pure TypeScript: no vscode, no DOM, no Node-only APIs.
 */

import { MusicInputError, TPQ } from '../music/score';
import type { Score } from '../music/score';
import {
  chromaCosine,
  chromaVectors,
  groupByOnsetBar,
  intersectionCounts,
  isUsable,
  jaccardFromCounts,
  noteIdSets,
  onsetPositionSets,
  trackFilter,
} from './barFeatures';
import type { TrackSelection } from './barFeatures';

/**
 * A square matrix, row-major: entry (i, j) is `data[i * size + j]`.
 *
 * Every SSM built by this module is exactly symmetric, has exactly 1 on the diagonal and
 * holds values in [0, 1].
 */
export interface Ssm {
  /** Number of rows (= columns): one per bar. */
  readonly size: number;
  /** `size * size` values, row-major. */
  readonly data: Float32Array;
  /**
   * Optional per-bar flag, 1 where no analysed note starts in the bar. Set by
   * {@link barSsm}; {@link similarityByInterval} can skip pairs that involve such bars.
   */
  readonly empty?: Uint8Array;
}

/** Options of {@link ssmDistance}. */
export interface SsmDistanceOptions {
  /**
   * What to do when the two matrices differ in size: `'error'` (default) throws
   * `MusicInputError('ssm-size-mismatch')`; `'leading-block'` compares the common leading
   * `min(a.size, b.size)` square block (bars 1..n of both pieces) and ignores the rest.
   */
  readonly sizeMismatch?: 'error' | 'leading-block';
}

/** Options of {@link ssmToImageText}. */
export interface SsmImageOptions {
  /** Largest number of rows/columns drawn; bigger matrices are block-averaged down. Default 48. */
  readonly maxSize?: number;
}

/** Shade characters of {@link ssmToImageText}, from 0 (space) to 1 (`@`). */
export const SSM_SHADES = ' .:-=+*#%@';

/** A zero-filled SSM of `size` bars (no diagonal set). Throws on a negative or fractional size. */
export function createSsm(size: number): Ssm {
  if (!Number.isInteger(size) || size < 0) {
    throw new MusicInputError('ssm-invalid', `An SSM size must be a whole number >= 0, got ${size}.`);
  }
  return { size, data: new Float32Array(size * size) };
}

/** Entry (i, j) of an SSM (no bounds check beyond what the typed array gives: NaN outside). */
export function ssmAt(ssm: Ssm, i: number, j: number): number {
  if (i < 0 || j < 0 || i >= ssm.size || j >= ssm.size) {
    return Number.NaN;
  }
  return ssm.data[i * ssm.size + j];
}

/**
 * Checks that an object is a well-formed SSM (square data of the right length, finite values).
 * Throws `MusicInputError('ssm-invalid')` naming the problem. Useful on SSMs that come from
 * outside (a painted template, a message from the webview).
 */
export function validateSsm(ssm: Ssm): void {
  if (!Number.isInteger(ssm.size) || ssm.size < 0) {
    throw new MusicInputError('ssm-invalid', `SSM size must be a whole number >= 0, got ${ssm.size}.`);
  }
  if (!(ssm.data instanceof Float32Array) || ssm.data.length !== ssm.size * ssm.size) {
    throw new MusicInputError(
      'ssm-invalid',
      `SSM of size ${ssm.size} needs ${ssm.size * ssm.size} values, got ${ssm.data?.length ?? 'none'}.`,
    );
  }
  for (let k = 0; k < ssm.data.length; k++) {
    if (!Number.isFinite(ssm.data[k])) {
      const i = Math.floor(k / ssm.size);
      throw new MusicInputError('ssm-invalid', `SSM entry (${i}, ${k - i * ssm.size}) is not a finite number.`);
    }
  }
}

/**
 * SING's SSM distance: the mean over all entries of the squared difference,
 * `(1 / n^2) * sum_ij (a_ij - b_ij)^2`. For matrices with values in [0, 1] it lies in [0, 1];
 * identical matrices give exactly 0, and two 0x0 matrices give 0.
 *
 * When the sizes differ the behaviour follows `options.sizeMismatch` (default: throw
 * `MusicInputError('ssm-size-mismatch')`).
 */
export function ssmDistance(a: Ssm, b: Ssm, options: SsmDistanceOptions = {}): number {
  let n = a.size;
  if (a.size !== b.size) {
    if ((options.sizeMismatch ?? 'error') === 'error') {
      throw new MusicInputError(
        'ssm-size-mismatch',
        `Cannot compare SSMs of ${a.size} and ${b.size} bars; pass sizeMismatch: 'leading-block' to compare the first ${Math.min(a.size, b.size)} bars.`,
      );
    }
    n = Math.min(a.size, b.size);
  }
  if (n === 0) {
    return 0;
  }
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const ra = i * a.size;
    const rb = i * b.size;
    for (let j = 0; j < n; j++) {
      const d = a.data[ra + j] - b.data[rb + j];
      sum += d * d;
    }
  }
  return sum / (n * n);
}

/**
 * A small text heatmap of an SSM: one string per row, one shade character of
 * {@link SSM_SHADES} per column (value 0 -> space, 1 -> `@`, clamped to [0, 1]; NaN -> `?`).
 * A matrix bigger than `maxSize` (default 48) is shrunk to `maxSize` rows/columns, each cell
 * the mean of the block of entries it covers. Row 0 is the first bar.
 */
export function ssmToImageText(ssm: Ssm, options: SsmImageOptions = {}): string[] {
  const maxSize = Math.max(1, Math.floor(options.maxSize ?? 48));
  const n = ssm.size;
  const out = Math.min(n, maxSize);
  const edges = new Int32Array(out + 1);
  for (let k = 0; k <= out; k++) {
    edges[k] = Math.floor((k * n) / out);
  }
  const top = SSM_SHADES.length - 1;
  const lines: string[] = [];
  for (let r = 0; r < out; r++) {
    let line = '';
    for (let c = 0; c < out; c++) {
      let sum = 0;
      let count = 0;
      for (let i = edges[r]; i < edges[r + 1]; i++) {
        const row = i * n;
        for (let j = edges[c]; j < edges[c + 1]; j++) {
          sum += ssm.data[row + j];
          count++;
        }
      }
      const v = sum / count;
      if (Number.isNaN(v)) {
        line += '?';
      } else {
        const clamped = Math.min(1, Math.max(0, v));
        line += SSM_SHADES[Math.round(clamped * top)];
      }
    }
    lines.push(line);
  }
  return lines;
}

/** The bar similarity used for an SSM. See the module comment for definitions. */
export type BarFeature = 'jaccard' | 'chroma' | 'rhythm' | 'combined';

/** Every {@link BarFeature}, in the order the UI lists them. */
export const BAR_FEATURES: readonly BarFeature[] = ['jaccard', 'chroma', 'rhythm', 'combined'];

/** Default snapping grid for onsets and durations: a 32nd-note triplet (40 ticks at TPQ 480). */
export const DEFAULT_GRID_TICKS = TPQ / 12;

/**
 * Most bars {@link barSsm} accepts (the matrix is this squared: 64 MiB of float32 at the
 * limit). Longer scores throw `MusicInputError('structure-too-long')`.
 */
export const MAX_SSM_BARS = 4096;

/** Options of {@link barSsm}. */
export interface BarSsmOptions extends TrackSelection {
  /**
   * Snapping grid in ticks for onsets and durations ('jaccard', 'rhythm'), so that timing
   * jitter of a few ticks does not split equal notes. Default {@link DEFAULT_GRID_TICKS};
   * 1 compares exact ticks.
   */
  readonly grid?: number;
}

/** Whether a string names a {@link BarFeature}. */
export function isBarFeature(value: unknown): value is BarFeature {
  return typeof value === 'string' && (BAR_FEATURES as readonly string[]).includes(value);
}

/**
 * The bar-level SSM of a score (bars in performed order) for one feature (default
 * `'jaccard'`). The result is exactly symmetric, has exactly 1 on the diagonal, values in
 * [0, 1], and {@link Ssm.empty} set. A score without bars gives a 0x0 SSM.
 *
 * Throws `MusicInputError` with code `'structure-bad-feature'` for an unknown feature,
 * `'structure-bad-track'` for a track index the score does not have, `'structure-bad-grid'`
 * for a grid that is not a positive number, and `'structure-too-long'` above
 * {@link MAX_SSM_BARS} bars.
 */
export function barSsm(score: Score, feature: BarFeature = 'jaccard', options: BarSsmOptions = {}): Ssm {
  if (!isBarFeature(feature)) {
    throw new MusicInputError(
      'structure-bad-feature',
      `Unknown bar feature '${String(feature)}'; use one of ${BAR_FEATURES.join(', ')}.`,
    );
  }
  const grid = options.grid ?? DEFAULT_GRID_TICKS;
  if (!Number.isFinite(grid) || grid <= 0) {
    throw new MusicInputError('structure-bad-grid', `The snapping grid must be a positive number of ticks, got ${grid}.`);
  }
  const bars = score.bars;
  const n = bars.length;
  if (n > MAX_SSM_BARS) {
    throw new MusicInputError(
      'structure-too-long',
      `This score has ${n} bars; bar self-similarity is limited to ${MAX_SSM_BARS} bars.`,
    );
  }
  const useTrack = trackFilter(score, options);
  const notes = score.notes.filter((note) => useTrack(note.track) && isUsable(note));
  const byBar = groupByOnsetBar(bars, notes);

  const empty = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    empty[i] = byBar[i].length === 0 ? 1 : 0;
  }

  const needJaccard = feature === 'jaccard' || feature === 'combined';
  const needRhythm = feature === 'rhythm' || feature === 'combined';
  const needChroma = feature === 'chroma' || feature === 'combined';
  const noteSets = needJaccard ? noteIdSets(bars, byBar, grid) : [];
  const onsetSets = needRhythm ? onsetPositionSets(bars, byBar, grid) : [];
  const chroma = needChroma ? chromaVectors(bars, notes) : new Float64Array(0);

  const noteCommon = needJaccard ? intersectionCounts(noteSets) : new Int32Array(0);
  const onsetCommon = needRhythm ? intersectionCounts(onsetSets) : new Int32Array(0);
  const noteSim = (i: number, j: number): number =>
    jaccardFromCounts(noteCommon[i * n + j], noteSets[i].length, noteSets[j].length);
  const onsetSim = (i: number, j: number): number =>
    jaccardFromCounts(onsetCommon[i * n + j], onsetSets[i].length, onsetSets[j].length);

  const data = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    data[i * n + i] = 1;
    for (let j = i + 1; j < n; j++) {
      let v: number;
      switch (feature) {
        case 'jaccard':
          v = noteSim(i, j);
          break;
        case 'rhythm':
          v = onsetSim(i, j);
          break;
        case 'chroma':
          v = chromaCosine(chroma, i, j);
          break;
        case 'combined':
          v = (noteSim(i, j) + onsetSim(i, j) + chromaCosine(chroma, i, j)) / 3;
          break;
      }
      data[i * n + j] = v;
      data[j * n + i] = v;
    }
  }
  return { size: n, data, empty };
}

// The interval statistics (L_t, SE, top intervals) live in `./intervals`; re-exported so `structure/ssm` stays the one import.
export { DEFAULT_MAX_INTERVAL, IntervalSimilarityAccumulator, MIN_INTERVAL_PAIRS, corpusSimilarityByInterval, similarityByInterval, similarityError, topIntervals } from './intervals';
export type { CorpusIntervalOptions, CorpusIntervalResult, IntervalOptions, StructureInterval, TopIntervalsOptions } from './intervals';
