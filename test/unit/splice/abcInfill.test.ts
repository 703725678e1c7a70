import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { splitTunes } from '../../../src/music/abc/reader';
import { MusicInputError } from '../../../src/music/score';
import type { Score } from '../../../src/music/score';
import { applyTextEdit, planAbcInfill } from '../../../src/music/splice';
import type { NewBar } from './helpers';
import { E, assertSameBar, fixture, replaceBars, tunesOf } from './helpers';

/** Plans and applies an infill of tune `index`, checks the key property, returns the new text and tune. */
function infill(
  text: string,
  index: number,
  from: number,
  generated: Score,
  to: number,
  alsoChanged: readonly number[] = [],
): { out: string; score: Score; original: Score } {
  const original = tunesOf(text)[index].score;
  const edit = planAbcInfill(text, original, generated, from, to);
  assert.ok(edit.start >= original.source!.start && edit.end <= original.source!.end, 'the edit stays inside the tune');
  const out = applyTextEdit(text, edit);
  const tunes = tunesOf(out);
  const score = tunes[index].score;
  assert.equal(score.bars.length, original.bars.length, 'bar count');
  for (let k = 0; k < original.bars.length; k++) {
    if ((k >= from && k < to) || alsoChanged.includes(k)) {
      assertSameBar(score, k, generated, k, 'regenerated bar');
    } else {
      assertSameBar(score, k, original, k, 'kept bar');
    }
  }
  assert.deepEqual(tunes[index].warnings, tunesOf(text)[index].warnings, 'no new warnings');
  const before = splitTunes(text);
  const after = splitTunes(out);
  before.forEach((r, i) => {
    if (i !== index) {
      assert.equal(out.slice(after[i].start, after[i].end), text.slice(r.start, r.end), `tune ${i + 1} untouched`);
    }
  });
  return { out, score, original };
}

/** Three bars of 4/4 for Long Meadow: accidentals against D major, a triplet, a tie across a bar line. */
const MEADOW_BARS: NewBar[] = [
  { notes: [[81, 0, 480], [79, 480, 240], [78, 720, 240], [76, 960, 480], [77, 1440, 240], [78, 1680, 240]], chords: [['A', 0], ['D', 960]] },
  { notes: [[74, 0, 160], [76, 160, 160], [78, 320, 160], [79, 480, 480], [81, 960, 1920]] },
  { notes: [[74, 960, 480], [73, 1440, 480]], chords: [['G', 960]] },
];

describe('planAbcInfill', () => {
  const file = fixture('infill.abc');

  test('bars in the middle, across a line break and a key change: the new bars replace them, the rest reads the same', () => {
    const original = tunesOf(file)[0].score;
    const generated = replaceBars(original, 2, MEADOW_BARS);
    const { out } = infill(file, 0, 2, generated, 5);
    const tune = out.slice(splitTunes(out)[0].start, splitTunes(out)[0].end);
    // The line break between bars 4 and 5 stays; the new bars are in D from their start, the key after them.
    assert.equal(
      tune.split('\n').slice(5).join('\n'),
      [
        '"A"A2 cA eAcA|"D"d2 fd "E"e2 ce|[K:D]"A"a2gf "D"e2=f^f|(3defg2 a4-|',
        'a4 "G"d2c2|"A"E2 A2 "D"F2 A2|"E"e2 ed cBAG|"A"A8|]',
      ].join('\n'),
    );
  });

  test('new bars in another key and meter: the key and meter in force are set again after them', () => {
    const original = tunesOf(file)[0].score;
    const generated = replaceBars(original, 5, [{ notes: [[65, 0, 480], [70, 480, 480]] }]);
    const at = generated.bars[5].start;
    generated.bars[5].duration = 960;
    generated.bars[5].meter = { num: 2, den: 4 };
    for (const n of generated.notes) {
      if (n.onset >= at + 960) {
        n.onset -= 960;
      }
    }
    for (const b of generated.bars.slice(6)) {
      b.start -= 960;
    }
    generated.keys.push({ tick: at, key: { tonic: 'F', mode: 'major', fifths: -1 } }, { tick: at + 960, key: { tonic: 'D', mode: 'major', fifths: 2 } });
    generated.meters.push({ tick: at, meter: { num: 2, den: 4 } }, { tick: at + 960, meter: { num: 4, den: 4 } });
    const { out } = infill(file, 0, 5, generated, 6);
    assert.match(out, /dAFA\|\[M:2\/4\]\[K:F\]F2 B2\|\[M:4\/4\]\[K:D\]"E"e2 ed cBAG\|/);
  });

  test('the L: in force sets the written lengths (L:1/16), and bars at the start of a tune can be replaced', () => {
    const original = tunesOf(file)[1].score;
    const generated = replaceBars(original, 0, [
      { notes: [[69, 0, 360], [71, 360, 120], [72, 480, 240], [74, 720, 240]] },
      { notes: [[76, 0, 120], [74, 120, 120], [72, 240, 120], [71, 360, 120], [69, 480, 480]] },
    ]);
    const { out } = infill(file, 1, 0, generated, 2);
    assert.match(out, /K:Ador\nA3B c2d2\|edcB A4\|c2B2 A2G2\|/);
  });

  test('bars in a repeat played twice: a clear error', () => {
    const text = fixture('tunes.abc');
    const original = tunesOf(text)[1].score;
    const generated = replaceBars(original, 1, [{ notes: [[67, 0, 1440]] }]);
    assert.throws(
      () => planAbcInfill(text, original, generated, 1, 2),
      (e: unknown) =>
        e instanceof MusicInputError &&
        e.code === 'infill-in-repeat' &&
        /bar 2 lies in a repeated section, written once but played 2 times \(as bars 2, 6\)/.test(e.message),
    );
    const across = replaceBars(original, 7, [{ notes: [[67, 0, 1440]] }, { notes: [[69, 0, 1440]] }]);
    assert.throws(
      () => planAbcInfill(text, original, across, 7, 9),
      (e: unknown) => e instanceof MusicInputError && e.code === 'infill-in-repeat',
    );
  });

  test('a repeated bar whose passes are regenerated alike is replaced once', () => {
    const text = fixture('tunes.abc');
    const original = tunesOf(text)[1].score;
    const bar: NewBar = { notes: [[71, 0, E], [69, 240, E], [67, 480, E], [62, 720, 3 * E]], chords: [['G', 0]] };
    const generated = replaceBars(replaceBars(original, 1, [bar]), 5, [bar]);
    const { out } = infill(text, 1, 1, generated, 2, [5]);
    assert.match(out, /\|:GAB dBG\|"G"BAG D3\|GAB dBG\|/);
  });

  test('bars after a repeat (played once) can be replaced', () => {
    const text = 'X:1\nT:One Repeat\nM:4/4\nL:1/8\nK:C\n|:CDEF GABc:|\ncBAG FEDC|E2G2 c4|]\n';
    const original = tunesOf(text)[0].score;
    const generated = replaceBars(original, 2, [{ notes: [[64, 0, 960], [67, 960, 960]] }, { notes: [[72, 0, 1920]] }]);
    const { out } = infill(text, 0, 2, generated, 4);
    assert.equal(out, 'X:1\nT:One Repeat\nM:4/4\nL:1/8\nK:C\n|:CDEF GABc:|\nE4 G4|c8|]\n');
  });

  test('a multi-bar rest cannot be regenerated bar by bar', () => {
    const text = 'X:1\nT:Rests\nM:4/4\nL:1/8\nK:C\nCDEF GABc|Z2|cBAG FEDC|]\n';
    const original = tunesOf(text)[0].score;
    const generated = replaceBars(original, 1, [{ notes: [[60, 0, 1920]] }]);
    assert.throws(
      () => planAbcInfill(text, original, generated, 1, 2),
      (e: unknown) => e instanceof MusicInputError && e.code === 'infill-multi-rest',
    );
  });

  test('a tie into the span is removed when the new bar does not hold the note', () => {
    const original = tunesOf(file)[2].score;
    const generated = replaceBars(original, 1, [{ notes: [[71, 0, 960], [74, 960, 960]] }]);
    const held = generated.notes.find((n) => n.pitch === 79 && n.duration === 960)!;
    held.duration = 480;
    const edit = planAbcInfill(file, original, generated, 1, 2);
    const out = applyTextEdit(file, edit);
    assert.match(out, /G2 B2 d2 g2\|B4 d4\|/);
    const score = tunesOf(out)[2].score;
    assertSameBar(score, 0, generated, 0, 'bar before');
    assertSameBar(score, 1, generated, 1, 'new bar');
    assertSameBar(score, 2, original, 2, 'bar after');
  });

  test('a tie into the span is kept when the new bar holds the note', () => {
    const original = tunesOf(file)[2].score;
    const generated = replaceBars(original, 1, [{ notes: [[74, 480, 480], [71, 960, 960]] }]);
    const { out } = infill(file, 2, 1, generated, 2);
    assert.match(out, /G2 B2 d2 g2-\|g2d2 B4\|/);
  });

  test('a tie out of the span: kept when the new bar holds the pitch, else its tail becomes a rest', () => {
    const original = tunesOf(file)[2].score;
    const holding = replaceBars(original, 2, [{ notes: [[72, 0, 960], [71, 960, 1440]] }]);
    const { out } = infill(file, 2, 2, holding, 3);
    assert.match(out, /\|c4 B4-\|B2 A2 G4\|\]/);

    const letting = replaceBars(original, 2, [{ notes: [[72, 0, 960], [76, 960, 960]] }]);
    const edit = planAbcInfill(file, original, letting, 2, 3);
    const out2 = applyTextEdit(file, edit);
    assert.match(out2, /\|c4 e4\|z2 A2 G4\|\]/);
    const score = tunesOf(out2)[2].score;
    assertSameBar(score, 2, letting, 2, 'new bar');
    assertSameBar(score, 3, original, 3, 'bar after (its notes; the tied tail is silent now)');
  });

  test('a tied tail with an accidental is left alone: the accidental still governs its bar', () => {
    const text = 'X:1\nT:Sharp Tail\nM:4/4\nL:1/8\nK:G\nG2 B2 d2 ^c2-|^c2 c2 B4|]\n';
    const original = tunesOf(text)[0].score;
    const generated = replaceBars(original, 0, [{ notes: [[67, 0, 1920]] }]);
    const out = applyTextEdit(text, planAbcInfill(text, original, generated, 0, 1));
    assert.equal(out, 'X:1\nT:Sharp Tail\nM:4/4\nL:1/8\nK:G\nG8|^c2 c2 B4|]\n');
    assert.deepEqual(tunesOf(out)[0].score.notes.map((x) => x.pitch), [67, 73, 73, 71]);
  });

  test('CRLF text: positions and line ends are right', () => {
    const lf = 'X:1\nT:Crlf\nM:4/4\nL:1/8\nK:G\nGABc dedB|\ncAFA G4|]\n\nX:2\nT:Next\nM:4/4\nL:1/8\nK:C\nCDEF GABc|]\n';
    const text = lf.replace(/\n/g, '\r\n');
    const original = tunesOf(lf)[0].score;
    const generated = replaceBars(original, 1, [{ notes: [[74, 0, 960], [67, 960, 960]] }]);
    const edit = planAbcInfill(text, tunesOf(text)[0].score, generated, 1, 2);
    assert.equal(applyTextEdit(text, edit), lf.replace('cAFA G4', 'd4 G4').replace(/\n/g, '\r\n'));
  });

  test('bad ranges and tunes with several voices throw MusicInputError', () => {
    const original = tunesOf(file)[0].score;
    const generated = replaceBars(original, 2, MEADOW_BARS);
    for (const [from, to] of [
      [3, 3],
      [-1, 2],
      [7, 9],
    ]) {
      assert.throws(
        () => planAbcInfill(file, original, generated, from, to),
        (e: unknown) => e instanceof MusicInputError && e.code === 'splice-bad-range',
      );
    }
    const duet = 'X:1\nT:Duet\nM:4/4\nL:1/8\nK:C\nV:1\nCDEF GABc|]\nV:2\nC,8|]\n';
    const s = tunesOf(duet)[0].score;
    assert.throws(
      () => planAbcInfill(duet, s, s, 0, 1),
      (e: unknown) => e instanceof MusicInputError && e.code === 'abc-edit-voices',
    );
  });
});
