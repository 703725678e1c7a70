/**
 * Write-then-read check for the MIDI writer: does a Score survive being written as MIDI and
 * read back? Used by the unit tests and by the CLI's corpus measurements.
 *
 * Pure TypeScript: no vscode, no DOM, no Node-only APIs.
 */

import { MusicInputError } from '../score';
import type { KeyChange, Note, Score } from '../score';
import { normalizeKeys, normalizeMeters, normalizeTempos } from './maps';
import { defaultTrackName, readMidi } from './reader';
import { midiChannels, writeMidi } from './writer';

/** Result of {@link midiRoundTrip}: `detail` names the first difference found. */
export interface MidiRoundTripResult {
  ok: boolean;
  detail?: string;
}

function noteText(n: Note): string {
  return `pitch ${n.pitch} onset ${n.onset} duration ${n.duration} velocity ${n.velocity} track ${n.track}`;
}

function keyPoints(keys: readonly KeyChange[]): string[] {
  const out: string[] = [];
  let last = '';
  for (const k of normalizeKeys(keys)) {
    const v = `${k.key.fifths}${k.key.mode === 'minor' ? 'm' : ''}`;
    if (v !== last) {
      out.push(`${k.tick}:${v}`);
      last = v;
    }
  }
  return out;
}

/**
 * Writes `score` with {@link writeMidi}, reads it back with `readMidi(bytes, { quantize: 0 })`
 * and compares: per note pitch, onset, duration, velocity and track; per track (those with
 * notes; the reader drops empty ones) name, channel, program and drum flag; the tempo map
 * (ticks exact, bpm within 1e-4 relative: MIDI stores whole microseconds), the meter map and
 * the key signatures (MIDI keeps only sharps/flats and major/minor) and the title. Bars are not compared:
 * MIDI has no pickup bars, the reader rebuilds bars from the meter map.
 *
 * `ok` is false with a `detail` on the first difference, or when writing or reading throws.
 */
export function midiRoundTrip(score: Score): MidiRoundTripResult {
  let back: Score;
  try {
    back = readMidi(writeMidi(score), { quantize: 0, maxBytes: Number.MAX_SAFE_INTEGER });
  } catch (e) {
    const why = e instanceof MusicInputError ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
    return { ok: false, detail: `write/read failed: ${why}` };
  }

  const title = score.meta.title?.replace(/\0/g, '').trim() || undefined;
  if (back.meta.title !== title) {
    return { ok: false, detail: `title: expected ${JSON.stringify(title)}, read back ${JSON.stringify(back.meta.title)}` };
  }
  const channels = midiChannels(score);
  const used = new Set(score.notes.map((n) => n.track));
  const newIndex = new Map<number, number>();
  score.tracks.forEach((_, i) => {
    if (used.has(i)) {
      newIndex.set(i, newIndex.size);
    }
  });
  if (back.tracks.length !== newIndex.size) {
    return { ok: false, detail: `tracks: expected ${newIndex.size} with notes, read back ${back.tracks.length}` };
  }
  for (const [i, j] of newIndex) {
    const t = score.tracks[i];
    const b = back.tracks[j];
    const name = t.name.replace(/\0/g, '').trim() || defaultTrackName(j, t.isDrum);
    const program = Number.isInteger(t.program) ? Math.max(0, Math.min(127, t.program)) : 0;
    if (b.name !== name || b.channel !== channels[i] || b.program !== program || b.isDrum !== t.isDrum) {
      return {
        ok: false,
        detail: `track ${i}: expected ${JSON.stringify({ name, channel: channels[i], program, isDrum: t.isDrum })}, read back ${JSON.stringify(b)}`,
      };
    }
  }

  const order = (a: Note, b: Note): number => a.track - b.track || a.onset - b.onset || a.pitch - b.pitch || a.duration - b.duration;
  const want = score.notes
    .map((n) => ({ ...n, track: newIndex.get(n.track) ?? -1, velocity: Math.max(1, Math.min(127, Math.round(n.velocity))) }))
    .sort(order);
  const got = back.notes.slice().sort(order);
  if (want.length !== got.length) {
    return { ok: false, detail: `notes: expected ${want.length}, read back ${got.length}` };
  }
  for (let i = 0; i < want.length; i++) {
    const a = want[i];
    const b = got[i];
    if (a.pitch !== b.pitch || a.onset !== b.onset || a.duration !== b.duration || a.velocity !== b.velocity || a.track !== b.track) {
      return { ok: false, detail: `note ${i}: expected ${noteText(a)}, read back ${noteText(b)}` };
    }
  }

  const tempos = normalizeTempos(score.tempos);
  if (tempos.length !== back.tempos.length) {
    return { ok: false, detail: `tempo map: expected ${tempos.length} changes, read back ${back.tempos.length}` };
  }
  for (let i = 0; i < tempos.length; i++) {
    const a = tempos[i];
    const b = back.tempos[i];
    if (a.tick !== b.tick || Math.abs(a.bpm - b.bpm) > 1e-4 * a.bpm) {
      return { ok: false, detail: `tempo ${i}: expected ${a.bpm} bpm at ${a.tick}, read back ${b.bpm} bpm at ${b.tick}` };
    }
  }
  const meters = normalizeMeters(score.meters).map((m) => `${m.tick}:${m.meter.num}/${m.meter.den}`).join(' ');
  const backMeters = back.meters.map((m) => `${m.tick}:${m.meter.num}/${m.meter.den}`).join(' ');
  if (meters !== backMeters) {
    return { ok: false, detail: `meter map: expected ${meters}, read back ${backMeters}` };
  }
  const keys = keyPoints(score.keys).join(' ');
  const backKeys = keyPoints(back.keys).join(' ');
  if (keys !== backKeys) {
    return { ok: false, detail: `key signatures: expected ${keys}, read back ${backKeys}` };
  }
  return { ok: true };
}
