/**
 * A tiny builder of Standard MIDI File bytes for the MIDI tests: every fixture is spelled out
 * event by event here, independent of the writer under test.
 */

/** Variable-length quantity bytes. */
export function vlq(value: number): number[] {
  const groups = [value & 0x7f];
  let v = Math.floor(value / 128);
  while (v > 0) {
    groups.unshift((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  return groups;
}

/** A chunk: 4-letter id, 32-bit big-endian length, body. */
export function chunk(id: string, body: number[], declaredLength = body.length): number[] {
  const len = declaredLength >>> 0;
  return [...[...id].map((c) => c.charCodeAt(0)), (len >>> 24) & 255, (len >>> 16) & 255, (len >>> 8) & 255, len & 255, ...body];
}

/** An `MThd` chunk. */
export function header(format: number, tracks: number, division: number): number[] {
  return chunk('MThd', [format >> 8, format & 255, tracks >> 8, tracks & 255, (division >> 8) & 255, division & 255]);
}

/** One event: delta time then raw bytes. */
export function ev(delta: number, ...bytes: number[]): number[] {
  return [...vlq(delta), ...bytes];
}

/** Note-on event. */
export function on(delta: number, channel: number, pitch: number, velocity = 100): number[] {
  return ev(delta, 0x90 | channel, pitch, velocity);
}

/** Note-off event (0x8n). */
export function off(delta: number, channel: number, pitch: number): number[] {
  return ev(delta, 0x80 | channel, pitch, 64);
}

/** Program change. */
export function program(delta: number, channel: number, prog: number): number[] {
  return ev(delta, 0xc0 | channel, prog);
}

/** Meta event. */
export function meta(delta: number, type: number, body: number[]): number[] {
  return ev(delta, 0xff, type, ...vlq(body.length), ...body);
}

/** Track-name meta event (UTF-8). */
export function trackName(delta: number, name: string): number[] {
  return meta(delta, 0x03, [...new TextEncoder().encode(name)]);
}

/** Tempo meta event in bpm (rounded to whole microseconds). */
export function tempo(delta: number, bpm: number): number[] {
  const us = Math.round(60_000_000 / bpm);
  return meta(delta, 0x51, [(us >> 16) & 255, (us >> 8) & 255, us & 255]);
}

/** Time-signature meta event. */
export function timeSig(delta: number, num: number, den: number): number[] {
  return meta(delta, 0x58, [num, Math.log2(den), 24, 8]);
}

/** Key-signature meta event. */
export function keySig(delta: number, fifths: number, minor: boolean): number[] {
  return meta(delta, 0x59, [fifths & 255, minor ? 1 : 0]);
}

/** An `MTrk` chunk of the given events, end-of-track appended. */
export function track(...events: number[][]): number[] {
  return chunk('MTrk', [...events.flat(), 0, 0xff, 0x2f, 0]);
}

/** A whole file: header (format, track count from `tracks`, division) and the track chunks. */
export function smf(format: number, division: number, ...tracks: number[][]): Uint8Array {
  return new Uint8Array([...header(format, tracks.length, division), ...tracks.flat()]);
}

/** Deterministic pseudo-random bytes (xorshift32). */
export function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 255;
  }
  return out;
}
