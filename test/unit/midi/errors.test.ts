import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readMidi } from '../../../src/music/midi/reader';
import { MusicInputError } from '../../../src/music/score';
import type { Score } from '../../../src/music/score';
import { chunk, ev, header, meta, off, on, randomBytes, smf, tempo, timeSig, track, trackName } from './smfBytes';

/** Asserts that reading throws a MusicInputError with this code and a non-empty message. */
function rejects(bytes: Uint8Array, code: string, options?: { quantize?: number; maxBytes?: number }): MusicInputError {
  let caught: unknown;
  try {
    readMidi(bytes, options);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof MusicInputError, `expected MusicInputError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.ok(caught.message.length > 20, caught.message);
  return caught;
}

/** Reads, accepting a Score or a MusicInputError; anything else fails the test. */
function readOrReject(bytes: Uint8Array): Score | MusicInputError {
  try {
    return readMidi(bytes);
  } catch (e) {
    if (e instanceof MusicInputError) {
      return e;
    }
    throw new Error(`unexpected ${String(e)}`);
  }
}

const good = smf(
  1,
  480,
  track(trackName(0, 'Tune'), tempo(0, 100), timeSig(0, 3, 4)),
  track(trackName(0, 'Melody'), on(0, 0, 60), off(480, 0, 60), on(0, 0, 64, 70), off(480, 0, 64), on(0, 0, 67), off(960, 0, 67)),
  track(on(0, 9, 36), off(60, 9, 36), on(420, 9, 38), off(60, 9, 38)),
);

describe('readMidi: input that is not a usable MIDI file', () => {
  test('the fixture itself reads', () => {
    const s = readMidi(good);
    assert.equal(s.notes.length, 5);
    assert.equal(s.tracks.length, 2);
  });

  test('empty input', () => {
    rejects(new Uint8Array(0), 'midi-empty');
  });

  test('not MIDI: text, ABC, audio, random bytes', () => {
    rejects(new TextEncoder().encode('hello, this is a plain text file'), 'midi-not-midi');
    const abc = rejects(new TextEncoder().encode('X:1\nT:Reel\nK:D\n|:DFA dAF:|\n'), 'midi-not-midi');
    assert.match(abc.message, /ABC/);
    const wav = rejects(new Uint8Array([...'RIFF'].map((c) => c.charCodeAt(0)).concat([0, 0, 0, 0], [...'WAVE'].map((c) => c.charCodeAt(0)))), 'midi-not-midi');
    assert.match(wav.message, /audio/);
    for (let seed = 1; seed <= 20; seed++) {
      rejects(randomBytes(1 + seed * 37, seed), 'midi-not-midi');
    }
  });

  test('a 10 MB random buffer is rejected quickly, a larger file by size', () => {
    const tenMb = randomBytes(10 * 1024 * 1024, 7);
    rejects(tenMb, 'midi-not-midi');
    const big = new Uint8Array(10 * 1024 * 1024 + 1);
    big.set(good);
    rejects(big, 'midi-too-large');
    const small = rejects(good, 'midi-too-large', { maxBytes: 50 });
    assert.match(small.message, /50 bytes/);
  });

  test('every truncation of a valid file is reported as truncated', () => {
    for (let cut = 1; cut < good.length; cut++) {
      rejects(good.subarray(0, cut), 'midi-truncated');
    }
  });

  test('a header claiming a huge track length', () => {
    const body = [...on(0, 0, 60), ...off(480, 0, 60), 0, 0xff, 0x2f, 0];
    const bytes = new Uint8Array([...header(0, 1, 480), ...chunk('MTrk', body, 0xffffffff)]);
    const e = rejects(bytes, 'midi-truncated');
    assert.match(e.message, /4294967295 bytes/);
  });

  test('zero-length track chunks', () => {
    rejects(new Uint8Array([...header(1, 1, 480), ...chunk('MTrk', [])]), 'midi-no-notes');
    const mixed = new Uint8Array([...header(1, 2, 480), ...chunk('MTrk', []), ...track(on(0, 0, 60), off(480, 0, 60))]);
    assert.equal(readMidi(mixed).notes.length, 1);
  });

  test('no notes: zero tracks, or tracks with only settings', () => {
    rejects(new Uint8Array(header(1, 0, 480)), 'midi-no-notes');
    rejects(smf(1, 480, track(trackName(0, 'Empty'), tempo(0, 90)), track(off(0, 0, 60))), 'midi-no-notes');
  });

  test('absurd time base: SMPTE frames, zero PPQ', () => {
    rejects(smf(0, 0xe728, track(on(0, 0, 60), off(10, 0, 60))), 'midi-smpte');
    rejects(smf(0, 0, track(on(0, 0, 60), off(10, 0, 60))), 'midi-bad-ppq');
  });

  test('absurd tempo', () => {
    rejects(smf(0, 480, track(meta(0, 0x51, [0, 0, 0]), on(0, 0, 60), off(10, 0, 60))), 'midi-bad-tempo');
    rejects(smf(0, 480, track(meta(0, 0x51, [0, 0, 10]), on(0, 0, 60), off(10, 0, 60))), 'midi-bad-tempo');
    rejects(smf(0, 480, track(meta(0, 0x51, [7, 0xa1]), on(0, 0, 60), off(10, 0, 60))), 'midi-corrupt');
  });

  test('impossible time signature', () => {
    rejects(smf(0, 480, track(meta(0, 0x58, [0, 2, 24, 8]), on(0, 0, 60), off(10, 0, 60))), 'midi-bad-meter');
    rejects(smf(0, 480, track(meta(0, 0x58, [4, 200, 24, 8]), on(0, 0, 60), off(10, 0, 60))), 'midi-bad-meter');
  });

  test('damaged headers and events', () => {
    rejects(new Uint8Array([...chunk('MThd', [0, 1]), ...track(on(0, 0, 60))]), 'midi-bad-header');
    rejects(smf(3, 480, track(on(0, 0, 60), off(10, 0, 60))), 'midi-bad-header');
    // Running status with nothing to run on.
    rejects(smf(0, 480, [...chunk('MTrk', [0, 60, 100, 0, 0xff, 0x2f, 0])]), 'midi-corrupt');
    // A status byte where a data byte belongs.
    rejects(smf(0, 480, [...chunk('MTrk', [0, 0x90, 60, 0x90, 0, 0xff, 0x2f, 0])]), 'midi-corrupt');
    // A 5-byte delta time.
    rejects(smf(0, 480, [...chunk('MTrk', [0x81, 0x81, 0x81, 0x81, 0x01, 0x90, 60, 100])]), 'midi-corrupt');
    // An undefined status byte.
    rejects(smf(0, 480, [...chunk('MTrk', [...on(0, 0, 60), 0, 0xf4, 0, 0xff, 0x2f, 0])]), 'midi-corrupt');
    // A meta event longer than its track.
    rejects(smf(0, 480, [...chunk('MTrk', [...on(0, 0, 60), ...ev(0, 0xff, 0x01, 0x7f, 65, 66)])]), 'midi-corrupt');
    // A note event cut off at the end of its track.
    rejects(smf(0, 480, [...chunk('MTrk', [...on(0, 0, 60), 0, 0x80, 60])]), 'midi-corrupt');
    // Garbage where a chunk should start.
    rejects(new Uint8Array([...header(1, 2, 480), ...track(on(0, 0, 60), off(1, 0, 60)), 0x00, 0x01, 0x02, 0x03, 0, 0, 0, 0]), 'midi-corrupt');
  });

  test('a piece absurdly long', () => {
    rejects(smf(0, 1, track(on(0, 0, 60), off(0x0fffffff, 0, 60))), 'midi-too-long');
    // Short in beats but tiny bars: 1/64 over 99,000 quarter notes would be 1.6 million bars.
    rejects(smf(0, 480, track(timeSig(0, 1, 64), on(0, 0, 60), off(480 * 99_000, 0, 60))), 'midi-too-long');
  });

  test('bad quantize option', () => {
    for (const quantize of [7, -1, 0.5, 960]) {
      rejects(good, 'midi-bad-quantize', { quantize });
    }
  });

  test('random damage to a valid file never escapes as anything but MusicInputError', () => {
    let read = 0;
    let rejected = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const bytes = good.slice();
      const noise = randomBytes(8, seed);
      for (let k = 0; k < 1 + (seed % 4); k++) {
        bytes[noise[k * 2] % bytes.length] = noise[k * 2 + 1];
      }
      if (readOrReject(bytes) instanceof MusicInputError) {
        rejected++;
      } else {
        read++;
      }
    }
    assert.equal(read + rejected, 400);
    assert.ok(read > 0 && rejected > 0, `read ${read}, rejected ${rejected}`);
  });

  test('random track bodies inside valid chunk framing never escape', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const body = [...randomBytes(16 + (seed % 200), seed * 7919)];
      const bytes = new Uint8Array([...header(1, 2, 96), ...track(on(0, 0, 60), off(96, 0, 60)), ...chunk('MTrk', body)]);
      readOrReject(bytes);
    }
  });
});
