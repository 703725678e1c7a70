// Hand-built scores for the tokenizer tests (our own little tunes, not from any corpus).
import { TPQ } from '../../../src/music/score';
import type { Score } from '../../../src/music/score';
import { makeScore } from '../scoreBuilder';
import type { ScoreSpec } from '../scoreBuilder';

/** Ticks of an eighth note, a quarter, a triplet eighth, a sixteenth. */
export const E = TPQ / 2;
export const Q = TPQ;
export const T3 = TPQ / 3;
export const S = TPQ / 4;

/**
 * A jig-like tune of our own in G major, 6/8 with a one-eighth pickup, then two bars of 2/4
 * with a triplet, then back to 6/8; chord symbols on most bars, a tie across a bar line.
 */
export function folkTune(): Score {
  const six = { num: 6, den: 8 };
  const two = { num: 2, den: 4 };
  const bar = (i: number): number => E + (i - 1) * 6 * E; // start of full 6/8 bar i (1-based), bars 1..4
  const notes: ScoreSpec['notes'] = [
    [62, 0, E], // pickup D
    [67, bar(1), Q],
    [71, bar(1) + Q, E],
    [74, bar(1) + 3 * E, E],
    [71, bar(1) + 4 * E, E],
    [67, bar(1) + 5 * E, E],
    [69, bar(2), 3 * E],
    [72, bar(2) + 3 * E, E],
    [71, bar(2) + 4 * E, E],
    [69, bar(2) + 5 * E, E],
    [67, bar(3), E],
    [66, bar(3) + E, E],
    [67, bar(3) + 2 * E, E],
    [64, bar(3) + 3 * E, 3 * E + E], // tied over the bar line into bar 4
    [62, bar(4) + E, 5 * E],
  ];
  const twoStart = bar(5);
  notes.push(
    [67, twoStart, T3],
    [69, twoStart + T3, T3],
    [71, twoStart + 2 * T3, T3],
    [72, twoStart + Q, S],
    [71, twoStart + Q + S, S],
    [69, twoStart + Q + 2 * S, E],
    [67, twoStart + 2 * Q, 2 * Q],
  );
  const back = twoStart + 4 * Q;
  notes.push([62, back, 3 * E], [67, back + 3 * E, 3 * E], [67, back + 6 * E, 6 * E]);
  return makeScore({
    bars: [
      { meter: six, duration: E },
      { meter: six },
      { meter: six },
      { meter: six },
      { meter: six },
      { meter: two },
      { meter: two },
      { meter: six },
      { meter: six },
    ],
    notes,
    chords: [
      { tick: bar(1), name: 'G' },
      { tick: bar(2), name: 'D7' },
      { tick: bar(2) + 3 * E, name: 'Am/C' },
      { tick: bar(3), name: 'Em' },
      { tick: bar(4), name: 'C' },
      { tick: twoStart, name: 'G/B' },
      { tick: back, name: 'D' },
      { tick: back + 6 * E, name: 'G' },
    ],
    keys: [{ tick: 0, key: { tonic: 'G', mode: 'major', fifths: 1 } }],
    tempos: [{ tick: 0, bpm: 121 }],
  });
}

/**
 * A pop-like 4/4 score of our own with four tracks (melody, bridge, piano, drums), velocities,
 * a key change to E minor in bar 3 and a tempo change, four bars.
 */
export function popScore(): Score {
  const four = { num: 4, den: 4 };
  const W = 4 * Q;
  const notes: ScoreSpec['notes'] = [];
  for (let b = 0; b < 4; b++) {
    const s = b * W;
    notes.push([72 + b, s, Q, 0, 100], [74, s + Q + E, E, 0, 90], [76, s + 2 * Q, 2 * Q - S, 0, 70]);
    notes.push([79, s + 3 * Q, E, 1, 50]);
    notes.push([48, s, 2 * Q, 2, 60], [55, s, 2 * Q, 2, 60], [60, s, 2 * Q, 2, 64], [64, s, 2 * Q, 2, 64]);
    notes.push([43, s + 2 * Q, 2 * Q, 2, 30]);
    for (let k = 0; k < 4; k++) {
      notes.push([k % 2 === 0 ? 36 : 38, s + k * Q, S, 3, 120]);
    }
  }
  notes.push([60, 3 * W + 3 * Q, 3 * W, 2, 40]); // rings on past the end of the piece
  return makeScore({
    bars: [{ meter: four }, { meter: four }, { meter: four }, { meter: four }],
    notes,
    tracks: [
      { name: 'MELODY', channel: 0, program: 0, isDrum: false },
      { name: 'BRIDGE', channel: 1, program: 0, isDrum: false },
      { name: 'PIANO', channel: 2, program: 0, isDrum: false },
      { name: 'Kit', channel: 9, program: 0, isDrum: true },
    ],
    chords: [
      { tick: 0, name: 'C' },
      { tick: 2 * Q, name: 'G/B' },
      { tick: W, name: 'Am7' },
      { tick: 2 * W, name: 'Em' },
      { tick: 3 * W, name: 'N.C.' },
    ],
    keys: [
      { tick: 0, key: { tonic: 'C', mode: 'major', fifths: 0 } },
      { tick: 2 * W, key: { tonic: 'E', mode: 'minor', fifths: 1 } },
    ],
    tempos: [
      { tick: 0, bpm: 96 },
      { tick: 2 * W + Q, bpm: 72 },
    ],
  });
}
