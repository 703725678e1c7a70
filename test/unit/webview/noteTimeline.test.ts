import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { barEvents, eventAt, noteEvents, ticksToWholeNotes, wholeNoteBpm } from '../../../webview/noteTimeline';
import type { TimingLike } from '../../../webview/noteTimeline';

/**
 * Timings as abcjs gives them at wholeNoteBpm (milliseconds = thousandths of a whole note) for
 * `|:AB c2|d4:|` in L:1/8, M:2/4: A at char 2, B at 3, c2 at 5, d4 at 9; played twice.
 */
function repeatedTimings(): TimingLike<string>[] {
  const pass = (t0: number): TimingLike<string>[] => [
    { type: 'event', milliseconds: t0, startChar: 2, elements: [['A']] },
    { type: 'event', milliseconds: t0 + 125, startChar: 3, elements: [['B']] },
    { type: 'event', milliseconds: t0 + 250, startChar: 5, elements: [['c', 'c-stem']] },
    { type: 'event', milliseconds: t0 + 500, startChar: 9, elements: [['d']] },
  ];
  return [...pass(0), ...pass(1000), { type: 'end', milliseconds: 2000 }];
}

describe('note timeline', () => {
  test('abcjs milliseconds count thousandths of a whole note at wholeNoteBpm', () => {
    // abcjs: seconds = whole notes / (beatLength * bpm / 60); a quarter-note beat needs 240 bpm.
    assert.equal(wholeNoteBpm(0.25), 240);
    assert.equal(wholeNoteBpm(0.375), 160);
    assert.equal(wholeNoteBpm(0), 240);
    assert.equal(ticksToWholeNotes(480, 480), 0.25);
    assert.equal(ticksToWholeNotes(960, 0), 0);
  });

  test('events keep time order and their drawn elements; the end marker is dropped', () => {
    const events = noteEvents(repeatedTimings());
    assert.equal(events.length, 8);
    assert.deepEqual(events[2], { at: 0.25, chars: [5], elements: ['c', 'c-stem'] });
    assert.equal(events[7].at, 1.5);
    // Several voices at one time: every start character, every voice's elements.
    const chord = noteEvents([{ type: 'event', milliseconds: 0, startChar: 4, startCharArray: [4, 40], elements: [['v1'], ['v2']] }]);
    assert.deepEqual(chord[0], { at: 0, chars: [4, 40], elements: ['v1', 'v2'] });
  });

  test('a bar\'s events are its first pass, timed from the bar\'s first note', () => {
    const events = noteEvents(repeatedTimings());
    const bar1 = barEvents(events, 2, 8);
    assert.deepEqual(bar1.map((e) => [e.at, e.chars[0]]), [[0, 2], [0.125, 3], [0.25, 5]]);
    const bar2 = barEvents(events, 9, 13);
    assert.deepEqual(bar2.map((e) => [e.at, e.chars[0]]), [[0, 9]]);
    assert.deepEqual(barEvents(events, 20, 30), []);
  });

  test('a bar that starts under a tie is timed from its bar line', () => {
    // |A4 c4-|c2 d2 e4| in L:1/8: abcjs marks the bar line under the tie with an event of no characters.
    const events = noteEvents<string>([
      { type: 'event', milliseconds: 0, startChar: 1, elements: [['A']] },
      { type: 'event', milliseconds: 500, startChar: 4, elements: [['c'], ['c-tied']] },
      { type: 'event', milliseconds: 1000, startCharArray: [], elements: [] },
      { type: 'event', milliseconds: 1250, startChar: 11, elements: [['d']] },
      { type: 'event', milliseconds: 1500, startChar: 14, elements: [['e']] },
    ]);
    assert.deepEqual(barEvents(events, 8, 17).map((e) => [e.at, e.chars[0]]), [[0.25, 11], [0.5, 14]]);
    // The bar before keeps its own start.
    assert.deepEqual(barEvents(events, 0, 8).map((e) => [e.at, e.chars[0]]), [[0, 1], [0.5, 4]]);
  });

  test('the event sounding is the last one started, abcjs rounding allowed for', () => {
    const bar1 = barEvents(noteEvents(repeatedTimings()), 2, 8);
    assert.equal(eventAt(bar1, 0), 0);
    assert.equal(eventAt(bar1, 0.1), 0);
    assert.equal(eventAt(bar1, 0.1249), 1);
    assert.equal(eventAt(bar1, 0.2), 1);
    assert.equal(eventAt(bar1, 0.49), 2);
    assert.equal(eventAt(bar1, -0.01), -1);
    assert.equal(eventAt([], 0.3), -1);
  });

  test('a triplet is timed as abcjs engraved it', () => {
    // (3ABc in L:1/8: three notes in the time of two eighths.
    const events = noteEvents<string>([
      { type: 'event', milliseconds: 0, startChar: 2, elements: [['A']] },
      { type: 'event', milliseconds: 83, startChar: 3, elements: [['B']] },
      { type: 'event', milliseconds: 167, startChar: 4, elements: [['c']] },
      { type: 'event', milliseconds: 250, startChar: 6, elements: [['d']] },
    ]);
    const at = (wholeNotes: number): string | undefined => events[eventAt(events, wholeNotes)]?.elements[0];
    assert.equal(at(ticksToWholeNotes(160, 480)), 'B');
    assert.equal(at(ticksToWholeNotes(320, 480)), 'c');
    assert.equal(at(ticksToWholeNotes(480, 480)), 'd');
  });
});
