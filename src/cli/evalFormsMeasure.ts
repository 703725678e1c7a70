/**
 * Measuring one piece of the forms eval (`./evalForms`, also used by `./evalReport`): repeat
 * fidelity and contrast at a form's pairs, template distance, follows-the-form, tonic ending,
 * in-mode share, complete bars, ABC read-back and the L_t sums of the SE; a row's summary with
 * the SE's bootstrap interval; and the candidate picked when several are asked for.
 */

import type { Candidate } from '../engine/types';
import { readAbc } from '../music/abc/reader';
import { writeAbc } from '../music/abc/writer';
import type { Score } from '../music/score';
import { mulberry32 } from '../platform/prng';
import { formCompliance, inModeShare, tonicEnding } from '../structure/compliance';
import type { FormPairs } from '../structure/compliance';
import { IntervalSimilarityAccumulator, barSsm, similarityError, ssmDistance } from '../structure/ssm';
import type { Ssm } from '../structure/ssm';
import { checkBars } from './evaluate';

/** Prompt bars and piece length of the forms eval (issue 9: 4-bar prompts, 28 new bars). */
export const FORMS_PROMPT_BARS = 4;
export const FORMS_PIECE_BARS = 32;
/** Bootstrap resamples of the SE interval. */
export const SE_BOOTSTRAP = 1000;
/** Interval length of the L_t curves and SE (Museformer: T = 40). */
export const T = 40;

/** Per-piece figures of one row, kept for the summary and the bootstrap. */
export class RowStats {
  fidelity: number[] = [];
  contrast: number[] = [];
  distance: number[] = [];
  follows: number[] = [];
  same = 0;
  sameKept = 0;
  different = 0;
  differentApart = 0;
  tonic = 0;
  tonicAt32 = 0;
  notes = 0;
  notesInMode = 0;
  bars = 0;
  barsComplete = 0;
  abcOk = 0;
  pieces = 0;
  failed = 0;
  seconds = 0;
  tokens = 0;
  /** Per piece: L_t sums and pair counts at t = 0..T. */
  ltSums: Float64Array[] = [];
  ltCounts: Float64Array[] = [];
}

/** The pooled L_t (t = 0..T) of the picked pieces: sum of pair sums / sum of pair counts per t (NaN where no pair). */
function pooledLt(sums: readonly Float64Array[], counts: readonly Float64Array[], pick: readonly number[]): Float64Array {
  const lt = new Float64Array(T + 1);
  for (let t = 0; t <= T; t++) {
    let s = 0;
    let c = 0;
    for (const k of pick) {
      s += sums[k][t];
      c += counts[k][t];
    }
    lt[t] = c > 0 ? s / c : Number.NaN;
  }
  return lt;
}

/** SE of the picked pieces' pooled L_t against `reference`. */
function pooledSe(sums: readonly Float64Array[], counts: readonly Float64Array[], pick: readonly number[], reference: Float64Array): number {
  return similarityError(pooledLt(sums, counts, pick), reference, T);
}

/** SE with its bootstrap 95% interval (2.5th and 97.5th percentiles of {@link SE_BOOTSTRAP} resamples). */
export function seWithInterval(sums: readonly Float64Array[], counts: readonly Float64Array[], reference: Float64Array, seed: number): { se: number; low: number; high: number } {
  const n = sums.length;
  const all = Array.from({ length: n }, (_, k) => k);
  const se = pooledSe(sums, counts, all, reference);
  if (n === 0) {
    return { se, low: Number.NaN, high: Number.NaN };
  }
  const rand = mulberry32(seed);
  const draws: number[] = [];
  const pick = new Array<number>(n);
  for (let r = 0; r < SE_BOOTSTRAP; r++) {
    for (let k = 0; k < n; k++) {
      pick[k] = Math.floor(rand() * n);
    }
    const v = pooledSe(sums, counts, pick, reference);
    if (Number.isFinite(v)) {
      draws.push(v);
    }
  }
  draws.sort((a, b) => a - b);
  const at = (q: number): number => (draws.length > 0 ? draws[Math.min(draws.length - 1, Math.max(0, Math.round(q * (draws.length - 1))))] : Number.NaN);
  return { se, low: at(0.025), high: at(0.975) };
}

/** Adds one piece's figures to a row. */
export function addPiece(row: RowStats, score: Score, template: Ssm, pairs: FormPairs, realWhole?: Score): void {
  const ssm = barSsm(score, 'jaccard');
  const mean = (ps: FormPairs['fidelity']): number => {
    const xs = ps.filter((p) => p.bar < ssm.size).map((p) => ssm.data[p.bar * ssm.size + p.earlier]);
    return xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN;
  };
  row.fidelity.push(mean(pairs.fidelity));
  row.contrast.push(mean(pairs.contrast));
  row.distance.push(ssmDistance(ssm, template, { sizeMismatch: 'leading-block' }));
  const fc = formCompliance(ssm, template, { from: FORMS_PROMPT_BARS, to: score.bars.length });
  row.follows.push(fc.share);
  row.same += fc.same;
  row.sameKept += fc.sameKept;
  row.different += fc.different;
  row.differentApart += fc.differentApart;
  row.tonic += tonicEnding(realWhole ?? score) ? 1 : 0;
  row.tonicAt32 += tonicEnding(score) ? 1 : 0;
  const start = FORMS_PROMPT_BARS < score.bars.length ? score.bars[FORMS_PROMPT_BARS].start : score.length;
  const newNotes = score.notes.filter((n) => n.onset >= start && !score.tracks[n.track]?.isDrum).length;
  const share = inModeShare(score, undefined, FORMS_PROMPT_BARS);
  if (newNotes > 0 && Number.isFinite(share)) {
    row.notes += newNotes;
    row.notesInMode += Math.round(share * newNotes);
  }
  const checks = checkBars(score, Math.min(FORMS_PROMPT_BARS, score.bars.length), score.bars.length);
  row.bars += checks.length;
  row.barsComplete += checks.filter((c) => c.fullLength && c.contained).length;
  const reread = readAbc(writeAbc(score)).tunes[0];
  row.abcOk += reread && reread.score.bars.length === score.bars.length ? 1 : 0;
  const acc = new IntervalSimilarityAccumulator(T, { skipEmpty: true });
  acc.add(ssm);
  const r = acc.result();
  row.ltSums.push(Float64Array.from(r.lt, (v, t) => (r.pairs[t] > 0 ? v * r.pairs[t] : 0)));
  row.ltCounts.push(r.pairs);
  row.pieces++;
}

/** Summary of one row (figures rounded; SE as a fraction, the table prints it x100). */
export function summarise(name: string, row: RowStats, pairs: FormPairs, reference: Float64Array | undefined, seed: number): Record<string, unknown> {
  const mean = (xs: number[]): number | null => {
    const ok = xs.filter((x) => Number.isFinite(x));
    return ok.length > 0 ? round(ok.reduce((a, b) => a + b, 0) / ok.length, 4) : null;
  };
  const pct = (a: number, b: number): number | null => (b > 0 ? round((100 * a) / b, 2) : null);
  const se = reference ? seWithInterval(row.ltSums, row.ltCounts, reference, seed) : undefined;
  const follows = mean(row.follows);
  return {
    name,
    pieces: row.pieces,
    failed: row.failed,
    pairsOf: pairs.measuredAs,
    repeatFidelity: mean(row.fidelity),
    contrast: mean(row.contrast),
    templateDistance: mean(row.distance),
    followsFormPercent: follows === null ? null : round(100 * follows, 2),
    followsSame: { pairs: row.same, kept: row.sameKept, percent: pct(row.sameKept, row.same) },
    followsDifferent: { pairs: row.different, apart: row.differentApart, percent: pct(row.differentApart, row.different) },
    tonicEndingPercent: pct(row.tonic, row.pieces),
    tonicEndingAt32Percent: pct(row.tonicAt32, row.pieces),
    inModePercent: pct(row.notesInMode, row.notes),
    se: se ? round(se.se, 5) : null,
    seInterval95: se ? [round(se.low, 5), round(se.high, 5)] : null,
    completePercent: pct(row.barsComplete, row.bars),
    abcReadsBackPercent: pct(row.abcOk, row.pieces),
    secondsPerPiece: row.pieces > 0 && row.seconds > 0 ? round(row.seconds / row.pieces, 2) : null,
    tokensPerSecond: row.seconds > 0 ? Math.round(row.tokens / row.seconds) : null,
    lt: Array.from(pooledLt(row.ltSums, row.ltCounts, row.ltSums.map((_, k) => k)), (v) => round(v, 4)),
  };
}

/** `x` rounded to `digits` decimals; null when not finite. */
export function round(x: number, digits: number): number | null {
  if (!Number.isFinite(x)) {
    return null;
  }
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Picks one candidate: the first when there is one; else the best by follows-the-form (ties: the first). */
export function pick(cands: Candidate[], template: Ssm): Candidate {
  if (cands.length === 1) {
    return cands[0];
  }
  let best = cands[0];
  let bestShare = -1;
  for (const c of cands) {
    const s = formCompliance(barSsm(c.score), template, c.newBars).share;
    const v = Number.isFinite(s) ? s : -1;
    if (v > bestShare) {
      best = c;
      bestShare = v;
    }
  }
  return best;
}
