/**
 * Distribution metrics of PerceiverS (after mgeval): how close a set of generated pieces is to a
 * set of real ones, feature by feature.
 *
 * Features of a span of bars (the non-drum notes whose onset lies in it, in onset order):
 * - `pch`  pitch-class histogram (12 bins, counts normalised to sum 1);
 * - `pctm` pitch-class transition matrix (12 x 12, transitions between consecutive notes,
 *          normalised over the whole matrix);
 * - `pr`   pitch range (highest minus lowest MIDI pitch);
 * - `pi`   average pitch interval (mean absolute semitone step between consecutive notes);
 * - `ioi`  average inter-onset interval (mean gap between distinct onsets, in quarter notes);
 * - `nlh`  note-length histogram over {@link LENGTH_CLASSES} (nearest class on a log scale);
 * - `nltm` note-length transition matrix (classes of consecutive notes, whole-matrix normalised).
 * A feature that the span cannot give (no notes; fewer than two for a step or a gap) is null.
 *
 * Comparison of two sets (one feature): the intra-set distances of the real set (every pair of
 * real items) and the inter-set distances (every generated item against every real item),
 * Euclidean for vectors and absolute for scalars, each smoothed into a density by a Gaussian
 * kernel (Scott's bandwidth) on one grid. Overlap area (OA, 0..1, higher is closer) is the
 * area under the smaller of the two densities; KL divergence is KL(intra-real || inter)
 * (nats, 0 = the same, lower is closer). A generated set that is like the real one sits at the
 * same distances from the real pieces as the real pieces sit from each other.
 *
 * "Overall" takes each piece's span as one item; "per segment" cuts the span into 4-bar
 * segments and pools the segments of all pieces as items (PerceiverS's /seg metrics).
 *
 * Pure TypeScript.
 */

import { TPQ } from '../music/score';
import type { Note, Score } from '../music/score';

/** The features, in report order. */
export const FEATURES = ['pch', 'pctm', 'pr', 'pi', 'ioi', 'nlh', 'nltm'] as const;
export type FeatureName = (typeof FEATURES)[number];

/** Long names of the features, for tables. */
export const FEATURE_TITLES: Readonly<Record<FeatureName, string>> = {
  pch: 'pitch-class histogram',
  pctm: 'pitch-class transitions',
  pr: 'pitch range',
  pi: 'average pitch interval',
  ioi: 'inter-onset interval',
  nlh: 'note-length histogram',
  nltm: 'note-length transitions',
};

/**
 * Note-length classes in quarter notes: 32nd, 16th, triplet 8th, 8th, triplet quarter, dotted
 * 8th, quarter, dotted quarter, half, dotted half, whole, dotted whole (and longer).
 */
export const LENGTH_CLASSES: readonly number[] = [0.125, 0.25, 1 / 3, 0.5, 2 / 3, 0.75, 1, 1.5, 2, 3, 4, 6];

/** One feature's value: a vector, a number, or null where the span cannot give it. */
export type FeatureValue = Float64Array | number | null;

/** The features of one span. */
export type Features = Record<FeatureName, FeatureValue>;

/** Bars per segment of the per-segment metrics. */
export const SEGMENT_BARS = 4;

/** Class index of a note length in quarter notes (nearest {@link LENGTH_CLASSES} entry by ratio). */
export function lengthClass(quarters: number): number {
  let best = 0;
  let bestD = Infinity;
  const l = Math.log(Math.max(quarters, 1e-6));
  for (let k = 0; k < LENGTH_CLASSES.length; k++) {
    const d = Math.abs(l - Math.log(LENGTH_CLASSES[k]));
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best;
}

/** The non-drum notes with onset in bars [from, to) of a score, in onset order (then pitch). */
export function spanNotes(score: Score, from: number, to: number): Note[] {
  const a = Math.max(0, from);
  const b = Math.min(score.bars.length, to);
  if (b <= a) {
    return [];
  }
  const start = score.bars[a].start;
  const end = score.bars[b - 1].start + score.bars[b - 1].duration;
  return score.notes
    .filter((n) => n.onset >= start && n.onset < end && !score.tracks[n.track]?.isDrum)
    .sort((x, y) => x.onset - y.onset || x.pitch - y.pitch);
}

function normalised(v: Float64Array): Float64Array | null {
  let s = 0;
  for (const x of v) {
    s += x;
  }
  if (s <= 0) {
    return null;
  }
  for (let i = 0; i < v.length; i++) {
    v[i] /= s;
  }
  return v;
}

/** The features of a list of notes (in onset order). */
export function noteFeatures(notes: readonly Note[]): Features {
  const n = notes.length;
  const pch = new Float64Array(12);
  const pctm = new Float64Array(144);
  const k = LENGTH_CLASSES.length;
  const nlh = new Float64Array(k);
  const nltm = new Float64Array(k * k);
  let lo = Infinity;
  let hi = -Infinity;
  let steps = 0;
  let prevClass = -1;
  for (let i = 0; i < n; i++) {
    const p = notes[i].pitch;
    const c = lengthClass(notes[i].duration / TPQ);
    pch[p % 12]++;
    nlh[c]++;
    lo = Math.min(lo, p);
    hi = Math.max(hi, p);
    if (i > 0) {
      const q = notes[i - 1].pitch;
      pctm[(q % 12) * 12 + (p % 12)]++;
      nltm[prevClass * k + c]++;
      steps += Math.abs(p - q);
    }
    prevClass = c;
  }
  const onsets = [...new Set(notes.map((x) => x.onset))].sort((a, b) => a - b);
  const ioi = onsets.length >= 2 ? (onsets[onsets.length - 1] - onsets[0]) / (onsets.length - 1) / TPQ : null;
  return {
    pch: normalised(pch),
    pctm: normalised(pctm),
    pr: n > 0 ? hi - lo : null,
    pi: n >= 2 ? steps / (n - 1) : null,
    ioi,
    nlh: normalised(nlh),
    nltm: normalised(nltm),
  };
}

/** Features of bars [from, to) of a score. */
export function spanFeatures(score: Score, from: number, to: number): Features {
  return noteFeatures(spanNotes(score, from, to));
}

/** Features of the {@link SEGMENT_BARS}-bar segments of bars [from, to) (a shorter last segment is dropped). */
export function segmentFeatures(score: Score, from: number, to: number, size = SEGMENT_BARS): Features[] {
  const out: Features[] = [];
  for (let a = from; a + size <= to; a += size) {
    out.push(spanFeatures(score, a, a + size));
  }
  return out;
}

/** The features of one piece: its span as a whole and its segments. */
export interface PieceFeatures {
  overall: Features;
  segments: Features[];
}

/** {@link PieceFeatures} of bars [from, to) of a score. */
export function pieceFeatures(score: Score, from: number, to: number): PieceFeatures {
  return { overall: spanFeatures(score, from, to), segments: segmentFeatures(score, from, to) };
}

/** Distance between two values of one feature (Euclidean / absolute); NaN when either is null. */
export function featureDistance(a: FeatureValue, b: FeatureValue): number {
  if (a === null || b === null) {
    return Number.NaN;
  }
  if (typeof a === 'number' || typeof b === 'number') {
    return typeof a === 'number' && typeof b === 'number' ? Math.abs(a - b) : Number.NaN;
  }
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return Math.sqrt(s);
}

/** Points of the density grid. */
export const GRID_POINTS = 512;

/** A weighted sample of distances. */
interface Sample {
  values: Float64Array;
  weights: Float64Array;
}

function sampleStats(s: Sample): { n: number; mean: number; sd: number; min: number; max: number } {
  let w = 0;
  let m = 0;
  let w2 = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < s.values.length; i++) {
    const wi = s.weights[i];
    if (wi <= 0) {
      continue;
    }
    w += wi;
    w2 += wi * wi;
    m += wi * s.values[i];
    min = Math.min(min, s.values[i]);
    max = Math.max(max, s.values[i]);
  }
  if (w <= 0) {
    return { n: 0, mean: Number.NaN, sd: Number.NaN, min, max };
  }
  m /= w;
  let v = 0;
  for (let i = 0; i < s.values.length; i++) {
    if (s.weights[i] > 0) {
      v += s.weights[i] * (s.values[i] - m) ** 2;
    }
  }
  v /= w;
  // Kish's effective sample size: with equal weights it is the count.
  return { n: (w * w) / w2, mean: m, sd: Math.sqrt(v), min, max };
}

/** Scott's rule bandwidth of a sample, floored so that a sample of equal values still has a width. */
function bandwidth(st: { n: number; sd: number }, span: number): number {
  const scott = st.sd * Math.pow(Math.max(st.n, 1), -1 / 5);
  return Math.max(scott, 1e-3 * span, 1e-9);
}

/** Density of a weighted sample on the grid `lo + i * dx` (binned to the grid, then smoothed), integrating to 1. */
function density(s: Sample, h: number, lo: number, dx: number): Float64Array {
  const g = GRID_POINTS;
  const bins = new Float64Array(g);
  for (let i = 0; i < s.values.length; i++) {
    const w = s.weights[i];
    if (w <= 0) {
      continue;
    }
    // Linear binning onto the two nearest grid points.
    const x = (s.values[i] - lo) / dx;
    const j = Math.min(g - 2, Math.max(0, Math.floor(x)));
    const f = Math.min(1, Math.max(0, x - j));
    bins[j] += w * (1 - f);
    bins[j + 1] += w * f;
  }
  const reach = Math.min(g - 1, Math.ceil((5 * h) / dx));
  const kernel = new Float64Array(reach + 1);
  for (let d = 0; d <= reach; d++) {
    kernel[d] = Math.exp(-0.5 * ((d * dx) / h) ** 2);
  }
  const out = new Float64Array(g);
  for (let j = 0; j < g; j++) {
    const b = bins[j];
    if (b === 0) {
      continue;
    }
    const a0 = Math.max(0, j - reach);
    const a1 = Math.min(g - 1, j + reach);
    for (let i = a0; i <= a1; i++) {
      out[i] += b * kernel[Math.abs(i - j)];
    }
  }
  let area = 0;
  for (const v of out) {
    area += v * dx;
  }
  if (area > 0) {
    for (let i = 0; i < g; i++) {
      out[i] /= area;
    }
  }
  return out;
}

/** Overlap area and KL divergence of two densities on one grid. */
export interface Comparison {
  /** Overlap area, 0..1 (1: the same distribution). */
  oa: number;
  /** KL(reference || other) in nats (0: the same). */
  kl: number;
}

/** Smallest density KL uses for `other` (keeps a reference mass where `other` has none finite). */
const KL_FLOOR = 1e-10;

function compareDensities(p: Float64Array, q: Float64Array, dx: number): Comparison {
  let oa = 0;
  let kl = 0;
  for (let i = 0; i < p.length; i++) {
    oa += Math.min(p[i], q[i]) * dx;
    if (p[i] > 0) {
      kl += p[i] * Math.log(p[i] / Math.max(q[i], KL_FLOOR)) * dx;
    }
  }
  return { oa: Math.min(1, oa), kl: Math.max(0, kl) };
}

/** OA and KL of two weighted distance samples (`reference` first). */
function compareSamples(reference: Sample, other: Sample): Comparison {
  const a = sampleStats(reference);
  const b = sampleStats(other);
  if (a.n < 2 || b.n < 1) {
    return { oa: Number.NaN, kl: Number.NaN };
  }
  const min = Math.min(a.min, b.min);
  const max = Math.max(a.max, b.max);
  const span = max - min;
  const ha = bandwidth(a, span);
  const hb = bandwidth(b, span);
  const pad = 3 * Math.max(ha, hb);
  const lo = min - pad;
  const dx = (max + pad - lo) / (GRID_POINTS - 1);
  return compareDensities(density(reference, ha, lo, dx), density(other, hb, lo, dx), dx);
}

function presentValues(values: readonly FeatureValue[]): { value: FeatureValue; index: number }[] {
  const out: { value: FeatureValue; index: number }[] = [];
  values.forEach((value, index) => {
    if (value !== null && !(typeof value === 'number' && !Number.isFinite(value))) {
      out.push({ value, index });
    }
  });
  return out;
}

/**
 * One feature's reference set (the real items) with its intra-set distances computed once, so
 * that many generated sets (and bootstrap resamples of one) compare against it cheaply.
 */
export class FeatureReference {
  private readonly real: FeatureValue[];
  private readonly intra: Sample;

  constructor(real: readonly FeatureValue[]) {
    this.real = presentValues(real).map((x) => x.value);
    const m = this.real.length;
    const values = new Float64Array((m * (m - 1)) / 2);
    let k = 0;
    for (let i = 0; i < m; i++) {
      for (let j = i + 1; j < m; j++) {
        values[k++] = featureDistance(this.real[i], this.real[j]);
      }
    }
    this.intra = { values, weights: new Float64Array(values.length).fill(1) };
  }

  /** Items of the reference set that have the feature. */
  get size(): number {
    return this.real.length;
  }

  /**
   * The inter-set distances of a generated set against the reference, kept per generated item
   * (`group[i]`: which resampling unit item i belongs to, e.g. its piece; default its own).
   */
  against(generated: readonly FeatureValue[], group?: readonly number[]): GeneratedSet {
    const present = presentValues(generated);
    const m = this.real.length;
    const values = new Float64Array(present.length * m);
    present.forEach((g, r) => {
      for (let j = 0; j < m; j++) {
        values[r * m + j] = featureDistance(g.value, this.real[j]);
      }
    });
    return new GeneratedSet(this.intra, values, m, present.map((g) => (group ? group[g.index] : g.index)));
  }

  /** OA and KL of a generated set against the reference. */
  compare(generated: readonly FeatureValue[]): Comparison {
    return this.against(generated).compare();
  }
}

/** A generated set's inter-set distances against one {@link FeatureReference}. */
export class GeneratedSet {
  constructor(
    private readonly intra: Sample,
    private readonly inter: Float64Array,
    private readonly perItem: number,
    /** Resampling unit of each present item. */
    readonly groups: readonly number[],
  ) {}

  /**
   * OA and KL, each generated item weighted by how often its unit was drawn (`unitWeight`,
   * indexed by unit; default every unit once).
   */
  compare(unitWeight?: ArrayLike<number>): Comparison {
    const weights = new Float64Array(this.inter.length);
    for (let r = 0; r < this.groups.length; r++) {
      const w = unitWeight ? (unitWeight[this.groups[r]] ?? 0) : 1;
      weights.fill(w, r * this.perItem, (r + 1) * this.perItem);
    }
    return compareSamples(this.intra, { values: this.inter, weights });
  }
}

/** Per feature: OA and KL. */
export type FeatureComparisons = Record<FeatureName, Comparison>;

/** The features' references of a real set: overall (one item per piece) and per segment (pooled). */
export class DistributionReference {
  readonly overall: Record<FeatureName, FeatureReference>;
  readonly segment: Record<FeatureName, FeatureReference>;

  constructor(real: readonly PieceFeatures[]) {
    const segs = real.flatMap((p) => p.segments);
    this.overall = {} as Record<FeatureName, FeatureReference>;
    this.segment = {} as Record<FeatureName, FeatureReference>;
    for (const f of FEATURES) {
      this.overall[f] = new FeatureReference(real.map((p) => p.overall[f]));
      this.segment[f] = new FeatureReference(segs.map((s) => s[f]));
    }
  }

  /** OA and KL of every feature, overall and per segment, of a generated set. */
  compare(generated: readonly PieceFeatures[]): { overall: FeatureComparisons; segment: FeatureComparisons } {
    const segs = generated.flatMap((p) => p.segments);
    const overall = {} as FeatureComparisons;
    const segment = {} as FeatureComparisons;
    for (const f of FEATURES) {
      overall[f] = this.overall[f].compare(generated.map((p) => p.overall[f]));
      segment[f] = this.segment[f].compare(segs.map((s) => s[f]));
    }
    return { overall, segment };
  }
}

/** Mean OA and mean KL over the features (NaN entries skipped). */
export function meanComparison(c: FeatureComparisons): Comparison {
  const oa = FEATURES.map((f) => c[f].oa).filter((x) => Number.isFinite(x));
  const kl = FEATURES.map((f) => c[f].kl).filter((x) => Number.isFinite(x));
  const mean = (xs: number[]): number => (xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);
  return { oa: mean(oa), kl: mean(kl) };
}

/** Mean of a scalar feature over a set (null items skipped); NaN for vector features or none. */
export function scalarMean(values: readonly FeatureValue[]): number {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  return xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN;
}
