/**
 * {@link Score} -> Standard MIDI File bytes (format 1, 480 ticks per quarter).
 *
 * Track 0 is the conductor track: the title as its name, the time-signature, key-signature
 * and tempo maps. Then one track per Score track, empty ones included: its name, a program
 * change at tick 0, and its notes. Drum tracks play on channel index 9; a melodic track that
 * names channel 9 (or an invalid channel) moves to the lowest channel no other melodic track
 * names. Note-offs are note-ons with velocity 0 (standard, and running status then covers a
 * whole track, keeping files compact). At one tick, note-offs come before note-ons, so
 * back-to-back notes of one pitch stay separate. The file ends at the Score's length or its
 * last event, whichever is later.
 *
 * Pure TypeScript: no vscode, no DOM, no Node-only APIs.
 */

import { MusicInputError, TPQ } from '../score';
import type { Score } from '../score';
import { normalizeKeys, normalizeMeters, normalizeTempos } from './maps';
import { MAX_METER_DEN } from './smf';
import { encodeSmf, metaEvent } from './smfEncode';
import type { SmfOutEvent } from './smfEncode';

const utf8 = new TextEncoder();

const RANK_NAME = 0;
const RANK_METER = 1;
const RANK_KEY = 2;
const RANK_TEMPO = 3;
const RANK_PROGRAM = 1;
const RANK_OFF = 2;
const RANK_ON = 3;

/** The channel each Score track is written on (see the module notes), by track index. */
export function midiChannels(score: Score): number[] {
  const valid = (c: number): boolean => Number.isInteger(c) && c >= 0 && c <= 15 && c !== 9;
  const taken = new Set(score.tracks.filter((t) => !t.isDrum && valid(t.channel)).map((t) => t.channel));
  let free = 0;
  while (free < 16 && (free === 9 || taken.has(free))) {
    free++;
  }
  const fallback = free < 16 ? free : 0;
  return score.tracks.map((t) => (t.isDrum ? 9 : valid(t.channel) ? t.channel : fallback));
}

function invalid(what: string): MusicInputError {
  return new MusicInputError('midi-write-invalid', `Cannot write this score as MIDI: ${what}.`);
}

function isTick(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= 0x0fffffff;
}

/**
 * Encodes a Score as a format-1 MIDI file at 480 PPQ (see the module notes). Reading the
 * result back with `readMidi(bytes, { quantize: 0 })` gives the same notes (pitch, onset,
 * duration, velocity, track), tracks (name, channel, program, drum flag) and maps, as long as
 * no two notes of one pitch overlap within a track.
 *
 * Throws `MusicInputError('midi-write-invalid')` for notes MIDI cannot hold (pitch outside
 * 0..127, negative or fractional ticks, duration <= 0, unknown track, over 65,534 tracks) and
 * `MusicInputError('midi-write-meter')` for a time signature MIDI cannot state (denominator
 * not a power of two up to 64, numerator outside 1..255). Velocities are clamped to 1..127.
 */
export function writeMidi(score: Score): Uint8Array {
  if (score.tracks.length > 0xfffe) {
    throw invalid(`it has ${score.tracks.length} tracks; a MIDI file holds at most ${0xfffe} besides its tempo track`);
  }
  const channels = midiChannels(score);
  let end = isTick(score.length) ? score.length : 0;

  const conductor: SmfOutEvent[] = [];
  if (score.meta.title) {
    conductor.push({ tick: 0, rank: RANK_NAME, data: metaEvent(0x03, utf8.encode(score.meta.title)) });
  }
  for (const m of normalizeMeters(score.meters)) {
    const { num, den } = m.meter;
    const dd = Math.log2(den);
    if (!Number.isInteger(num) || num < 1 || num > 255 || !Number.isInteger(dd) || den > MAX_METER_DEN) {
      throw new MusicInputError('midi-write-meter', `Cannot write the time signature ${num}/${den} as MIDI: MIDI needs a power-of-two denominator up to ${MAX_METER_DEN}.`);
    }
    if (!isTick(m.tick)) {
      throw invalid(`a time signature sits at tick ${m.tick}`);
    }
    const clocks = Math.max(1, Math.min(255, Math.round((96 / den) * (den >= 8 && num % 3 === 0 ? 3 : 1))));
    conductor.push({ tick: m.tick, rank: RANK_METER, data: metaEvent(0x58, [num, dd, clocks, 8]) });
    end = Math.max(end, m.tick);
  }
  for (const k of normalizeKeys(score.keys)) {
    const fifths = Math.max(-7, Math.min(7, Math.trunc(k.key.fifths)));
    if (!isTick(k.tick)) {
      throw invalid(`a key signature sits at tick ${k.tick}`);
    }
    conductor.push({ tick: k.tick, rank: RANK_KEY, data: metaEvent(0x59, [fifths & 0xff, k.key.mode === 'minor' ? 1 : 0]) });
    end = Math.max(end, k.tick);
  }
  for (const t of normalizeTempos(score.tempos)) {
    if (!isTick(t.tick) || !(t.bpm > 0) || !Number.isFinite(t.bpm)) {
      throw invalid(`a tempo of ${t.bpm} at tick ${t.tick}`);
    }
    const us = Math.max(1, Math.min(0xffffff, Math.round(60_000_000 / t.bpm)));
    conductor.push({ tick: t.tick, rank: RANK_TEMPO, data: metaEvent(0x51, [(us >> 16) & 255, (us >> 8) & 255, us & 255]) });
    end = Math.max(end, t.tick);
  }

  const trackEvents: SmfOutEvent[][] = score.tracks.map((t, i) => {
    const ch = channels[i];
    const program = Number.isInteger(t.program) ? Math.max(0, Math.min(127, t.program)) : 0;
    const events: SmfOutEvent[] = [];
    if (t.name) {
      events.push({ tick: 0, rank: RANK_NAME, data: metaEvent(0x03, utf8.encode(t.name)) });
    }
    events.push({ tick: 0, rank: RANK_PROGRAM, data: [0xc0 | ch, program] });
    return events;
  });

  const ordered = score.notes.slice().sort((a, b) => a.onset - b.onset || a.pitch - b.pitch);
  for (const n of ordered) {
    if (!Number.isInteger(n.track) || n.track < 0 || n.track >= score.tracks.length) {
      throw invalid(`a note belongs to track ${n.track}, which does not exist`);
    }
    if (!Number.isInteger(n.pitch) || n.pitch < 0 || n.pitch > 127) {
      throw invalid(`a note has pitch ${n.pitch} (MIDI pitches run 0 to 127)`);
    }
    if (!isTick(n.onset) || !isTick(n.duration) || n.duration === 0 || !isTick(n.onset + n.duration)) {
      throw invalid(`a note at tick ${n.onset} lasts ${n.duration} ticks (whole ticks, at least 1, are needed)`);
    }
    const ch = channels[n.track];
    const velocity = Number.isFinite(n.velocity) ? Math.max(1, Math.min(127, Math.round(n.velocity))) : 100;
    const events = trackEvents[n.track];
    events.push({ tick: n.onset, rank: RANK_ON, data: [0x90 | ch, n.pitch, velocity] });
    events.push({ tick: n.onset + n.duration, rank: RANK_OFF, data: [0x90 | ch, n.pitch, 0] });
    end = Math.max(end, n.onset + n.duration);
  }
  return encodeSmf([conductor, ...trackEvents], TPQ, end);
}
