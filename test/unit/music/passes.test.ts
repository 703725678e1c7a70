// Regenerating a bar inside a repeat: the first pass is chosen, the new notes are carried into
// every pass, and the splicer replaces the written bar once.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readAbc } from '../../../src/music/abc/reader';
import { firstPass, passesOf, withSamePasses } from '../../../src/music/passes';
import type { Score } from '../../../src/music/score';
import { applyTextEdit, planAbcInfill } from '../../../src/music/splice';

const TUNE = `X:1
T:Passes
M:4/4
L:1/8
K:G
|:GABc dedB|cBAG FGAF|GABc dedB|cAFA G4:|
|:gfge dBGB|cBAG FGAF|gfge dBGB|cAFA G4:|
`;

function score(text = TUNE): Score {
  return readAbc(text).tunes[0].score;
}

/** The piece with bar k's notes replaced by one whole-bar note of `pitch`. */
function replaceBar(s: Score, k: number, pitch: number): Score {
  const b = s.bars[k];
  const notes = s.notes.filter((n) => n.onset < b.start || n.onset >= b.start + b.duration);
  notes.push({ pitch, onset: b.start, duration: b.duration, velocity: 80, track: 0, voice: 0 });
  return { ...s, notes: notes.sort((a, c) => a.onset - c.onset) };
}

function barPitches(s: Score, k: number): number[] {
  const b = s.bars[k];
  return s.notes.filter((n) => n.onset >= b.start && n.onset < b.start + b.duration).map((n) => n.pitch);
}

describe('repeat passes', () => {
  test('passesOf and firstPass: bar 2 is played as bars 2 and 6; a selection of both passes maps to the first', () => {
    const s = score();
    assert.equal(s.bars.length, 16);
    assert.deepEqual(passesOf(s, 1, 2), [[1, 5]]);
    assert.deepEqual(firstPass(s, [5]), { from: 1, to: 2, passes: 2 });
    assert.deepEqual(firstPass(s, [1, 5]), { from: 1, to: 2, passes: 2 });
    assert.deepEqual(firstPass(s, [9, 10]), { from: 9, to: 11, passes: 2 });
    assert.deepEqual(firstPass(s, [13]), { from: 9, to: 10, passes: 2 });
  });

  test('new notes in the first pass reach every pass, and the written bar is replaced once', () => {
    const s = score();
    const regenerated = withSamePasses(replaceBar(s, 1, 74), 1, 2);
    assert.deepEqual(barPitches(regenerated, 1), [74]);
    assert.deepEqual(barPitches(regenerated, 5), [74]);
    const edit = planAbcInfill(TUNE, s, regenerated, 1, 2);
    const out = applyTextEdit(TUNE, edit);
    const back = score(out);
    assert.equal(back.bars.length, 16, out);
    assert.deepEqual(barPitches(back, 1), [74]);
    assert.deepEqual(barPitches(back, 5), [74]);
    assert.deepEqual(barPitches(back, 0), barPitches(s, 0));
    assert.match(out, /\|:GABc dedB\|d8\|GABc dedB\|cAFA G4:\|/);
  });

  test('without carrying the notes into the other pass the splicer still refuses', () => {
    const s = score();
    assert.throws(() => planAbcInfill(TUNE, s, replaceBar(s, 1, 74), 1, 2), /repeated section/);
  });
});
