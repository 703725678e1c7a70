/**
 * Standard MIDI File (SMF) bytes: a bounded, validating scanner for reading (the file and its
 * chunks here, each track in `./smfTrack`; the byte encoder for writing is `./smfEncode`).
 * Nothing here knows about {@link Score}.
 *
 * The scanner checks every chunk and event against the buffer before using it, so damaged
 * or hostile input ends in a {@link MusicInputError}, never in an exception from deep inside
 * or in silently misread bytes. It pairs note-ons with note-offs per (track, channel, pitch)
 * in one pass (linear time), with the rules documented on {@link scanSmf}; on POP909 and the
 * JS-fakes chorales the notes equal pretty_midi's reading followed by the reader's overlap rule.
 *
 * Why not `@tonejs/midi` here: its note pairing is quadratic in the notes of a track (measured:
 * 100k notes took 8.7 s, 400k took 143 s, so a 10 MB file could stall for hours), it splits a
 * track at every program change (losing the track name), reads malformed events as garbage,
 * and its writer stores key signatures wrongly (D major comes back without a key).
 *
 * Pure TypeScript: no vscode, no DOM, no Node-only APIs.
 */

import { MusicInputError } from '../score';
import { newPairing, scanTrack } from './smfTrack';

// The limits and text decoding of the track scanner are part of this module's interface.
export { MAX_BPM, MAX_METER_DEN, decodeText } from './smfTrack';

/** One sounding note as found in the file, in file ticks. */
export interface SmfNote {
  /** MIDI channel 0..15. */
  channel: number;
  pitch: number;
  /** Note-on velocity 1..127. */
  velocity: number;
  /** Note-on tick (absolute, file resolution). */
  start: number;
  /** Note-off tick (absolute, file resolution); equal to `start` for a zero-length note. */
  end: number;
}

/** What one `MTrk` chunk holds that a Score needs. */
export interface SmfTrack {
  /** First track-name meta event (0x03), decoded, trimmed; undefined when absent or blank. */
  name?: string;
  /** First instrument-name meta event (0x04), decoded, trimmed. */
  instrumentName?: string;
  /** First text meta event (0x01), decoded, trimmed. */
  text?: string;
  /** Notes in order of their note-on. */
  notes: SmfNote[];
  /** Channels in the order their first note appears. */
  noteChannels: number[];
  /** First program change per channel in this chunk (stream order), with its tick. */
  programs: Map<number, { program: number; tick: number }>;
  /** Tick of the chunk's last event (its end-of-track). */
  endTick: number;
}

/** A tempo event: microseconds per quarter note. */
export interface SmfTempo {
  tick: number;
  usPerQuarter: number;
}

/** A time-signature event, denominator already expanded (2^dd). */
export interface SmfMeter {
  tick: number;
  num: number;
  den: number;
}

/** A key-signature event: sharps (+) or flats (-), and the minor flag. */
export interface SmfKey {
  tick: number;
  fifths: number;
  minor: boolean;
}

/** A scanned file. Map events from every chunk are merged and sorted by tick (stable). */
export interface SmfFile {
  format: number;
  /** Ticks per quarter note of the file (1..32767). */
  ppq: number;
  tracks: SmfTrack[];
  tempos: SmfTempo[];
  meters: SmfMeter[];
  keys: SmfKey[];
}

/** The most notes read from one file (`midi-too-many-notes` beyond), as for an ABC tune. */
export const MAX_MIDI_NOTES = 200_000;

function ascii4(bytes: Uint8Array, at: number): string {
  if (at + 4 > bytes.length) {
    return '';
  }
  return String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
}

function u32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) >>> 0) + (bytes[at + 1] << 16) + (bytes[at + 2] << 8) + bytes[at + 3];
}

function u32le(bytes: Uint8Array, at: number): number {
  return bytes[at] + (bytes[at + 1] << 8) + (bytes[at + 2] << 16) + ((bytes[at + 3] << 24) >>> 0);
}

/** Unwraps a RIFF `RMID` container to the SMF in its `data` chunk; other input unchanged. */
function unwrapRmid(bytes: Uint8Array): Uint8Array {
  if (ascii4(bytes, 0) !== 'RIFF' || ascii4(bytes, 8) !== 'RMID') {
    return bytes;
  }
  let pos = 12;
  while (pos + 8 <= bytes.length) {
    const id = ascii4(bytes, pos);
    const len = u32le(bytes, pos + 4);
    if (id === 'data') {
      if (pos + 8 + len > bytes.length) {
        throw new MusicInputError(
          'midi-truncated',
          'The MIDI file (RIFF/RMID) is cut short: its MIDI data ends before the length it declares. It may be an incomplete download or copy.',
        );
      }
      return bytes.subarray(pos + 8, pos + 8 + len);
    }
    pos += 8 + len + (len & 1);
  }
  throw new MusicInputError('midi-not-midi', 'This RIFF file holds no MIDI data (no "data" chunk inside the RMID container).');
}

function describeNonMidi(bytes: Uint8Array): string {
  const head = ascii4(bytes, 0);
  if (head === 'RIFF' && ascii4(bytes, 8) === 'WAVE') {
    return 'This is a WAV audio recording, not a MIDI file. Refrain reads notes (MIDI or ABC), not audio.';
  }
  if (head === 'OggS' || head === 'fLaC' || head.startsWith('ID3') || (bytes[0] === 0xff && (bytes[1] & 0xe0) === 0xe0)) {
    return 'This looks like an audio recording (MP3/Ogg/FLAC), not a MIDI file. Refrain reads notes (MIDI or ABC), not audio.';
  }
  const text = String.fromCharCode(...bytes.subarray(0, Math.min(bytes.length, 64)));
  if (/^\s*(%abc|X:)/.test(text)) {
    return 'This looks like ABC notation (text), not a MIDI file. Open it as an .abc file instead.';
  }
  return 'This is not a MIDI file: a standard MIDI file starts with the letters "MThd", and this one does not. It may be damaged, or another kind of file renamed to .mid.';
}

function sizeText(n: number): string {
  return n >= 1024 * 1024 ? `${(n / (1024 * 1024)).toFixed(1)} MB` : `${n} bytes`;
}

/**
 * Scans a Standard MIDI File.
 *
 * Checks, in order: empty input (`midi-empty`), size over `maxBytes` (`midi-too-large`),
 * the `MThd` signature (`midi-not-midi`, RIFF/RMID unwrapped), header length and fields
 * (`midi-truncated`, `midi-bad-header`), SMPTE timing (`midi-smpte`), zero PPQ
 * (`midi-bad-ppq`), each chunk's declared length against the bytes left (`midi-truncated`,
 * also when fewer `MTrk` chunks follow than the header declares), and every event against its
 * chunk (`midi-corrupt`: an event running past its chunk, a variable-length number over 4
 * bytes, a data byte >= 0x80, running status with no status before it, an undefined status
 * byte, a wrong-length tempo/time-signature event). Tempo 0 or over {@link MAX_BPM}
 * (`midi-bad-tempo`) and time signatures with numerator 0 or denominator over
 * {@link MAX_METER_DEN} (`midi-bad-meter`) are rejected; malformed key signatures are
 * ignored (they only affect spelling). Unknown chunk types are skipped, as the standard asks.
 *
 * Note pairing, per (chunk, channel, pitch): a note-on while the pitch already sounds ends the
 * sounding note there (a synthesiser retriggers); a note-off at that same tick is then taken as
 * the earlier note's own off (the common "on before off" ordering of back-to-back notes) and
 * skipped; a note-off with nothing sounding is ignored; notes still sounding at the end of the
 * chunk end there. Note-on with velocity 0 is a note-off.
 */
export function scanSmf(input: Uint8Array, maxBytes: number, maxNotes = MAX_MIDI_NOTES): SmfFile {
  if (input.length === 0) {
    throw new MusicInputError('midi-empty', 'The MIDI file is empty (0 bytes).');
  }
  if (input.length > maxBytes) {
    let size = sizeText(input.length);
    let limit = sizeText(maxBytes);
    if (size === limit) {
      // Just over the limit: megabytes to one decimal would read the same; give bytes.
      size = `${input.length.toLocaleString('en-US')} bytes`;
      limit = `${maxBytes.toLocaleString('en-US')} bytes (${limit})`;
    }
    throw new MusicInputError('midi-too-large', `The MIDI file is ${size}; Refrain reads MIDI files up to ${limit}: split it into shorter pieces.`);
  }
  const bytes = unwrapRmid(input);
  if (ascii4(bytes, 0) !== 'MThd') {
    if (bytes.length < 4 && 'MThd'.startsWith(String.fromCharCode(...bytes))) {
      throw new MusicInputError('midi-truncated', 'The MIDI file is cut short: it ends inside its header.');
    }
    throw new MusicInputError('midi-not-midi', describeNonMidi(bytes));
  }
  if (bytes.length < 14) {
    throw new MusicInputError('midi-truncated', `The MIDI file is cut short: it ends inside its header (${bytes.length} bytes).`);
  }
  const headerLen = u32(bytes, 4);
  if (headerLen < 6) {
    throw new MusicInputError('midi-bad-header', `The MIDI file's header is damaged (it declares ${headerLen} bytes; at least 6 are needed).`);
  }
  if (8 + headerLen > bytes.length) {
    throw new MusicInputError('midi-truncated', 'The MIDI file is cut short: it ends inside its header.');
  }
  const format = (bytes[8] << 8) | bytes[9];
  const declaredTracks = (bytes[10] << 8) | bytes[11];
  const division = (bytes[12] << 8) | bytes[13];
  if (format > 2) {
    throw new MusicInputError('midi-bad-header', `The MIDI file's header is damaged: it names format ${format}, but only formats 0, 1 and 2 exist.`);
  }
  if (division & 0x8000) {
    throw new MusicInputError(
      'midi-smpte',
      'This MIDI file counts time in SMPTE video frames instead of beats. Refrain needs beat-based timing, which notation programs and most DAWs write; re-export it with a tempo-based (PPQ) time base.',
    );
  }
  if (division === 0) {
    throw new MusicInputError('midi-bad-ppq', 'The MIDI file\'s header gives 0 ticks per quarter note, so none of its note timings can be read.');
  }
  if (declaredTracks === 0) {
    throw new MusicInputError('midi-no-notes', 'The MIDI file contains no tracks, so there are no notes to read.');
  }

  const file: SmfFile = { format, ppq: division, tracks: [], tempos: [], meters: [], keys: [] };
  const pairing = newPairing(maxNotes);
  let pos = 8 + headerLen;
  while (file.tracks.length < declaredTracks) {
    const remaining = bytes.length - pos;
    if (remaining <= 0) {
      throw new MusicInputError(
        'midi-truncated',
        `The MIDI file is cut short: its header announces ${declaredTracks} tracks but the file ends after ${file.tracks.length}. It may be an incomplete download or copy.`,
      );
    }
    if (remaining < 8) {
      throw new MusicInputError('midi-truncated', `The MIDI file is cut short: it ends inside the header of track ${file.tracks.length + 1}.`);
    }
    const id = ascii4(bytes, pos);
    const len = u32(bytes, pos + 4);
    if (!/^[\x20-\x7e]{4}$/.test(id)) {
      throw new MusicInputError(
        'midi-corrupt',
        `The MIDI file is damaged: where track ${file.tracks.length + 1} should begin (byte ${pos}) there is no valid chunk.`,
      );
    }
    if (len > remaining - 8) {
      throw new MusicInputError(
        'midi-truncated',
        `The MIDI file is cut short: track ${file.tracks.length + 1} should hold ${len} bytes but only ${remaining - 8} remain. It may be an incomplete download or copy.`,
      );
    }
    const start = pos + 8;
    pos = start + len;
    if (id !== 'MTrk') {
      continue;
    }
    file.tracks.push(scanTrack(bytes.subarray(start, start + len), file.tracks.length, start, file, pairing));
  }
  const byTick = (a: { tick: number }, b: { tick: number }): number => a.tick - b.tick;
  file.tempos.sort(byTick);
  file.meters.sort(byTick);
  file.keys.sort(byTick);
  return file;
}
