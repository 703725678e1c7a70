import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { splitTunes } from '../../../src/music/abc/reader';
import { MusicInputError } from '../../../src/music/score';
import type { Score } from '../../../src/music/score';
import { applyTextEdit, planAbcContinuation } from '../../../src/music/splice';
import type { NewBar } from './helpers';
import { E, appendBars, assertSameBar, fixture, tunesOf } from './helpers';

/** Plans and applies a continuation of tune `index`, checks the key property, returns the new text and tune. */
function continueTune(text: string, index: number, bars: NewBar[]): { out: string; score: Score; generated: Score; original: Score } {
  const original = tunesOf(text)[index].score;
  const generated = appendBars(original, bars);
  const from = original.bars.length;
  const to = generated.bars.length;
  const edit = planAbcContinuation(text, original.source!, original, generated, { from, to });
  assert.ok(edit.start >= original.source!.start && edit.end <= original.source!.end, 'the edit stays inside the tune');
  const out = applyTextEdit(text, edit);
  const tunes = tunesOf(out);
  assert.equal(tunes.length, tunesOf(text).length);
  const score = tunes[index].score;
  assert.equal(score.bars.length, to, 'bar count after the edit');
  for (let k = 0; k < from; k++) {
    assertSameBar(score, k, original, k, 'old bar');
  }
  for (let k = from; k < to; k++) {
    assertSameBar(score, k, generated, k, 'new bar');
  }
  assert.deepEqual(tunes[index].warnings, tunesOf(text)[index].warnings, 'no new warnings');
  return { out, score, generated, original };
}

/** Four bars of 4/4 in D: a triplet, an accidental, a tie across a bar line, chord symbols. */
const REEL_BARS: NewBar[] = [
  {
    notes: [[69, 0, 160], [71, 160, 160], [73, 320, 160], [74, 480, 480], [66, 960, 240], [68, 1200, 240], [69, 1440, 480]],
    chords: [['D', 0], ['E7', 960]],
  },
  { notes: [[78, 0, 960], [76, 960, 1920]], chords: [['Bm', 0]] },
  { notes: [[74, 960, 480], [72, 1440, 240], [73, 1680, 240]] },
  { notes: [[62, 0, 1920]], chords: [['D', 0]] },
];

describe('planAbcContinuation', () => {
  const file = fixture('tunes.abc');

  test('a tune ending with |]: the |] becomes |, the new bars follow on a new line and end with |]', () => {
    const { out } = continueTune(file, 0, REEL_BARS);
    const tune = out.slice(splitTunes(out)[0].start, splitTunes(out)[0].end);
    const lines = tune.split('\n');
    assert.equal(lines[lines.length - 2], '"D"A2FA dAFA|"G"B2GB dBGB|"D"A2FA dAFA|"A"e2ce "D"d4|');
    const last = lines[lines.length - 1];
    assert.equal(last, '(3"D"ABcd2 "E7"F^GA2|"Bm"f4 e4-|e4 d2=c^c|"D"D8|]');
  });

  test('a tune ending with :|: the repeat stays, the new bars come after it (played once) and before the W: line', () => {
    const bars: NewBar[] = [
      { notes: [[67, 0, E], [71, E, E], [74, 2 * E, E], [79, 3 * E, 3 * E]], chords: [['G', 0]] },
      { notes: [[78, 0, E], [76, E, E], [74, 2 * E, E], [67, 3 * E, 3 * E]], chords: [['D', 0], ['G', 3 * E]] },
    ];
    const { out, score } = continueTune(file, 1, bars);
    assert.equal(score.bars.length, 18);
    assert.match(out, /\|:Bdd edB\|ABA AGE\|Bdd edB\|AGF G3:\|\n"G"GBd g3\|"D"fed "G"G3\|\]\nW:A verse line/);
  });

  test('a multi-tune file: only the chosen tune changes, the others stay byte for byte', () => {
    const { out } = continueTune(file, 1, REEL_BARS.slice(0, 1).map((b) => ({ ...b, duration: 1440, meter: { num: 6, den: 8 }, notes: [[67, 0, 1440]] })));
    const before = splitTunes(file);
    const after = splitTunes(out);
    assert.equal(after.length, before.length);
    for (const i of [0, 2]) {
      assert.equal(out.slice(after[i].start, after[i].end), file.slice(before[i].start, before[i].end), `tune ${i + 1}`);
    }
    assert.equal(out.slice(0, after[0].start), file.slice(0, before[0].start), 'text before the first tune');
    assert.equal(out.slice(after[2].end), file.slice(before[2].end), 'text after the last tune');
  });

  test('a tune whose key changes (K:D line) is continued in the key in force; a new key gets an inline [K:]', () => {
    const bars: NewBar[] = [
      { notes: [[78, 0, 480], [73, 480, 480], [74, 960, 480]] },
      { notes: [[69, 0, 480], [68, 480, 480], [73, 960, 480]], key: { tonic: 'A', mode: 'major', fifths: 3 } },
    ];
    const { out } = continueTune(file, 2, bars);
    // F# and C# are in D major, G# in A major: no accidentals are needed.
    assert.match(out, /A6\|\nf2 c2 d2\|\[K:A\]A2 G2 c2\|\]\n?$/);
  });

  test('a key change by mode only (same signature) writes no field', () => {
    const bars: NewBar[] = [{ notes: [[71, 0, 1440]], key: { tonic: 'E', mode: 'minor', fifths: 1 } }];
    const { out } = continueTune(file, 1, bars.map((b) => ({ ...b, duration: 1440, meter: { num: 6, den: 8 } })));
    assert.doesNotMatch(out, /\[K:/);
  });

  test('a meter change gets an inline [M:]', () => {
    const bars: NewBar[] = [{ notes: [[69, 0, 960], [66, 960, 480]], meter: { num: 3, den: 4 } }, { notes: [[74, 0, 1440]], meter: { num: 3, den: 4 } }];
    const { out } = continueTune(file, 0, bars);
    assert.match(out, /"D"d4\|\n\[M:3\/4\]A4 F2\|d6\|\]/);
  });

  test('the L: in force sets the written lengths (L:1/16)', () => {
    const text = 'X:1\nT:Sixteenths\nM:2/4\nL:1/16\nK:Ador\nA2B2 c2d2|e4 d4|]\n';
    const { out } = continueTune(text, 0, [{ notes: [[76, 0, 240], [74, 240, 240], [72, 480, 480]] }]);
    assert.match(out, /e4 d4\|\ne2d2 c4\|\]/);
  });

  test('a tune without a final bar line gets one before the new bars', () => {
    const text = 'X:1\nT:Open End\nM:4/4\nL:1/8\nK:C\nCDEF GABc|c8\n';
    const { out } = continueTune(text, 0, [{ notes: [[67, 0, 1920]] }]);
    assert.equal(out, 'X:1\nT:Open End\nM:4/4\nL:1/8\nK:C\nCDEF GABc|c8|\nG8|\n');
  });

  test('a trailing :: becomes :| and CRLF line ends are kept', () => {
    const text = 'X:1\r\nT:Turnaround\r\nM:4/4\r\nL:1/8\r\nK:C\r\n|:CDEF GABc::\r\n';
    const { out } = continueTune(text, 0, [{ notes: [[72, 0, 1920]] }]);
    assert.equal(out, 'X:1\r\nT:Turnaround\r\nM:4/4\r\nL:1/8\r\nK:C\r\n|:CDEF GABc:|\r\nc8|]\r\n');
  });

  test('a custom key signature (K:D ^g): the new bars are spelled against it', () => {
    const text = 'X:1\nT:Odd Key\nM:4/4\nL:1/8\nK:D ^g\nDEFG ABcd|]\n';
    const { out } = continueTune(text, 0, [{ notes: [[68, 0, 1920]] }, { notes: [[67, 0, 960], [68, 960, 960]] }]);
    assert.match(out, /ABcd\|\nG8\|=G4 \^G4\|\]/);
  });

  test('bad requests throw MusicInputError with a code', () => {
    const text = fixture('tunes.abc');
    const score = tunesOf(text)[0].score;
    const generated = appendBars(score, REEL_BARS);
    const bad = (from: number, to: number, code: string): void => {
      assert.throws(
        () => planAbcContinuation(text, score.source!, score, generated, { from, to }),
        (e: unknown) => e instanceof MusicInputError && e.code === code,
      );
    };
    bad(4, 4, 'splice-bad-range');
    bad(4, 99, 'splice-bad-range');
    bad(2, 6, 'splice-bad-range');
    const twoVoices = 'X:1\nT:Duet\nM:4/4\nL:1/8\nK:C\nV:1\nCDEF GABc|]\nV:2\nC,8|]\n';
    const s2 = tunesOf(twoVoices)[0].score;
    assert.throws(
      () => planAbcContinuation(twoVoices, s2.source!, s2, appendBars(s2, [{ notes: [[60, 0, 1920]] }]), { from: 1, to: 2 }),
      (e: unknown) => e instanceof MusicInputError && e.code === 'abc-edit-voices',
    );
  });
});

describe('repeat folding', () => {
  const file = fixture('tunes.abc');
  const A: NewBar[] = [
    { notes: [[62, 0, 960], [66, 960, 960]] },
    { notes: [[69, 0, 480], [71, 480, 480], [74, 960, 960]] },
    { notes: [[76, 0, 1920]] },
    { notes: [[74, 0, 960], [69, 960, 960]] },
  ];
  const end1: NewBar = { notes: [[64, 0, 1920]] };
  const end2: NewBar = { notes: [[62, 0, 1920]] };

  test('a section that comes back exactly is written once between repeat signs, and plays the same', () => {
    const { out, original } = continueTune(file, 0, [...A, ...A]);
    const tune = out.slice(splitTunes(out)[0].start, splitTunes(out)[0].end);
    const added = tune.slice(tune.length - 80);
    assert.match(added, /\|:[^|]+\|[^|]+\|[^|]+\|[^|]+:\|\s*$/, added);
    assert.equal((tune.match(/:\|/g) ?? []).length - (file.slice(original.source!.start, original.source!.end).match(/:\|/g) ?? []).length, 1);
  });

  test('a section whose repeat differs only in its last bar gets first and second endings', () => {
    const first = [...A.slice(0, 3), end1];
    const second = [...A.slice(0, 3), end2];
    const { out } = continueTune(file, 0, [...first, ...second]);
    const tune = out.slice(splitTunes(out)[0].start, splitTunes(out)[0].end);
    assert.match(tune, /\n\|:D4 F4\|A2B2 d4\|e8\|1 E8:\|2 D8\|\]\s*$/, tune.slice(-120));
  });

  test('bars that do not repeat are written out; ghost text (foldRepeats false) is never folded', () => {
    const original = tunesOf(file)[0].score;
    const generated = appendBars(original, [...A, ...A]);
    const edit = planAbcContinuation(file, original.source!, original, generated, { from: original.bars.length, to: generated.bars.length }, { foldRepeats: false });
    assert.doesNotMatch(edit.newText, /\|:/);
    continueTune(file, 0, [...A.slice(0, 2), ...A.slice(2, 4)]);
  });
});

describe('ghost text continues the line', () => {
  const TUNE = 'X:1\nT:Line\nM:4/4\nL:1/8\nK:D\nd2fd AdFA|B2dB AFDF|\n';
  const BAR: NewBar = { notes: [[64, 0, 1920]] };

  test('a bar added to a line of two bars goes on that line; a fourth bar then ends it', () => {
    const original = tunesOf(TUNE)[0].score;
    const one = appendBars(original, [BAR]);
    const edit = planAbcContinuation(TUNE, original.source!, original, one, { from: 2, to: 3 }, { foldRepeats: false, continueLine: true });
    const out = applyTextEdit(TUNE, edit);
    assert.equal(out.split('\n')[5], 'd2fd AdFA|B2dB AFDF|E8|');
    const two = appendBars(original, [BAR, BAR, BAR]);
    const edit3 = planAbcContinuation(TUNE, original.source!, original, two, { from: 2, to: 5 }, { foldRepeats: false, continueLine: true });
    const lines = applyTextEdit(TUNE, edit3).split('\n');
    assert.equal(lines[5], 'd2fd AdFA|B2dB AFDF|E8|E8|');
    assert.equal(lines[6], 'E8|');
  });

  test('commands start a new line (continueLine off)', () => {
    const original = tunesOf(TUNE)[0].score;
    const edit = planAbcContinuation(TUNE, original.source!, original, appendBars(original, [BAR]), { from: 2, to: 3 });
    assert.match(edit.newText, /\n/);
  });
});
