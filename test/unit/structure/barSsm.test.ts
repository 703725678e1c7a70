import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { MusicInputError } from '../../../src/music/score';
import { formToTemplate, parseForm } from '../../../src/structure/form';
import { BAR_FEATURES, MAX_SSM_BARS, barSsm, ssmAt, ssmDistance } from '../../../src/structure/ssm';
import type { Ssm } from '../../../src/structure/ssm';
import { buildScore, distinctBar, randomScore } from '../scoreBuilder';
import type { BarNote } from '../scoreBuilder';

function assertWellFormed(ssm: Ssm, label: string): void {
  const n = ssm.size;
  assert.equal(ssm.data.length, n * n, label);
  for (let i = 0; i < n; i++) {
    assert.equal(ssmAt(ssm, i, i), 1, `${label}: diagonal at ${i}`);
    for (let j = 0; j < n; j++) {
      const v = ssmAt(ssm, i, j);
      assert.equal(v, ssmAt(ssm, j, i), `${label}: symmetric at ${i},${j}`);
      assert.ok(v >= 0 && v <= 1, `${label}: ${v} in [0,1] at ${i},${j}`);
    }
  }
}

const C_TRIAD: BarNote[] = [
  [60, 0, 4],
  [64, 4, 4],
  [67, 8, 8],
];

function transpose(notes: readonly BarNote[], by: number): BarNote[] {
  return notes.map(([p, at, d, t]) => [p + by, at, d, t]);
}

describe('barSsm', () => {
  test('every feature is symmetric with a unit diagonal and values in [0, 1]', () => {
    for (const seed of [1, 2, 3]) {
      const score = randomScore(seed, 40);
      for (const feature of BAR_FEATURES) {
        const ssm = barSsm(score, feature);
        assert.equal(ssm.size, 40);
        assertWellFormed(ssm, `${feature} seed ${seed}`);
        assertWellFormed(barSsm(score, feature, { includeDrums: true }), `${feature}+drums seed ${seed}`);
      }
    }
  });

  test('the random fixtures are not trivial (off-diagonal values vary)', () => {
    const ssm = barSsm(randomScore(1, 40), 'chroma');
    const values = new Set<number>();
    for (let i = 0; i < 40; i++) {
      for (let j = i + 1; j < 40; j++) {
        values.add(ssmAt(ssm, i, j));
      }
    }
    assert.ok(values.size > 50, `only ${values.size} distinct values`);
  });

  test('a score built from form AABA (2 bars per section) matches the form template exactly', () => {
    const a = [distinctBar(0), distinctBar(1)];
    const b = [distinctBar(2), distinctBar(3)];
    const score = buildScore([...a, ...a, ...b, ...a]);
    const template = formToTemplate(parseForm('A2 A2 B2 A2'));
    const ssm = barSsm(score, 'jaccard');
    assert.equal(ssmDistance(ssm, template), 0);
    // Spot checks: bar 1 of each A is bar 0, 2, 6; bar 2 of each A is 1, 3, 7.
    assert.equal(ssmAt(ssm, 0, 2), 1);
    assert.equal(ssmAt(ssm, 0, 6), 1);
    assert.equal(ssmAt(ssm, 3, 7), 1);
    assert.equal(ssmAt(ssm, 0, 1), 0);
    assert.equal(ssmAt(ssm, 0, 4), 0);
    for (const feature of BAR_FEATURES) {
      const s = barSsm(score, feature);
      for (const [i, j] of [
        [0, 2],
        [0, 6],
        [1, 3],
        [1, 7],
        [4, 4],
      ]) {
        assert.equal(ssmAt(s, i, j), 1, `${feature} at ${i},${j}`);
      }
    }
  });

  test('jaccard follows Museformer eq. 4 on a hand-computed pair', () => {
    // Bar 0: {C,E,G}; bar 1: C same, E same, G with another duration, plus D: 2 common of 5 distinct.
    const score = buildScore([C_TRIAD, [[60, 0, 4], [64, 4, 4], [67, 8, 4], [62, 12, 4]]]);
    assert.equal(ssmAt(barSsm(score, 'jaccard'), 0, 1), Math.fround(2 / 5));
  });

  test('a transposed repeat has different chroma but identical rhythm', () => {
    const score = buildScore([C_TRIAD, transpose(C_TRIAD, 2), transpose(C_TRIAD, 12)]);
    const rhythm = barSsm(score, 'rhythm');
    const chroma = barSsm(score, 'chroma');
    const jac = barSsm(score, 'jaccard');
    assert.equal(ssmAt(rhythm, 0, 1), 1);
    assert.equal(ssmAt(chroma, 0, 1), 0); // C E G vs D F# A share no pitch class
    assert.equal(ssmAt(jac, 0, 1), 0);
    // An octave transposition keeps the chroma but not the notes.
    assert.equal(ssmAt(chroma, 0, 2), 1);
    assert.equal(ssmAt(jac, 0, 2), 0);
    const combined = barSsm(score, 'combined');
    assert.equal(ssmAt(combined, 0, 1), Math.fround(1 / 3));
  });

  test('chroma is duration weighted (hand-computed cosine)', () => {
    // Bar 0: C for 3 beats, G for 1 beat -> (3, 1); bar 1: C 1 beat, G 3 beats -> (1, 3).
    const score = buildScore([
      [
        [60, 0, 12],
        [67, 12, 4],
      ],
      [
        [60, 0, 4],
        [67, 4, 12],
      ],
    ]);
    assert.equal(ssmAt(barSsm(score, 'chroma'), 0, 1), Math.fround(6 / 10));
  });

  test('a note held across the barline counts in the chroma of the bar it reaches', () => {
    const score = buildScore([[[60, 8, 16]], [], [[60, 0, 4]]]);
    const chroma = barSsm(score, 'chroma');
    assert.equal(ssmAt(chroma, 1, 2), 1);
    // but no note starts in bar 1, so for the note set it is empty
    assert.equal(ssmAt(barSsm(score, 'jaccard'), 1, 2), 0);
  });

  test('empty bars: two empty bars score 1, empty vs non-empty scores 0, and are flagged', () => {
    const score = buildScore([C_TRIAD, [], [], C_TRIAD]);
    for (const feature of BAR_FEATURES) {
      const ssm = barSsm(score, feature);
      assert.equal(ssmAt(ssm, 1, 2), 1, feature);
      assert.equal(ssmAt(ssm, 0, 1), 0, feature);
      assert.deepEqual(Array.from(ssm.empty ?? []), [0, 1, 1, 0]);
    }
  });

  test('drum tracks are left out unless asked; tracks selects exactly', () => {
    const tracks = [
      { name: 'Melody', channel: 0, program: 0, isDrum: false },
      { name: 'Drums', channel: 9, program: 0, isDrum: true },
    ];
    const bar0: BarNote[] = [...C_TRIAD, [36, 0, 1, 1]];
    const bar1: BarNote[] = [...C_TRIAD, [38, 4, 1, 1]];
    const score = buildScore([bar0, bar1], { tracks });
    assert.equal(ssmAt(barSsm(score, 'jaccard'), 0, 1), 1);
    assert.equal(ssmAt(barSsm(score, 'jaccard', { includeDrums: true }), 0, 1), Math.fround(3 / 5));
    assert.equal(ssmAt(barSsm(score, 'jaccard', { tracks: [1] }), 0, 1), 0);
    assert.equal(ssmAt(barSsm(score, 'jaccard', { tracks: [0] }), 0, 1), 1);
  });

  test('the same note in two tracks counts once in the note set', () => {
    const tracks = [
      { name: 'A', channel: 0, program: 0, isDrum: false },
      { name: 'B', channel: 1, program: 0, isDrum: false },
    ];
    const score = buildScore([C_TRIAD, [...C_TRIAD, [60, 0, 4, 1]]], { tracks });
    assert.equal(ssmAt(barSsm(score, 'jaccard'), 0, 1), 1);
  });

  test('onsets are snapped to the grid: small jitter still matches, grid 1 compares exact ticks', () => {
    const score = buildScore([C_TRIAD, C_TRIAD]);
    score.notes[3].onset += 5; // first note of bar 1, 5 ticks late
    score.notes[3].duration -= 5;
    assert.equal(ssmAt(barSsm(score, 'jaccard'), 0, 1), 1);
    assert.equal(ssmAt(barSsm(score, 'jaccard', { grid: 1 }), 0, 1), Math.fround(2 / 4));
    assert.equal(ssmAt(barSsm(score, 'rhythm', { grid: 1 }), 0, 1), Math.fround(2 / 4));
  });

  test('an anacrusis is right-aligned: a pickup on beat 4 matches a later beat-4 rhythm', () => {
    const score = buildScore(
      [
        [[67, 0, 4]],
        [[60, 12, 4]],
      ],
      { pickup: 4 },
    );
    assert.equal(score.bars[0].duration, 480);
    assert.equal(ssmAt(barSsm(score, 'rhythm'), 0, 1), 1);
  });

  test('other meters and bar counts: 3/4 waltz pattern repeats every bar', () => {
    const bar: BarNote[] = [
      [48, 0, 4],
      [64, 4, 4],
      [67, 8, 4],
    ];
    const score = buildScore([bar, bar, bar], { meter: { num: 3, den: 4 } });
    for (const feature of BAR_FEATURES) {
      assert.equal(ssmAt(barSsm(score, feature), 0, 2), 1, feature);
    }
  });

  test('an empty score gives a 0x0 SSM', () => {
    const score = buildScore([]);
    const ssm = barSsm(score);
    assert.equal(ssm.size, 0);
    assert.equal(ssm.data.length, 0);
  });

  test('notes outside every bar and unusable notes are ignored, not a crash', () => {
    const score = buildScore([C_TRIAD, C_TRIAD]);
    score.notes.push({ pitch: 60, onset: 99999, duration: 10, velocity: 1, track: 0, voice: 0 });
    score.notes.push({ pitch: 60, onset: 0, duration: 0, velocity: 1, track: 0, voice: 0 });
    score.notes.push({ pitch: Number.NaN, onset: 0, duration: 10, velocity: 1, track: 0, voice: 0 });
    for (const feature of BAR_FEATURES) {
      assert.equal(ssmAt(barSsm(score, feature), 0, 1), 1, feature);
    }
  });

  test('bad options throw MusicInputError with specific codes', () => {
    const score = buildScore([C_TRIAD]);
    assert.throws(
      () => barSsm(score, 'jaccard', { tracks: [3] }),
      (e: unknown) => e instanceof MusicInputError && e.code === 'structure-bad-track' && /Track 3/.test(e.message),
    );
    assert.throws(
      () => barSsm(score, 'pitch' as never),
      (e: unknown) => e instanceof MusicInputError && e.code === 'structure-bad-feature',
    );
    const long = buildScore([]);
    long.bars = Array.from({ length: MAX_SSM_BARS + 1 }, (_, k) => ({ start: k * 1920, duration: 1920, meter: { num: 4, den: 4 }, written: k }));
    assert.throws(
      () => barSsm(long),
      (e: unknown) => e instanceof MusicInputError && e.code === 'structure-too-long',
    );
    assert.throws(
      () => barSsm(score, 'rhythm', { grid: 0 }),
      (e: unknown) => e instanceof MusicInputError && e.code === 'structure-bad-grid',
    );
  });
});
