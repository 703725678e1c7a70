/**
 * Export (src/music/export.ts): ABC -> MIDI agrees with abc2midi on the project's ABC fixtures
 * (through the differential harness of test/unit/abc/abc2midiDiff.ts), and MIDI -> ABC -> MIDI
 * round-trips the monophonic fixtures note for note.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAbc } from '../../../src/music/abc/reader';
import { exportableTracks, findPolyphony, pitchName, trackToAbc, tuneToMidi } from '../../../src/music/export';
import { readMidi } from '../../../src/music/midi/reader';
import { writeMidi } from '../../../src/music/midi/writer';
import { MusicInputError } from '../../../src/music/score';
import type { Score } from '../../../src/music/score';
import { KNOWN_DIFFERENCES, abc2midiVoices, compareReadings, fixtureTunes, hasAbc2midi, repoRoot, smfVoices } from '../abc/abc2midiDiff';
import { build } from '../midi/tune';

const available = hasAbc2midi();

test('Export Tune to MIDI: every fixture tune exports the notes abc2midi makes of it, voice by voice', { skip: available ? false : 'abc2midi is not installed' }, () => {
  const root = repoRoot(__dirname);
  const dir = mkdtempSync(join(tmpdir(), 'refrain-export-'));
  const failures: string[] = [];
  let count = 0;
  try {
    for (const { id, text } of fixtureTunes(root)) {
      const read = readAbc(text);
      if (read.tunes.length === 0) {
        continue;
      }
      count++;
      const ours = smfVoices(tuneToMidi(read.tunes[0].score));
      const v = compareReadings(ours, abc2midiVoices(text, dir));
      const known = KNOWN_DIFFERENCES[id];
      if (v.agree ? known !== undefined : known !== v.kind) {
        failures.push(`${id}: ${v.agree ? `agrees, but ${known} was expected` : `${v.kind}: ${v.detail}`}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(count >= 20, `only ${count} fixture tunes exported`);
  assert.deepEqual(failures, []);
});

/** (pitch, onset, duration) of one track, in order. */
function rowsOf(score: Score, track: number): string[] {
  return score.notes
    .filter((n) => n.track === track)
    .sort((a, b) => a.onset - b.onset || a.pitch - b.pitch)
    .map((n) => `${n.pitch}@${n.onset}+${n.duration}`);
}

/** MIDI bytes -> (the editor's reading) -> ABC of one track -> MIDI -> read back: the track's notes. */
function roundTrip(midi: Uint8Array, track: number): { before: string[]; after: string[]; abc: string } {
  const score = readMidi(midi);
  const abc = trackToAbc(score, track);
  const tune = readAbc(abc).tunes[0];
  assert.ok(tune, `the exported ABC does not read back:\n${abc}`);
  const back = readMidi(writeMidi(tune.score));
  return { before: rowsOf(score, track), after: rowsOf(back, 0), abc };
}

test('Export Track to ABC: the MIDI fixture\'s melodic tracks round-trip MIDI -> ABC -> MIDI note for note', () => {
  const midi = new Uint8Array(readFileSync(join(repoRoot(__dirname), 'test/fixtures/midi/harbour-lights.mid')));
  const score = readMidi(midi);
  const tracks = exportableTracks(score);
  const melodic = tracks.filter((t) => !t.problem);
  assert.deepEqual(melodic.map((t) => t.name), ['Flute', 'Bass']);
  for (const t of melodic) {
    const r = roundTrip(midi, t.index);
    assert.ok(r.before.length > 0);
    assert.deepEqual(r.after, r.before, `${t.name}:\n${r.abc}`);
  }
  // The tempo, meter and key maps come along.
  const abc = trackToAbc(score, 0);
  assert.match(abc, /^T:Harbour Lights - Flute$/m);
  assert.match(abc, /^M:/m);
  assert.match(abc, /^Q:/m);
});

test('Export Track to ABC: every monophonic fixture tune, written as MIDI, round-trips MIDI -> ABC -> MIDI note for note', () => {
  const failures: string[] = [];
  let melodies = 0;
  let polyphonic = 0;
  for (const { id, text } of fixtureTunes(repoRoot(__dirname))) {
    const tune = readAbc(text).tunes[0];
    if (!tune) {
      continue;
    }
    // As Export Tune to MIDI writes it: a track per voice.
    const midi = tuneToMidi(tune.score);
    const read = readMidi(midi);
    for (const t of exportableTracks(read)) {
      if (t.problem) {
        polyphonic++;
        assert.throws(() => trackToAbc(read, t.index), (e: unknown) => e instanceof MusicInputError && e.message.includes(`Track ${t.index + 1}`));
        continue;
      }
      melodies++;
      const r = roundTrip(midi, t.index);
      if (JSON.stringify(r.after) !== JSON.stringify(r.before)) {
        const i = r.after.findIndex((x, k) => x !== r.before[k]);
        failures.push(`${id} track ${t.index + 1}: note ${i + 1}: ${r.before[i] ?? 'none'} became ${r.after[i] ?? 'none'}`);
      }
    }
  }
  assert.ok(melodies >= 15, `only ${melodies} monophonic fixture tracks`);
  assert.ok(polyphonic >= 1, 'no polyphonic fixture track: the refusal is untested');
  assert.deepEqual(failures, []);
});

test('a polyphonic track is refused with the track, the bar and the notes named; drums too', () => {
  const score = build({
    title: 'Two Hands',
    tracks: [
      { name: 'Piano', channel: 0, program: 0, isDrum: false },
      { name: 'Tune', channel: 1, program: 73, isDrum: false },
      { name: 'Kit', channel: 9, program: 0, isDrum: true },
    ],
    notes: [
      [0, 60, 0, 1920],
      [0, 60, 1920, 480],
      [0, 64, 2400, 480],
      [0, 67, 2400, 480],
      [1, 72, 0, 500], // held 20 ticks into the next: legato, still a melody
      [1, 74, 480, 480],
      [2, 36, 0, 120],
    ],
  });
  assert.deepEqual(findPolyphony(score, 0), { tick: 2400, bar: 2, pitches: [64, 67] });
  assert.equal(findPolyphony(score, 1), undefined);
  const infos = exportableTracks(score);
  assert.equal(infos[0].problem, 'it is polyphonic: E4 and G4 sound together at bar 2, beat 2');
  assert.equal(infos[1].problem, undefined);
  assert.match(infos[2].problem ?? '', /drum track/);
  assert.throws(() => trackToAbc(score, 0), (e: unknown) => e instanceof MusicInputError && e.code === 'export-polyphonic' && /Track 1 \("Piano"\).*E4 and G4.*bar 2/.test(e.message));
  assert.throws(() => trackToAbc(score, 2), (e: unknown) => e instanceof MusicInputError && e.code === 'export-drums');
  assert.throws(() => trackToAbc(score, 7), (e: unknown) => e instanceof MusicInputError && e.code === 'export-no-track');
  // The legato note is cut where the next starts.
  const back = readAbc(trackToAbc(score, 1)).tunes[0].score;
  assert.deepEqual(rowsOf(back, 0), ['72@0+480', '74@480+480']);
  assert.equal(pitchName(60), 'C4');
  assert.equal(pitchName(70), 'Bb4');
});

test('two voices on one staff export as two MIDI tracks', () => {
  const text = 'X:1\nT:Duet\nM:2/4\nL:1/8\n%%score (S A)\nV:S\nV:A\nK:C\nV:S\nc2 e2|]\nV:A\nC2 E2|]\n';
  const score = readAbc(text).tunes[0].score;
  const back = readMidi(tuneToMidi(score));
  assert.equal(back.tracks.length, 2);
  assert.deepEqual(rowsOf(back, 0), ['72@0+480', '76@480+480']);
  assert.deepEqual(rowsOf(back, 1), ['60@0+480', '64@480+480']);
});

test('a tune without notes is refused', () => {
  const tune = readAbc('X:1\nT:Silence\nM:4/4\nL:1/8\nK:C\nC8|]\n').tunes[0].score;
  assert.throws(() => tuneToMidi({ ...tune, notes: [] }), (e: unknown) => e instanceof MusicInputError && e.code === 'export-empty');
});
