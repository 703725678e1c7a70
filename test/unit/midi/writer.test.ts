import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Midi } from '@tonejs/midi';
import { readMidi } from '../../../src/music/midi/reader';
import { midiRoundTrip } from '../../../src/music/midi/roundtrip';
import { midiChannels, writeMidi } from '../../../src/music/midi/writer';
import { MusicInputError } from '../../../src/music/score';
import { build, harbourLights, rows } from './tune';

describe('writeMidi then readMidi', () => {
  test('gives back the same notes, tracks and maps', () => {
    const score = build(harbourLights);
    const bytes = writeMidi(score);
    assert.equal(String.fromCharCode(...bytes.subarray(0, 4)), 'MThd');
    assert.deepEqual([...bytes.subarray(8, 14)], [0, 1, 0, 4, 1, 224]); // format 1, 4 tracks, 480 PPQ
    for (const quantize of [0, 12]) {
      const back = readMidi(bytes, { quantize });
      assert.deepEqual(rows(back), rows(score));
      assert.deepEqual(back.tracks, score.tracks);
      assert.equal(back.meta.title, 'Harbour Lights');
      assert.deepEqual(back.meters, score.meters);
      assert.deepEqual(back.keys, score.keys);
      assert.deepEqual(
        back.tempos.map((t) => [t.tick, Math.round(t.bpm * 1e4) / 1e4]),
        [
          [0, 96],
          [3360, 72.5],
        ],
      );
      assert.deepEqual(back.bars, score.bars);
      assert.equal(back.length, score.length);
    }
    assert.deepEqual(midiRoundTrip(score), { ok: true });
  });

  test('reading back is stable: write(read(write(s))) is byte-identical', () => {
    const first = writeMidi(build(harbourLights));
    const second = writeMidi(readMidi(first, { quantize: 0 }));
    assert.deepEqual([...second], [...first]);
  });

  test('an independent reader (@tonejs/midi) sees the same notes, tempo, meter and key', () => {
    const score = build(harbourLights);
    const midi = new Midi(writeMidi(score));
    assert.equal(midi.header.ppq, 480);
    assert.equal(midi.header.name, 'Harbour Lights');
    assert.deepEqual(
      midi.header.timeSignatures.map((t) => [t.ticks, ...t.timeSignature]),
      [
        [0, 4, 4],
        [1920, 3, 4],
        [3360, 6, 8],
      ],
    );
    assert.deepEqual(
      midi.header.keySignatures.map((k) => [k.ticks, k.key, k.scale]),
      [
        [0, 'D', 'major'],
        [3360, 'D', 'minor'], // tonejs names the signature's major key
      ],
    );
    assert.equal(Math.round(midi.header.tempos[1].bpm * 100) / 100, 72.5);
    const theirs = midi.tracks
      .flatMap((t, i) => t.notes.map((n) => [i, n.midi, n.ticks, n.durationTicks, Math.round(n.velocity * 127)]))
      .sort((a, b) => a[0] - b[0] || a[2] - b[2] || a[1] - b[1]);
    assert.deepEqual(theirs, rows(score));
    assert.deepEqual(
      midi.tracks.map((t) => [t.name, t.channel, t.instrument.number, t.instrument.percussion]),
      [
        ['Flute', 0, 73, false],
        ['Bass', 1, 32, false],
        ['Drums', 9, 0, true],
      ],
    );
  });

  test('non-ASCII titles and track names survive', () => {
    const score = build({
      title: 'Chanson d’été',
      tracks: [{ name: 'Flûte à bec 笛', channel: 0, program: 74, isDrum: false }],
      notes: [[0, 72, 0, 480]],
    });
    const back = readMidi(writeMidi(score));
    assert.equal(back.meta.title, 'Chanson d’été');
    assert.equal(back.tracks[0].name, 'Flûte à bec 笛');
  });

  test('channels: drums go to channel 10, a melodic track off channel 10', () => {
    const score = build({
      tracks: [
        { name: 'Lead', channel: 9, program: 80, isDrum: false },
        { name: 'Pad', channel: 0, program: 88, isDrum: false },
        { name: 'Kit', channel: 3, program: 0, isDrum: true },
      ],
      notes: [
        [0, 72, 0, 480],
        [1, 60, 0, 1920],
        [2, 36, 0, 120],
      ],
    });
    assert.deepEqual(midiChannels(score), [1, 0, 9]);
    const back = readMidi(writeMidi(score));
    assert.deepEqual(
      back.tracks.map((t) => [t.name, t.channel, t.isDrum]),
      [
        ['Lead', 1, false],
        ['Pad', 0, false],
        ['Kit', 9, true],
      ],
    );
    assert.deepEqual(midiRoundTrip(score), { ok: true });
  });

  test('an empty track is written but read back without it; the round trip still holds', () => {
    const score = build({
      tracks: [
        { name: 'Silent', channel: 0, program: 0, isDrum: false },
        { name: 'Voice', channel: 1, program: 52, isDrum: false },
      ],
      notes: [
        [1, 67, 0, 960],
        [1, 69, 960, 960],
      ],
    });
    const back = readMidi(writeMidi(score));
    assert.deepEqual(
      back.tracks.map((t) => t.name),
      ['Voice'],
    );
    assert.deepEqual(
      back.notes.map((n) => n.track),
      [0, 0],
    );
    assert.deepEqual(midiRoundTrip(score), { ok: true });
  });
});

describe('midiRoundTrip reports what MIDI cannot keep', () => {
  test('overlapping notes of one pitch in one track', () => {
    const score = build({
      tracks: [{ name: 'Piano', channel: 0, program: 0, isDrum: false }],
      notes: [
        [0, 60, 0, 960],
        [0, 60, 480, 960],
      ],
    });
    const r = midiRoundTrip(score);
    assert.equal(r.ok, false);
    assert.match(r.detail ?? '', /note 0: expected pitch 60 onset 0 duration 960/);
  });

  test('what MIDI cannot hold is refused by the writer: fractional ticks, odd meters, far ticks, too many tracks, pitch 128', () => {
    const fractional = build({ tracks: [{ name: 'A', channel: 0, program: 0, isDrum: false }], notes: [[0, 60, 0.5, 480]] });
    assert.throws(() => writeMidi(fractional), (e: unknown) => e instanceof MusicInputError && e.code === 'midi-write-invalid');
    const r = midiRoundTrip(fractional);
    assert.equal(r.ok, false);
    assert.match(r.detail ?? '', /midi-write-invalid/);
    const odd = build({ tracks: [{ name: 'A', channel: 0, program: 0, isDrum: false }], notes: [[0, 60, 0, 480]] });
    odd.meters = [{ tick: 0, meter: { num: 4, den: 3 } }];
    assert.throws(() => writeMidi(odd), (e: unknown) => e instanceof MusicInputError && e.code === 'midi-write-meter');
    const late = build({ tracks: [{ name: 'A', channel: 0, program: 0, isDrum: false }], notes: [[0, 60, 0, 480]] });
    late.notes.push({ track: 0, pitch: 62, onset: 2 ** 29, duration: 480, velocity: 90, voice: 0 });
    assert.throws(() => writeMidi(late), (e: unknown) => e instanceof MusicInputError && e.code === 'midi-write-invalid');
    const crowded = build({ tracks: [{ name: 'A', channel: 0, program: 0, isDrum: false }], notes: [[0, 60, 0, 480]] });
    crowded.tracks = Array.from({ length: 65_535 }, (_, i) => ({ name: `T${i}`, channel: 0, program: 0, isDrum: false }));
    assert.throws(() => writeMidi(crowded), (e: unknown) => e instanceof MusicInputError && e.code === 'midi-write-invalid');
    const high = build({ tracks: [{ name: 'A', channel: 0, program: 0, isDrum: false }], notes: [[0, 128, 0, 480]] });
    assert.throws(() => writeMidi(high), (e: unknown) => e instanceof MusicInputError && e.code === 'midi-write-invalid');
  });

  test('two notes of one pitch starting together in one track', () => {
    const score = build({
      tracks: [{ name: 'Piano', channel: 0, program: 0, isDrum: false }],
      notes: [
        [0, 64, 0, 480],
        [0, 64, 0, 240],
      ],
    });
    const r = midiRoundTrip(score);
    assert.equal(r.ok, false);
    assert.match(r.detail ?? '', /notes: expected 2, read back 1/);
  });
});

describe('the MIDI fixture', () => {
  test('test/fixtures/midi/harbour-lights.mid reads as the tune it was written from', () => {
    const candidates = [resolve(__dirname, '../../../../test/fixtures/midi'), resolve(process.cwd(), 'test/fixtures/midi')];
    const dir = candidates.find((d) => existsSync(join(d, 'harbour-lights.mid')));
    assert.ok(dir, `fixture not found in ${candidates.join(', ')}`);
    const back = readMidi(new Uint8Array(readFileSync(join(dir, 'harbour-lights.mid'))));
    const score = build(harbourLights);
    assert.deepEqual(rows(back), rows(score));
    assert.deepEqual(back.tracks, score.tracks);
    assert.deepEqual(back.bars, score.bars);
    assert.equal(back.meta.title, 'Harbour Lights');
  });
});
