/**
 * Writes an edited MIDI piece back into its original file: the events of every note, tempo,
 * time-signature and key-signature change the edit removed are taken out, those it added are put
 * in, and every other event of the file (notes, ticks, velocities, controllers, pitch bends,
 * programs, system exclusive, meta events) stays exactly as it was, at its own tick.
 *
 * The edit is the difference between `base` (the Score `readMidi` read from the file) and `next`
 * (the Score after the edit, e.g. generated bars appended by `spliceScore`).
 *
 * Pure TypeScript: no vscode, no DOM, no Node-only APIs.
 */

import type { Note, Score } from '../score';
import { MusicInputError, TPQ } from '../score';
import { DEFAULT_QUANTIZE } from './reader';
import type { RawChunk, RawEvent, RawSmf } from './rawSmf';
import { encodeRawSmf, parseRawSmf } from './rawSmf';

/** Where a Score track lives in the file: its chunk (index into `chunks`) and channel. */
interface Place {
  chunk: number;
  channel: number;
}

/** The Score tracks of a file as `readMidi` numbers them: per MTrk chunk, channels in order of first note. */
function placesOf(file: RawSmf): Place[] {
  const out: Place[] = [];
  file.chunks.forEach((c, chunk) => {
    const seen = new Set<number>();
    for (const e of c.events ?? []) {
      const s = e.bytes[0];
      if ((s & 0xf0) === 0x90 && e.bytes[2] > 0 && !seen.has(s & 0x0f)) {
        seen.add(s & 0x0f);
        out.push({ chunk, channel: s & 0x0f });
      }
    }
  });
  return out;
}

function noteKey(track: number, pitch: number, onset: number): string {
  return `${track}:${pitch}:${onset}`;
}

/** Notes of `base` the edit removed or changed, by key; and the notes of `next` it added or changed. */
function noteChanges(base: Score, next: Score): { removed: Set<string>; added: Note[] } {
  const before = new Map<string, Note>();
  for (const n of base.notes) {
    before.set(noteKey(n.track, n.pitch, n.onset), n);
  }
  const kept = new Set<string>();
  const added: Note[] = [];
  for (const n of next.notes) {
    const key = noteKey(n.track, n.pitch, n.onset);
    const b = before.get(key);
    if (b && b.duration === n.duration && b.velocity === n.velocity) {
      kept.add(key);
    } else {
      added.push(n);
    }
  }
  const removed = new Set([...before.keys()].filter((k) => !kept.has(k)));
  return { removed, added };
}

/** Marks the note-on and note-off events of removed notes, pairing them per channel and pitch. */
function markRemovedNotes(file: RawSmf, places: Place[], removed: Set<string>, toScore: (t: number) => number, drop: Set<RawEvent>): void {
  if (removed.size === 0) {
    return;
  }
  const trackOf = new Map(places.map((p, i) => [`${p.chunk}:${p.channel}`, i]));
  file.chunks.forEach((c, chunk) => {
    // Per channel and pitch, the note-ons still sounding, oldest first: whether each was removed.
    const sounding = new Map<number, boolean[]>();
    for (const e of c.events ?? []) {
      const kind = e.bytes[0] & 0xf0;
      const channel = e.bytes[0] & 0x0f;
      const slot = channel * 128 + e.bytes[1];
      if (kind === 0x90 && e.bytes[2] > 0) {
        const track = trackOf.get(`${chunk}:${channel}`) ?? -1;
        const gone = removed.has(noteKey(track, e.bytes[1], toScore(e.tick)));
        if (gone) {
          drop.add(e);
        }
        const open = sounding.get(slot) ?? [];
        open.push(gone);
        sounding.set(slot, open);
      } else if (kind === 0x80 || kind === 0x90) {
        if (sounding.get(slot)?.shift() === true) {
          drop.add(e);
        }
      }
    }
  });
}

/** A meta event's bytes: FF, type, length, body (bodies here are short). */
function meta(type: number, body: number[]): Uint8Array {
  return Uint8Array.of(0xff, type, body.length, ...body);
}

function metersOf(s: Score): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const m of s.meters) {
    const dd = Math.round(Math.log2(m.meter.den));
    out.set(`58:${m.tick}:${m.meter.num}/${m.meter.den}`, meta(0x58, [m.meter.num, dd, Math.max(1, Math.min(255, Math.round(96 / m.meter.den))), 8]));
  }
  for (const t of s.tempos) {
    const us = Math.max(1, Math.min(0xffffff, Math.round(60_000_000 / t.bpm)));
    out.set(`51:${t.tick}:${Math.round(t.bpm * 1000)}`, meta(0x51, [(us >> 16) & 255, (us >> 8) & 255, us & 255]));
  }
  for (const k of s.keys) {
    const fifths = Math.max(-7, Math.min(7, Math.trunc(k.key.fifths)));
    out.set(`59:${k.tick}:${fifths}:${k.key.mode === 'minor' ? 1 : 0}`, meta(0x59, [fifths & 255, k.key.mode === 'minor' ? 1 : 0]));
  }
  return out;
}

/** The Score key of a file's tempo, time or key signature event, or undefined for other events. */
function metaKeyOf(e: RawEvent, toScore: (t: number) => number): string | undefined {
  const b = e.bytes;
  if (b[0] !== 0xff || b.length < 4) {
    return undefined;
  }
  const tick = toScore(e.tick);
  if (b[1] === 0x58) {
    return `58:${tick}:${b[3]}/${2 ** b[4]}`;
  }
  if (b[1] === 0x51 && b[2] === 3) {
    const us = (b[3] << 16) | (b[4] << 8) | b[5];
    return `51:${tick}:${Math.round((60_000_000 / us) * 1000)}`;
  }
  if (b[1] === 0x59 && b[2] === 2) {
    return `59:${tick}:${b[3] > 127 ? b[3] - 256 : b[3]}:${b[4]}`;
  }
  return undefined;
}

/** Inserts `added` events into a chunk after the originals of the same tick (note-offs before note-ons). */
function insertEvents(c: RawChunk, added: RawEvent[], drop: Set<RawEvent>): void {
  const rank = (e: RawEvent): number => ((e.bytes[0] & 0xf0) === 0x90 && e.bytes[2] > 0 ? 2 : 1);
  added.sort((a, b) => a.tick - b.tick || rank(a) - rank(b));
  const out: RawEvent[] = [];
  let i = 0;
  for (const e of c.events ?? []) {
    while (i < added.length && added[i].tick < e.tick) {
      out.push(added[i++]);
    }
    if (!drop.has(e)) {
      out.push(e);
    }
  }
  out.push(...added.slice(i));
  c.events = out;
  c.endTick = Math.max(c.endTick, out.length > 0 ? out[out.length - 1].tick : 0);
}

/**
 * The original file's bytes with the edit from `base` to `next` applied and nothing else changed.
 * `quantize` must be the grid `readMidi` used to read `base` (its default unless told otherwise).
 * Throws `MusicInputError` when the file cannot be written back (SMPTE timing, damage).
 */
export function rewriteSmf(original: Uint8Array, base: Score, next: Score, quantize = DEFAULT_QUANTIZE): Uint8Array {
  const file = parseRawSmf(original);
  const ppq = file.ppq;
  const toScore = quantize > 0 ? (t: number): number => Math.round((t * quantize) / ppq) * (TPQ / quantize) : (t: number): number => Math.round((t * TPQ) / ppq);
  const toFile = (t: number): number => Math.round((t * ppq) / TPQ);
  const places = placesOf(file);
  const drop = new Set<RawEvent>();
  const { removed, added } = noteChanges(base, next);
  markRemovedNotes(file, places, removed, toScore, drop);

  const before = metersOf(base);
  const after = metersOf(next);
  const goneMeta = new Set([...before.keys()].filter((k) => !after.has(k)));
  const newEvents = new Map<number, RawEvent[]>();
  const push = (chunk: number, e: RawEvent): void => {
    const list = newEvents.get(chunk) ?? [];
    list.push(e);
    newEvents.set(chunk, list);
  };
  for (const c of file.chunks) {
    for (const e of c.events ?? []) {
      const k = metaKeyOf(e, toScore);
      if (k !== undefined && goneMeta.has(k)) {
        drop.add(e);
      }
    }
  }
  const conductor = file.chunks.findIndex((c) => c.events !== undefined);
  if (conductor < 0) {
    throw new MusicInputError('midi-no-notes', 'The MIDI file has no track to add bars to.');
  }
  for (const [k, bytes] of after) {
    if (!before.has(k)) {
      push(conductor, { tick: toFile(Number(k.split(':')[1])), bytes });
    }
  }
  for (const n of added) {
    const place = placeFor(file, places, next, n.track);
    const ch = place.channel;
    const velocity = Math.max(1, Math.min(127, Math.round(n.velocity)));
    push(place.chunk, { tick: toFile(n.onset), bytes: Uint8Array.of(0x90 | ch, n.pitch, velocity) });
    push(place.chunk, { tick: toFile(n.onset + n.duration), bytes: Uint8Array.of(0x80 | ch, n.pitch, 0x40) });
  }
  file.chunks.forEach((c, i) => {
    if (c.events) {
      insertEvents(c, newEvents.get(i) ?? [], drop);
    }
  });
  return encodeRawSmf(file);
}

/** The place of a Score track; a track the file does not have gets a chunk of its own (format 1) or joins the only one. */
function placeFor(file: RawSmf, places: Place[], next: Score, track: number): Place {
  while (places.length <= track) {
    const t = next.tracks[places.length];
    const channel = Math.max(0, Math.min(15, t?.channel ?? 0));
    if (file.format === 0) {
      places.push({ chunk: file.chunks.findIndex((c) => c.events !== undefined), channel });
      continue;
    }
    const name = new TextEncoder().encode(t?.name ?? `Track ${places.length + 1}`).slice(0, 127);
    const events: RawEvent[] = [
      { tick: 0, bytes: Uint8Array.of(0xff, 0x03, name.length, ...name) },
      { tick: 0, bytes: Uint8Array.of(0xc0 | channel, Math.max(0, Math.min(127, t?.program ?? 0))) },
    ];
    file.chunks.push({ id: 'MTrk', events, endTick: 0 });
    places.push({ chunk: file.chunks.length - 1, channel });
  }
  return places[track];
}
