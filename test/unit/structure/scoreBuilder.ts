/**
 * Builds small Scores by hand for the structure tests (no reader involved).
 * A note is `[pitch, onset, duration]` or `[pitch, onset, duration, track]`, onset and
 * duration in 16th notes from the start of its bar.
 */

import { TPQ, barTicks, emptyScore, sortNotes } from '../../../src/music/score';
import type { Bar, Meter, Note, Score, Track } from '../../../src/music/score';
import { mulberry32 } from '../../../src/platform/prng';

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
