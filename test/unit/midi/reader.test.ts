import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readMidi } from '../../../src/music/midi/reader';
import { notesByBar } from '../../../src/music/score';
import type { Score } from '../../../src/music/score';
import { chunk, keySig, vlq, meta, off, on, program, smf, tempo, timeSig, track, trackName } from './smfBytes';

/** [pitch, onset, duration] of every note, in canonical order. */
function pod(score: Score, trackIndex?: number): number[][] {
  return score.notes.filter((n) => trackIndex === undefined || n.track === trackIndex).map((n) => [n.pitch, n.onset, n.duration]);
}

describe('readMidi: timing', () => {
  test('rescales from the file resolution to 480 ticks per quarter', () => {
    const bytes = smf(0, 96, track(on(0, 0, 60), off(96, 0, 60), on(0, 0, 62), off(48, 0, 62), on(0, 0, 64), off(24, 0, 64)));
    for (const quantize of [0, 12]) {
      const s = readMidi(bytes, { quantize });
      assert.deepEqual(pod(s), [
        [60, 0, 480],
        [62, 480, 240],
        [64, 720, 120],
      ]);
    }
  });

  test('quantize 12 snaps a slightly off-grid note; quantize 0 keeps it', () => {
    // ppq 480: onset 487, ends at 720 + 9.
    const bytes = smf(0, 480, track(on(487, 0, 67, 90), off(242, 0, 67)));
    assert.deepEqual(pod(readMidi(bytes)), [[67, 480, 240]]);
    assert.deepEqual(pod(readMidi(bytes, { quantize: 0 })), [[67, 487, 242]]);
    assert.equal(readMidi(bytes).notes[0].velocity, 90);
  });

  test('eighth-note triplets survive quantize 12, even played a little unevenly', () => {
    // Triplet eighths at ppq 480 are 160 ticks apart; played at 0, 163, 318.
    const bytes = smf(0, 480, track(on(0, 0, 60), off(150, 0, 60), on(13, 0, 62), off(150, 0, 62), on(5, 0, 64), off(160, 0, 64)));
    assert.deepEqual(pod(readMidi(bytes)), [
      [60, 0, 160],
      [62, 160, 160],
      [64, 320, 160],
    ]);
  });

  test('a very short note lasts at least one grid step', () => {
    const bytes = smf(0, 480, track(on(0, 9, 42), off(3, 9, 42), on(477, 9, 42), off(0, 9, 42)));
    assert.deepEqual(pod(readMidi(bytes)), [
      [42, 0, 40],
      [42, 480, 40],
    ]);
    assert.deepEqual(pod(readMidi(bytes, { quantize: 0 })), [
      [42, 0, 3],
      [42, 480, 1],
    ]);
  });

  test('quantising removes the overlaps and duplicates it creates, per track and pitch', () => {
    const bytes = smf(
      1,
      480,
      track(
        // Two attacks of pitch 60, 20 ticks apart, snap to one onset: only the longer one stays.
        on(470, 0, 60),
        on(0, 0, 72),
        on(20, 0, 60), // 490: the first 60 ends here
        off(10, 0, 72), // 500
        off(800, 0, 60), // 1300
      ),
      track(on(470, 1, 60), off(500, 1, 60), on(0, 1, 60), off(480, 1, 60)), // another track: its own notes
    );
    const s = readMidi(bytes);
    assert.deepEqual(pod(s, 0), [
      [60, 480, 840],
      [72, 480, 40],
    ]);
    assert.deepEqual(pod(s, 1), [
      [60, 480, 480],
      [60, 960, 480],
    ]);
    const close = smf(0, 480, track(on(0, 0, 50), off(470, 0, 50), on(20, 0, 50), off(460, 0, 50)));
    // 0..470 snaps to 0..480, 490..950 snaps to 480..960: back to back, no overlap.
    assert.deepEqual(pod(readMidi(close)), [
      [50, 0, 480],
      [50, 480, 480],
    ]);
    const same = smf(0, 480, track(on(0, 0, 50), on(5, 0, 50), off(400, 0, 50), off(300, 0, 50)));
    assert.deepEqual(pod(readMidi(same)), [[50, 0, 400]]);
  });

  test('tempo map, rescaled, with 120 bpm when the file starts without one', () => {
    const s = readMidi(smf(1, 96, track(tempo(192, 100), tempo(192, 140)), track(on(0, 0, 60), off(960, 0, 60))));
    assert.deepEqual(
      s.tempos.map((t) => [t.tick, Math.round(t.bpm * 1000) / 1000]),
      [
        [0, 120],
        [960, 100],
        [1920, 140],
      ],
    );
  });
});

describe('readMidi: bars from the meter map', () => {
  test('meter changes start new bars; the piece is rounded up to a whole bar', () => {
    // 2 bars of 4/4 (3840 ticks), then 3/4 for 2 bars (2880), then 6/8; last note ends inside the first 6/8 bar.
    const conductor = track(timeSig(0, 4, 4), timeSig(3840, 3, 4), timeSig(2880, 6, 8));
    const notes = track(on(0, 0, 60), off(480, 0, 60), on(6720 - 480 + 100, 0, 62), off(200, 0, 62));
    const s = readMidi(smf(1, 480, conductor, notes), { quantize: 0 });
    assert.deepEqual(
      s.bars.map((b) => [b.start, b.duration, `${b.meter.num}/${b.meter.den}`]),
      [
        [0, 1920, '4/4'],
        [1920, 1920, '4/4'],
        [3840, 1440, '3/4'],
        [5280, 1440, '3/4'],
        [6720, 1440, '6/8'],
      ],
    );
    assert.equal(s.length, 8160);
    assert.deepEqual(
      s.bars.map((b) => b.written),
      [0, 1, 2, 3, 4],
    );
    assert.equal(s.writtenBars.length, 5);
    assert.deepEqual(
      s.meters.map((m) => [m.tick, m.meter.num, m.meter.den]),
      [
        [0, 4, 4],
        [3840, 3, 4],
        [6720, 6, 8],
      ],
    );
  });

  test('a time signature in the middle of a bar cuts that bar short', () => {
    const s = readMidi(smf(0, 480, track(timeSig(0, 4, 4), timeSig(960, 3, 4), on(0, 0, 60), off(2880, 0, 60))));
    assert.deepEqual(
      s.bars.map((b) => [b.start, b.duration]),
      [
        [0, 960],
        [960, 1440],
        [2400, 1440],
      ],
    );
    for (let i = 1; i < s.bars.length; i++) {
      assert.equal(s.bars[i].start, s.bars[i - 1].start + s.bars[i - 1].duration);
    }
  });

  test('no time signature: 4/4 bars; a restated meter does not restart the bar', () => {
    const s = readMidi(smf(0, 480, track(timeSig(0, 4, 4), timeSig(960, 4, 4), on(0, 0, 60), off(2000, 0, 60))));
    assert.deepEqual(
      s.bars.map((b) => [b.start, b.duration]),
      [
        [0, 1920],
        [1920, 1920],
      ],
    );
    const plain = readMidi(smf(0, 480, track(on(0, 0, 60), off(100, 0, 60))));
    assert.deepEqual(plain.meters, [{ tick: 0, meter: { num: 4, den: 4 } }]);
    assert.deepEqual(plain.bars, [{ start: 0, duration: 1920, meter: { num: 4, den: 4 }, written: 0 }]);
    assert.equal(plain.length, 1920);
  });
});

describe('readMidi: tracks, drums, names, keys', () => {
  test('drums on channel 10 get their own track, flagged, even in a format-0 file', () => {
    const bytes = smf(
      0,
      480,
      track(
        trackName(0, 'Groove'),
        program(0, 0, 33),
        on(0, 0, 40),
        on(0, 9, 36),
        off(240, 9, 36),
        on(0, 9, 38),
        off(240, 0, 40),
        off(0, 9, 38),
      ),
    );
    const s = readMidi(bytes);
    assert.deepEqual(s.tracks, [
      { name: 'Groove (channel 1)', channel: 0, program: 33, isDrum: false },
      { name: 'Groove (channel 10)', channel: 9, program: 0, isDrum: true },
    ]);
    assert.equal(s.meta.title, 'Groove');
    assert.deepEqual(pod(s, 0), [[40, 0, 480]]);
    assert.deepEqual(pod(s, 1), [
      [36, 0, 240],
      [38, 240, 240],
    ]);
    // Melody analysis leaves drums out; they are still in the score.
    assert.equal(notesByBar(s).flat().length, 1);
    assert.equal(notesByBar(s, { includeDrums: true }).flat().length, 3);
  });

  test('format 1: conductor name is the title, track names and programs (also from another track)', () => {
    const bytes = smf(
      1,
      480,
      track(trackName(0, 'Sea Shanty'), program(0, 1, 42)),
      track(trackName(0, 'Fiddle'), program(0, 0, 40), on(0, 0, 76), off(480, 0, 76)),
      track(on(0, 1, 36), off(480, 1, 36)),
      track(meta(0, 0x04, [...'Kit'].map((c) => c.charCodeAt(0))), on(0, 9, 42), off(120, 9, 42)),
    );
    const s = readMidi(bytes);
    assert.equal(s.meta.title, 'Sea Shanty');
    assert.deepEqual(s.tracks, [
      { name: 'Fiddle', channel: 0, program: 40, isDrum: false },
      { name: 'Track 2', channel: 1, program: 42, isDrum: false },
      { name: 'Kit', channel: 9, program: 0, isDrum: true },
    ]);
  });

  test('no title when the first track plays notes in a format-1 file', () => {
    const s = readMidi(smf(1, 480, track(trackName(0, 'Soprano'), on(0, 0, 72), off(480, 0, 72))));
    assert.equal(s.meta.title, undefined);
    assert.equal(s.tracks[0].name, 'Soprano');
  });

  test('key signatures become keys (major and minor), C major by default, nonsense ignored', () => {
    const bytes = smf(
      1,
      480,
      track(keySig(0, 2, false), keySig(1920, 0, true), keySig(1920, -3, true), keySig(1920, 9, false), keySig(1920, -7, false)),
      track(on(0, 0, 60), off(7680, 0, 60)),
    );
    assert.deepEqual(readMidi(bytes).keys, [
      { tick: 0, key: { tonic: 'D', mode: 'major', fifths: 2 } },
      { tick: 1920, key: { tonic: 'A', mode: 'minor', fifths: 0 } },
      { tick: 3840, key: { tonic: 'C', mode: 'minor', fifths: -3 } },
      { tick: 7680, key: { tonic: 'Cb', mode: 'major', fifths: -7 } },
    ]);
    const none = readMidi(smf(0, 480, track(on(0, 0, 60), off(10, 0, 60))));
    assert.deepEqual(none.keys, [{ tick: 0, key: { tonic: 'C', mode: 'major', fifths: 0 } }]);
  });

  test('UTF-8 and Latin-1 names both decode', () => {
    const latin1 = meta(0, 0x03, [0x46, 0x6c, 0xfb, 0x74, 0x65]); // "Flûte" in Latin-1
    const s = readMidi(smf(1, 480, track(trackName(0, 'Chant du départ')), track(latin1, on(0, 0, 70), off(10, 0, 70))));
    assert.equal(s.meta.title, 'Chant du départ');
    assert.equal(s.tracks[0].name, 'Flûte');
  });
});

describe('readMidi: note events as real files write them', () => {
  test('running status and note-on with velocity 0 as note-off', () => {
    const body = [0, 0x90, 60, 80, ...vlq(240), 60, 0, 0, 62, 70, ...vlq(240), 62, 0];
    const s = readMidi(smf(0, 480, [...chunk('MTrk', [...body, 0, 0xff, 0x2f, 0])]));
    assert.deepEqual(pod(s), [
      [60, 0, 240],
      [62, 240, 240],
    ]);
    assert.deepEqual(
      s.notes.map((n) => n.velocity),
      [80, 70],
    );
  });

  test('back-to-back notes of one pitch stay separate whichever event comes first', () => {
    const offFirst = smf(0, 480, track(on(0, 0, 60), off(480, 0, 60), on(0, 0, 60), off(480, 0, 60)));
    const onFirst = smf(0, 480, track(on(0, 0, 60), on(480, 0, 60), off(0, 0, 60), off(480, 0, 60)));
    for (const bytes of [offFirst, onFirst]) {
      assert.deepEqual(pod(readMidi(bytes, { quantize: 0 })), [
        [60, 0, 480],
        [60, 480, 480],
      ]);
    }
  });

  test('a stray note-off is ignored; a note never released ends with its track', () => {
    const s = readMidi(smf(0, 480, track(off(0, 0, 61), on(0, 0, 60), on(480, 0, 64), off(480, 0, 64), meta(960, 0x01, [0x78]))));
    assert.deepEqual(pod(s, 0), [
      [60, 0, 1920],
      [64, 480, 480],
    ]);
  });

  test('a RIFF/RMID wrapper and unknown chunks are read through', () => {
    const inner = [...smf(0, 480, track(on(0, 0, 60), off(480, 0, 60)))];
    const withAlien = new Uint8Array([...inner.slice(0, 14), ...chunk('XFIH', [1, 2, 3]), ...inner.slice(14)]);
    assert.deepEqual(pod(readMidi(withAlien)), [[60, 0, 480]]);
    const le = (n: number): number[] => [n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255];
    const data = [...'data'].map((c) => c.charCodeAt(0));
    const riff = new Uint8Array([
      ...[...'RIFF'].map((c) => c.charCodeAt(0)),
      ...le(4 + 8 + inner.length),
      ...[...'RMID'].map((c) => c.charCodeAt(0)),
      ...data,
      ...le(inner.length),
      ...inner,
    ]);
    assert.deepEqual(pod(readMidi(riff)), [[60, 0, 480]]);
  });

  test('every note gets voice 0 and notes are in canonical order', () => {
    const s = readMidi(smf(1, 480, track(on(480, 0, 67), off(480, 0, 67)), track(on(0, 1, 48), on(0, 1, 55), off(960, 1, 48), off(0, 1, 55))));
    assert.deepEqual(
      s.notes.map((n) => [n.onset, n.track, n.pitch, n.voice]),
      [
        [0, 1, 48, 0],
        [0, 1, 55, 0],
        [480, 0, 67, 0],
      ],
    );
  });
});
