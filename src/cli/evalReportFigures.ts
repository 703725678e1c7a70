/**
 * The figures of `refrain eval --report` (`./evalReport`): each row's summary (the forms eval's
 * `summarise`, the pooled L_t curve, the distribution metrics) and each configuration's
 * differences against its baseline with paired bootstrap intervals.
 */

import { REFERENCE_FORM, formPairs } from '../structure/compliance';
import { FEATURES, meanComparison, scalarMean } from '../structure/distribution';
import type { FeatureComparisons, FeatureName, GeneratedSet } from '../structure/distribution';
import { similarityError } from '../structure/ssm';
import { T, round, summarise } from './evalFormsMeasure';
import type { Role } from './evalReportConfigs';
import type { ModelSlot, PieceRecord, ReportPieces, Row } from './evalReportRows';
import { rowKey } from './evalReportRows';
import { DIFF_BOOTSTRAP, DIST_BOOTSTRAP, bootstrapWeights, interval, mul, pooledLt, weightedMean } from './evalReportStats';

const PER_PIECE: readonly { key: 'fidelity' | 'contrast' | 'distance' | 'follows' | 'tonic' | 'inMode' | 'complete' | 'abcOk'; name: string; scale: number; better: 'higher' | 'lower' | 'closer' }[] = [
  { key: 'follows', name: 'followsFormPercent', scale: 100, better: 'higher' },
  { key: 'fidelity', name: 'repeatFidelity', scale: 1, better: 'closer' },
  { key: 'contrast', name: 'contrast', scale: 1, better: 'closer' },
  { key: 'distance', name: 'templateDistance', scale: 1, better: 'lower' },
  { key: 'tonic', name: 'tonicEndingPercent', scale: 100, better: 'higher' },
  { key: 'inMode', name: 'inModePercent', scale: 100, better: 'closer' },
  { key: 'complete', name: 'completePercent', scale: 100, better: 'higher' },
  { key: 'abcOk', name: 'abcReadsBackPercent', scale: 100, better: 'higher' },
];

function distJson(d: { overall: FeatureComparisons; segment: FeatureComparisons }): Record<string, unknown> {
  const part = (c: FeatureComparisons): Record<string, unknown> => {
    const m = meanComparison(c);
    return {
      ...Object.fromEntries(FEATURES.map((f) => [f, { oa: round(c[f].oa, 4), kl: round(c[f].kl, 4) }])),
      mean: { oa: round(m.oa, 4), kl: round(m.kl, 4) },
    };
  };
  return { overall: part(d.overall), segment: part(d.segment) };
}

/** What the summaries and differences are computed from. */
export interface FigureInputs {
  pieces: ReportPieces;
  slots: ReadonlyMap<Role, ModelSlot>;
  /** The default model card's corpus L_t (index = t); undefined: no SE. */
  reference: Float64Array | undefined;
  seed: number;
}

/**
 * The figures of every row: summaries of the generated and the real rows, and the differences
 * against the baselines (the same bootstrap resamples for every comparison).
 */
export function reportFigures(
  rows: ReadonlyMap<string, Row>,
  realRows: ReadonlyMap<string, Row>,
  { pieces, slots, reference, seed }: FigureInputs,
): { results: Record<string, unknown>[]; realResults: Record<string, unknown>[]; differences: Record<string, unknown>[] } {
  const n = pieces.tunes.length;
  const { distRef, realFeatures } = pieces;
  const weights = bootstrapWeights(n, DIFF_BOOTSTRAP, seed);
  const distWeights = weights.slice(0, DIST_BOOTSTRAP);
  const distSets = new Map<string, Record<FeatureName, GeneratedSet>>();
  const distSetsOf = (key: string, row: Row): Record<FeatureName, GeneratedSet> => {
    let s = distSets.get(key);
    if (!s) {
      const present = row.pieces.map((p, k) => ({ p, k })).filter((x) => x.p !== null) as { p: PieceRecord; k: number }[];
      s = {} as Record<FeatureName, GeneratedSet>;
      for (const f of FEATURES) {
        s[f] = distRef.overall[f].against(present.map((x) => x.p.features.overall[f]), present.map((x) => x.k));
      }
      distSets.set(key, s);
    }
    return s;
  };
  const summaryOf = (key: string, row: Row, isReal: boolean): Record<string, unknown> => {
    const base = summarise(row.config.label, row.stats, formPairs(REFERENCE_FORM), reference, seed);
    const lt = pooledLt(row.pieces.map((p) => p?.ltSums ?? null), row.pieces.map((p) => p?.ltCounts ?? null));
    const present = row.pieces.filter((p): p is PieceRecord => p !== null).map((p) => p.features);
    const dist = isReal ? undefined : distRef.compare(present);
    return {
      id: row.config.id,
      group: row.config.group,
      template: row.template,
      model: isReal ? null : (slots.get(row.config.role) as ModelSlot).id,
      generatedWithout: row.config.noTemplate ? 'template' : undefined,
      ...base,
      lt: Array.from(lt.subarray(1), (v) => round(v, 4)),
      distribution: dist ? distJson(dist) : undefined,
      scalarMeans: Object.fromEntries((['pr', 'pi', 'ioi'] as const).map((f) => [f, round(scalarMean(present.map((x) => x.overall[f])), 3)])),
      examples: row.examples.length > 0 ? row.examples : undefined,
      key,
    };
  };
  const results = [...rows.entries()].map(([key, row]) => summaryOf(key, row, false));
  const realResults = [...realRows.entries()].map(([t, row]) => ({
    ...summaryOf(`real@${t}`, row, true),
    scalarMeans: Object.fromEntries((['pr', 'pi', 'ioi'] as const).map((f) => [f, round(scalarMean(realFeatures.map((x) => x.overall[f])), 3)])),
  }));

  const differences: Record<string, unknown>[] = [];
  for (const [key, row] of rows) {
    const bId = row.config.baseline;
    if (!bId) {
      continue;
    }
    const bKey = rowKey(bId, row.template);
    const b = rows.get(bKey);
    if (!b) {
      continue;
    }
    const both: number[] = row.pieces.map((p, k) => (p !== null && b.pieces[k] !== null ? 1 : 0));
    const metrics = differenceMetrics(row, b, both, weights, reference);
    const xs = distSetsOf(key, row);
    const ys = distSetsOf(bKey, b);
    const meanOa = (s: Record<FeatureName, GeneratedSet>, w?: ArrayLike<number>): number => {
      const v = FEATURES.map((f) => s[f].compare(w).oa).filter((z) => Number.isFinite(z));
      return v.length > 0 ? v.reduce((a, c) => a + c, 0) / v.length : Number.NaN;
    };
    const dOa = (w?: ArrayLike<number>): number => meanOa(xs, w && mul(w, both)) - meanOa(ys, w && mul(w, both));
    metrics.meanOverlapArea = interval(dOa(both), distWeights.map(dOa), 'higher');
    const secs = (r: Row): number => weightedMean(r.pieces.map((p) => (p ? p.seconds : Number.NaN)), both);
    metrics.timeRatio = { value: round(secs(row) / secs(b), 3) };
    differences.push({ key, id: row.config.id, group: row.config.group, template: row.template, against: bId, pieces: both.reduce((s, v) => s + v, 0), metrics });
  }
  return { results, realResults, differences };
}

/** The per-piece differences of a row against its baseline `b` (and SE x100 with a reference), each with its interval. */
function differenceMetrics(row: Row, b: Row, both: readonly number[], weights: readonly Float64Array[], reference: Float64Array | undefined): Record<string, unknown> {
  const metrics: Record<string, unknown> = {};
  for (const m of PER_PIECE) {
    const x = row.pieces.map((p) => (p ? p[m.key] : Number.NaN));
    const y = b.pieces.map((p) => (p ? p[m.key] : Number.NaN));
    const d = (w: ArrayLike<number>): number => m.scale * (weightedMean(x, mul(w, both)) - weightedMean(y, mul(w, both)));
    metrics[m.name] = interval(d(both), weights.map(d), m.better);
  }
  if (reference) {
    const seOf = (r: Row, w: ArrayLike<number>): number =>
      similarityError(pooledLt(r.pieces.map((p) => p?.ltSums ?? null), r.pieces.map((p) => p?.ltCounts ?? null), w), reference, T);
    const d = (w: ArrayLike<number>): number => 100 * (seOf(row, mul(w, both)) - seOf(b, mul(w, both)));
    metrics.seX100 = interval(d(both), weights.map(d), 'lower');
  }
  return metrics;
}
