/**
 * Scanning one `MTrk` chunk of a Standard MIDI File (`./smf`): events checked against the
 * chunk, notes paired per (channel, pitch), meta events read.
 *
 * Pure TypeScript.
 */

import { MusicInputError } from '../score';
import type { SmfFile, SmfTrack } from './smf';

/** The largest tempo accepted, in quarter notes per minute. */
export const MAX_BPM = 1000;
/** The largest time-signature denominator accepted (2^6). */
export const MAX_METER_DEN = 64;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes a text meta event: UTF-8 when valid, else Latin-1; NULs dropped, trimmed. */
export function decodeText(bytes: Uint8Array): string {
  let s: string;
  try {
    s = utf8.decode(bytes);
  } catch {
    s = '';
    for (const b of bytes) {
      s += String.fromCharCode(b);
    }
  }
  return s.replace(/\0/g, '').trim();
}

function corrupt(track: number, at: number, what: string): MusicInputError {
  return new MusicInputError('midi-corrupt', `The MIDI file is damaged: in track ${track + 1}, at byte ${at}, ${what}.`);
}

/**
 * Note-pairing state for one chunk, indexed by channel*128+pitch, reused across chunks (a file
 * may hold thousands of tiny chunks): the tick the sounding note began (-1: silent), its
 * velocity, the tick at which a note-on retriggered it (-1: none), and the keys touched.
 */
export interface Pairing {
  /** Notes closed so far in the whole file, and the most allowed. */
  count: number;
  maxNotes: number;
  sounding: Float64Array;
  velocity: Uint8Array;
  retrigger: Float64Array;
  touched: number[];
  used: Uint8Array;
}

/** Fresh pairing state for a file that may hold `maxNotes` notes. */
export function newPairing(maxNotes: number): Pairing {
  return {
    count: 0,
    maxNotes,
    sounding: new Float64Array(16 * 128).fill(-1),
    velocity: new Uint8Array(16 * 128),
    retrigger: new Float64Array(16 * 128).fill(-1),
    touched: [],
    used: new Uint8Array(16 * 128),
  };
}

/** Scans one `MTrk` chunk: its events in order, pairing notes as {@link scanSmf} documents. */
class TrackScan {
  readonly track: SmfTrack = { notes: [], noteChannels: [], programs: new Map(), endTick: 0 };
  private readonly _channelSeen = new Uint8Array(16);
  private _pos = 0;
  private _tick = 0;
  private _running = 0;

  constructor(
    private readonly _data: Uint8Array,
    private readonly _index: number,
    private readonly _offset: number,
    private readonly _file: SmfFile,
    private readonly _state: Pairing,
  ) {}

  /** Reads every event up to end-of-track (or the chunk's end), then ends the notes still sounding. */
  run(): SmfTrack {
    const data = this._data;
    const end = data.length;
    while (this._pos < end) {
      this._tick += this._readVlq();
      if (this._pos >= end) {
        break; // a trailing delta with no event: harmless padding
      }
      const at = this._offset + this._pos;
      let status = data[this._pos];
      if (status < 0x80) {
        if (this._running === 0) {
          throw corrupt(this._index, at, 'a note or controller event has no status byte before it');
        }
        status = this._running;
      } else {
        this._pos++;
        if (status < 0xf0) {
          this._running = status;
        }
      }
      if (status < 0xf0) {
        this._channelEvent(status, at);
      } else if (status === 0xff) {
        if (this._metaEvent(at)) {
          break;
        }
      } else if (status === 0xf0 || status === 0xf7) {
        const len = this._readVlq();
        if (len > end - this._pos) {
          throw corrupt(this._index, at, 'a system-exclusive message runs past the end of the track');
        }
        this._pos += len;
      } else {
        throw corrupt(this._index, at, `there is an undefined event type (0x${status.toString(16)})`);
      }
    }
    this.track.endTick = this._tick;
    const { sounding, retrigger, touched, used } = this._state;
    for (const key of touched) {
      if (sounding[key] >= 0) {
        this._close(key, this._tick);
      }
      retrigger[key] = -1;
      used[key] = 0;
    }
    touched.length = 0;
    return this.track;
  }

  private _readVlq(): number {
    const data = this._data;
    let value = 0;
    for (let i = 0; i < 4; i++) {
      if (this._pos >= data.length) {
        throw corrupt(this._index, this._offset + this._pos, 'a number runs past the end of the track');
      }
      const b = data[this._pos++];
      value = value * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) {
        return value;
      }
    }
    throw corrupt(this._index, this._offset + this._pos, 'a variable-length number is longer than 4 bytes');
  }

  /** Ends the note sounding on `key` (channel*128+pitch) at `at`. */
  private _close(key: number, at: number): void {
    const state = this._state;
    this.track.notes.push({ channel: key >> 7, pitch: key & 127, velocity: state.velocity[key], start: state.sounding[key], end: at });
    state.sounding[key] = -1;
    if (++state.count > state.maxNotes) {
      throw new MusicInputError(
        'midi-too-many-notes',
        `The MIDI file has more than ${state.maxNotes.toLocaleString('en-US')} notes; Refrain reads pieces up to that many (as for ABC). Split it into shorter files.`,
      );
    }
  }

  /** A channel event (status < 0xF0): notes are paired, the first program change per channel kept. */
  private _channelEvent(status: number, at: number): void {
    const data = this._data;
    const kind = status & 0xf0;
    const need = kind === 0xc0 || kind === 0xd0 ? 1 : 2;
    if (this._pos + need > data.length) {
      throw corrupt(this._index, at, 'an event runs past the end of the track');
    }
    const d1 = data[this._pos];
    const d2 = need === 2 ? data[this._pos + 1] : 0;
    if (d1 > 127 || d2 > 127) {
      throw corrupt(this._index, at, 'an event carries an out-of-range value');
    }
    this._pos += need;
    const channel = status & 0x0f;
    if (kind === 0x90 && d2 > 0) {
      this._noteOn(channel, d1, d2);
    } else if (kind === 0x80 || kind === 0x90) {
      this._noteOff(channel * 128 + d1);
    } else if (kind === 0xc0 && !this.track.programs.has(channel)) {
      this.track.programs.set(channel, { program: d1, tick: this._tick });
    }
  }

  private _noteOn(channel: number, pitch: number, vel: number): void {
    const { sounding, velocity, retrigger, touched, used } = this._state;
    const tick = this._tick;
    const key = channel * 128 + pitch;
    if (!used[key]) {
      used[key] = 1;
      touched.push(key);
    }
    if (sounding[key] >= 0) {
      if (sounding[key] < tick) {
        this._close(key, tick);
      }
      sounding[key] = -1;
      retrigger[key] = tick;
    } else {
      retrigger[key] = -1;
    }
    sounding[key] = tick;
    velocity[key] = vel;
    if (!this._channelSeen[channel]) {
      this._channelSeen[channel] = 1;
      this.track.noteChannels.push(channel);
    }
  }

  private _noteOff(key: number): void {
    const { sounding, retrigger } = this._state;
    const tick = this._tick;
    if (sounding[key] >= 0) {
      if (retrigger[key] === tick && sounding[key] === tick) {
        retrigger[key] = -1;
      } else {
        this._close(key, tick);
        retrigger[key] = -1;
      }
    }
  }

  /** A meta event; true at end-of-track. */
  private _metaEvent(at: number): boolean {
    const data = this._data;
    const end = data.length;
    if (this._pos >= end) {
      throw corrupt(this._index, at, 'a meta event runs past the end of the track');
    }
    const type = data[this._pos++];
    const len = this._readVlq();
    if (len > end - this._pos) {
      throw corrupt(this._index, at, 'a meta event runs past the end of the track');
    }
    const body = data.subarray(this._pos, this._pos + len);
    this._pos += len;
    if (type === 0x2f) {
      return true;
    }
    readMeta(type, body, this._tick, this._index, at, this.track, this._file);
    return false;
  }
}

/** Scans one `MTrk` chunk (`data`, at byte `offset` of the file) into a track, adding tempos, meters and keys to `file`. */
export function scanTrack(data: Uint8Array, index: number, offset: number, file: SmfFile, state: Pairing): SmfTrack {
  return new TrackScan(data, index, offset, file, state).run();
}

/** A meta event's contents: track text and names, tempo, time signature, key signature. */
function readMeta(type: number, body: Uint8Array, tick: number, index: number, at: number, track: SmfTrack, file: SmfFile): void {
  switch (type) {
    case 0x01:
      if (track.text === undefined) {
        const text = decodeText(body);
        if (text) {
          track.text = text;
        }
      }
      return;
    case 0x03:
      if (track.name === undefined) {
        const name = decodeText(body);
        if (name) {
          track.name = name;
        }
      }
      return;
    case 0x04:
      if (track.instrumentName === undefined) {
        const name = decodeText(body);
        if (name) {
          track.instrumentName = name;
        }
      }
      return;
    case 0x51: {
      if (body.length !== 3) {
        throw corrupt(index, at, `a tempo event has ${body.length} bytes instead of 3`);
      }
      const us = (body[0] << 16) | (body[1] << 8) | body[2];
      if (us === 0 || 60_000_000 / us > MAX_BPM) {
        const bpm = us === 0 ? 'an infinite tempo' : `a tempo of ${Math.round(60_000_000 / us)} beats per minute`;
        throw new MusicInputError(
          'midi-bad-tempo',
          `The MIDI file sets ${bpm} (track ${index + 1}, tick ${tick}); Refrain accepts tempos up to ${MAX_BPM} per minute. The file is probably damaged.`,
        );
      }
      file.tempos.push({ tick, usPerQuarter: us });
      return;
    }
    case 0x58: {
      if (body.length !== 4 && body.length !== 2) {
        throw corrupt(index, at, `a time-signature event has ${body.length} bytes instead of 4`);
      }
      const num = body[0];
      const den = 2 ** body[1];
      if (num === 0 || den > MAX_METER_DEN) {
        throw new MusicInputError(
          'midi-bad-meter',
          `The MIDI file sets an impossible time signature (${num}/${body[1] > 30 ? `2^${body[1]}` : den}, track ${index + 1}, tick ${tick}). The file is probably damaged.`,
        );
      }
      file.meters.push({ tick, num, den });
      return;
    }
    case 0x59: {
      if (body.length !== 2) {
        return;
      }
      const fifths = body[0] > 127 ? body[0] - 256 : body[0];
      if (fifths < -7 || fifths > 7 || body[1] > 1) {
        return;
      }
      file.keys.push({ tick, fifths, minor: body[1] === 1 });
      return;
    }
    default:
      return;
  }
}
