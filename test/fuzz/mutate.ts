/**
 * Seeded input mutators for `npm run fuzz`: corrupted ABC text and MIDI bytes built from the
 * project's own fixtures. Same seed, same inputs.
 */

import { encodeRawSmf, parseRawSmf } from '../../src/music/midi/rawSmf';
import type { RawSmf } from '../../src/music/midi/rawSmf';
import { mulberry32 } from '../../src/platform/prng';

/** Seeded draws over the project's PRNG (`platform/prng.ts`). */
export class Rng {
  private readonly _next: () => number;
  constructor(seed: number) {
    this._next = mulberry32(seed);
  }
  /** A float in [0, 1). */
  next(): number {
    return this._next();
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
}

/** ABC fragments that have tripped readers: repeats, endings, fields, directives, huge numbers. */
const ABC_TOKENS = [
  '|', '||', '|]', '[|', '|:', ':|', '::', '[1', '[2', ':|2', '|1', '[1,3', '[2-4', '[9007199254740993', '[99999999999999999',
  '(3', '(5:4:5', '{g}', '{/ag}', '~', 'T', '!trill!', '!', '"', '"Am"', '"^text"', '&', '\\', '-', '>', '<', '/', '//', '2', '3/2', '0',
  'z', 'x', 'Z', 'Z99999999', 'C99999999', 'c/99999', '^', '_', '=', '^^', ',', "'", '[CEG]', '[', ']', '%', '%%beginps', '%%endps',
  '%%begintext', '%%endtext', '%%score (1 2)', '%%MIDI program 1', '\nV:1\n', '\nV:2\n', '[V:1]', '[V:2]', '\nK:\n', '\nK:none\n', '\nK:D exp ^f\n',
  '\nM:2\n', '\nM:7/0\n', '\nM:C|\n', '\nL:1/0\n', '\nL:1/128\n', '[L:1/16]', '[M:3/4]', '[K:Bb]', '\nQ:1/4=0\n', '\nP:ABA\n', '\nP:A\n', '[P:B]',
  '\nw: la la\n', '\nW:words\n', '\nT:\n', '\nX:2\n', '\nX:\n', '\n\n', '\r\n', '\t', '\u00a0', '\uFFFD', '\u0000', 'H', 'y', '$', '+',
];

/** A mutated copy of ABC text: token insertions, deletions, line shuffles, splices from `others`. */
export function mutateAbc(rng: Rng, text: string, others: readonly string[]): string {
  let s = text;
  const edits = 1 + rng.int(8);
  for (let k = 0; k < edits; k++) {
    const at = rng.int(s.length + 1);
    switch (rng.int(7)) {
      case 0:
      case 1:
        s = s.slice(0, at) + rng.pick(ABC_TOKENS) + s.slice(at);
        break;
      case 2:
        s = s.slice(0, at) + s.slice(Math.min(s.length, at + 1 + rng.int(20)));
        break;
      case 3:
        s = s.slice(0, at);
        break;
      case 4: {
        const lines = s.split('\n');
        const i = rng.int(lines.length);
        lines.splice(rng.int(lines.length), 0, ...Array(1 + rng.int(3)).fill(lines[i]));
        s = lines.join('\n');
        break;
      }
      case 5: {
        const o = rng.pick(others);
        const from = rng.int(o.length);
        s = s.slice(0, at) + o.slice(from, from + rng.int(400)) + s.slice(at);
        break;
      }
      default:
        s = s.slice(0, at) + String.fromCharCode(rng.int(128)) + s.slice(at + 1);
    }
  }
  return s.slice(0, 256 * 1024);
}

/** Bytes that make MIDI readers work hard: huge lengths, running status, metas, sysex, note-ons. */
const MIDI_TOKENS: readonly number[][] = [
  [0xff, 0xff, 0xff, 0x7f], [0x80, 0x80, 0x80, 0x80, 0x00], [0x90, 60, 100], [0x90, 60, 0], [0x80, 60, 64], [0xb0, 64, 127], [0xe0, 0, 64],
  [0xc0, 5], [0xd0, 30], [0xa0, 60, 10], [0xf0, 0x05, 1, 2, 3, 4, 0xf7], [0xf7, 0x7f], [0xff, 0x2f, 0x00], [0xff, 0x51, 0x03, 0, 0, 0],
  [0xff, 0x51, 0x03, 0x07, 0xa1, 0x20], [0xff, 0x58, 0x04, 0, 40, 24, 8], [0xff, 0x58, 0x04, 3, 2, 24, 8], [0xff, 0x59, 0x02, 0xf9, 1],
  [0xff, 0x03, 0x7f], [0x4d, 0x54, 0x72, 0x6b], [0x00, 0x00, 0x00, 0x00], [0xf1], [0xf4], [0xfe],
];

/** A mutated copy of MIDI bytes: flips, truncations, token insertions, header and chunk-length damage. */
export function mutateMidi(rng: Rng, bytes: Uint8Array, others: readonly Uint8Array[]): Uint8Array {
  let b = Array.from(bytes);
  const edits = 1 + rng.int(8);
  for (let k = 0; k < edits; k++) {
    const at = rng.int(b.length + 1);
    switch (rng.int(7)) {
      case 0:
        b[at] = rng.int(256);
        break;
      case 1:
      case 2:
        b.splice(at, 0, ...rng.pick(MIDI_TOKENS));
        break;
      case 3:
        b = b.slice(0, at);
        break;
      case 4:
        b.splice(at, 1 + rng.int(16));
        break;
      case 5: {
        // Damage a length field: the header's track count or division, or a chunk length.
        const field = rng.pick([10, 11, 12, 13, 18, 19, 20, 21]);
        if (field < b.length) {
          b[field] = rng.pick([0, 1, 0x7f, 0x80, 0xff, rng.int(256)]);
        }
        break;
      }
      default: {
        const o = rng.pick(others);
        const from = rng.int(o.length);
        b.splice(at, 0, ...o.subarray(from, from + rng.int(64)));
      }
    }
  }
  return Uint8Array.from(b.slice(0, 1024 * 1024));
}

/**
 * A structurally valid MIDI file with mutated events: ticks moved, pitches, velocities and
 * controller values changed, events dropped or duplicated, tempo, time and key signatures with
 * extreme values inserted, tracks copied. Reaches the reader's note pairing, quantisation and bar
 * logic, which byte damage mostly does not.
 */
export function mutateMidiEvents(rng: Rng, bytes: Uint8Array): Uint8Array {
  let file: RawSmf;
  try {
    file = parseRawSmf(bytes);
  } catch {
    return bytes;
  }
  const tracks = file.chunks.filter((c) => c.events !== undefined);
  const edits = 1 + rng.int(10);
  for (let k = 0; k < edits && tracks.length > 0; k++) {
    const c = rng.pick(tracks);
    const events = c.events ?? [];
    const i = rng.int(events.length + 1);
    const e = events[i];
    switch (rng.int(7)) {
      case 0:
        if (e) {
          e.tick = Math.max(0, e.tick + rng.pick([-1, 1, -7, 13, 480, -480, 100_000, rng.int(5000)]));
        }
        break;
      case 1:
        if (e && e.bytes.length >= 3 && e.bytes[0] < 0xf0) {
          e.bytes = Uint8Array.of(e.bytes[0], rng.int(128), rng.pick([0, 1, 64, 127, rng.int(128)]));
        }
        break;
      case 2:
        events.splice(i, 1);
        break;
      case 3:
        if (e) {
          events.splice(i, 0, { tick: e.tick, bytes: e.bytes.slice() });
        }
        break;
      case 4: {
        const tick = e?.tick ?? 0;
        const meta = rng.pick([
          Uint8Array.of(0xff, 0x51, 3, rng.int(256), rng.int(256), rng.int(256)),
          Uint8Array.of(0xff, 0x58, 4, rng.int(33), rng.int(8), 24, 8),
          Uint8Array.of(0xff, 0x59, 2, rng.int(256), rng.int(3)),
          Uint8Array.of(0x90 | rng.int(16), rng.int(128), rng.int(128)),
          Uint8Array.of(0x80 | rng.int(16), rng.int(128), 64),
        ]);
        events.splice(i, 0, { tick, bytes: meta });
        break;
      }
      case 5:
        file.chunks.push({ id: 'MTrk', events: events.map((x) => ({ tick: x.tick, bytes: x.bytes.slice() })), endTick: c.endTick });
        break;
      default:
        file.ppq = rng.pick([1, 24, 96, 480, 960, 32767, 1 + rng.int(2000)]);
    }
    events.sort((a, b) => a.tick - b.tick);
  }
  return encodeRawSmf(file);
}
