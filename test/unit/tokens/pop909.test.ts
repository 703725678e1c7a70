import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyPop909Annotations,
  parsePop909Beats,
  parsePop909Labels,
  pop909Key,
  secondsToTicks,
} from '../../../src/tokens/pop909';
import { makeScore } from '../scoreBuilder';

/** Beat lines at 60 bpm (one beat a second) starting at `offset` seconds. */
function beatText(count: number, offset: number, downbeat: (k: number) => [boolean, boolean]): string {
  return Array.from({ length: count }, (_, k) => {
    const [d2, d4] = downbeat(k);
    return `${offset + k} ${d2 ? '1.0' : '0.0'} ${d4 ? '1.0' : '0.0'}`;
  }).join('\n');
}

describe('POP909 annotations', () => {
  test('parsers, keys and seconds -> ticks through a tempo change', () => {
    assert.deepEqual(parsePop909Beats('0.5 1.0 1.0\n\nbad line\n1.5 0.0 0.0\n'), [
      { time: 0.5, down2: true, down4: true },
      { time: 1.5, down2: false, down4: false },
    ]);
    assert.deepEqual(parsePop909Labels('0.0\t1.0\tC:maj\n1.0 2.0 N\n'), [
      { start: 0, label: 'C:maj' },
      { start: 1, label: 'N' },
    ]);
    assert.deepEqual(pop909Key('Gb:maj'), { tonic: 'Gb', mode: 'major', fifths: -6 });
    assert.deepEqual(pop909Key('C#:min'), { tonic: 'C#', mode: 'minor', fifths: 4 });
    assert.deepEqual(pop909Key('Ab:min'), { tonic: 'G#', mode: 'minor', fifths: 5 });
    assert.equal(pop909Key('X:maj'), undefined);
    const tempos = [
      { tick: 0, bpm: 60 },
      { tick: 960, bpm: 120 },
    ];
    assert.equal(secondsToTicks(tempos, 1), 480);
    assert.equal(secondsToTicks(tempos, 2.5), 960 + 480);
  });

  test('3-beat songs (4-beat downbeats 6 apart) get 3/4 bars; long gaps are cut into bars', () => {
    // 60 bpm, first beat at 0.25 s, downbeats every 3 beats (2-beat column) / 6 beats (4-beat column).
    const beats = parsePop909Beats(beatText(20, 0.25, (k) => [k % 3 === 0, k % 6 === 0]));
    const score = makeScore({
      bars: [{ meter: { num: 2, den: 4 } }],
      notes: [
        [60, 120, 480],
        [62, 120 + 480 * 19, 480],
      ],
      tempos: [{ tick: 0, bpm: 60 }],
    });
    const s = applyPop909Annotations(score, { beats, chords: [], keys: [] }, 12);
    assert.ok(s.bars.every((b) => b.meter.num === 3 && b.meter.den === 4 && b.duration === 1440));
    assert.equal(s.bars.length, 7);
    assert.deepEqual(
      s.notes.map((n) => n.onset),
      [0, 480 * 19],
    );

    const gappy = parsePop909Beats(beatText(24, 0, (k) => [k % 2 === 0, k === 0 || k === 4 || k === 15]));
    const t = applyPop909Annotations(score, { beats: gappy, chords: [], keys: [] }, 12);
    // 4/4 bar, then an 11-beat gap: two 4/4 bars and a 3-beat bar, then 4/4 bars to cover the notes.
    assert.deepEqual(
      t.bars.slice(0, 5).map((b) => b.duration / 480),
      [4, 4, 4, 3, 4],
    );
    assert.throws(() => applyPop909Annotations(score, { beats: [], chords: [], keys: [] }, 12), /no beat annotations/);
  });
});
