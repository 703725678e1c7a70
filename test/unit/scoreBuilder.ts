/**
 * The unit tests' one builder of Scores by hand (no reader involved):
 * - {@link buildScore}: bars of notes `[pitch, onset, duration]` or `[pitch, onset, duration,
 *   track]`, onset and duration in 16th notes from the start of the bar;
 * - {@link scoreOfNotes}: 4/4 bars around notes in ticks;
 * - {@link makeScore}: a list of bars (meter, length) and notes in ticks;
 * - {@link scoreFromMeters}: notes in ticks, bars derived from a meter map (as a MIDI file's).
 */

import { barsFromMeters } from '../../src/music/midi/maps';
import { TPQ, barTicks, emptyScore, sortNotes } from '../../src/music/score';
import type { Bar, ChordSymbol, Key, KeyChange, Meter, MeterChange, Note, Score, TempoChange, Track } from '../../src/music/score';
import { mulberry32 } from '../../src/platform/prng';

/** One note: pitch, onset in 16ths from the bar start, duration in 16ths, optional track. */
export type BarNote = readonly [number, number, number, number?];

/** Ticks in one 16th note. */
export const SIXTEENTH = TPQ / 4;

export interface BuildOptions {
  meter?: Meter;
  /** Length of a short first bar in 16ths (an anacrusis); later bars are full. */
  pickup?: number;
  /** Tracks; default one melody track. */
  tracks?: Track[];
}

/** A score with one bar per entry of `bars`, notes placed as given. */
export function buildScore(bars: readonly (readonly BarNote[])[], options: BuildOptions = {}): Score {
  const score = emptyScore();
  const meter = options.meter ?? { num: 4, den: 4 };
  const full = barTicks(meter);
  if (options.tracks) {
    score.tracks = options.tracks;
  }
  score.meters = [{ tick: 0, meter }];
  const outBars: Bar[] = [];
  const notes: Note[] = [];
  let tick = 0;
  bars.forEach((barNotes, b) => {
    const duration = b === 0 && options.pickup !== undefined ? options.pickup * SIXTEENTH : full;
    outBars.push({ start: tick, duration, meter, written: b });
    score.writtenBars.push({});
    for (const [pitch, at, dur, track] of barNotes) {
      notes.push({
        pitch,
        onset: tick + at * SIXTEENTH,
        duration: dur * SIXTEENTH,
        velocity: 80,
        track: track ?? 0,
        voice: 0,
      });
    }
    tick += duration;
  });
  score.bars = outBars;
  score.notes = sortNotes(notes);
  score.length = tick;
  return score;
}

/** A bar whose notes are all distinct from every other `distinctBar(k')` (k' != k). */
export function distinctBar(k: number): BarNote[] {
  // Pitches 30 + 4k .. 30 + 4k + 3: no pitch is shared between two values of k.
  return [
    [30 + 4 * k, 0, 4],
    [31 + 4 * k, 4, 4],
    [32 + 4 * k, 8, 4],
    [33 + 4 * k, 12, 4],
  ];
}

/** A random multi-track piece: melody, a drum track, held notes over barlines, some empty bars. */
export function randomScore(seed: number, barCount: number, notesPerBar = 8): Score {
  const r = mulberry32(seed);
  const bars: BarNote[][] = [];
  for (let b = 0; b < barCount; b++) {
    const notes: BarNote[] = [];
    if (r() < 0.1) {
      bars.push(notes);
      continue;
    }
    for (let k = 0; k < notesPerBar; k++) {
      const at = Math.floor(r() * 16);
      const dur = 1 + Math.floor(r() * (r() < 0.1 ? 24 : 4));
      const track = r() < 0.2 ? 1 : 0;
      notes.push([track === 1 ? 36 + Math.floor(r() * 10) : 55 + Math.floor(r() * 24), at, dur, track]);
    }
    bars.push(notes);
  }
  return buildScore(bars, {
    tracks: [
      { name: 'Melody', channel: 0, program: 0, isDrum: false },
      { name: 'Drums', channel: 9, program: 0, isDrum: true },
    ],
  });
}

/** A 4/4 score of the given notes over `bars` bars (default: as many as hold them), then `edit` applied. */
export function scoreOfNotes(notes: Note[], bars?: number, edit: (s: Score) => void = () => {}): Score {
  const s = emptyScore();
  const full = barTicks({ num: 4, den: 4 });
  const count = bars ?? Math.ceil(Math.max(0, ...notes.map((n) => n.onset + n.duration)) / full);
  for (let k = 0; k < count; k++) {
    s.bars.push({ start: k * full, duration: full, meter: { num: 4, den: 4 }, written: k });
  }
  s.notes = notes;
  s.length = count * full;
  edit(s);
  return s;
}

/** A bar of {@link makeScore}. */
export interface BarSpec {
  meter: Meter;
  /** Length in ticks; default: the meter's full bar. */
  duration?: number;
}

/** A score of {@link makeScore}: its bars, and notes in ticks. */
export interface ScoreSpec {
  bars: BarSpec[];
  notes: [pitch: number, onset: number, duration: number, track?: number, velocity?: number][];
  tracks?: Track[];
  chords?: ChordSymbol[];
  keys?: { tick: number; key: Key }[];
  tempos?: { tick: number; bpm: number }[];
}

/** Builds a Score with contiguous bars from a compact spec. */
export function makeScore(spec: ScoreSpec): Score {
  let t = 0;
  const bars = spec.bars.map((b, i) => {
    const duration = b.duration ?? Math.round((TPQ * 4 * b.meter.num) / b.meter.den);
    const bar = { start: t, duration, meter: b.meter, written: i };
    t += duration;
    return bar;
  });
  const meters: Score['meters'] = [];
  for (const b of bars) {
    const last = meters[meters.length - 1];
    if (!last || last.meter.num !== b.meter.num || last.meter.den !== b.meter.den) {
      meters.push({ tick: b.start, meter: b.meter });
    }
  }
  const notes: Note[] = spec.notes.map(([pitch, onset, duration, track, velocity]) => ({
    pitch,
    onset,
    duration,
    velocity: velocity ?? 80,
    track: track ?? 0,
    voice: 0,
  }));
  return {
    meta: { title: 'test' },
    notes: sortNotes(notes),
    bars,
    writtenBars: bars.map(() => ({})),
    tracks: spec.tracks ?? [{ name: 'Melody', channel: 0, program: 0, isDrum: false }],
    tempos: spec.tempos ?? [{ tick: 0, bpm: 120 }],
    meters,
    keys: spec.keys ?? [{ tick: 0, key: { tonic: 'C', mode: 'major', fifths: 0 } }],
    chords: spec.chords ?? [],
    length: t,
  };
}

/** A score of {@link scoreFromMeters}. */
export interface MeterMapSpec {
  meta?: Score['meta'];
  tracks: Track[];
  notes: Note[];
  /** Default: 4/4 from tick 0. */
  meters?: MeterChange[];
  /** Default: 120 bpm. */
  tempos?: TempoChange[];
  /** Default: C major. */
  keys?: KeyChange[];
  /** The tick the bars must reach; default: the end of the last note. */
  end?: number;
}

/** A MIDI-like Score: bars derived from the meter map (one written bar per bar), notes sorted. */
export function scoreFromMeters(spec: MeterMapSpec): Score {
  const meters = spec.meters ?? [{ tick: 0, meter: { num: 4, den: 4 } }];
  const end = spec.end ?? spec.notes.reduce((m, n) => Math.max(m, n.onset + n.duration), 0);
  const bars = barsFromMeters(meters, end);
  const last = bars[bars.length - 1];
  return {
    meta: spec.meta ?? {},
    notes: sortNotes(spec.notes),
    bars,
    writtenBars: bars.map(() => ({})),
    tracks: spec.tracks,
    tempos: spec.tempos ?? [{ tick: 0, bpm: 120 }],
    meters,
    keys: spec.keys ?? [{ tick: 0, key: { tonic: 'C', mode: 'major', fifths: 0 } }],
    chords: [],
    length: last.start + last.duration,
  };
}
