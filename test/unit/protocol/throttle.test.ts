import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { Throttle } from '../../../src/protocol/throttle';
import type { ThrottleTimers } from '../../../src/protocol/throttle';

/** A manual clock: time moves only when the test says so. */
function fakeTimers(): ThrottleTimers & { advance(ms: number): void; pending(): number } {
  let now = 0;
  let timers: { at: number; fn: () => void; id: number }[] = [];
  let nextId = 1;
  return {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = nextId++;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout: (id) => {
      timers = timers.filter((t) => t.id !== id);
    },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
        if (!due) {
          break;
        }
        timers = timers.filter((t) => t !== due);
        now = due.at;
        due.fn();
      }
      now = end;
    },
    pending: () => timers.length,
  };
}

describe('Throttle', () => {
  test('emits the first value at once and then at most once per interval, keeping the newest', () => {
    const timers = fakeTimers();
    const out: number[] = [];
    const t = new Throttle<number>((v) => out.push(v), 100, timers);
    t.push(1);
    assert.deepEqual(out, [1]);
    for (let k = 2; k <= 50; k++) {
      timers.advance(5);
      t.push(k);
    }
    // Pushes every 5 ms up to 245 ms: emitted at 0, 100 (value pushed at 95), 200 (pushed at 195)...
    assert.deepEqual(out, [1, 20, 40]);
    // ...and the last value once its interval ends.
    timers.advance(100);
    assert.deepEqual(out, [1, 20, 40, 50]);
    assert.equal(timers.pending(), 0);
  });

  test('about 10 per second for 1,000 pushes over 2 s', () => {
    const timers = fakeTimers();
    let count = 0;
    const t = new Throttle<number>(() => count++, 100, timers);
    for (let k = 0; k < 1000; k++) {
      t.push(k);
      timers.advance(2);
    }
    t.flush();
    assert.ok(count >= 20 && count <= 22, `emitted ${count}`);
  });

  test('flush sends the pending value; dispose drops it', () => {
    const timers = fakeTimers();
    const out: string[] = [];
    const t = new Throttle<string>((v) => out.push(v), 100, timers);
    t.push('a');
    t.push('b');
    t.flush();
    assert.deepEqual(out, ['a', 'b']);
    t.push('c');
    t.dispose();
    timers.advance(500);
    t.push('d');
    assert.deepEqual(out, ['a', 'b']);
  });
});
