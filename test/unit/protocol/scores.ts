/**
 * Small hand-made Scores for the protocol and view tests. A bar is a list of
 * `[pitch, onset16, duration16]` (16th notes from the bar start), 4/4 unless told.
 */

import type { Meter, Score } from '../../../src/music/score';
import { buildScore } from '../scoreBuilder';
import type { BarNote } from '../scoreBuilder';

/** One note: pitch, onset and duration in 16ths, optional track. */
export type TestNote = BarNote;

/**
 * A score with one bar per entry (4/4 by default), built by the structure tests' builder; each
 * bar is given a written source range, as the views' bar selection needs.
 */
export function scoreOf(bars: readonly (readonly TestNote[])[], meter: Meter = { num: 4, den: 4 }, bpm = 120): Score {
  const score = buildScore(bars, { meter });
  score.tempos = [{ tick: 0, bpm }];
  score.writtenBars = score.bars.map((_, b) => ({ source: { start: b * 10, end: b * 10 + 9 } }));
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
