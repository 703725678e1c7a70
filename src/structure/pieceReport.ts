import type { Score } from '../music/score';
import { TPQ } from '../music/score';
import type { BarFeature, Ssm } from './ssm';
import { barSsm, similarityByInterval, topIntervals, ssmToImageText } from './ssm';

/** Everything `refrain analyze` and the editor's report show about one piece. */
export interface PieceReport {
  title?: string;
  reference?: number;
  bars: number;
  writtenBars: number;
  meters: string[];
  keys: string[];
  tempoBpm: number;
  tracks: { name: string; notes: number; isDrum: boolean }[];
  notes: number;
  seconds: number;
  feature: BarFeature;
  ssm: Ssm;
  /** L_t for t = 1..maxInterval, index t (index 0 unused). */
  lt: Float64Array;
  maxInterval: number;
  top: { interval: number; value: number }[];
}

/** Computes the structure report of one score. */
export function analyzeScore(score: Score, options: { feature?: BarFeature; maxInterval?: number; reference?: number; title?: string } = {}): PieceReport {
  const feature = options.feature ?? 'jaccard';
  const ssm = barSsm(score, feature);
  const maxInterval = Math.max(0, Math.min(options.maxInterval ?? 40, score.bars.length - 1));
  const lt = similarityByInterval(ssm, maxInterval);
  const counts = new Map<number, number>();
  for (const n of score.notes) {
    counts.set(n.track, (counts.get(n.track) ?? 0) + 1);
  }
  const bpm = score.tempos[0]?.bpm ?? 120;
  return {
    title: options.title ?? score.meta.title,
    reference: options.reference ?? score.meta.reference,
    bars: score.bars.length,
    writtenBars: score.writtenBars.length,
    meters: unique(score.meters.map((m) => `${m.meter.num}/${m.meter.den}`)),
    keys: unique(score.keys.map((k) => `${k.key.tonic} ${k.key.mode}`)),
    tempoBpm: bpm,
    tracks: score.tracks.map((t, i) => ({ name: t.name, notes: counts.get(i) ?? 0, isDrum: t.isDrum })),
    notes: score.notes.length,
    seconds: secondsOf(score),
    feature,
    ssm,
    lt,
    maxInterval,
    top: maxInterval > 0 ? topIntervals(lt, 5, { bars: ssm.size }) : [],
  };
}

/** The report as plain text lines (used by the CLI and the editor's read-only report document). */
export function formatReport(r: PieceReport, options: { heatmapSize?: number } = {}): string[] {
  const lines: string[] = [];
  const head = [r.reference !== undefined ? `X:${r.reference}` : undefined, r.title].filter(Boolean).join(' ');
  lines.push(head || '(untitled)');
  lines.push(`bars: ${r.bars} performed (${r.writtenBars} written)   meter: ${r.meters.join(', ')}   key: ${r.keys.join(', ')}`);
  lines.push(`notes: ${r.notes}   tempo: ${formatBpm(r.tempoBpm)} bpm   length: ${r.seconds.toFixed(1)} s`);
  lines.push(`tracks: ${r.tracks.map((t) => `${t.name}${t.isDrum ? ' (drums)' : ''} ${t.notes}`).join(', ')}`);
  lines.push('');
  lines.push(`bar self-similarity (${r.feature}), ${r.ssm.size} x ${r.ssm.size}; darker = more similar:`);
  for (const row of ssmToImageText(r.ssm, { maxSize: options.heatmapSize ?? 48 })) {
    lines.push(`  ${row}`);
  }
  lines.push('');
  if (r.maxInterval > 0) {
    lines.push('similarity by bar interval L_t:');
    lines.push(...formatCurve(r.lt, r.maxInterval));
    lines.push('');
    lines.push(`most structure-related intervals: ${r.top.map((t) => `${t.interval} (${t.value.toFixed(2)})`).join(', ') || 'none'}`);
  } else {
    lines.push('similarity by bar interval: needs at least two bars');
  }
  return lines;
}

/** An L_t curve as `t  value  bar` lines. */
export function formatCurve(lt: ArrayLike<number>, maxInterval: number, width = 40): string[] {
  const lines: string[] = [];
  for (let t = 1; t <= maxInterval; t++) {
    const v = lt[t];
    const ok = Number.isFinite(v);
    const bar = ok ? '#'.repeat(Math.round(Math.max(0, Math.min(1, v)) * width)) : '';
    lines.push(`  ${String(t).padStart(2)}  ${ok ? v.toFixed(3) : '  -  '}  ${bar}`);
  }
  return lines;
}

/** The report as a JSON-ready object (the SSM as nested arrays rounded to 4 decimals). */
export function reportToJson(r: PieceReport): Record<string, unknown> {
  const round = (x: number): number | null => (Number.isFinite(x) ? Math.round(x * 1e4) / 1e4 : null);
  const rows: (number | null)[][] = [];
  for (let i = 0; i < r.ssm.size; i++) {
    rows.push(Array.from(r.ssm.data.subarray(i * r.ssm.size, (i + 1) * r.ssm.size), round));
  }
  const lt: Record<string, number | null> = {};
  for (let t = 1; t <= r.maxInterval; t++) {
    lt[String(t)] = round(r.lt[t]);
  }
  return {
    title: r.title ?? null,
    reference: r.reference ?? null,
    bars: r.bars,
    writtenBars: r.writtenBars,
    meters: r.meters,
    keys: r.keys,
    tempoBpm: roundBpm(r.tempoBpm),
    tracks: r.tracks,
    notes: r.notes,
    seconds: round(r.seconds),
    feature: r.feature,
    ssm: rows,
    lt,
    topIntervals: r.top,
  };
}

/**
 * A tempo as people write it: MIDI stores microseconds per quarter, so 180 bpm reads back as
 * 180.00018...; two decimals at most, trailing zeros dropped (`180`, `97.5`).
 */
export function roundBpm(bpm: number): number {
  return Math.round(bpm * 100) / 100;
}

/** {@link roundBpm} as text. */
export function formatBpm(bpm: number): string {
  return String(roundBpm(bpm));
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

function secondsOf(score: Score): number {
  const tempos = score.tempos.length > 0 ? score.tempos : [{ tick: 0, bpm: 120 }];
  let seconds = 0;
  for (let i = 0; i < tempos.length; i++) {
    const from = tempos[i].tick;
    const to = Math.min(score.length, tempos[i + 1]?.tick ?? score.length);
    if (to > from) {
      seconds += ((to - from) / TPQ) * (60 / tempos[i].bpm);
    }
  }
  return seconds;
}
