import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import type { Key } from '../../../src/music/score';
import {
  DIFFERENT_OFFSETS,
  TEMPLATE_SAME,
  contrast,
  finalPitchClass,
  followsForm,
  formCompliance,
  formPairs,
  inModeShare,
  modeScale,
  repeatFidelity,
  sameSectionPairs,
  tonicEnding,
} from '../../../src/structure/compliance';
import { formToTemplate, parseForm } from '../../../src/structure/form';
import { barSsm } from '../../../src/structure/ssm';
import type { Ssm } from '../../../src/structure/ssm';
import { buildScore } from '../scoreBuilder';
import type { BarNote } from '../scoreBuilder';

/** Bar k of a fixture: four notes no other k shares (pitch 40 + k, different onsets). */
function uniqueBar(k: number): BarNote[] {
  return [
    [40 + k, 0, 4],
    [41 + k, 4, 4],
    [40 + k, 8, 2],
    [42 + k, 10, 6],
  ];
}

/** 32 bars: A (bars 0-7) repeated exactly, then B (16-23) repeated exactly. */
function aabbCopy(): ReturnType<typeof buildScore> {
  const bars: BarNote[][] = [];
  for (let i = 0; i < 32; i++) {
    const section = Math.floor(i / 8);
    const base = section < 2 ? i % 8 : 8 + (i % 8);
    bars.push(uniqueBar(base));
  }
  return buildScore(bars);
}

/** 32 bars, no two sharing a note. */
function allDifferent(): ReturnType<typeof buildScore> {
  return buildScore(Array.from({ length: 32 }, (_, i) => uniqueBar(2 * i)));
}

const AABB = formToTemplate(parseForm('A8 A8 B8 B8'));
const DORIAN_D: Key = { tonic: 'D', mode: 'dorian', fifths: 0 };

describe('compliance: followsForm', () => {
  test('an exact A8 A8 B8 B8 copy follows its form fully and has fidelity 1, contrast 0', () => {
    const score = aabbCopy();
    assert.equal(followsForm(score, AABB, { from: 4, to: 32 }), 1);
    assert.equal(repeatFidelity(score, 'A8 A8 B8 B8'), 1);
    assert.equal(contrast(score, 'A8 A8 B8 B8'), 0);
    const parts = formCompliance(barSsm(score), AABB, { from: 4, to: 32 });
    assert.equal(parts.same, 16, 'bars 8-15 and 24-31 each have one same partner');
    assert.equal(parts.sameKept, 16);
    assert.equal(parts.differentApart, parts.different);
  });

  test('all-different bars: contrast 0, fidelity 0, and only the different pairs comply', () => {
    const score = allDifferent();
    assert.equal(contrast(score, 'A8 A8 B8 B8'), 0);
    assert.equal(repeatFidelity(score, 'A8 A8 B8 B8'), 0);
    const parts = formCompliance(barSsm(score), AABB, { from: 4, to: 32 });
    assert.equal(parts.sameKept, 0);
    assert.equal(parts.differentApart, parts.different);
    // Each kind weighs half: keeping every bar apart scores 50%, not the share of different pairs.
    assert.equal(parts.share, 0.5);
    assert.equal(followsForm(score, AABB, { from: 4, to: 32 }), 0.5);
  });

  test('sameSectionPairs: one best partner (ties to the earliest), different pairs at offsets 1..16 only', () => {
    // Bar 3 equals bars 0 and 1 in the template (a tie): the partner is bar 0.
    const n = 20;
    const data = new Float32Array(n * n);
    for (let i = 0; i < n; i++) {
      data[i * n + i] = 1;
    }
    const set = (i: number, j: number, v: number): void => {
      data[i * n + j] = v;
      data[j * n + i] = v;
    };
    set(3, 0, 0.8);
    set(3, 1, 0.8);
    set(3, 2, TEMPLATE_SAME);
    const t: Ssm = { size: n, data };
    const pairs = sameSectionPairs(t, 3, 4);
    assert.deepEqual(pairs.same, [{ bar: 3, earlier: 0 }]);
    // Bars 0, 1, 2 are all marked the same (>= 0.5): no different pair for bar 3.
    assert.deepEqual(pairs.different, []);
    // Bar 19: no same partner, different pairs at offsets 1..16 (bars 3..18), not bars 0-2.
    const late = sameSectionPairs(t, 19, 20);
    assert.deepEqual(late.same, []);
    assert.equal(late.different.length, DIFFERENT_OFFSETS);
    assert.equal(Math.min(...late.different.map((p) => p.earlier)), 3);
    // Bars outside the template are not judged.
    assert.deepEqual(sameSectionPairs(t, 20, 40), { same: [], different: [] });
  });

  test('a piece that breaks one repeat loses exactly that pair', () => {
    const score = aabbCopy();
    // Replace bar 12 (should copy bar 4) by a bar sharing nothing.
    const broken = buildScore(Array.from({ length: 32 }, (_, i) => (i === 12 ? uniqueBar(60) : uniqueBar(i < 16 ? i % 8 : 8 + (i % 8)))));
    const whole = formCompliance(barSsm(score), AABB, { from: 4, to: 32 });
    const parts = formCompliance(barSsm(broken), AABB, { from: 4, to: 32 });
    assert.equal(parts.sameKept, whole.sameKept - 1);
    assert.equal(parts.differentApart, whole.differentApart);
    assert.ok(parts.share < 1);
  });

  test('no judged pair gives NaN', () => {
    assert.ok(Number.isNaN(followsForm(aabbCopy(), AABB, { from: 32, to: 32 })));
  });
});

describe('compliance: formPairs', () => {
  test('A8 A8 B8 B8: fidelity (i, i+8) inside AA and BB, contrast (i, i+16)', () => {
    const p = formPairs('A8 A8 B8 B8');
    const fid = p.fidelity.map((x) => [x.earlier, x.bar]);
    const want: number[][] = [];
    for (const base of [0, 16]) {
      for (let k = 0; k < 8; k++) {
        want.push([base + k, base + k + 8]);
      }
    }
    assert.deepEqual(fid, want);
    assert.deepEqual(
      p.contrast.map((x) => [x.earlier, x.bar]),
      Array.from({ length: 16 }, (_, i) => [i, i + 16]),
    );
    assert.equal(p.measuredAs, 'A8 A8 B8 B8');
  });

  test('A8 B8 C8 D8 is measured at the pairs of A8 A8 B8 B8', () => {
    const p = formPairs('A8 B8 C8 D8');
    const q = formPairs('A8 A8 B8 B8');
    assert.equal(p.measuredAs, 'A8 A8 B8 B8');
    assert.deepEqual(p.fidelity, q.fidelity);
    assert.deepEqual(p.contrast, q.contrast);
  });

  test('A8 A8 B8 A8: fidelity between the three A sections, contrast first A against B', () => {
    const p = formPairs('A8 A8 B8 A8');
    assert.equal(p.fidelity.length, 24);
    assert.ok(p.fidelity.some((x) => x.earlier === 0 && x.bar === 24));
    assert.ok(p.fidelity.some((x) => x.earlier === 8 && x.bar === 24));
    assert.deepEqual(
      p.contrast.map((x) => [x.earlier, x.bar]),
      Array.from({ length: 8 }, (_, i) => [i, i + 16]),
    );
  });
});

describe('compliance: tonic ending and mode', () => {
  test('finals are mode-aware', () => {
    assert.equal(finalPitchClass(DORIAN_D), 2);
    assert.equal(finalPitchClass({ tonic: 'A', mode: 'minor', fifths: 0 }), 9);
    assert.equal(finalPitchClass({ tonic: 'G', mode: 'major', fifths: 1 }), 7);
    assert.equal(finalPitchClass({ tonic: 'E', mode: 'dorian', fifths: 2 }), 4);
    assert.equal(finalPitchClass({ tonic: 'Bb', mode: 'major', fifths: -2 }), 10);
    assert.deepEqual([...modeScale({ tonic: 'D', mode: 'major', fifths: 2 })].sort((a, b) => a - b), [1, 2, 4, 6, 7, 9, 11]);
  });

  test('a D dorian tune ending on D ends on the tonic; on C it does not', () => {
    const onD = buildScore([[[62, 0, 4], [64, 4, 4]], [[65, 0, 8], [62, 8, 8]]]);
    onD.keys = [{ tick: 0, key: DORIAN_D }];
    assert.equal(tonicEnding(onD), true);
    // The same notes read in C major (final C) do not end on the tonic.
    assert.equal(tonicEnding(onD, { tonic: 'C', mode: 'major', fifths: 0 }), false);
    const onC = buildScore([[[62, 0, 4], [64, 4, 4]], [[65, 0, 8], [60, 8, 8]]]);
    onC.keys = [{ tick: 0, key: DORIAN_D }];
    assert.equal(tonicEnding(onC), false);
    // A final chord counts by its lowest note.
    const chord = buildScore([[[62, 0, 8], [50, 8, 8], [57, 8, 8]]]);
    chord.keys = [{ tick: 0, key: DORIAN_D }];
    assert.equal(tonicEnding(chord), true);
    assert.equal(tonicEnding(buildScore([[]])), false);
  });

  test('in-mode share counts an accidental against the new bars only', () => {
    // Bar 0 (prompt) has F# (out of D dorian); bar 1 has 7 mode notes and one F#.
    const score = buildScore([
      [[66, 0, 16]],
      [[62, 0, 2], [64, 2, 2], [65, 4, 2], [67, 6, 2], [69, 8, 2], [71, 10, 2], [72, 12, 2], [66, 14, 2]],
    ]);
    score.keys = [{ tick: 0, key: DORIAN_D }];
    assert.equal(inModeShare(score, undefined, 1), 7 / 8);
    assert.equal(inModeShare(score, undefined, 0), 7 / 9);
    // In D major F# is in the mode and F and C natural are not.
    assert.equal(inModeShare(score, { tonic: 'D', mode: 'major', fifths: 2 }, 1), 6 / 8);
    assert.ok(Number.isNaN(inModeShare(score, undefined, 2)));
  });
});
