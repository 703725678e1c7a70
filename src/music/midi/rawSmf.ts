/**
 * A Standard MIDI File as its events, every one kept: notes, controllers, pitch bends, programs,
 * aftertouch, system exclusive and meta events, at their exact ticks and in their order. Used to
 * write a file back with only some events added or removed, so that nothing else in it changes.
 *
 * Pure TypeScript: no vscode, no DOM, no Node-only APIs.
 */

import { MusicInputError } from '../score';
import { encodeTrackBody } from './smfEncode';

/** One event: absolute tick and its bytes with the status byte written out (no running status). */
export interface RawEvent {
  tick: number;
  bytes: Uint8Array;
}

/** A chunk: an `MTrk` read into events, or any other chunk kept as bytes. */
export interface RawChunk {
  id: string;
  /** The events of an `MTrk` chunk, end-of-track excluded. */
  events?: RawEvent[];
  /** Tick of the chunk's end-of-track (or of its last event when it has none). */
  endTick: number;
  /** The body of a chunk that is not `MTrk`. */
  body?: Uint8Array;
}

/** A whole file. */
export interface RawSmf {
  format: number;
  /** Ticks per quarter note (SMPTE files are refused). */
  ppq: number;
  /** Header bytes after format, track count and division (normally none). */
  headerExtra: Uint8Array;
  chunks: RawChunk[];
  /** Bytes after the chunks the header declares. */
  trailing: Uint8Array;
}

function damaged(what: string): MusicInputError {
  return new MusicInputError('midi-corrupt', `The MIDI file is damaged (${what}), so Refrain cannot write it back unchanged.`);
}

function ascii4(b: Uint8Array, at: number): string {
  return at + 4 > b.length ? '' : String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]);
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) >>> 0) + (b[at + 1] << 16) + (b[at + 2] << 8) + b[at + 3];
}

/** The SMF inside a RIFF `RMID` file, or the bytes themselves. */
function unwrap(bytes: Uint8Array): Uint8Array {
  if (ascii4(bytes, 0) !== 'RIFF' || ascii4(bytes, 8) !== 'RMID') {
    return bytes;
  }
  let pos = 12;
  while (pos + 8 <= bytes.length) {
    const len = bytes[pos + 4] + (bytes[pos + 5] << 8) + (bytes[pos + 6] << 16) + ((bytes[pos + 7] << 24) >>> 0);
    if (ascii4(bytes, pos) === 'data') {
      return bytes.subarray(pos + 8, Math.min(bytes.length, pos + 8 + len));
    }
    pos += 8 + len + (len & 1);
  }
  throw damaged('no data chunk in its RIFF container');
}

/** `status` followed by `rest`. */
function withStatus(status: number, rest: Uint8Array): Uint8Array {
  const out = new Uint8Array(rest.length + 1);
  out[0] = status;
  out.set(rest, 1);
  return out;
}

/** Reads the events of one `MTrk` body. */
function readTrack(data: Uint8Array): { events: RawEvent[]; endTick: number } {
  const events: RawEvent[] = [];
  let pos = 0;
  let tick = 0;
  let running = 0;
  const vlq = (): number => {
    let v = 0;
    for (let i = 0; i < 4 && pos < data.length; i++) {
      const b = data[pos++];
      v = v * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) {
        return v;
      }
    }
    throw damaged('a variable-length number is broken');
  };
  while (pos < data.length) {
    tick += vlq();
    if (pos >= data.length) {
      break;
    }
    let status = data[pos];
    if (status < 0x80) {
      if (running === 0) {
        throw damaged('running status with no status before it');
      }
      status = running;
    } else {
      pos++;
    }
    if (status < 0xf0) {
      running = status;
      const need = (status & 0xf0) === 0xc0 || (status & 0xf0) === 0xd0 ? 1 : 2;
      events.push({ tick, bytes: withStatus(status, data.subarray(pos, pos + need)) });
      pos += need;
      continue;
    }
    const start = pos;
    if (status === 0xff) {
      const type = data[pos++];
      const len = vlq();
      pos += len;
      if (type === 0x2f) {
        return { events, endTick: tick };
      }
      events.push({ tick, bytes: withStatus(0xff, data.subarray(start, pos)) });
    } else if (status === 0xf0 || status === 0xf7) {
      const len = vlq();
      pos += len;
      events.push({ tick, bytes: withStatus(status, data.subarray(start, pos)) });
    } else {
      throw damaged(`an undefined event type 0x${status.toString(16)}`);
    }
    if (pos > data.length) {
      throw damaged('an event runs past the end of its track');
    }
  }
  return { events, endTick: tick };
}

/** Reads a file into chunks and events. Throws `MusicInputError` for SMPTE timing or damage. */
export function parseRawSmf(input: Uint8Array): RawSmf {
  const bytes = unwrap(input);
  if (ascii4(bytes, 0) !== 'MThd' || bytes.length < 14) {
    throw damaged('no MThd header');
  }
  const headerLen = u32(bytes, 4);
  const division = (bytes[12] << 8) | bytes[13];
  if (division & 0x8000 || division === 0) {
    throw new MusicInputError('midi-smpte', 'The MIDI file counts time in SMPTE frames (or in zero ticks), so Refrain cannot add bars to it.');
  }
  const declared = (bytes[10] << 8) | bytes[11];
  const file: RawSmf = { format: (bytes[8] << 8) | bytes[9], ppq: division, headerExtra: bytes.slice(14, 8 + headerLen), chunks: [], trailing: new Uint8Array(0) };
  let pos = 8 + headerLen;
  let tracks = 0;
  while (tracks < declared && pos + 8 <= bytes.length) {
    const id = ascii4(bytes, pos);
    const body = bytes.subarray(pos + 8, Math.min(bytes.length, pos + 8 + u32(bytes, pos + 4)));
    pos += 8 + body.length;
    if (id === 'MTrk') {
      tracks++;
      file.chunks.push({ id, ...readTrack(body) });
    } else {
      file.chunks.push({ id, body: body.slice(), endTick: 0 });
    }
  }
  file.trailing = bytes.slice(pos);
  return file;
}


function chunkBytes(id: string, body: ArrayLike<number>): Uint8Array {
  const n = body.length;
  const out = new Uint8Array(8 + n);
  for (let i = 0; i < 4; i++) {
    out[i] = id.charCodeAt(i);
  }
  out.set([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255], 4);
  out.set(body, 8);
  return out;
}

/**
 * Writes a file back. Each track's events must be in tick order; running status is used for
 * channel events, and each track ends with end-of-track at its `endTick` (or its last event).
 */
export function encodeRawSmf(file: RawSmf): Uint8Array {
  const tracks = file.chunks.filter((c) => c.events !== undefined).length;
  const header = [0, file.format, (tracks >> 8) & 255, tracks & 255, (file.ppq >> 8) & 127, file.ppq & 255, ...file.headerExtra];
  const parts: Uint8Array[] = [chunkBytes('MThd', header)];
  for (const c of file.chunks) {
    parts.push(chunkBytes(c.id, c.events ? encodeTrackBody(c.events, c.endTick) : (c.body ?? new Uint8Array(0))));
  }
  parts.push(file.trailing);
  const bytes = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return bytes;
}
