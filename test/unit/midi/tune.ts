/**
 * Scores for the MIDI tests, built from compact specs, and one little tune of our own that
 * exercises tracks, drums, triplets, meter, key and tempo changes. The fixture
 * `test/fixtures/midi/harbour-lights.mid` was written from {@link harbourLights} by writeMidi.
 */

import type { KeyChange, MeterChange, Note, Score, TempoChange, Track } from '../../../src/music/score';
import { scoreFromMeters } from '../scoreBuilder';

/** A score in brief. */
export interface Spec {
  title?: string;
  tracks: Track[];
  /** [track, pitch, onset, duration, velocity?] */
  notes: [number, number, number, number, number?][];
  tempos?: TempoChange[];
  meters?: MeterChange[];
  keys?: KeyChange[];
}

/** A Score from a compact spec, bars derived from its meters. */
export function build(spec: Spec): Score {
  const notes: Note[] = spec.notes.map(([track, pitch, onset, duration, velocity]) => ({
    track,
    pitch,
    onset,
    duration,
    velocity: velocity ?? 96,
    voice: 0,
  }));
  return scoreFromMeters({
    meta: spec.title ? { title: spec.title } : {},
    notes,
    tracks: spec.tracks,
    tempos: spec.tempos,
    meters: spec.meters,
    keys: spec.keys,
  });
}

/** [track, pitch, onset, duration, velocity] of every note, sorted. */
export function rows(score: Score): number[][] {
  return score.notes
    .map((n) => [n.track, n.pitch, n.onset, n.duration, n.velocity])
    .sort((a, b) => a[0] - b[0] || a[2] - b[2] || a[1] - b[1]);
}

// A little tune of our own: a flute melody with eighth-note triplets, a bass line, a drum
// pattern; 4/4 then 3/4 then 6/8; D major then B minor; 96 bpm slowing to 72.5.
export const harbourLights: Spec = {
  title: 'Harbour Lights',
  tracks: [
    { name: 'Flute', channel: 0, program: 73, isDrum: false },
    { name: 'Bass', channel: 1, program: 32, isDrum: false },
    { name: 'Drums', channel: 9, program: 0, isDrum: true },
  ],
  notes: [
    [0, 74, 0, 480, 100],
    [0, 78, 480, 160, 80],
    [0, 76, 640, 160, 81],
    [0, 74, 800, 160, 82],
    [0, 81, 960, 960, 110],
    [0, 81, 1920, 240, 64], // same pitch, back to back
    [0, 79, 2160, 240, 64],
    [0, 78, 2400, 1440],
    [0, 71, 3840, 720, 1],
    [0, 73, 4560, 720, 127],
    [1, 38, 0, 1920, 90],
    [1, 45, 1920, 1440, 90],
    [1, 35, 3360, 1200, 90],
    [2, 36, 0, 120, 120],
    [2, 42, 0, 120, 70],
    [2, 38, 480, 120, 110],
    [2, 42, 480, 120, 70],
    [2, 36, 960, 120, 120],
    [2, 42, 960, 120, 70],
  ],
  tempos: [
    { tick: 0, bpm: 96 },
    { tick: 3360, bpm: 72.5 },
  ],
  meters: [
    { tick: 0, meter: { num: 4, den: 4 } },
    { tick: 1920, meter: { num: 3, den: 4 } },
    { tick: 3360, meter: { num: 6, den: 8 } },
  ],
  keys: [
    { tick: 0, key: { tonic: 'D', mode: 'major', fifths: 2 } },
    { tick: 3360, key: { tonic: 'B', mode: 'minor', fifths: 2 } },
  ],
};
