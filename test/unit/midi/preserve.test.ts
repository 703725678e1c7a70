// Writing generated bars into a MIDI file keeps every original event exactly (issue 10): notes at
// off-grid ticks, velocities, controllers, pitch bends, programs, aftertouch, sysex and meta events.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readMidi } from '../../../src/music/midi/reader';
import { parseRawSmf } from '../../../src/music/midi/rawSmf';
import type { RawSmf } from '../../../src/music/midi/rawSmf';
import { rewriteSmf } from '../../../src/music/midi/preserve';
import { spliceScore } from '../../../src/music/splice';
import type { Note, Score } from '../../../src/music/score';
import { barTicks } from '../../../src/music/score';
import { ev, keySig, meta, off, on, program, smf, tempo, timeSig, track, trackName } from './smfBytes';

/** A 3/4 piece at 100 ticks per quarter, every kind of event, timings off the reader's grid. */
function richFile(): Uint8Array {
  const conductor = track(trackName(0, 'Rich'), tempo(0, 96), timeSig(0, 3, 4), keySig(0, -2, true), meta(0, 0x01, [0x68, 0x69]), meta(300, 0x06, [0x41]), tempo(300, 100));
  const piano = track(
    trackName(0, 'Piano'),
    program(0, 0, 5),
    ev(0, 0xb0, 7, 99),
    ev(0, 0xf0, 3, 0x7e, 0x7f, 0xf7),
    on(3, 0, 60, 77),
    ev(10, 0xb0, 64, 127),
    ev(1, 0xe0, 0x11, 0x45),
    [0x05, 0x00, 0x40], // running status: pitch bend again
    off(83, 0, 60),
    on(4, 0, 64, 101),
    ev(7, 0xd0, 33),
    on(0, 0, 67, 55),
    off(190, 0, 64),
    off(2, 0, 67),
    ev(5, 0xb0, 64, 0),
    on(200, 0, 62, 90),
    off(297, 0, 62),
    ev(0, 0xa0, 62, 20),
  );
  const drums = track(trackName(0, 'Kit'), on(0, 9, 36, 120), off(50, 9, 36), on(250, 9, 38, 100), off(50, 9, 38), on(550, 9, 42, 64), off(30, 9, 42));
  return smf(1, 100, conductor, piano, drums);
}

function rows(file: RawSmf, chunk: number): string[] {
  return (file.chunks[chunk].events ?? []).map((e) => `${e.tick}:${Buffer.from(e.bytes).toString('hex')}`);
}

/** The base with `bars` new bars of the piece's own meter holding one note each, as the engine would append them. */
function continued(base: Score, bars: number, track = 0): Score {
  const meter = base.meters[base.meters.length - 1].meter;
  const full = barTicks(meter);
  const gen: Score = { ...base, notes: [...base.notes], bars: [...base.bars], writtenBars: [...base.writtenBars] };
  let start = base.length;
  for (let k = 0; k < bars; k++) {
    gen.bars.push({ start, duration: full, meter, written: gen.bars.length });
    gen.writtenBars.push({});
    gen.notes.push({ pitch: 70 + k, onset: start, duration: full / 3, velocity: 88, track, voice: 0 } as Note);
    start += full;
  }
  gen.length = start;
  return spliceScore(base, gen, { from: base.bars.length, to: base.bars.length + bars });
}

describe('rewriteSmf', () => {
  test('an unchanged score writes every event back as it was', () => {
    const bytes = richFile();
    const base = readMidi(bytes);
    const out = parseRawSmf(rewriteSmf(bytes, base, base));
    const orig = parseRawSmf(bytes);
    for (let c = 0; c < orig.chunks.length; c++) {
      assert.deepEqual(rows(out, c), rows(orig, c));
    }
  });

  test('appended bars leave every original event, of every kind, exactly where it was', () => {
    const bytes = richFile();
    const base = readMidi(bytes);
    const next = continued(base, 2);
    const written = rewriteSmf(bytes, base, next);
    const orig = parseRawSmf(bytes);
    const out = parseRawSmf(written);
    const newStart = Math.round((base.length * orig.ppq) / 480);
    assert.equal(out.chunks.length, orig.chunks.length);
    for (let c = 0; c < orig.chunks.length; c++) {
      const before = rows(orig, c);
      const after = rows(out, c);
      // The original events come first and unchanged; what follows is new, at or after the new bars.
      assert.deepEqual(after.slice(0, before.length), before, `chunk ${c}`);
      for (const r of after.slice(before.length)) {
        assert.ok(Number(r.split(':')[0]) >= newStart, `chunk ${c}: new event ${r} before the new bars (tick ${newStart})`);
      }
    }
    assert.equal(rows(out, 1).length - rows(orig, 1).length, 4, 'two notes: two note-ons and two note-offs');
    const reread = readMidi(written);
    assert.deepEqual(reread.meters, base.meters, 'new bars in the file\'s own meter: no time-signature change');
    assert.equal(reread.bars.length, base.bars.length + 2);
    assert.deepEqual(
      reread.notes.filter((n) => n.onset >= base.length).map((n) => [n.pitch, n.onset - base.length, n.velocity]),
      [[70, 0, 88], [71, 1440, 88]],
    );
  });

  test('regenerated bars swap only the replaced notes; controllers and the other tracks stay', () => {
    const bytes = richFile();
    const base = readMidi(bytes);
    const target = base.notes.find((n) => n.track === 0 && n.pitch === 62);
    assert.ok(target);
    const next: Score = { ...base, notes: base.notes.filter((n) => n !== target).concat({ ...target, pitch: 63 }) };
    const orig = parseRawSmf(bytes);
    const out = parseRawSmf(rewriteSmf(bytes, base, next));
    const removed = rows(orig, 1).filter((r) => !rows(out, 1).includes(r));
    assert.deepEqual(removed.map((r) => r.split(':')[1].slice(0, 4)), ['903e', '803e']);
    assert.deepEqual(rows(out, 2), rows(orig, 2));
    assert.deepEqual(rows(out, 0), rows(orig, 0));
    assert.ok(rows(out, 1).some((r) => r.endsWith('b04000')), 'the pedal release is kept');
  });
});
