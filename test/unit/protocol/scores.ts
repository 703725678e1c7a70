/**
 * Small hand-made Scores for the protocol and view tests. A bar is a list of
 * `[pitch, onset16, duration16]` (16th notes from the bar start), 4/4 unless told.
 */

import { TPQ, emptyScore, sortNotes } from '../../../src/music/score';
import type { Meter, Note, Score } from '../../../src/music/score';

/** One note: pitch, onset and duration in 16ths, optional track. */
export type TestNote = readonly [number, number, number, number?];

const SIXTEENTH = TPQ / 4;

/** A score with one bar per entry (4/4 by default). */
export function scoreOf(bars: readonly (readonly TestNote[])[], meter: Meter = { num: 4, den: 4 }, bpm = 120): Score {
  const score = emptyScore();
  const length = (TPQ * 4 * meter.num) / meter.den;
  score.meters = [{ tick: 0, meter }];
  score.tempos = [{ tick: 0, bpm }];
  const notes: Note[] = [];
  bars.forEach((bar, b) => {
    score.bars.push({ start: b * length, duration: length, meter, written: b });
    score.writtenBars.push({ source: { start: b * 10, end: b * 10 + 9 } });
    for (const [pitch, at, dur, track] of bar) {
      notes.push({ pitch, onset: b * length + at * SIXTEENTH, duration: dur * SIXTEENTH, velocity: 90, track: track ?? 0, voice: 0 });
    }
  });
  score.notes = sortNotes(notes);
  score.length = bars.length * length;
  return score;
}

/** Bar A: C E G C' quarters. */
export const BAR_A: readonly TestNote[] = [[60, 0, 4], [64, 4, 4], [67, 8, 4], [72, 12, 4]];
/** Bar B: D F A D' quarters. */
export const BAR_B: readonly TestNote[] = [[62, 0, 4], [65, 4, 4], [69, 8, 4], [74, 12, 4]];
/** Bar C: a held low note and two eighths. */
export const BAR_C: readonly TestNote[] = [[48, 0, 16], [67, 0, 2], [65, 2, 2]];

/** An AABA-like 8-bar tune: A B A C A B A C. */
export function eightBars(): Score {
  return scoreOf([BAR_A, BAR_B, BAR_A, BAR_C, BAR_A, BAR_B, BAR_A, BAR_C]);
}
