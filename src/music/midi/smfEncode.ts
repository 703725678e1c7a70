/**
 * Standard MIDI File bytes for writing (`./writer`): variable-length numbers, meta events and a
 * format-1 file of `MTrk` chunks. The reading side is `./smf`.
 *
 * Pure TypeScript.
 */

/** One event to encode: absolute tick, its bytes (status first), and a sort rank within a tick. */
export interface SmfOutEvent {
  tick: number;
  /** Lower ranks come first at the same tick (stable otherwise). */
  rank: number;
  data: number[];
}

/** Appends a MIDI variable-length quantity (delta times, chunk lengths). */
export function pushVlq(out: number[], value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0x0fffffff) {
    throw new RangeError(`MIDI delta time out of range: ${value}`);
  }
  const groups = [value & 0x7f];
  let v = Math.floor(value / 128);
  while (v > 0) {
    groups.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  for (let i = groups.length - 1; i >= 0; i--) {
    out.push(groups[i]);
  }
}

/** Meta event bytes: 0xFF, type, length, body. */
export function metaEvent(type: number, body: ArrayLike<number>): number[] {
  const out = [0xff, type];
  pushVlq(out, body.length);
  for (let i = 0; i < body.length; i++) {
    out.push(body[i]);
  }
  return out;
}

/**
 * One `MTrk` body from events already in tick order (each its bytes, status first): delta times,
 * running status for channel events, then end-of-track at `endTick` or the last event.
 */
export function encodeTrackBody(events: readonly { tick: number; bytes: ArrayLike<number> }[], endTick: number): number[] {
  const out: number[] = [];
  let last = 0;
  let running = 0;
  for (const e of events) {
    pushVlq(out, e.tick - last);
    last = e.tick;
    const status = e.bytes[0];
    const from = status < 0xf0 && status === running ? 1 : 0;
    for (let i = from; i < e.bytes.length; i++) {
      out.push(e.bytes[i]);
    }
    running = status < 0xf0 ? status : 0;
  }
  pushVlq(out, Math.max(0, endTick - last));
  out.push(0xff, 0x2f, 0x00);
  return out;
}

/** One `MTrk` body: the events ordered by tick, then rank, then given order (see {@link encodeTrackBody}). */
function encodeTrack(events: SmfOutEvent[], endTick: number): number[] {
  const sorted = events
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.tick - b.e.tick || a.e.rank - b.e.rank || a.i - b.i)
    .map((x) => ({ tick: x.e.tick, bytes: x.e.data }));
  return encodeTrackBody(sorted, endTick);
}

/**
 * Encodes a format-1 Standard MIDI File. Each entry of `tracks` becomes one `MTrk`; events
 * are ordered by tick, then rank, then given order; each track ends with end-of-track at
 * `endTick` or its last event, whichever is later. Note events use running status.
 */
export function encodeSmf(tracks: SmfOutEvent[][], ppq: number, endTick: number): Uint8Array {
  const chunks: number[][] = tracks.map((t) => encodeTrack(t, endTick));
  const total = 14 + chunks.reduce((s, c) => s + 8 + c.length, 0);
  const out = new Uint8Array(total);
  const id = (at: number, s: string): void => {
    for (let i = 0; i < 4; i++) {
      out[at + i] = s.charCodeAt(i);
    }
  };
  const put32 = (at: number, v: number): void => {
    out[at] = (v >>> 24) & 255;
    out[at + 1] = (v >>> 16) & 255;
    out[at + 2] = (v >>> 8) & 255;
    out[at + 3] = v & 255;
  };
  id(0, 'MThd');
  put32(4, 6);
  out[8] = 0;
  out[9] = 1;
  out[10] = (tracks.length >> 8) & 255;
  out[11] = tracks.length & 255;
  out[12] = (ppq >> 8) & 127;
  out[13] = ppq & 255;
  let pos = 14;
  for (const c of chunks) {
    id(pos, 'MTrk');
    put32(pos + 4, c.length);
    out.set(c, pos + 8);
    pos += 8 + c.length;
  }
  return out;
}
