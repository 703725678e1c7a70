import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readAbc } from '../../../src/music/abc/reader';
import type { RepeatBar } from '../../../src/music/abc/repeats';
import { expandRepeats, parseEnding } from '../../../src/music/abc/repeats';
import { fixture, readOne, tune } from './helpers';

function bars(spec: string): RepeatBar[] {
  // One token per bar: optional '|:' prefix, optional '[n' ending, optional ':|' suffix.
  return spec.split(' ').map((tok) => {
    const m = /^(\|:)?(?:\[([\d,-]+))?[a-z]?(:\|)?$/.exec(tok);
    assert.ok(m, tok);
    const bar: RepeatBar = { startRepeat: m[1] !== undefined, endRepeat: m[3] !== undefined };
    if (m[2] !== undefined) {
      bar.ending = parseEnding(m[2]);
    }
    return bar;
  });
}

describe('expandRepeats', () => {
  test('a plain repeat plays twice; without |: it goes back to the start', () => {
    assert.deepEqual(expandRepeats(bars('a b:| c'), 100).order, [0, 1, 0, 1, 2]);
    assert.deepEqual(expandRepeats(bars('a |:b c:| d'), 100).order, [0, 1, 2, 1, 2, 3]);
  });

  test('first and second endings', () => {
    assert.deepEqual(expandRepeats(bars('|:a b [1c:| [2d e'), 100).order, [0, 1, 2, 0, 1, 3, 4]);
  });

  test('three endings and an ending for two passes', () => {
    assert.deepEqual(expandRepeats(bars('|:a [1b:| [2c:| [3d'), 100).order, [0, 1, 0, 2, 0, 3]);
    assert.deepEqual(expandRepeats(bars('|:a [1,2b:| [3c'), 100).order, [0, 1, 0, 1, 0, 2]);
    assert.deepEqual([...parseEnding('1-3')], [1, 2, 3]);
  });

  test('a second section without |: repeats from after the first one', () => {
    assert.deepEqual(expandRepeats(bars('a b:| c d:|'), 100).order, [0, 1, 0, 1, 2, 3, 2, 3]);
    assert.deepEqual(expandRepeats(bars('|:a [1b:| [2c d e:|'), 100).order, [0, 1, 0, 2, 3, 4, 3, 4]);
  });

  test(':: ends one section and starts the next', () => {
    const b = bars('|:a b:| |:c d:|');
    assert.deepEqual(expandRepeats(b, 100).order, [0, 1, 0, 1, 2, 3, 2, 3]);
  });

  test('the cap stops a runaway expansion', () => {
    const r = expandRepeats(bars('|:a:| |:b:| |:c:|'), 4);
    assert.equal(r.capped, true);
    assert.equal(r.order.length, 4);
  });
});

describe('repeats in read tunes', () => {
  test('performed bars map to written bars with source ranges, endings marked', () => {
    const text = fixture('session.abc');
    const jig = readAbc(text).tunes[0].score;
    assert.deepEqual(
      jig.bars.map((b) => b.written),
      // A part's short last bar and the pickup played after it ("G3 G2" + "B", 5/8 + 1/8) form
      // one 6/8 bar, mapped to the first: the B part is 4 performed bars, not 5.
      [0, 1, 2, 3, 4, 1, 2, 5, 6, 8, 9, 10, 11, 8, 9, 10, 11],
    );
    assert.deepEqual(
      jig.bars.map((b) => b.duration),
      [240, ...Array<number>(15).fill(1440), 1200],
    );
    assert.equal(jig.writtenBars.length, 12);
    const written = jig.writtenBars.map((w) => (w.source ? text.slice(w.source.start, w.source.end) : ''));
    assert.deepEqual(written, [
      'D',
      '"G"GAB dBG',
      '"C"cde "D"dBA',
      '"G"GAB "Em"e2d',
      '"Am"cBA "D"A2D',
      '"G"GAB "D7"AFD',
      '"G"G3 G2',
      'B',
      '"G"dgg gfg',
      '"Em"e2e "C"edc',
      '"G"BdB "D"AFD',
      '"G"G3 G2',
    ]);
    assert.deepEqual(
      jig.writtenBars.map((w) => w.ending ?? 0),
      [0, 0, 0, 1, 1, 2, 2, 0, 0, 0, 0, 0],
    );
    // Each performed bar holds the notes of its written bar.
    const b5 = jig.bars[5];
    const inB5 = jig.notes.filter((n) => n.onset >= b5.start && n.onset < b5.start + b5.duration);
    assert.deepEqual(
      inB5.map((n) => n.pitch),
      [67, 69, 71, 74, 71, 67],
    );
    assert.ok(inB5.every((n) => n.source && n.source.start >= jig.writtenBars[1].source!.start && n.source.end <= jig.writtenBars[1].source!.end));
  });

  test('|1 and :|2 endings, and a repeat of two voices', () => {
    const t = readOne(tune('|:ab|1 c2:|2 d2|]', 'M:2/8\nL:1/8\nK:C'));
    assert.deepEqual(
      t.score.notes.map((n) => n.pitch),
      [81, 83, 72, 81, 83, 74],
    );
    const twoVoices = readAbc(fixture('session.abc')).tunes[3].score;
    assert.deepEqual(
      twoVoices.bars.map((b) => b.written),
      [0, 1, 0, 2],
    );
  });

  test('a tie into the repeat-end bar merges only on the pass where it is performed', () => {
    const t = readOne(tune('|:a4 b4-|b8:|', 'M:4/4\nL:1/8\nK:C'));
    assert.deepEqual(
      t.score.notes.map((n) => `${n.pitch}@${n.onset}/${n.duration}`),
      ['81@0/960', '83@960/2880', '81@3840/960', '83@4800/2880'],
    );
  });
});
