/**
 * Export between the two formats Refrain reads: an ABC tune as a MIDI file, and one monophonic
 * MIDI track as an ABC tune. The commands `refrain.exportTuneToMidi` and
 * `refrain.exportTrackToAbc` are the vscode fronts of these functions.
 *
 * Pure TypeScript: no vscode, no DOM, no Node-only APIs.
 */

import { writeAbc } from './abc/writer';
import { writeMidi } from './midi/writer';
import { MusicInputError, TPQ, barIndexAt, sortNotes } from './score';
import type { Note, Score } from './score';

/**
 * Largest overlap, in ticks, between one note and the next (later-starting) note of a track that
 * still counts as one melody: a sixteenth. Performed MIDI often holds a note a little into the
 * next (legato); such a note is cut where the next starts. Longer overlaps, and notes starting
 * together, are polyphony.
 */
export const LEGATO_OVERLAP = TPQ / 4;

const NOTE_NAMES = ['C', 'C#', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'Ab', 'A', 'Bb', 'B'];

/** A MIDI pitch as a name with octave, `C4` = 60. */
export function pitchName(pitch: number): string {
  return `${NOTE_NAMES[((pitch % 12) + 12) % 12]}${Math.floor(pitch / 12) - 1}`;
}

/**
 * An ABC tune as Standard MIDI File bytes: one MIDI track per ABC voice (two voices sharing a
 * staff, `%%score (S A)`, get a track each, as abc2midi writes them), performed order with the
 * repeats played.
 */
export function tuneToMidi(score: Score): Uint8Array {
  if (score.notes.length === 0) {
    throw new MusicInputError('export-empty', 'This tune has no notes to export as MIDI.');
  }
  return writeMidi(voicesAsTracks(score));
}

/** A score with one track per (track, voice) pair that has notes, in track then voice order. */
export function voicesAsTracks(score: Score): Score {
  const keys = [...new Set(score.notes.map((n) => `${n.track}:${n.voice}`))]
    .map((k) => k.split(':').map(Number) as [number, number])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (keys.every(([, voice]) => voice === 0)) {
    return score;
  }
  const index = new Map(keys.map(([t, v], i) => [`${t}:${v}`, i]));
  const perTrack = new Map<number, number>();
  for (const [t] of keys) {
    perTrack.set(t, (perTrack.get(t) ?? 0) + 1);
  }
  const tracks = keys.map(([t, v]) => {
    const track = score.tracks[t];
    return { ...track, name: (perTrack.get(t) ?? 0) > 1 ? `${track.name} ${v + 1}` : track.name };
  });
  const notes = score.notes.map((n) => ({ ...n, track: index.get(`${n.track}:${n.voice}`) ?? 0, voice: 0 }));
  return { ...score, tracks, notes: sortNotes(notes) };
}

/** Where a track plays more than one note at once: the first place found. */
export interface Polyphony {
  /** Tick where the second note starts. */
  readonly tick: number;
  /** 1-based bar number of that tick. */
  readonly bar: number;
  /** The pitches sounding together there. */
  readonly pitches: readonly number[];
}

/** One track of a score as the export quick pick lists it. */
export interface TrackExportInfo {
  /** Index into `score.tracks`. */
  readonly index: number;
  readonly name: string;
  readonly notes: number;
  readonly isDrum: boolean;
  /** Why the track cannot be written as one ABC melody, in words; undefined when it can. */
  readonly problem?: string;
  readonly polyphony?: Polyphony;
}

/** The notes of one track, by onset then pitch. */
function notesOf(score: Score, track: number): Note[] {
  return sortNotes(score.notes.filter((n) => n.track === track));
}

/**
 * The first place where `track` plays two notes at once: two notes starting together, or a
 * note held more than {@link LEGATO_OVERLAP} into the next. Undefined for a melody.
 */
export function findPolyphony(score: Score, track: number): Polyphony | undefined {
  const notes = notesOf(score, track);
  for (let i = 1; i < notes.length; i++) {
    const a = notes[i - 1];
    const b = notes[i];
    const overlap = a.onset + a.duration - b.onset;
    if (b.onset === a.onset || overlap > LEGATO_OVERLAP) {
      const sounding = notes.filter((n) => n.onset <= b.onset && n.onset + n.duration > b.onset).map((n) => n.pitch);
      return { tick: b.onset, bar: barIndexAt(score.bars, b.onset) + 1, pitches: [...new Set(sounding)].sort((x, y) => x - y) };
    }
  }
  return undefined;
}

/** Where a tick lies, in words: `bar 5, beat 2` (beats are the meter's own). */
function placeText(score: Score, tick: number, bar: number): string {
  const b = score.bars[bar - 1];
  if (!b) {
    return `bar ${bar}`;
  }
  const beat = (TPQ * 4) / b.meter.den;
  const at = (tick - b.start) / beat + 1;
  return `bar ${bar}, beat ${Number.isInteger(at) ? at : at.toFixed(2)}`;
}

/** Every track of a score with notes, with why it cannot be exported (drums, polyphony) if so. */
export function exportableTracks(score: Score): TrackExportInfo[] {
  const out: TrackExportInfo[] = [];
  score.tracks.forEach((t, index) => {
    const notes = score.notes.filter((n) => n.track === index).length;
    if (notes === 0) {
      return;
    }
    const base = { index, name: t.name || `Track ${index + 1}`, notes, isDrum: t.isDrum };
    if (t.isDrum) {
      out.push({ ...base, problem: 'it is a drum track: drum hits have no melody to write as ABC notes' });
      return;
    }
    const poly = findPolyphony(score, index);
    if (poly) {
      const all = poly.pitches.map(pitchName);
      const names = all.length > 1 ? `${all.slice(0, -1).join(', ')} and ${all[all.length - 1]}` : all.join('');
      out.push({ ...base, polyphony: poly, problem: `it is polyphonic: ${names} sound together at ${placeText(score, poly.tick, poly.bar)}` });
      return;
    }
    out.push(base);
  });
  return out;
}

/** Options of {@link trackToAbc}. */
export interface TrackToAbcOptions {
  /** `T:` of the tune (default: the score's title with the track's name). */
  readonly title?: string;
  /** `X:` number (default 1). */
  readonly reference?: number;
}

/**
 * One monophonic track of a score as an ABC tune: its notes (a note held a little into the next
 * is cut where the next starts), the score's meters, keys and tempo. Reading the result back
 * gives the same pitches, onsets and durations.
 *
 * Throws `MusicInputError('export-no-track')` for a track that is missing or has no notes,
 * `'export-drums'` for a drum track and `'export-polyphonic'` (naming the track, the bar and
 * the notes) for a track that plays several notes at once.
 */
export function trackToAbc(score: Score, track: number, options: TrackToAbcOptions = {}): string {
  const info = exportableTracks(score).find((t) => t.index === track);
  if (!info) {
    throw new MusicInputError('export-no-track', `Track ${track + 1} has no notes to export as ABC.`);
  }
  if (info.problem) {
    const code = info.isDrum ? 'export-drums' : 'export-polyphonic';
    const advice = info.isDrum ? 'choose a melodic track.' : 'ABC export takes a track that plays one note at a time; choose another track.';
    throw new MusicInputError(code, `Track ${track + 1} ("${info.name}") cannot be exported as ABC: ${info.problem}. ${advice}`);
  }
  const notes = notesOf(score, track).map((n) => ({ ...n, track: 0, voice: 0 }));
  for (let i = 0; i + 1 < notes.length; i++) {
    const end = notes[i].onset + notes[i].duration;
    if (end > notes[i + 1].onset) {
      notes[i] = { ...notes[i], duration: notes[i + 1].onset - notes[i].onset };
    }
  }
  const source = score.tracks[track];
  const title = options.title ?? [score.meta.title, source.name].filter((s) => s && s.trim() !== '').join(' - ');
  const single: Score = {
    ...score,
    meta: { title: title || `Track ${track + 1}` },
    notes,
    tracks: [{ ...source }],
    chords: [],
  };
  return writeAbc(single, { reference: options.reference ?? 1 });
}
