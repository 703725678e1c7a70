import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOnly } from 'abcjs';
import { keyFieldText, signatureOf, spellPitch } from '../../../src/music/abc/keys';
import { readAbc } from '../../../src/music/abc/reader';
import { abcRoundTrip } from '../../../src/music/abc/roundtrip';
import { writeAbc } from '../../../src/music/abc/writer';
import type { Mode, Note, Score } from '../../../src/music/score';
import { emptyScore } from '../../../src/music/score';
import { fixture, keyRows, readOne, tune } from './helpers';
import { scoreOfNotes } from '../scoreBuilder';

/** The body lines of written ABC (after K:). */
function body(abc: string): string {
  return abc.slice(abc.indexOf('\nK:') + 1).split('\n').slice(1).join('\n').trim();
}

function note(pitch: number, onset: number, duration: number, extra: Partial<Note> = {}): Note {
  return { pitch, onset, duration, velocity: 80, track: 0, voice: 0, ...extra };
}

function scoreOf(notes: Note[], edit: (s: Score) => void = () => {}): Score {
  return scoreOfNotes(notes, undefined, edit);
}

describe('round trips: read -> write -> read gives the same notes', () => {
  test('every tune of the session fixture', () => {
    for (const t of readAbc(fixture('session.abc')).tunes) {
      const r = abcRoundTrip(t);
      assert.ok(r.ok, `${t.title}: ${r.detail}`);
      const again = readOne(writeAbc(t.score));
      assert.deepEqual(keyRows(again.score), keyRows(t.score), t.title);
      assert.deepEqual(again.score.chords.map((c) => `${c.name}@${c.tick}`), t.score.chords.map((c) => `${c.name}@${c.tick}`));
      assert.deepEqual(
        again.score.notes.map((n) => n.graces ?? []),
        t.score.notes.map((n) => n.graces ?? []),
      );
      assert.deepEqual(again.score.bars.map((b) => [b.start, b.duration]), t.score.bars.map((b) => [b.start, b.duration]));
      assert.deepEqual(again.score.tracks.map((x) => x.name), t.score.tracks.map((x) => x.name));
    }
  });

  test('headers come back: title, composer, origin, rhythm, extra lines, tempo, reference', () => {
    const t = readAbc(fixture('session.abc')).tunes[0];
    const abc = writeAbc(t.score);
    const back = readOne(abc).score;
    assert.deepEqual(back.meta, t.score.meta);
    assert.deepEqual(back.tempos, t.score.tempos);
    assert.match(abc, /^X:1\nT:Lantern Jig\nC:Refrain test suite\nO:Nowhere\nR:jig\nT:The Second Title\nS:made up for tests\nM:6\/8\nL:1\/8\nQ:1\/4=165\nK:G\n/);
    assert.match(writeAbc(t.score, { reference: 42 }), /^X:42\n/);
  });

  test('the round-trip check reports a difference', () => {
    const t = readOne(tune('ABcd efga|'));
    // Two overlapping A's in one voice cannot be written apart: they come back as one note.
    t.score.notes.push(note(69, 120, 960));
    const r = abcRoundTrip(t);
    assert.equal(r.ok, false);
    assert.match(r.detail ?? '', /note \d+ of 9/);
  });
});

describe('writeAbc body', () => {
  test('jig: bars, beam groups, pickup, chord symbols, performed order without repeat signs', () => {
    const jig = readAbc(fixture('session.abc')).tunes[0];
    const text = body(writeAbc(jig.score));
    const lines = text.split('\n');
    assert.equal(lines[0], 'D|"G"GAB dBG|"C"cde "D"dBA|"G"GAB "Em"e2d|"Am"cBA "D"A2D|');
    assert.ok(!/[:[]\|/.test(text.replace(/\[[A-Za-z]:[^\]]*\]/g, '')), 'no repeat signs');
    assert.ok(text.endsWith('|]'));
  });

  test('reel: L:1/8, triplet, broken rhythm, grace, natural within the bar, tie across the bar', () => {
    const reel = readAbc(fixture('session.abc')).tunes[1];
    const abc = writeAbc(reel.score);
    assert.match(abc, /\nM:2\/2\nL:1\/8\n/);
    assert.match(abc, /\nK:Dmix\n/);
    const lines = body(abc).split('\n');
    assert.equal(lines[0], 'A2 (3Bcd e2dc|{c}d2AF GFED|c2Ac ^cdef|g2fe d4-|');
    assert.equal(lines[1], 'd2A>F G<EED|^c4 =c2B_B|A2[FA][GB] [Ac]2z2|dDD2 D4|');
  });

  test('key-aware spelling: the key decides sharps or flats; naturals cancel within the bar', () => {
    const mk = (pitches: number[], tonic: string, fifths: number, mode: Mode = 'major'): string => {
      const s = scoreOf(pitches.map((p, i) => note(p, i * 240, 240)));
      s.keys = [{ tick: 0, key: { tonic, mode, fifths } }];
      return body(writeAbc(s));
    };
    // G major: F# from the key, =F cancels it, A# on the way up to B.
    assert.equal(mk([66, 65, 66, 70, 71, 72, 73, 74], 'G', 1), 'F=F^F^A Bc^cd|]');
    // F major: Bb from the key, =B, Eb (closer to the key than D#); a chromatic step down is flat.
    assert.equal(mk([70, 71, 70, 63, 64, 65, 66, 67], 'F', -1), 'B=B_B_E =EF^FG|]');
    assert.equal(mk([73, 74, 73, 72, 71, 70, 69, 68], 'D', -1, 'minor'), '^cd_d=c =B_BA_A|]');
    assert.equal(mk([61, 62], 'D', -1, 'minor'), '^CDz2 z4|]');
  });

  test('spellPitch and K: texts agree with abcjs for every key and mode', () => {
    const modes: Mode[] = ['major', 'minor', 'dorian', 'phrygian', 'lydian', 'mixolydian', 'locrian'];
    for (let fifths = -7; fifths <= 7; fifths++) {
      for (const mode of modes) {
        const k = keyFieldText({ tonic: 'C', mode, fifths });
        const parsed = parseOnly(`X:1\nT:t\nK:${k}\nC|\n`) as unknown as { lines: { staff: { key: { accidentals: { acc: string; note: string }[] } }[] }[] }[];
        const sig = [0, 0, 0, 0, 0, 0, 0];
        for (const a of parsed[0].lines[0].staff[0].key.accidentals) {
          sig['cdefgab'.indexOf(a.note.toLowerCase())] = a.acc === 'sharp' ? 1 : a.acc === 'flat' ? -1 : 0;
        }
        assert.deepEqual(sig, signatureOf(fifths), `K:${k}`);
      }
    }
    assert.equal(keyFieldText({ tonic: 'A', mode: 'dorian', fifths: 1 }), 'Ador');
    assert.equal(keyFieldText({ tonic: 'F#', mode: 'minor', fifths: 3 }), 'F#m');
    // In G major F# is in the key; in C major the black keys read C# Eb F# G# Bb.
    assert.deepEqual(spellPitch(66, 1, signatureOf(1)), { step: 3, alter: 1 });
    assert.deepEqual([61, 63, 66, 68, 70].map((m) => spellPitch(m, 0, signatureOf(0)).alter), [1, -1, 1, 1, -1]);
  });

  test('L: is chosen to keep durations short: 1/16 for sixteenth music, 1/4 for slow music', () => {
    const sixteenths = scoreOf(Array.from({ length: 32 }, (_, i) => note(60 + (i % 8), i * 120, 120)));
    assert.match(writeAbc(sixteenths), /\nL:1\/16\n/);
    const slow = scoreOf(Array.from({ length: 8 }, (_, i) => note(60 + i, i * 720, i % 2 === 0 ? 480 : 960)).map((n, i) => ({ ...n, onset: Math.floor(i / 2) * 1440 + (i % 2) * 480 })));
    assert.match(writeAbc(slow), /\nL:1\/4\n/);
    const eighths = scoreOf(Array.from({ length: 16 }, (_, i) => note(60 + i, i * 240, 240)));
    assert.match(writeAbc(eighths), /\nL:1\/8\n/);
  });

  test('notes crossing bar lines and odd lengths are tied; polyphony in one voice is sliced into chords', () => {
    const s = scoreOf([note(60, 0, 1200), note(64, 240, 2400), note(67, 1200, 360)]);
    const text = body(writeAbc(s));
    // E starts off the beat and crosses the middle of the bar, so it is tied there.
    assert.equal(text, 'C-[C-E-]3 [CE-][E-G]3/2E3/2-|E3z z4|]');
    assert.deepEqual(keyRows(readOne(writeAbc(s)).score), keyRows(s));
  });

  test('triplets are written as (3 groups and other tuplets as exact fractions', () => {
    const s = scoreOf([
      ...[0, 1, 2].map((i) => note(72 + 2 * i, i * 160, 160)),
      ...[0, 1, 2, 3, 4].map((i) => note(60 + i, 480 + i * 96, 96)),
      note(65, 960, 960),
    ]);
    const abc = writeAbc(s);
    assert.match(body(abc), /^\(3cdeC2\/5\^C2\/5D2\/5\^D2\/5E2\/5 F4\|\]$/);
    assert.deepEqual(keyRows(readOne(abc).score), keyRows(s));
  });

  test('meter and key changes become inline fields; tempo changes [Q:]', () => {
    const s = scoreOf([note(60, 0, 1920), note(66, 1920, 1440), note(70, 3360, 1920)], (sc) => {
      sc.bars = [
        { start: 0, duration: 1920, meter: { num: 4, den: 4 }, written: 0 },
        { start: 1920, duration: 1440, meter: { num: 3, den: 4 }, written: 1 },
        { start: 3360, duration: 1920, meter: { num: 4, den: 4 }, written: 2 },
      ];
      sc.keys = [
        { tick: 0, key: { tonic: 'C', mode: 'major', fifths: 0 } },
        { tick: 1920, key: { tonic: 'G', mode: 'major', fifths: 1 } },
        { tick: 3360, key: { tonic: 'F', mode: 'major', fifths: -1 } },
      ];
      sc.tempos = [
        { tick: 0, bpm: 100 },
        { tick: 3360, bpm: 80 },
      ];
      sc.length = 5280;
    });
    const abc = writeAbc(s);
    assert.equal(body(abc), 'C8|[M:3/4][K:G]F6|[M:4/4][K:F][Q:1/4=80]B8|]');
    const back = readOne(abc).score;
    assert.deepEqual(keyRows(back), keyRows(s));
    assert.deepEqual(back.tempos, s.tempos);
    assert.deepEqual(back.meters.map((m) => [m.tick, m.meter.num]), [[0, 4], [1920, 3], [3360, 4]]);
  });

  test('several tracks become V: voices written line by line', () => {
    const s = scoreOf([note(72, 0, 960), note(48, 0, 1920, { track: 1 }), note(74, 960, 960)], (sc) => {
      sc.tracks = [
        { name: 'Flute', channel: 0, program: 73, isDrum: false },
        { name: 'Bass', channel: 1, program: 32, isDrum: false },
      ];
    });
    const abc = writeAbc(s);
    assert.match(abc, /\nK:C\nV:1 name="Flute"\nc4 d4\|\]\nV:2 name="Bass"\nC,8\|\]\n$/);
    const back = readOne(abc).score;
    assert.deepEqual(keyRows(back), keyRows(s));
    assert.deepEqual(back.tracks.map((t) => t.name), ['Flute', 'Bass']);
  });

  test('two voices of one track share a staff (%%score) and come back in the same track', () => {
    const s = scoreOf([note(72, 0, 240), note(72, 0, 960, { voice: 1 }), note(74, 240, 240)]);
    const abc = writeAbc(s);
    assert.match(abc, /%%score \(1 2\)/);
    const back = readOne(abc).score;
    assert.equal(back.tracks.length, 1);
    assert.deepEqual(keyRows(back), keyRows(s));
  });

  test('line breaks every 4 bars, 8 for short bars, or as asked', () => {
    const four = scoreOf(Array.from({ length: 8 }, (_, i) => note(60, i * 1920, 1920)));
    assert.equal(body(writeAbc(four)).split('\n').length, 2);
    assert.equal(body(writeAbc(four, { barsPerLine: 2 })).split('\n').length, 4);
    const short = scoreOf(Array.from({ length: 16 }, (_, i) => note(60, i * 720, 720)), (sc) => {
      sc.bars = Array.from({ length: 16 }, (_, i) => ({ start: i * 720, duration: 720, meter: { num: 3, den: 8 }, written: i }));
      sc.meters = [{ tick: 0, meter: { num: 3, den: 8 } }];
    });
    assert.equal(body(writeAbc(short)).split('\n').length, 2);
  });

  test('an empty score writes a valid tune with no notes to read back', () => {
    const abc = writeAbc(emptyScore());
    assert.match(abc, /^X:1\nT:Untitled\nM:4\/4\nL:1\/8\nQ:1\/4=120\nK:C\n/);
    const r = readAbc(abc);
    assert.equal(r.tunes.length, 0);
    assert.equal(r.skipped[0].code, 'abc-no-notes');
  });
});
