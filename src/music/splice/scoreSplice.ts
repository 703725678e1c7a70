/** MIDI (and any Score): taking generated bars into a piece as a new Score (see `spliceScore`). */
import { normalizeKeys, normalizeMeters, normalizeTempos } from '../midi/maps';
import type { Bar, ChordSymbol, KeyChange, MeterChange, Note, Score, TempoChange, Track, WrittenBar } from '../score';
import { MusicInputError, sortNotes } from '../score';
import { barEnd, barsLabel, checkSpan } from './abcText';
import type { BarSpan } from './edit';

/** Options of {@link spliceScore}. */
export interface SpliceOptions {
  /**
   * Generated tracks to take (indices into `generated.tracks`). Default: every generated track
   * with a note starting in the span; tracks the model left silent keep the base's notes.
   */
  tracks?: readonly number[];
  /**
   * Base track for a generated track (`trackMap[g]` = base index). Unmapped generated tracks are
   * matched by name (case-insensitive) and drum flag, then a drum track to the base's drum track,
   * then by MIDI channel, then a lone pitched track to the base's lone pitched track; a generated
   * track that matches none is added as a new track.
   */
  trackMap?: Readonly<Record<number, number>>;
}

/** Matches generated tracks to base tracks (see {@link SpliceOptions.trackMap}). */
function matchTracks(base: readonly Track[], gen: readonly Track[], selected: readonly number[], explicit: Readonly<Record<number, number>>): Map<number, number> {
  const out = new Map<number, number>();
  const used = new Set<number>();
  for (const g of selected) {
    const b = explicit[g];
    if (b !== undefined) {
      if (!Number.isInteger(b) || b < 0 || b >= base.length) {
        throw new MusicInputError('splice-bad-track', `Generated track ${g + 1} is mapped to track ${b + 1}, which the piece does not have.`);
      }
      out.set(g, b);
      used.add(b);
    }
  }
  const tryMatch = (pred: (g: Track, b: Track, bi: number) => boolean): void => {
    for (const g of selected) {
      if (out.has(g)) {
        continue;
      }
      const bi = base.findIndex((b, i) => !used.has(i) && pred(gen[g], b, i));
      if (bi >= 0) {
        out.set(g, bi);
        used.add(bi);
      }
    }
  };
  const norm = (s: string): string => s.trim().toLowerCase();
  tryMatch((g, b) => norm(g.name) !== '' && norm(g.name) === norm(b.name) && g.isDrum === b.isDrum);
  tryMatch((g, b) => g.isDrum && b.isDrum);
  tryMatch((g, b) => !g.isDrum && !b.isDrum && g.channel === b.channel);
  const basePitched = base.map((b, i) => (b.isDrum ? -1 : i)).filter((i) => i >= 0);
  const genPitched = selected.filter((g) => !gen[g].isDrum && !out.has(g));
  if (basePitched.length === 1 && genPitched.length === 1 && !used.has(basePitched[0])) {
    out.set(genPitched[0], basePitched[0]);
  }
  return out;
}

/** Map points before `start` from `base`, the generated ones in the span (moved by `shift`), and the base's value again at `end`. */
function spliceMap<T extends { tick: number }>(
  basePoints: readonly T[],
  genPoints: readonly T[],
  span: { start: number; end: number; genStart: number; genEnd: number; follows: boolean },
): T[] {
  const shift = span.start - span.genStart;
  const sorted = <U extends { tick: number }>(xs: readonly U[]): U[] => [...xs].sort((a, b) => a.tick - b.tick);
  const at = <U extends { tick: number }>(xs: readonly U[], tick: number): U | undefined => {
    let found: U | undefined;
    for (const x of sorted(xs)) {
      if (x.tick <= tick) {
        found = x;
      }
    }
    return found;
  };
  const out: T[] = basePoints.filter((p) => p.tick < span.start);
  const genFirst = at(genPoints, span.genStart);
  if (genFirst) {
    out.push({ ...genFirst, tick: span.start });
  }
  for (const p of genPoints) {
    if (p.tick > span.genStart && p.tick < span.genEnd) {
      out.push({ ...p, tick: p.tick + shift });
    }
  }
  if (span.follows) {
    const baseAtEnd = at(basePoints, span.end);
    if (baseAtEnd) {
      out.push({ ...baseAtEnd, tick: span.end });
    }
    out.push(...basePoints.filter((p) => p.tick > span.end));
  }
  return out;
}

/**
 * The base piece with performed bars `[newBars.from, newBars.to)` taken from `generated` (the
 * prompt with new bars appended or regenerated): in the span, the generated tracks' notes replace
 * the matching base tracks' notes (other base tracks, such as drums the model did not touch, keep
 * theirs), and the span's bars, meters, keys, tempos and chord symbols (when the generated piece
 * has any) come from `generated`. Bars past the base's end are appended; `length` is the new end.
 * Base notes of replaced tracks that ring into the span are cut at its start; generated notes
 * that ring past a span followed by base bars are cut at its end.
 *
 * Throws `MusicInputError`: `splice-bad-range` (range outside either piece, or starting after the
 * base's end), `splice-span-length` (a regenerated span followed by base bars must keep its length,
 * or those bars would move), `splice-bad-track` (a `trackMap` entry naming no base track).
 */
export function spliceScore(base: Score, generated: Score, newBars: BarSpan, options: SpliceOptions = {}): Score {
  const { from, to } = newBars;
  checkSpan(generated, from, to, 'take');
  if (from > base.bars.length) {
    throw new MusicInputError('splice-bad-range', `The new bars start at bar ${from + 1}, after the piece's ${base.bars.length} bars.`);
  }
  const baseTo = Math.min(to, base.bars.length);
  const baseEndTick = base.bars.length > 0 ? barEnd(base.bars[base.bars.length - 1]) : 0;
  const start = from < base.bars.length ? base.bars[from].start : baseEndTick;
  const end = baseTo > from ? barEnd(base.bars[baseTo - 1]) : start;
  const genStart = generated.bars[from].start;
  const genEnd = barEnd(generated.bars[to - 1]);
  const follows = baseTo < base.bars.length;
  if (follows && genEnd - genStart !== end - start) {
    throw new MusicInputError(
      'splice-span-length',
      `The regenerated ${barsLabel(from, to)} last ${genEnd - genStart} ticks but the bars they replace last ${end - start}; the bars after them would move.`,
    );
  }
  const shift = start - genStart;

  const selected =
    options.tracks !== undefined
      ? [...new Set(options.tracks)].filter((g) => Number.isInteger(g) && g >= 0 && g < generated.tracks.length)
      : generated.tracks
          .map((_, g) => g)
          .filter((g) => generated.notes.some((n) => n.track === g && n.onset >= genStart && n.onset < genEnd));
  const tracks: Track[] = base.tracks.map((t) => ({ ...t }));
  const map = matchTracks(base.tracks, generated.tracks, selected, options.trackMap ?? {});
  for (const g of selected) {
    if (!map.has(g)) {
      map.set(g, tracks.length);
      tracks.push({ ...generated.tracks[g] });
    }
  }
  const replaced = new Set(map.values());

  const notes: Note[] = [];
  for (const n of base.notes) {
    if (!replaced.has(n.track) || n.onset >= end) {
      notes.push({ ...n });
    } else if (n.onset < start) {
      notes.push({ ...n, duration: Math.min(n.duration, start - n.onset) });
    }
  }
  for (const n of generated.notes) {
    const t = map.get(n.track);
    if (t === undefined || n.onset < genStart || n.onset >= genEnd) {
      continue;
    }
    const duration = follows ? Math.min(n.duration, genEnd - n.onset) : n.duration;
    const copy: Note = { pitch: n.pitch, onset: n.onset + shift, duration, velocity: n.velocity, track: t, voice: n.voice };
    if (n.graces) {
      copy.graces = [...n.graces];
    }
    notes.push(copy);
  }

  const span = { start, end, genStart, genEnd, follows };
  const chords: ChordSymbol[] =
    generated.chords.length > 0
      ? [
          ...base.chords.filter((c) => c.tick < start || (follows && c.tick >= end)).map((c) => ({ ...c })),
          ...generated.chords.filter((c) => c.tick >= genStart && c.tick < genEnd).map((c) => ({ tick: c.tick + shift, name: c.name })),
        ].sort((a, b) => a.tick - b.tick)
      : base.chords.map((c) => ({ ...c }));
  const meters: MeterChange[] = normalizeMeters(spliceMap(base.meters, generated.meters, span));
  const keys: KeyChange[] = normalizeKeys(spliceMap(base.keys, generated.keys, span));
  const tempos: TempoChange[] = normalizeTempos(spliceMap(base.tempos, generated.tempos, span));

  const midiLike = base.writtenBars.length === base.bars.length && base.bars.every((b, i) => b.written === i);
  const writtenBars: WrittenBar[] = base.writtenBars.map((w) => ({ ...w }));
  const bars: Bar[] = base.bars.slice(0, from).map((b) => ({ ...b, meter: { ...b.meter } }));
  for (let k = from; k < to; k++) {
    const g = generated.bars[k];
    let w: number;
    if (midiLike) {
      w = bars.length;
    } else {
      w = writtenBars.length;
      writtenBars.push({});
    }
    bars.push({ start: g.start + shift, duration: g.duration, meter: { ...g.meter }, written: w });
  }
  for (let k = baseTo; k < base.bars.length; k++) {
    const b = base.bars[k];
    bars.push({ ...b, meter: { ...b.meter }, written: midiLike ? bars.length : b.written });
  }
  const length = bars.length > 0 ? barEnd(bars[bars.length - 1]) : 0;
  const out: Score = {
    meta: { ...base.meta },
    notes: sortNotes(notes),
    bars,
    writtenBars: midiLike ? bars.map(() => ({})) : writtenBars,
    tracks,
    tempos,
    meters,
    keys,
    chords,
    length: Math.max(length, follows ? base.length : 0),
  };
  if (base.source) {
    out.source = base.source;
  }
  return out;
}
