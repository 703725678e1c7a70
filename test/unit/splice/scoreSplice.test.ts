import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readMidi } from '../../../src/music/midi/reader';
import { writeMidi } from '../../../src/music/midi/writer';
import { MusicInputError, sortNotes } from '../../../src/music/score';
import type { Note, Score, Track } from '../../../src/music/score';
import { spliceScore } from '../../../src/music/splice';
import { scoreFromMeters } from '../scoreBuilder';

const BAR = 1920;
const PIANO: Track = { name: 'Piano', channel: 0, program: 0, isDrum: false };
const BASS: Track = { name: 'Bass', channel: 1, program: 32, isDrum: false };
const DRUMS: Track = { name: 'Drums', channel: 9, program: 0, isDrum: true };

function n(track: number, pitch: number, onset: number, duration: number, velocity = 90): Note {
  return { pitch, onset, duration, velocity, track, voice: 0 };
}

/** A MIDI-like score (bars from the meter map, one written bar per bar). */
function midiScore(tracks: Track[], notes: Note[], bars: number, extra: Partial<Score> = {}): Score {
  return { ...scoreFromMeters({ meta: { title: 'Sketch' }, tracks, notes, meters: extra.meters, end: bars * BAR }), ...extra };
}

function pianoBar(k: number, root: number): Note[] {
  return [0, 1, 2, 3].map((q) => n(0, root + [0, 4, 7, 12][q], k * BAR + q * 480, 480));
}
function bassBar(k: number, root: number): Note[] {
  return [n(1, root - 24, k * BAR, 960), n(1, root - 17, k * BAR + 960, 960)];
}
function drumBar(k: number, track = 2): Note[] {
  return [n(track, 36, k * BAR, 120, 110), n(track, 38, k * BAR + 480, 120), n(track, 36, k * BAR + 960, 120, 110), n(track, 38, k * BAR + 1440, 120)];
}

/** A four-bar sketch: piano, bass and drums. */
function sketch(): Score {
  const notes: Note[] = [];
  [60, 65, 67, 60].forEach((root, k) => notes.push(...pianoBar(k, root), ...bassBar(k, root), ...drumBar(k)));
  return midiScore([PIANO, BASS, DRUMS], notes, 4);
}

/** Rows `track:pitch@onset/duration v velocity`, sorted. */
function rows(notes: readonly Note[], filter: (x: Note) => boolean = () => true): string[] {
  return notes.filter(filter).map((x) => `${x.track}:${x.pitch}@${x.onset}/${x.duration} v${x.velocity}`).sort();
}

function roundTrip(score: Score): Score {
  return readMidi(writeMidi(score), { quantize: 0 });
}

describe('spliceScore', () => {
  test('appending generated bars keeps the drum and bass tracks, and round-trips through writeMidi/readMidi', () => {
    const base = sketch();
    // The engine's piece: piano and drums (the bass was not in its output), two new piano bars.
    const genNotes: Note[] = [];
    [60, 65, 67, 60].forEach((root, k) => genNotes.push(...pianoBar(k, root), ...drumBar(k, 1)));
    const fresh = [n(0, 72, 4 * BAR, 960), n(0, 71, 4 * BAR + 960, 960), n(0, 69, 5 * BAR, 160), n(0, 71, 5 * BAR + 160, 160), n(0, 72, 5 * BAR + 320, 1600)];
    const generated = midiScore([{ ...PIANO }, { ...DRUMS }], [...genNotes, ...fresh], 6, { tempos: [{ tick: 0, bpm: 120 }, { tick: 4 * BAR, bpm: 100 }] });

    const out = spliceScore(base, generated, { from: 4, to: 6 });
    assert.equal(out.bars.length, 6);
    assert.equal(out.length, 6 * BAR);
    assert.deepEqual(out.bars.map((b) => [b.start, b.duration, b.written]), [0, 1, 2, 3, 4, 5].map((k) => [k * BAR, BAR, k]));
    assert.equal(out.writtenBars.length, 6);
    assert.deepEqual(out.tracks, base.tracks);
    assert.deepEqual(rows(out.notes, (x) => x.track !== 0), rows(base.notes, (x) => x.track !== 0), 'bass and drums untouched');
    assert.deepEqual(rows(out.notes, (x) => x.track === 0), rows([...base.notes.filter((x) => x.track === 0), ...fresh]), 'piano: old bars and new ones');
    assert.deepEqual(out.tempos, [{ tick: 0, bpm: 120 }, { tick: 4 * BAR, bpm: 100 }]);
    assert.equal(base.bars.length, 4, 'the base is not changed');

    const back = roundTrip(out);
    assert.deepEqual(rows(back.notes), rows(out.notes));
    assert.deepEqual(back.tracks, out.tracks);
    assert.deepEqual(back.tempos, out.tempos);
    assert.deepEqual(back.bars.map((b) => [b.start, b.duration]), out.bars.map((b) => [b.start, b.duration]));
  });

  test('regenerating bars in the middle replaces only the generated tracks there', () => {
    const base = sketch();
    const genNotes: Note[] = [];
    [60, 65, 67, 60].forEach((root, k) => genNotes.push(...(k === 1 || k === 2 ? [] : [...pianoBar(k, root), ...drumBar(k, 1)])));
    const newPiano = [n(0, 77, BAR, 1920), n(0, 79, 2 * BAR, 960), n(0, 76, 2 * BAR + 960, 960)];
    const hats = [n(1, 42, BAR, 120), n(1, 42, 2 * BAR, 120)];
    const generated = midiScore([{ ...PIANO }, { ...DRUMS }], [...genNotes, ...newPiano, ...hats], 4);
    const inSpan = (x: Note): boolean => x.onset >= BAR && x.onset < 3 * BAR;

    // Only the piano was generated (the engine says so): the base drums stay.
    const pianoOnly = spliceScore(base, generated, { from: 1, to: 3 }, { tracks: [0] });
    assert.deepEqual(rows(pianoOnly.notes, (x) => x.track !== 0), rows(base.notes, (x) => x.track !== 0));
    assert.deepEqual(rows(pianoOnly.notes, (x) => x.track === 0 && inSpan(x)), rows(newPiano));
    assert.deepEqual(rows(pianoOnly.notes, (x) => x.track === 0 && !inSpan(x)), rows(base.notes, (x) => x.track === 0 && !inSpan(x)));
    assert.equal(pianoOnly.bars.length, 4);

    // By default every generated track with notes in the span is taken: drums too, bass kept.
    const both = spliceScore(base, generated, { from: 1, to: 3 });
    assert.deepEqual(rows(both.notes, (x) => x.track === 2 && inSpan(x)), rows(hats.map((h) => ({ ...h, track: 2 }))));
    assert.deepEqual(rows(both.notes, (x) => x.track === 2 && !inSpan(x)), rows(base.notes, (x) => x.track === 2 && !inSpan(x)));
    assert.deepEqual(rows(both.notes, (x) => x.track === 1), rows(base.notes, (x) => x.track === 1));
    assert.deepEqual(rows(roundTrip(both).notes), rows(both.notes));
  });

  test('tracks are matched by name, drum flag or channel; an unknown one is added; notes ringing into the span are cut', () => {
    const base = sketch();
    base.notes.push(n(0, 84, 3 * BAR + 960, 1920));
    sortNotes(base.notes);
    const generated = midiScore(
      [{ name: 'Melody', channel: 0, program: 0, isDrum: false }, { name: 'Strings', channel: 5, program: 48, isDrum: false }],
      [n(0, 74, 4 * BAR, 1920), n(1, 55, 4 * BAR, 1920), n(1, 57, 4 * BAR, 1920)],
      5,
    );
    const out = spliceScore(base, generated, { from: 3, to: 5 });
    assert.deepEqual(out.tracks.map((t) => t.name), ['Piano', 'Bass', 'Drums', 'Strings']);
    assert.deepEqual(rows(out.notes, (x) => x.track === 3), ['3:55@7680/1920 v90', '3:57@7680/1920 v90']);
    assert.deepEqual(rows(out.notes, (x) => x.track === 0 && x.onset >= 3 * BAR), ['0:74@7680/1920 v90'], 'piano bar 4 was regenerated (empty) and bar 5 added');
    assert.deepEqual(rows(out.notes, (x) => x.track === 1), rows(base.notes, (x) => x.track === 1));

    const mapped = spliceScore(base, generated, { from: 4, to: 5 }, { trackMap: { 0: 1 }, tracks: [0] });
    assert.deepEqual(rows(mapped.notes, (x) => x.onset >= 4 * BAR), ['1:74@7680/1920 v90']);
    assert.equal(mapped.notes.find((x) => x.pitch === 84)?.duration, 1920, 'appending cuts nothing');
    const cut = spliceScore(base, midiScore([{ ...PIANO }], [n(0, 60, 3 * BAR, 1920)], 4), { from: 3, to: 4 });
    assert.equal(cut.notes.filter((x) => x.pitch === 84).length, 0, 'a replaced note starting in the span is gone');
  });

  test('new bars in another meter: bars, meter map and length follow', () => {
    const base = sketch();
    const generated = midiScore([{ ...PIANO }], [n(0, 67, 4 * BAR, 1440)], 5, {
      meters: [{ tick: 0, meter: { num: 4, den: 4 } }, { tick: 4 * BAR, meter: { num: 3, den: 4 } }],
    });
    generated.bars = generated.bars.slice(0, 5);
    generated.length = 4 * BAR + 1440;
    const out = spliceScore(base, generated, { from: 4, to: 5 });
    assert.deepEqual(out.meters, [{ tick: 0, meter: { num: 4, den: 4 } }, { tick: 4 * BAR, meter: { num: 3, den: 4 } }]);
    assert.equal(out.length, 4 * BAR + 1440);
    const back = roundTrip(out);
    assert.deepEqual(back.meters, out.meters);
    assert.deepEqual(back.bars.map((b) => b.duration), [BAR, BAR, BAR, BAR, 1440]);
  });

  test('a regenerated span that changes length, or a bad range, throws MusicInputError', () => {
    const base = sketch();
    const short = midiScore([{ ...PIANO }], [n(0, 67, BAR, 1440)], 4, {
      meters: [{ tick: 0, meter: { num: 4, den: 4 } }, { tick: BAR, meter: { num: 3, den: 4 } }, { tick: BAR + 1440, meter: { num: 4, den: 4 } }],
    });
    assert.throws(
      () => spliceScore(base, short, { from: 1, to: 2 }),
      (e: unknown) => e instanceof MusicInputError && e.code === 'splice-span-length',
    );
    const gen = midiScore([{ ...PIANO }], [n(0, 60, 0, 480)], 8);
    for (const span of [{ from: 6, to: 7 }, { from: 2, to: 2 }, { from: 3, to: 9 }]) {
      assert.throws(
        () => spliceScore(base, gen, span),
        (e: unknown) => e instanceof MusicInputError && e.code === 'splice-bad-range',
      );
    }
    assert.throws(
      () => spliceScore(base, gen, { from: 4, to: 5 }, { trackMap: { 0: 7 }, tracks: [0] }),
      (e: unknown) => e instanceof MusicInputError && e.code === 'splice-bad-track',
    );
  });
});
