import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readAbc, splitTunes } from '../../../src/music/abc/reader';
import { TPQ } from '../../../src/music/score';
import { fixture, pitches, readOne, rows, tune } from './helpers';

const E = TPQ / 2; // an eighth note in ticks

describe('splitTunes', () => {
  test('splits on X: lines, ends each tune at its blank line, keeps the X: number', () => {
    const text = fixture('session.abc');
    const ranges = splitTunes(text);
    assert.deepEqual(
      ranges.map((r) => r.reference),
      [1, 2, 3, 4, 5, 6],
    );
    for (const r of ranges) {
      const t = text.slice(r.start, r.end);
      assert.ok(t.startsWith('X:'), t.slice(0, 10));
      assert.ok(!/\n\s*\n/.test(t), 'a tune range holds no blank line');
      assert.equal(t, t.trimEnd());
    }
  });

  test('a text with no X: but a K: line is one tune', () => {
    const text = fixture('loose.abc');
    assert.deepEqual(splitTunes(text), [{ start: 0, end: text.trimEnd().length }]);
    const r = readAbc(text);
    assert.equal(r.tunes.length, 1);
    assert.equal(r.tunes[0].reference, undefined);
    assert.equal(r.tunes[0].title, 'Loose Tune');
    assert.deepEqual(rows(r.tunes[0].score.notes).slice(0, 3), [`69@0/${2 * E}`, `71@${2 * E}/${E}`, `72@${3 * E}/${2 * E}`]);
  });
});

describe('readAbc on the session fixture', () => {
  const text = fixture('session.abc');
  const result = readAbc(text);

  test('reads all six tunes with their index, reference and title', () => {
    assert.equal(result.skipped.length, 0);
    assert.deepEqual(
      result.tunes.map((t) => [t.index, t.reference, t.title]),
      [
        [0, 1, 'Lantern Jig'],
        [1, 2, 'Heather Reel'],
        [2, 3, 'Two Key Waltz'],
        [3, 4, 'Two Voices'],
        [4, 5, 'Rhythm Box'],
        [5, 6, 'Modal Keys'],
      ],
    );
    for (const t of result.tunes) {
      assert.deepEqual(t.warnings, []);
    }
  });

  test('header fields go to meta; others are kept verbatim', () => {
    const meta = result.tunes[0].score.meta;
    assert.equal(meta.title, 'Lantern Jig');
    assert.equal(meta.composer, 'Refrain test suite');
    assert.equal(meta.origin, 'Nowhere');
    assert.equal(meta.rhythm, 'jig');
    assert.equal(meta.reference, 1);
    assert.deepEqual(meta.unitNoteLength, { num: 1, den: 8 });
    assert.deepEqual(meta.extraHeaders, ['T:The Second Title', 'S:made up for tests']);
  });

  test('score.source is the tune range in the whole file; notes point at their text', () => {
    const t = result.tunes[1];
    const src = t.score.source;
    assert.ok(src);
    assert.ok(text.slice(src.start, src.end).startsWith('X:2\nT:Heather Reel'));
    const first = t.score.notes[0];
    assert.ok(first.source);
    assert.equal(text.slice(first.source.start, first.source.end), 'A2 ');
  });

  test('Q: gives quarter notes per minute; no Q: means 120', () => {
    assert.deepEqual(result.tunes[0].score.tempos, [{ tick: 0, bpm: 165 }]);
    assert.deepEqual(result.tunes[1].score.tempos, [{ tick: 0, bpm: 120 }]);
  });

  test('meters: 6/8, C| as 2/2, mid-tune and inline changes', () => {
    assert.deepEqual(result.tunes[0].score.meters, [{ tick: 0, meter: { num: 6, den: 8 } }]);
    assert.deepEqual(result.tunes[1].score.meters, [{ tick: 0, meter: { num: 2, den: 2 } }]);
    const waltz = result.tunes[2].score;
    assert.deepEqual(
      waltz.meters.map((m) => [m.tick, m.meter.num, m.meter.den]),
      [
        [0, 3, 4],
        [7200, 2, 4],
        [9120, 3, 4],
      ],
    );
    assert.deepEqual(
      waltz.bars.map((b) => b.duration),
      [1440, 1440, 1440, 1440, 1440, 960, 960, 1440],
    );
  });

  test('keys: signature, K: lines and inline [K:] fields, with modes', () => {
    const waltz = result.tunes[2].score;
    assert.deepEqual(
      waltz.keys.map((k) => [k.tick, k.key.tonic, k.key.mode, k.key.fifths]),
      [
        [0, 'Bb', 'major', -2],
        [5760, 'E', 'minor', 1],
        [8160, 'F#', 'minor', 3],
      ],
    );
    // Bb major chord, E-flat from the key, explicit flat; E minor's F#, ^D; F#m's ^E and c'.
    assert.deepEqual(
      waltz.notes.map((n) => n.pitch),
      [58, 62, 65, 65, 67, 75, 77, 79, 81, 80, 82, 52, 67, 63, 66, 65, 85, 88],
    );
  });

  test('modal and explicit keys: Ador, Dmix, Em, F#m, K:D exp ^f _b, K:none', () => {
    const modal = result.tunes[5].score;
    const bars = [0, 1, 2, 3, 4, 5].map((b) => modal.notes.filter((n) => Math.floor(n.onset / 1920) === b).map((n) => n.pitch));
    assert.deepEqual(bars, [
      [69, 71, 72, 74, 76, 78, 79, 81],
      [72, 74, 76, 78, 79, 81, 83, 84],
      [74, 78, 79, 74, 76, 78, 79, 81],
      [73, 74, 76, 78, 80, 81, 83, 85],
      [78, 72, 70, 72, 78, 72, 70, 72],
      [77, 72, 71, 72, 77, 72, 71, 72],
    ]);
    assert.deepEqual(
      modal.keys.map((k) => `${k.key.tonic} ${k.key.mode} ${k.key.fifths}`),
      ['A dorian 1', 'D mixolydian 1', 'E minor 1', 'F# minor 3', 'D major 2', 'C major 0'],
    );
  });

  test('the reel: triplets, grace notes, broken rhythm, accidentals through the bar, ties across the bar line, chords', () => {
    const reel = result.tunes[1].score;
    const firstPass = reel.notes.filter((n) => n.onset < 8 * 1920);
    assert.deepEqual(rows(firstPass), [
      '69@0/480', '71@480/160', '72@640/160', '74@800/160', '76@960/480', '74@1440/240', '72@1680/240',
      '74@1920/480', '69@2400/240', '66@2640/240', '67@2880/240', '66@3120/240', '64@3360/240', '62@3600/240',
      '72@3840/480', '69@4320/240', '72@4560/240', '73@4800/240', '74@5040/240', '76@5280/240', '78@5520/240',
      '79@5760/480', '78@6240/240', '76@6480/240', '74@6720/1440',
      '69@8160/360', '66@8520/120', '67@8640/120', '64@8760/360', '64@9120/240', '62@9360/240',
      '73@9600/960', '72@10560/480', '71@11040/240', '70@11280/240',
      '69@11520/480', '66@12000/240', '69@12000/240', '67@12240/240', '71@12240/240', '69@12480/480', '72@12480/480',
      '74@13440/240', '62@13680/240', '62@13920/480', '62@14400/960',
    ]);
    const graced = reel.notes.find((n) => n.onset === 1920);
    assert.deepEqual(graced?.graces, [72]);
    assert.equal(reel.notes.length, 2 * firstPass.length, 'the |: :| section is played twice');
  });

  test('chord symbols go to score.chords at their tick', () => {
    const chords = result.tunes[2].score.chords.map((c) => `${c.name}@${c.tick}`);
    assert.deepEqual(chords, ['Bb@0', 'Eb@1440', 'F7@2880', 'Bb@4320', 'Em@5760', 'B7@7200', 'C#@9120']);
    const jig = result.tunes[0].score.chords;
    assert.equal(jig[0].name, 'G');
    assert.equal(jig[0].tick, E);
    assert.ok(jig[0].source);
  });

  test('two voices become two tracks with names, channels and program 0', () => {
    const s = result.tunes[3].score;
    assert.deepEqual(s.tracks, [
      { name: 'Fiddle', channel: 0, program: 0, isDrum: false },
      { name: 'Cello', channel: 1, program: 0, isDrum: false },
    ]);
    const cello = s.notes.filter((n) => n.track === 1).map((n) => `${n.pitch}@${n.onset}`);
    assert.deepEqual(cello, ['50@0', '54@960', '45@1920', '57@2880', '50@3840', '54@4800', '57@5760', '50@6720']);
    assert.ok(s.notes.every((n) => n.voice === 0));
  });

  test('rests, Z multi-bar rests, x spacers and (3:2:3 tuplets; tied notes merge', () => {
    const s = result.tunes[4].score;
    assert.deepEqual(rows(s.notes), [
      '72@480/160', '74@640/160', '76@800/160', '60@2880/80', '64@2960/80', '67@3040/80', '72@3120/480', '72@4800/1440', '67@6240/480',
    ]);
    assert.deepEqual(
      s.bars.map((b) => [b.start, b.duration, b.written]),
      [
        [0, 960, 0],
        [960, 960, 1],
        [1920, 960, 1],
        [2880, 960, 2],
        [3840, 960, 3],
        [4800, 960, 4],
        [5760, 960, 5],
      ],
    );
    assert.deepEqual(s.meta.unitNoteLength, { num: 1, den: 16 });
    assert.equal(s.length, 6720);
  });

  test('notes are sorted by onset, track, pitch; bars are contiguous', () => {
    for (const t of result.tunes) {
      const s = t.score;
      for (let i = 1; i < s.notes.length; i++) {
        const a = s.notes[i - 1];
        const b = s.notes[i];
        assert.ok(a.onset < b.onset || (a.onset === b.onset && (a.track < b.track || (a.track === b.track && a.pitch <= b.pitch))));
      }
      for (let i = 1; i < s.bars.length; i++) {
        assert.equal(s.bars[i].start, s.bars[i - 1].start + s.bars[i - 1].duration);
      }
      assert.equal(s.length, s.bars[s.bars.length - 1].start + s.bars[s.bars.length - 1].duration);
      for (const n of s.notes) {
        assert.ok(n.duration > 0 && n.velocity > 0 && n.pitch >= 0 && n.pitch <= 127);
      }
    }
  });
});

describe('readAbc details', () => {
  test('accidentals last to the end of the bar, in their own octave only', () => {
    assert.deepEqual(pitches(tune('^F F f =F F | F')), [66, 66, 77, 65, 65, 65]);
    assert.deepEqual(pitches(tune('_B B b B, | B', 'M:4/4\nL:1/8\nK:C')), [70, 70, 83, 59, 71]);
  });

  test('octave marks , and \'', () => {
    assert.deepEqual(pitches(tune("C, C c c' c'' C,,")), [48, 60, 72, 84, 96, 36]);
  });

  test('a tie across a bar line merges; the tied note keeps its accidental', () => {
    const t = readOne(tune('A4 z2 ^c2- | c2 d6 |'));
    assert.deepEqual(rows(t.score.notes), ['69@0/960', '73@1440/960', '74@2400/1440']);
  });

  test('broken rhythm > and <, and the default L: of 1/16 for meters below 3/4', () => {
    assert.deepEqual(rows(readOne(tune('A>B A<B', 'M:4/4\nL:1/8\nK:C')).score.notes), ['69@0/360', '71@360/120', '69@480/120', '71@600/360']);
    const t = readOne(tune('ABcd|', 'M:2/4\nK:C'));
    assert.deepEqual(t.score.meta.unitNoteLength, { num: 1, den: 16 });
    assert.deepEqual(rows(t.score.notes), ['69@0/120', '71@120/120', '72@240/120', '74@360/120']);
  });

  test('M:C is 4/4 and default L: is 1/8 when absent', () => {
    const t = readOne(tune('ABcd efga|', 'M:C\nK:G'));
    assert.deepEqual(t.score.bars[0].meter, { num: 4, den: 4 });
    assert.equal(t.score.bars[0].duration, 1920);
    assert.deepEqual(t.score.meta.unitNoteLength, { num: 1, den: 8 });
  });

  test('a short first bar (anacrusis) keeps its real length', () => {
    const t = readOne(tune('AB|c8|d8|', 'M:4/4\nL:1/8\nK:C'));
    assert.deepEqual(
      t.score.bars.map((b) => [b.start, b.duration]),
      [
        [0, 480],
        [480, 1920],
        [2400, 1920],
      ],
    );
  });

  test('inline [L:] and mid-tune Q: change durations and tempo', () => {
    const t = readOne(tune('A2 B2 [L:1/4] c d | [Q:1/4=90] e4 |', 'M:4/4\nL:1/8\nQ:1/4=60\nK:C'));
    assert.deepEqual(rows(t.score.notes), ['69@0/480', '71@480/480', '72@960/480', '74@1440/480', '76@1920/1920']);
    assert.deepEqual(t.score.tempos, [
      { tick: 0, bpm: 60 },
      { tick: 1920, bpm: 90 },
    ]);
  });

  test('an overlay & voice lands in the same track as voice 1', () => {
    const t = readOne(tune('c4 d4 & E8 |'));
    assert.equal(t.score.tracks.length, 1);
    assert.deepEqual(
      t.score.notes.map((n) => `${n.pitch}@${n.onset} v${n.voice}`),
      ['64@0 v1', '72@0 v0', '74@960 v0'],
    );
  });

  test('an unknown field line (Y:) is not read as music', () => {
    const t = readOne(`X:1\nT:t\nY:ABBA\nM:4/4\nL:1/8\nK:C\ncd|\n`);
    assert.deepEqual(pitches(`X:1\nT:t\nY:ABBA\nM:4/4\nL:1/8\nK:C\ncd|\n`), [72, 74]);
    assert.deepEqual(t.warnings, ['Unknown field Y: ignored.']);
    assert.deepEqual(t.score.meta.extraHeaders, ['Y:ABBA']);
  });
});

describe('CRLF files', () => {
  test('a Windows copy reads the same notes, and every range points at the same text', () => {
    const lf = fixture('session.abc');
    const crlf = lf.replace(/\n/g, '\r\n');
    const a = readAbc(lf).tunes;
    const b = readAbc(crlf).tunes;
    assert.equal(b.length, a.length);
    const strip = (s: string): string => s.replace(/\r/g, '');
    for (let t = 0; t < a.length; t++) {
      const sa = a[t].score;
      const sb = b[t].score;
      assert.deepEqual(sb.notes.map((n) => [n.pitch, n.onset, n.duration]), sa.notes.map((n) => [n.pitch, n.onset, n.duration]));
      assert.equal(strip(crlf.slice(sb.source!.start, sb.source!.end)), lf.slice(sa.source!.start, sa.source!.end));
      sa.writtenBars.forEach((w, i) => {
        const wb = sb.writtenBars[i].source!;
        assert.equal(strip(crlf.slice(wb.start, wb.end)), lf.slice(w.source!.start, w.source!.end), `written bar ${i}`);
      });
      sa.notes.forEach((n, i) => {
        const nb = sb.notes[i].source!;
        assert.equal(strip(crlf.slice(nb.start, nb.end)), lf.slice(n.source!.start, n.source!.end), `note ${i}`);
      });
    }
  });
});
