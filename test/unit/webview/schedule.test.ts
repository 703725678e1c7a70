import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import type { RollPayload } from '../../../src/protocol/messages';
import { barSpan, midiToHz, notesStartingIn, planPlayback, playheadTick, secondsToTick, tempoMapOf, tickToSeconds, timbreOf } from '../../../webview/schedule';

const close = (a: number, b: number, eps = 1e-9): boolean => Math.abs(a - b) < eps;

/** Four 4/4 bars at 120 bpm, 60 bpm from bar 3; one quarter note per beat of bar 1, a whole note in bar 3. */
function roll(): RollPayload {
  const bar = 1920;
  return {
    ticksPerQuarter: 480,
    barStarts: Uint32Array.from([0, bar, 2 * bar, 3 * bar, 4 * bar]),
    tracks: [
      { name: 'Melody', isDrum: false, program: 0 },
      { name: 'Drums', isDrum: true, program: 0 },
    ],
    notes: {
      pitch: Uint8Array.from([60, 62, 64, 65, 36, 72]),
      velocity: Uint8Array.from([80, 80, 80, 80, 100, 60]),
      track: Uint16Array.from([0, 0, 0, 0, 1, 0]),
      onset: Uint32Array.from([0, 480, 960, 1440, 0, 2 * bar]),
      duration: Uint32Array.from([480, 480, 480, 480, 120, 2 * bar]),
    },
    tempoTicks: Uint32Array.from([0, 2 * bar]),
    tempoBpm: Float32Array.from([120, 60]),
  };
}

describe('tempo map', () => {
  test('ticks to seconds and back across a tempo change', () => {
    const map = tempoMapOf(roll());
    assert.equal(tickToSeconds(map, 0), 0);
    assert.equal(tickToSeconds(map, 480), 0.5);
    assert.equal(tickToSeconds(map, 3840), 4, 'two bars at 120 bpm');
    assert.equal(tickToSeconds(map, 3840 + 480), 5, 'then a quarter at 60 bpm');
    for (const tick of [0, 100, 3839, 3840, 5000, 7680]) {
      assert.ok(close(secondsToTick(map, tickToSeconds(map, tick)), tick, 1e-6), `tick ${tick}`);
    }
    assert.equal(secondsToTick(map, -3), 0);
  });

  test('a roll without a tempo plays at 120 bpm', () => {
    const map = tempoMapOf({ ticksPerQuarter: 480, tempoTicks: new Uint32Array(0), tempoBpm: new Float32Array(0) });
    assert.equal(tickToSeconds(map, 960), 1);
  });

  test('A4 is 440 Hz, an octave doubles', () => {
    assert.equal(midiToHz(69), 440);
    assert.ok(close(midiToHz(81), 880));
    assert.ok(close(midiToHz(60), 261.6255653005986, 1e-9));
  });
});

describe('planPlayback', () => {
  test('the whole piece: notes in time order with their seconds', () => {
    const r = roll();
    const plan = planPlayback(r, [{ from: 0, to: r.barStarts[4] }]);
    assert.equal(plan.notes.length, 6);
    assert.deepEqual(plan.notes.map((n) => n.start), [0, 0, 0.5, 1, 1.5, 4]);
    assert.equal(plan.notes[0].pitch, 36, 'ties in time go lowest pitch first');
    assert.equal(plan.notes[0].drum, true);
    assert.equal(plan.notes[5].end, 12, 'the whole note of bar 3 lasts two bars at 60 bpm: 4 s + 8 s');
    assert.equal(plan.duration, 12);
    assert.equal(plan.dropped, 0);
  });

  test('a bar selection plays bar i then bar j back to back, notes cut at each bar end', () => {
    const r = roll();
    const plan = planPlayback(r, [barSpan(r.barStarts, 0, 0), barSpan(r.barStarts, 2, 2)]);
    assert.deepEqual(plan.segments.map((s) => [s.startTime, s.endTime]), [[0, 2], [2, 6]]);
    const last = plan.notes[plan.notes.length - 1];
    assert.equal(last.pitch, 72);
    assert.equal(last.start, 2);
    assert.equal(last.end, 6);
    // The playhead walks bar 1, then jumps to bar 3.
    assert.equal(playheadTick(r, plan, 0), 0);
    assert.equal(playheadTick(r, plan, 1), 960);
    assert.equal(playheadTick(r, plan, 2), 3840);
    assert.equal(playheadTick(r, plan, 3), 3840 + 480);
    assert.equal(playheadTick(r, plan, 6), undefined);
  });

  test('barSpan clamps and orders its bars; empty segments are skipped', () => {
    const r = roll();
    assert.deepEqual(barSpan(r.barStarts, 3, 1), { from: 1920, to: 7680 });
    assert.deepEqual(barSpan(r.barStarts, -5, 99), { from: 0, to: 7680 });
    assert.deepEqual(barSpan(Uint32Array.from([0]), 0, 0), { from: 0, to: 0 });
    const plan = planPlayback(r, [{ from: 100, to: 100 }]);
    assert.equal(plan.notes.length, 0);
    assert.equal(plan.duration, 0);
  });

  test('caps the notes of one playback', () => {
    const r = roll();
    const plan = planPlayback(r, [{ from: 0, to: r.barStarts[4] }], 4);
    assert.equal(plan.notes.length, 4);
    assert.equal(plan.dropped, 2);
  });

  test('notesStartingIn walks the sorted notes window by window', () => {
    const r = roll();
    const plan = planPlayback(r, [{ from: 0, to: r.barStarts[4] }]);
    const w1 = notesStartingIn(plan, Number.NEGATIVE_INFINITY, 0.35);
    assert.deepEqual(w1, { first: 0, end: 2 });
    const w2 = notesStartingIn(plan, Number.NEGATIVE_INFINITY, 1.2, w1.end);
    assert.deepEqual(w2, { first: 2, end: 4 });
    const w3 = notesStartingIn(plan, Number.NEGATIVE_INFINITY, 100, w2.end);
    assert.deepEqual(w3, { first: 4, end: 6 });
  });
});

describe('timbres', () => {
  test('each program family gets a sound shape with sane envelope values', () => {
    for (let program = 0; program < 128; program++) {
      const t = timbreOf(program);
      assert.ok(t.attack > 0 && t.attack < 0.5 && t.release > 0 && t.sustain >= 0 && t.sustain <= 1 && t.cutoff > 100, `program ${program}`);
    }
    assert.equal(timbreOf(73).wave, 'sine', 'flute');
    assert.notEqual(timbreOf(0).wave, timbreOf(16).wave, 'piano and organ differ');
  });
});
