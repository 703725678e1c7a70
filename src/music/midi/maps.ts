/**
 * Tempo, time-signature and key maps in their canonical form, and bar lines from a meter
 * map. The MIDI reader produces maps in this form, the writer writes them, and the round-trip
 * check compares them; other layers can use {@link barsFromMeters} to rebuild bars.
 *
 * Pure TypeScript: no vscode, no DOM, no Node-only APIs.
 */

import { MusicInputError, barTicks } from '../score';
import type { Bar, Key, KeyChange, Meter, MeterChange, Mode, TempoChange } from '../score';

/** Most bars a score built from a MIDI file may have. */
export const MAX_BARS = 100_000;

/** Tempo when a file sets none. */
export const DEFAULT_BPM = 120;
/** Meter when a file sets none. */
export const DEFAULT_METER: Meter = { num: 4, den: 4 };
/** Key when a file sets none. */
export const DEFAULT_KEY: Key = { tonic: 'C', mode: 'major', fifths: 0 };

/**
 * Sorts by tick (stable), keeps the last of several points at one tick, drops a point that
 * repeats the value before it, and starts the map at tick 0 with `initial` when nothing is set
 * there. Negative ticks count as 0.
 */
function canonical<T extends { tick: number }>(points: readonly T[], same: (a: T, b: T) => boolean, initial: T): T[] {
  const sorted = points
    .map((p, i) => ({ p: p.tick < 0 ? { ...p, tick: 0 } : p, i }))
    .sort((a, b) => a.p.tick - b.p.tick || a.i - b.i)
    .map((x) => x.p);
  const lastAtTick: T[] = [];
  for (const p of sorted) {
    if (lastAtTick.length > 0 && lastAtTick[lastAtTick.length - 1].tick === p.tick) {
      lastAtTick[lastAtTick.length - 1] = p;
    } else {
      lastAtTick.push(p);
    }
  }
  if (lastAtTick.length === 0 || lastAtTick[0].tick > 0) {
    lastAtTick.unshift(initial);
  }
  const out: T[] = [];
  for (const p of lastAtTick) {
    if (out.length === 0 || !same(out[out.length - 1], p)) {
      out.push(p);
    }
  }
  return out;
}

/** Canonical tempo map (see module notes); default {@link DEFAULT_BPM} at tick 0. */
export function normalizeTempos(tempos: readonly TempoChange[]): TempoChange[] {
  return canonical(tempos, (a, b) => a.bpm === b.bpm, { tick: 0, bpm: DEFAULT_BPM });
}

/** Canonical meter map; default {@link DEFAULT_METER} at tick 0. */
export function normalizeMeters(meters: readonly MeterChange[]): MeterChange[] {
  return canonical(meters, (a, b) => a.meter.num === b.meter.num && a.meter.den === b.meter.den, {
    tick: 0,
    meter: DEFAULT_METER,
  });
}

/** Canonical key map; default C major at tick 0. Equal means same signature and mode. */
export function normalizeKeys(keys: readonly KeyChange[]): KeyChange[] {
  return canonical(keys, (a, b) => a.key.fifths === b.key.fifths && a.key.mode === b.key.mode, {
    tick: 0,
    key: DEFAULT_KEY,
  });
}

// Line of fifths from Fb to A#; C sits at index 8.
const FIFTHS_LINE = ['Fb', 'Cb', 'Gb', 'Db', 'Ab', 'Eb', 'Bb', 'F', 'C', 'G', 'D', 'A', 'E', 'B', 'F#', 'C#', 'G#', 'D#', 'A#'];

/** The key a MIDI key signature names: `fifths` -7..7, major or minor (A minor for 0 minor). */
export function keyFromSignature(fifths: number, minor: boolean): Key {
  const f = Math.max(-7, Math.min(7, Math.trunc(fifths)));
  const mode: Mode = minor ? 'minor' : 'major';
  return { tonic: FIFTHS_LINE[8 + f + (minor ? 3 : 0)], mode, fifths: f };
}

/**
 * Contiguous bars from a meter map, from tick 0 until `end` is covered (the last bar is
 * whole: the piece is rounded up to a bar). Each meter change starts a new bar; a bar that
 * a change interrupts is cut short there. At least one bar is returned. Throws
 * `MusicInputError('midi-too-long')` beyond {@link MAX_BARS} bars.
 */
export function barsFromMeters(meters: readonly MeterChange[], end: number): Bar[] {
  const map = normalizeMeters(meters);
  const bars: Bar[] = [];
  let tick = 0;
  let m = 0;
  while (bars.length === 0 || tick < end) {
    while (m + 1 < map.length && map[m + 1].tick <= tick) {
      m++;
    }
    const meter = map[m].meter;
    const next = m + 1 < map.length ? map[m + 1].tick : Infinity;
    const full = barTicks(meter);
    if (!(full > 0)) {
      throw new MusicInputError('midi-bad-meter', `The time signature ${meter.num}/${meter.den} gives bars of no length.`);
    }
    const duration = Math.min(full, next - tick);
    bars.push({ start: tick, duration, meter: { num: meter.num, den: meter.den }, written: bars.length });
    tick += duration;
    if (bars.length > MAX_BARS) {
      throw new MusicInputError(
        'midi-too-long',
        `The piece is longer than ${MAX_BARS.toLocaleString('en-US')} bars; Refrain reads pieces up to that length.`,
      );
    }
  }
  return bars;
}
