/**
 * Score -> webview payloads: the piano roll as typed arrays, the bar SSM (downsampled above
 * {@link MAX_SSM_SIDE}), the L_t curve and its peaks.
 *
 * Pure TypeScript (no vscode), so plain-Node tests cover it.
 */

import type { GenerationCandidate } from '../../generation/request';
import type { Score } from '../../music/score';
import { TPQ } from '../../music/score';
import { MAX_NOTATION_CHARS, MAX_ROLL_NOTES, MAX_SSM_SIDE } from '../../protocol/messages';
import type { CandidateView, IntervalHint, NotationPayload, NotificationMap, PieceView, RollPayload, SsmPayload } from '../../protocol/messages';
import type { RefrainConfig } from '../../generation/config';
import { ssmPayload } from '../../protocol/ssmPayload';
import { barSsm, isBarFeature, similarityByInterval, topIntervals } from '../../structure/ssm';
import type { BarFeature } from '../../structure/ssm';

/** Largest interval of the L_t curve a view shows. */
export const VIEW_MAX_INTERVAL = 64;

/** Options of {@link rollPayload}. */
export interface RollOptions {
  /** First bar to include (default 0); ticks are shifted so it starts at 0. */
  readonly fromBar?: number;
  /** One past the last bar to include (default: all). */
  readonly toBar?: number;
  /** Index (within the included bars) of the first generated bar. */
  readonly firstNewBar?: number;
  /** Most notes to include (default {@link MAX_ROLL_NOTES}). */
  readonly maxNotes?: number;
}

/**
 * The piano roll of a score, or of bars `[fromBar, toBar)` of it. Notes keep their order
 * (onset, then pitch); a note is in the roll when its onset is in the range. Ticks are the
 * Score's ({@link TPQ} per quarter).
 */
export function rollPayload(score: Score, options: RollOptions = {}): RollPayload {
  const bars = score.bars;
  const from = Math.max(0, Math.min(bars.length, options.fromBar ?? 0));
  const to = Math.max(from, Math.min(bars.length, options.toBar ?? bars.length));
  const origin = from < bars.length ? bars[from].start : score.length;
  const barStarts = new Uint32Array(to - from + 1);
  for (let b = from; b < to; b++) {
    barStarts[b - from] = bars[b].start - origin;
  }
  const end = to > from ? bars[to - 1].start + bars[to - 1].duration : origin;
  barStarts[to - from] = end - origin;

  const maxNotes = Math.max(0, Math.floor(options.maxNotes ?? MAX_ROLL_NOTES));
  const picked: number[] = [];
  let truncated = 0;
  for (let k = 0; k < score.notes.length; k++) {
    const n = score.notes[k];
    if (n.onset < origin || n.onset >= end || n.duration <= 0 || n.pitch < 0 || n.pitch > 127) {
      continue;
    }
    if (picked.length >= maxNotes) {
      truncated++;
      continue;
    }
    picked.push(k);
  }
  const pitch = new Uint8Array(picked.length);
  const velocity = new Uint8Array(picked.length);
  const track = new Uint16Array(picked.length);
  const onset = new Uint32Array(picked.length);
  const duration = new Uint32Array(picked.length);
  picked.forEach((k, i) => {
    const n = score.notes[k];
    pitch[i] = n.pitch;
    velocity[i] = Math.max(1, Math.min(127, Math.round(n.velocity)));
    track[i] = Math.max(0, Math.min(0xffff, n.track));
    onset[i] = n.onset - origin;
    duration[i] = Math.max(1, Math.round(n.duration));
  });

  // Tempo in effect at the range start, then the changes inside the range.
  const tempos = score.tempos.length > 0 ? score.tempos : [{ tick: 0, bpm: 120 }];
  const ticks: number[] = [0];
  const bpms: number[] = [tempos[0].bpm];
  for (const t of tempos) {
    if (t.tick <= origin) {
      bpms[0] = t.bpm;
    } else if (t.tick < end) {
      ticks.push(t.tick - origin);
      bpms.push(t.bpm);
    }
  }

  const payload: RollPayload = {
    ticksPerQuarter: TPQ,
    barStarts,
    tracks: score.tracks.map((t) => ({ name: t.name, isDrum: t.isDrum, program: t.program })),
    notes: { pitch, velocity, track, onset, duration },
    tempoTicks: Uint32Array.from(ticks),
    tempoBpm: Float32Array.from(bpms.map((b) => (Number.isFinite(b) && b > 0 ? b : 120))),
    ...(options.firstNewBar !== undefined ? { firstNewBar: options.firstNewBar } : {}),
    ...(truncated > 0 ? { truncated } : {}),
  };
  return payload;
}

/** The structure of a score as a view shows it: SSM payload, L_t (float32) and its peaks. */
export function structureOf(score: Score, feature: BarFeature): { ssm: SsmPayload; lt: Float32Array; top: IntervalHint[] } {
  const f = isBarFeature(feature) ? feature : 'jaccard';
  const ssm = barSsm(score, f);
  const maxInterval = Math.max(0, Math.min(VIEW_MAX_INTERVAL, ssm.size - 1));
  const lt = similarityByInterval(ssm, maxInterval);
  const top = maxInterval > 1 ? topIntervals(lt, 8, { bars: ssm.size }).map((t) => ({ interval: t.interval, value: t.value })) : [];
  return { ssm: ssmPayload(ssm.data, ssm.size, MAX_SSM_SIDE), lt: Float32Array.from(lt), top };
}

/** What {@link pieceView} needs besides the score. */
export interface PieceInfo {
  readonly key: string;
  readonly revision: number;
  readonly format: 'abc' | 'midi';
  readonly name: string;
  readonly tuneIndex: number;
  readonly tuneCount: number;
  readonly feature: BarFeature;
  readonly selectable: boolean;
  readonly title?: string;
  /** ABC: the file's whole text, for the notation view. */
  readonly text?: string;
}

/** The `piece` notification for a score. */
export function pieceView(score: Score, info: PieceInfo): PieceView {
  const { ssm, lt, top } = structureOf(score, info.feature);
  const title = info.title ?? score.meta.title;
  const notation = info.format === 'abc' && info.text !== undefined ? notationPayload(info.text, score) : undefined;
  return {
    key: info.key,
    revision: info.revision,
    format: info.format,
    name: info.name,
    ...(title !== undefined ? { title } : {}),
    tuneIndex: info.tuneIndex,
    tuneCount: info.tuneCount,
    meters: unique(score.meters.map((m) => `${m.meter.num}/${m.meter.den}`)),
    keys: unique(score.keys.map((k) => `${k.key.tonic} ${k.key.mode}`)),
    feature: info.feature,
    roll: rollPayload(score),
    ssm,
    lt,
    topIntervals: top,
    selectable: info.selectable,
    ...(notation ? { notation } : {}),
  };
}

/** Bars of context a candidate's roll shows before its first generated bar. */
export const CANDIDATE_CONTEXT_BARS = 4;

/**
 * The view of one generated candidate: the roll of its new bars with a few bars of context
 * before them, the SSM of the whole candidate score, its figures (non-finite ones dropped), and
 * for ABC the text Insert writes.
 */
export function candidateView(id: string, label: string, candidate: GenerationCandidate, feature: BarFeature): CandidateView {
  const total = candidate.score.bars.length;
  const first = Math.max(0, Math.min(total, candidate.newBars.from));
  const newBars = Math.max(0, Math.min(total, candidate.newBars.to) - first);
  const from = Math.max(0, first - CANDIDATE_CONTEXT_BARS);
  const { ssm } = structureOf(candidate.score, feature);
  const m = candidate.metrics;
  const figures: [string, number | undefined][] = [
    ['follows the form', m.followsForm],
    ['similarity error', m.se],
    ['template distance', m.templateDistance],
    ['log-likelihood', candidate.logLikelihood],
  ];
  return {
    id,
    label,
    newBars,
    roll: rollPayload(candidate.score, { fromBar: from, toBar: first + newBars, firstNewBar: first - from }),
    ssm,
    metrics: figures.filter((f): f is [string, number] => typeof f[1] === 'number' && Number.isFinite(f[1])).map(([name, value]) => ({ name, value })),
    ...(isUnit(m.followsForm) ? { followsForm: m.followsForm } : {}),
    ...(m.se !== undefined && Number.isFinite(m.se) && m.se >= 0 ? { se: m.se } : {}),
    ...(candidate.abc ? { abc: candidate.abc.edit.newText, notation: candidate.abc.notation } : {}),
  };
}

function isUnit(v: number | undefined): v is number {
  return v !== undefined && Number.isFinite(v) && v >= 0 && v <= 1;
}

/**
 * The notation payload of an ABC tune: its text (`tuneSource` of the file's `text`) and where each
 * performed bar is written in it. Undefined when the tune has no source positions, is longer than
 * {@link MAX_NOTATION_CHARS}, or holds a `%%beginps` block (abcjs's parser never returns on one).
 */
export function notationPayload(text: string, score: Score): NotationPayload | undefined {
  const src = score.source;
  if (!src || src.end - src.start > MAX_NOTATION_CHARS || src.end <= src.start) {
    return undefined;
  }
  const abc = text.slice(src.start, src.end);
  if (/%%\s*beginps/i.test(abc)) {
    return undefined;
  }
  const n = score.bars.length;
  const barStart = new Int32Array(n).fill(-1);
  const barEnd = new Int32Array(n).fill(-1);
  for (let b = 0; b < n; b++) {
    const w = score.bars[b].written;
    const range = w !== undefined ? score.writtenBars[w]?.source : undefined;
    if (range && range.start >= src.start && range.end <= src.end && range.end > range.start) {
      barStart[b] = range.start - src.start;
      barEnd[b] = range.end - src.start;
    }
  }
  return { abc, barStart, barEnd };
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

/** The `config` notification: what the views' controls start from (the generation settings). */
export function configPayload(config: RefrainConfig): NotificationMap['config'] {
  const g = config.generation;
  return {
    relatedOffsets: [...g.relatedOffsets],
    bars: g.bars,
    candidates: g.candidates,
    temperature: g.temperature,
    topP: g.topP,
    ...(g.seed !== undefined ? { seed: g.seed } : {}),
  };
}
