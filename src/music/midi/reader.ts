/**
 * MIDI file -> {@link Score}.
 *
 * The bytes are scanned by {@link scanSmf} (our own bounded, validating parser; see the
 * module notes of `smf.ts` for why `@tonejs/midi` is not on this path), then rescaled from
 * the file's resolution to {@link TPQ}, optionally quantised, and given bars from the
 * time-signature map.
 *
 * Tracks: one Score track per (MIDI track, channel) that has notes, in file order, so a
 * format-0 file is split by channel and drums (channel index 9, "channel 10") always get a
 * track of their own, flagged `isDrum`. Program: the track's first program change on that
 * channel, else the earliest one on that channel anywhere in the file, else 0.
 *
 * Pure TypeScript: no vscode, no DOM, no Node-only APIs.
 */

import { MusicInputError, TPQ, sortNotes } from '../score';
import type { KeyChange, MeterChange, Note, Score, TempoChange, Track } from '../score';
import { barsFromMeters, keyFromSignature, normalizeKeys, normalizeMeters, normalizeTempos } from './maps';
import { scanSmf } from './smf';
import type { SmfFile, SmfTrack } from './smf';

/** Options of {@link readMidi}. */
export interface MidiReadOptions {
  /**
   * Grid steps per quarter note that onsets and offsets snap to; must divide 480. Default
   * {@link DEFAULT_QUANTIZE} (12: sixteenths and eighth-note triplets). 0 keeps the file's
   * timing, only rescaled to 480 ticks per quarter.
   */
  quantize?: number;
  /** Largest file accepted, in bytes. Default {@link DEFAULT_MAX_MIDI_BYTES} (10 MB). */
  maxBytes?: number;
}

/** Default grid: 12 steps per quarter (sixteenths and eighth-note triplets). */
export const DEFAULT_QUANTIZE = 12;
/** Default size limit: 10 MB. */
export const DEFAULT_MAX_MIDI_BYTES = 10 * 1024 * 1024;
/** Longest piece read, in quarter notes (about 14 hours at 120 bpm). */
export const MAX_QUARTERS = 100_000;

/** The name a track without one gets: `'Drums'` or `'Track N'` (N from 1). */
export function defaultTrackName(index: number, isDrum: boolean): string {
  return isDrum ? 'Drums' : `Track ${index + 1}`;
}

/**
 * Reads a Standard MIDI File (format 0, 1 or 2; RIFF/RMID wrapping accepted) into a Score.
 *
 * With quantisation, onsets and offsets snap to the grid, every note lasts at least one grid
 * step, and tempo, meter and key changes snap too. Then, in each track, notes of one pitch
 * never overlap: a note is cut where the next note of that pitch starts, and of several
 * notes of one pitch starting together only the longest is kept.
 *
 * Throws {@link MusicInputError} for anything wrong with the input: `midi-empty`,
 * `midi-too-large`, `midi-not-midi`, `midi-truncated`, `midi-corrupt`, `midi-bad-header`,
 * `midi-smpte`, `midi-bad-ppq`, `midi-bad-tempo`, `midi-bad-meter`, `midi-no-notes`,
 * `midi-too-long`, `midi-too-many-notes` (over 200,000), `midi-bad-quantize` (the option),
 * `midi-unreadable` (anything unforeseen).
 */
export function readMidi(bytes: Uint8Array, options: MidiReadOptions = {}): Score {
  const quantize = options.quantize ?? DEFAULT_QUANTIZE;
  if (!Number.isInteger(quantize) || quantize < 0 || (quantize > 0 && TPQ % quantize !== 0)) {
    throw new MusicInputError(
      'midi-bad-quantize',
      `Quantisation must be 0 (off) or a number of grid steps per quarter note that divides ${TPQ} (such as 4, 12 or 24); got ${quantize}.`,
    );
  }
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MIDI_BYTES;
  try {
    return buildScore(scanSmf(bytes, maxBytes), quantize);
  } catch (e) {
    if (e instanceof MusicInputError) {
      throw e;
    }
    const why = e instanceof Error ? e.message : String(e);
    throw new MusicInputError('midi-unreadable', `The MIDI file could not be read (${why}).`);
  }
}

interface Group {
  chunk: SmfTrack;
  chunkIndex: number;
  channel: number;
}

function buildScore(file: SmfFile, quantize: number): Score {
  const { ppq } = file;
  const step = quantize > 0 ? TPQ / quantize : 1;
  const toTick =
    quantize > 0
      ? (t: number): number => Math.round((t * quantize) / ppq) * step
      : (t: number): number => Math.round((t * TPQ) / ppq);

  let lastEnd = 0;
  for (const chunk of file.tracks) {
    for (const n of chunk.notes) {
      lastEnd = Math.max(lastEnd, n.end);
    }
  }
  if (lastEnd / ppq > MAX_QUARTERS) {
    throw new MusicInputError(
      'midi-too-long',
      `The MIDI file runs for ${Math.round(lastEnd / ppq).toLocaleString('en-US')} beats; Refrain reads pieces up to ${MAX_QUARTERS.toLocaleString('en-US')} beats.`,
    );
  }

  const groups: Group[] = [];
  file.tracks.forEach((chunk, chunkIndex) => {
    for (const channel of chunk.noteChannels) {
      groups.push({ chunk, chunkIndex, channel });
    }
  });
  if (groups.length === 0) {
    throw new MusicInputError('midi-no-notes', 'The MIDI file has no notes: its tracks hold only settings (tempo, instruments, text).');
  }

  const firstProgram = new Map<number, { program: number; tick: number }>();
  for (const chunk of file.tracks) {
    for (const [channel, p] of chunk.programs) {
      const known = firstProgram.get(channel);
      if (!known || p.tick < known.tick) {
        firstProgram.set(channel, p);
      }
    }
  }

  const tracks: Track[] = [];
  const notes: Note[] = [];
  groups.forEach((g, index) => {
    const isDrum = g.channel === 9;
    const channelsInChunk = g.chunk.noteChannels.length;
    const base = g.chunk.name ?? g.chunk.instrumentName;
    let name: string;
    if (channelsInChunk > 1) {
      name = base ? `${base} (channel ${g.channel + 1})` : isDrum ? 'Drums' : `Channel ${g.channel + 1}`;
    } else {
      name = base ?? defaultTrackName(index, isDrum);
    }
    const program = (g.chunk.programs.get(g.channel) ?? firstProgram.get(g.channel))?.program ?? 0;
    tracks.push({ name, channel: g.channel, program, isDrum });
    for (const n of g.chunk.notes) {
      if (n.channel !== g.channel) {
        continue;
      }
      const onset = toTick(n.start);
      const off = toTick(n.end);
      notes.push({
        pitch: n.pitch,
        onset,
        duration: Math.max(step, off - onset),
        velocity: n.velocity,
        track: index,
        voice: 0,
      });
    }
  });

  const cleaned = removeOverlaps(notes);
  const end = cleaned.reduce((m, n) => Math.max(m, n.onset + n.duration), 0);

  const tempos: TempoChange[] = normalizeTempos(file.tempos.map((t) => ({ tick: toTick(t.tick), bpm: 60_000_000 / t.usPerQuarter })));
  const meters: MeterChange[] = normalizeMeters(file.meters.map((m) => ({ tick: toTick(m.tick), meter: { num: m.num, den: m.den } })));
  const keys: KeyChange[] = normalizeKeys(file.keys.map((k) => ({ tick: toTick(k.tick), key: keyFromSignature(k.fifths, k.minor) })));
  const bars = barsFromMeters(meters, end);
  const last = bars[bars.length - 1];

  const first = file.tracks[0];
  const score: Score = {
    meta: {},
    notes: cleaned,
    bars,
    writtenBars: bars.map(() => ({})),
    tracks,
    tempos,
    meters,
    keys,
    chords: [],
    length: last.start + last.duration,
  };
  if (first && (file.format === 0 || first.notes.length === 0)) {
    const title = first.name ?? first.text;
    if (title) {
      score.meta.title = title;
    }
  }
  return score;
}

/**
 * Per (track, pitch): of notes starting together keep the longest, and cut a note where the
 * next one of its pitch starts. Returns the notes in canonical order.
 */
function removeOverlaps(notes: Note[]): Note[] {
  const ordered = notes
    .slice()
    .sort((a, b) => a.track - b.track || a.pitch - b.pitch || a.onset - b.onset || b.duration - a.duration);
  const kept: Note[] = [];
  let prev: Note | undefined;
  for (const n of ordered) {
    if (prev && prev.track === n.track && prev.pitch === n.pitch) {
      if (prev.onset === n.onset) {
        continue;
      }
      if (prev.onset + prev.duration > n.onset) {
        prev.duration = n.onset - prev.onset;
      }
    }
    kept.push(n);
    prev = n;
  }
  return sortNotes(kept);
}
