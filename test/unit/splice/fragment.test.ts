import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { barLineAfter, customSignature, fieldInForce, fieldsIn, writeAbcBars } from '../../../src/music/abc/fragment';
import type { AbcBarsContext } from '../../../src/music/abc/fragment';
import { MusicInputError } from '../../../src/music/score';
import type { Key, Note, Score } from '../../../src/music/score';
import { barRows, tunesOf } from './helpers';
import { scoreOfNotes } from '../scoreBuilder';

const G_MAJOR: Key = { tonic: 'G', mode: 'major', fifths: 1 };
const CONTEXT: AbcBarsContext = { unitNoteLength: { num: 1, den: 8 }, key: G_MAJOR, meter: { num: 4, den: 4 } };

function n(pitch: number, onset: number, duration: number, track = 0): Note {
  return { pitch, onset, duration, velocity: 80, track, voice: 0 };
}

/** A 4/4 score in G with `bars` bars and the given notes. */
function scoreOf(bars: number, notes: Note[], edit: (s: Score) => void = () => {}): Score {
  return scoreOfNotes(notes, bars, (s) => {
    s.keys = [{ tick: 0, key: G_MAJOR }];
    edit(s);
  });
}

/** Reads fragment text pasted into a G major 4/4 tune. */
function readBack(body: string, header = 'M:4/4\nL:1/8\nK:G'): Score {
  return tunesOf(`X:1\nT:Paste\n${header}\n${body}]\n`)[0].score;
}

describe('writeAbcBars', () => {
  test('bars of the range, spelled for the key in force, with accidentals reset at each bar', () => {
    // F# is in G major; F natural needs = in every bar it appears in.
    const s = scoreOf(3, [n(66, 0, 960), n(65, 960, 960), n(65, 1920, 960), n(66, 2880, 960), n(67, 3840, 1920)]);
    const text = writeAbcBars(s, 0, 3, CONTEXT);
    assert.equal(text, 'F4 =F4|=F4 ^F4|G8|');
    const back = readBack(text);
    for (let k = 0; k < 3; k++) {
      assert.deepEqual(barRows(back, k), barRows(s, k));
    }
  });

  test('lines of 4 bars, a leading line break when not at a line start, one line when asked', () => {
    const notes = [67, 69, 71, 72, 74, 76].map((p, k) => n(p, k * 1920, 1920));
    const s = scoreOf(6, notes);
    assert.equal(writeAbcBars(s, 0, 6, CONTEXT), 'G8|A8|B8|c8|\nd8|e8|');
    assert.equal(writeAbcBars(s, 1, 3, { ...CONTEXT, startsLine: false }), '\nA8|B8|');
    assert.equal(writeAbcBars(s, 0, 6, { ...CONTEXT, barsPerLine: 0 }), 'G8|A8|B8|c8|d8|e8|');
    assert.equal(writeAbcBars(s, 0, 6, { ...CONTEXT, barsPerLine: 3 }), 'G8|A8|B8|\nc8|d8|e8|');
    assert.equal(writeAbcBars(s, 2, 2, CONTEXT), '');
  });

  test('triplets, ties across bar lines inside the range, chord symbols', () => {
    const s = scoreOf(2, [n(67, 0, 160), n(69, 160, 160), n(71, 320, 160), n(74, 480, 3360)], (x) => {
      x.chords = [{ tick: 0, name: 'G' }, { tick: 1920, name: 'D7' }];
    });
    const text = writeAbcBars(s, 0, 2, CONTEXT);
    assert.equal(text, '(3"G"GABd6-|"D7"d8|');
    const back = readBack(text);
    assert.deepEqual(back.notes.map((x) => [x.pitch, x.onset, x.duration]), s.notes.map((x) => [x.pitch, x.onset, x.duration]));
    assert.deepEqual(back.chords.map((c) => [c.name, c.tick]), [['G', 0], ['D7', 1920]]);
  });

  test('notes from before the range are left out, notes past its end are cut there', () => {
    const s = scoreOf(3, [n(67, 960, 1920), n(71, 2880, 1920), n(74, 4800, 480)]);
    assert.equal(writeAbcBars(s, 1, 2, CONTEXT), 'z4 B4|');
  });

  test('inline [M:] and [K:] where the meter or key signature changes; a mode change alone writes nothing', () => {
    const s = scoreOf(3, [n(67, 0, 1920), n(69, 1920, 1440), n(70, 3360, 1920)], (x) => {
      x.bars[1] = { start: 1920, duration: 1440, meter: { num: 3, den: 4 }, written: 1 };
      x.bars[2] = { start: 3360, duration: 1920, meter: { num: 4, den: 4 }, written: 2 };
      x.keys.push({ tick: 1920, key: { tonic: 'E', mode: 'minor', fifths: 1 } }, { tick: 3360, key: { tonic: 'F', mode: 'major', fifths: -1 } });
      x.length = 5280;
    });
    const text = writeAbcBars(s, 0, 3, CONTEXT);
    assert.equal(text, 'G8|[M:3/4]A6|[M:4/4][K:F]B8|');
    const back = readBack(text);
    assert.deepEqual(back.notes.map((x) => x.pitch), [67, 69, 70]);
    assert.deepEqual(back.bars.map((b) => `${b.meter.num}/${b.meter.den}`), ['4/4', '3/4', '4/4']);
  });

  test('drum tracks are left out; a track can be chosen; L:1/16 doubles the lengths', () => {
    const s = scoreOf(1, [n(67, 0, 960), n(36, 0, 480, 1), n(43, 960, 960, 2)], (x) => {
      x.tracks.push({ name: 'Drums', channel: 9, program: 0, isDrum: true }, { name: 'Bass', channel: 1, program: 32, isDrum: false });
    });
    assert.equal(writeAbcBars(s, 0, 1, CONTEXT), 'G4 G,,4|');
    assert.equal(writeAbcBars(s, 0, 1, { ...CONTEXT, track: 0 }), 'G4 z4|');
    assert.equal(writeAbcBars(s, 0, 1, { ...CONTEXT, track: 0, unitNoteLength: { num: 1, den: 16 } }), 'G8 z4 z4|');
  });

  test('a bad range throws MusicInputError', () => {
    const s = scoreOf(2, [n(67, 0, 1920)]);
    for (const [a, b] of [
      [-1, 1],
      [1, 0],
      [0, 3],
      [0.5, 1],
    ]) {
      assert.throws(
        () => writeAbcBars(s, a, b, CONTEXT),
        (e: unknown) => e instanceof MusicInputError && e.code === 'abc-fragment-range',
      );
    }
    assert.throws(
      () => writeAbcBars(s, 0, 1, { ...CONTEXT, unitNoteLength: { num: 1, den: 7 } }),
      (e: unknown) => e instanceof MusicInputError && e.code === 'abc-fragment-unit',
    );
  });
});

describe('ABC text scanners', () => {
  test('barLineAfter finds the bar line after notes, skipping fields, annotations and comments', () => {
    const text = 'ab c2 [K:D] "^fine" |] % end\nX:2';
    assert.deepEqual(barLineAfter(text, 5, text.length), { start: 20, end: 22, text: '|]' });
    assert.deepEqual(barLineAfter('G4 :|2 A', 2, 8), { start: 3, end: 6, text: ':|2' });
    assert.deepEqual(barLineAfter('G4 ::', 2, 5)?.text, '::');
    assert.equal(barLineAfter('G4 A4', 2, 5), undefined);
    assert.equal(barLineAfter('G4\nW:words|', 2, 11), undefined);
    assert.equal(barLineAfter('G4 % c\n|', 2, 8)?.start, 7);
  });

  test('fieldsIn and fieldInForce find field lines and inline fields, not comments or quoted text', () => {
    const text = 'X:1\nL:1/8\nK:G\nAB [K:D] cd|"[K:A]" e % [K:E]\nK:Em clef=treble\n[L:1/16] ab|';
    const fields = fieldsIn(text, 0, text.length, 'KL');
    assert.deepEqual(
      fields.map((f) => `${f.letter}:${f.value}:${f.inline}`),
      ['L:1/8:false', 'K:G:false', 'K:D:true', 'K:Em clef=treble:false', 'L:1/16:true'],
    );
    assert.equal(text.slice(fields[2].start, fields[2].end), '[K:D]');
    assert.equal(fieldInForce(text, 0, text.indexOf('cd'), 'K')?.value, 'D');
    assert.equal(fieldInForce(text, 0, 5, 'K'), undefined);
  });

  test('customSignature reads exp and explicit accidentals', () => {
    const d: Key = { tonic: 'D', mode: 'major', fifths: 2 };
    assert.equal(customSignature('D', d), undefined);
    assert.equal(customSignature('Ador clef=bass', { tonic: 'A', mode: 'dorian', fifths: 0 }), undefined);
    assert.deepEqual(customSignature('D ^g', d), [1, 0, 0, 1, 1, 0, 0]);
    assert.deepEqual(customSignature('D exp ^f _b', d), [0, 0, 0, 1, 0, 0, -1]);
    assert.deepEqual(customSignature('G =f', { tonic: 'G', mode: 'major', fifths: 1 }), [0, 0, 0, 0, 0, 0, 0]);
  });

  test('a custom signature in the context spells against it', () => {
    const s = scoreOf(1, [n(66, 0, 480), n(70, 480, 480), n(71, 960, 960)], (x) => {
      x.keys = [{ tick: 0, key: { tonic: 'D', mode: 'major', fifths: 2 } }];
    });
    assert.equal(writeAbcBars(s, 0, 1, { ...CONTEXT, key: { tonic: 'D', mode: 'major', fifths: 2 }, signature: [0, 0, 0, 1, 0, 0, -1] }), 'F2B2 =B4|');
  });
});
