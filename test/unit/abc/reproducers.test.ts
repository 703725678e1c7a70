/** Reproducers from issue 10: inputs that hung the ABC reader, voices read wrongly, and readings abc2midi showed were wrong. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readAbc } from '../../../src/music/abc/reader';
import { parseEnding, parsePartOrder } from '../../../src/music/abc/repeats';
import { hidePostScript } from '../../../src/music/abc/guard';

/** Reads `text` and fails when it takes longer than `ms`. */
function readQuickly(text: string, ms = 1000): ReturnType<typeof readAbc> {
  const t0 = performance.now();
  const r = readAbc(text);
  const took = performance.now() - t0;
  assert.ok(took < ms, `read took ${took.toFixed(0)} ms`);
  return r;
}

describe('inputs that hung the reader', () => {
  test('an ending number past 2^53 reads as ending 1', () => {
    for (const n of ['9007199254740993', '99999999999999999']) {
      const r = readQuickly(`X:1\nK:C\nC|[${n} D|\n`);
      assert.equal(r.tunes.length, 1, JSON.stringify(r.skipped));
      assert.deepEqual(r.tunes[0].score.notes.map((x) => x.pitch), [60, 62]);
    }
    assert.deepEqual([...parseEnding('9007199254740993')], [1]);
    assert.deepEqual([...parseEnding('2-9007199254740993')], [...Array(17).keys()].map((k) => k + 2));
  });

  test('a %%beginps block inside the tune is skipped, with a warning', () => {
    const r = readQuickly('X:1\nK:C\n%%beginps\na\n');
    assert.equal(r.tunes.length, 0);
    assert.equal(r.skipped[0].code, 'abc-no-notes');
    const t = readQuickly('X:1\nK:C\nCD|\n%%beginps\n/x { 1 2 add } def\n%%endps\nEF|\n').tunes[0];
    assert.deepEqual(t.score.notes.map((x) => x.pitch), [60, 62, 64, 65]);
    assert.ok(t.warnings.some((w) => w.includes('PostScript')), t.warnings.join('; '));
  });

  test('a PostScript block in the tune header does not stop the music being read', () => {
    const text = 'X:1\nT:PS\n%%beginps\n/dlw {0.7 SLW} def\n%%endps\nM:2/4\nL:1/8\nK:G\nGA Bc|d2 B2|\n';
    const t = readQuickly(text).tunes[0];
    assert.equal(t.score.notes.length, 6);
    assert.equal(t.score.notes[0].source?.start, text.indexOf('GA'));
  });

  test('the PostScript guard keeps length and line breaks, and closes at %%endps', () => {
    const text = 'K:C\n%%beginps\nx y\n%%endps\nabc\n%%beginps nosvg\nz';
    const out = hidePostScript(text, () => undefined);
    assert.equal(out.length, text.length);
    assert.deepEqual(out.split('\n').map((l) => l.length), text.split('\n').map((l) => l.length));
    assert.equal(out.split('\n')[4], 'abc');
    assert.ok(out.split('\n').slice(1, 4).every((l) => l.startsWith('%')));
    assert.ok(out.split('\n')[6].startsWith('%'));
  });
});

describe('voices that run over more lines than the voice before them', () => {
  test('each voice keeps its own lines', () => {
    const r = readQuickly('X:1\nL:1/4\nK:C\nV:1\nCDEF|GABc|\nV:2\nC,D,E,F,|\nG,A,B,C|\n');
    const s = r.tunes[0].score;
    assert.equal(s.bars.length, 2);
    assert.equal(s.tracks.length, 2);
    const perTrack = [0, 1].map((t) => s.notes.filter((n) => n.track === t).map((n) => n.pitch));
    assert.deepEqual(perTrack[0], [60, 62, 64, 65, 67, 69, 71, 72]);
    assert.deepEqual(perTrack[1], [48, 50, 52, 53, 55, 57, 59, 60]);
  });

  test('a voice that ends early does not take the other voice\'s later lines', () => {
    const text = 'X:1\nL:1/4\nK:C\nV:1\nCDEF|GABc|\nV:2\nC,D,E,F,|\nG,A,B,C|\nV:1\nCDEF|\nV:2\nCDEF|\nV:2\nc4|\n';
    const s = readQuickly(text).tunes[0].score;
    const track = (t: number): number[] => s.notes.filter((n) => n.track === t).map((n) => n.onset / 480);
    assert.deepEqual(track(0), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    assert.deepEqual(track(1), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });
});

describe('readings abc2midi showed Refrain had wrong', () => {
  test('an invisible rest takes time: `G6 Hx2` fills its bar', () => {
    const s = readQuickly('X:1\nM:C\nL:1/8\nK:G\nG6 Hx2|B8|]\n').tunes[0].score;
    assert.deepEqual(s.notes.map((n) => n.onset / 240), [0, 8]);
  });

  test('a header P:ABA plays the parts in that order, each with its repeats', () => {
    const s = readQuickly('X:1\nP:ABA\nL:1/4\nK:C\nP:A\nCDEF:|\nP:B\ncBAG|]\n').tunes[0].score;
    assert.deepEqual(s.notes.map((n) => n.pitch), [60, 62, 64, 65, 60, 62, 64, 65, 72, 71, 69, 67, 60, 62, 64, 65, 60, 62, 64, 65]);
    assert.deepEqual([...(parsePartOrder('A2(BC)2.D') ?? [])], ['A', 'A', 'B', 'C', 'B', 'C', 'D']);
    assert.equal(parsePartOrder('A'), undefined);
  });
});
