/**
 * The first phase of the encoder (`./encode`): the score's key, tempo, chord and note events
 * placed on the step grid of its bars, before the tokens are written.
 *
 * Pure TypeScript.
 */

import { MusicInputError } from '../music/score';
import type { Bar, Key, Score } from '../music/score';
import { parseChordSymbol } from './chords';
import type { ChordValue } from './chords';
import type { EncodeStats } from './encode';
import { assignTrackRoles } from './tracks';
import { DURATION_STEPS, MAX_BAR_STEPS, MAX_DURATION_STEPS, PITCH_MAX, PITCH_MIN, durationIndex, velocityBin } from './vocab';
import type { TrackRole } from './vocab';

/** A note as the tokens write it: track slot, pitch, duration index, velocity bin. */
export interface NoteEvent {
  slot: number;
  pitch: number;
  dur: number;
  vel: number;
}

/** What happens at one position of a bar. */
export interface PosEvents {
  key?: Key;
  tempo?: number;
  chord?: ChordValue;
  notes: NoteEvent[];
}

/**
 * The score's bars on the step grid, and the events (key, tempo, chord, notes) found at each
 * position of each bar, gathered before the tokens are written.
 */
export class EventGrid {
  /** Bar boundaries in steps: bar b is `[bound[b], bound[b + 1])`. */
  readonly bound: Int32Array;
  /** Events per bar, by position (steps from the bar start). */
  readonly events: Map<number, PosEvents>[];
  private readonly _origin: number;

  constructor(
    readonly bars: readonly Bar[],
    readonly tps: number,
    grid: number,
  ) {
    const n = bars.length;
    this._origin = bars[0].start;
    this.bound = new Int32Array(n + 1);
    for (let b = 0; b < n; b++) {
      this.bound[b] = this.toStep(bars[b].start);
    }
    this.bound[n] = this.toStep(bars[n - 1].start + bars[n - 1].duration);
    for (let b = 0; b < n; b++) {
      const len = this.bound[b + 1] - this.bound[b];
      if (!(len >= 1 && len <= MAX_BAR_STEPS)) {
        throw new MusicInputError(
          'tokens-bar-length',
          `Bar ${b + 1} is ${len} grid steps long; the tokenizer handles bars of 1 to ${MAX_BAR_STEPS} steps ` +
            `(${MAX_BAR_STEPS / grid} quarter notes).`,
        );
      }
    }
    this.events = bars.map(() => new Map());
  }

  /** A tick as steps from the first bar's start. */
  toStep(tick: number): number {
    return Math.round((tick - this._origin) / this.tps);
  }

  /** Whether a tick is off the grid. */
  offGrid(tick: number): boolean {
    return (tick - this._origin) % this.tps !== 0;
  }

  private _barOfStep(step: number): number {
    const n = this.bars.length;
    if (step < 0 || step >= this.bound[n]) {
      return -1;
    }
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.bound[mid] <= step) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }

  /** The events at a step (created when new); undefined outside every bar. */
  at(step: number): PosEvents | undefined {
    const b = this._barOfStep(step);
    if (b < 0) {
      return undefined;
    }
    const p = step - this.bound[b];
    let e = this.events[b].get(p);
    if (e === undefined) {
      e = { notes: [] };
      this.events[b].set(p, e);
    }
    return e;
  }
}

/**
 * The value at the start (the last change at or before step 0, else the first) and the changes
 * after it, each placed at its step unless it repeats the value in force. Key changes compare by
 * signature and mode, tempo changes by bin.
 */
export function placeChanges<T>(
  grid: EventGrid,
  changes: readonly { tick: number; value: T }[],
  initial: T,
  same: (a: T, b: T) => boolean,
  place: (e: PosEvents, value: T) => void,
): T {
  let header = initial;
  let first = 0;
  if (changes.length > 0) {
    header = changes[0].value;
    while (first < changes.length && grid.toStep(changes[first].tick) <= 0) {
      header = changes[first].value;
      first++;
    }
  }
  let cur = header;
  for (let i = first; i < changes.length; i++) {
    const v = changes[i].value;
    if (same(v, cur)) {
      continue;
    }
    const e = grid.at(grid.toStep(changes[i].tick));
    if (e !== undefined) {
      place(e, v);
      cur = v;
    }
  }
  return header;
}

/** Chord symbols at their positions (one per position, the last wins); unreadable ones dropped. */
export function placeChords(grid: EventGrid, score: Score, stats: EncodeStats): void {
  const chords = [...score.chords].sort((a, b) => a.tick - b.tick);
  for (const c of chords) {
    const v = parseChordSymbol(c.name);
    const e = v === undefined || !Number.isFinite(c.tick) ? undefined : grid.at(grid.toStep(c.tick));
    if (v === undefined || e === undefined) {
      stats.droppedChords++;
      continue;
    }
    if (e.chord !== undefined) {
      stats.droppedChords++;
    }
    if (!v.exact) {
      stats.reducedChords++;
    }
    e.chord = v;
  }
}

/** Notes at their positions, durations as tokens; returns the header tracks' roles (a note's slot indexes them). */
export function placeNotes(grid: EventGrid, score: Score, stats: EncodeStats): TrackRole[] {
  const tps = grid.tps;
  const placed: { e: PosEvents; track: number; note: NoteEvent }[] = [];
  const used = new Set<number>();
  for (const note of score.notes) {
    const ok =
      Number.isInteger(note.pitch) &&
      note.pitch >= PITCH_MIN &&
      note.pitch <= PITCH_MAX &&
      Number.isFinite(note.onset) &&
      Number.isFinite(note.duration) &&
      note.duration > 0 &&
      Number.isInteger(note.track) &&
      note.track >= 0 &&
      note.track < score.tracks.length;
    const e = ok ? grid.at(grid.toStep(note.onset)) : undefined;
    if (e === undefined) {
      stats.droppedNotes++;
      continue;
    }
    if (grid.offGrid(note.onset) || note.duration % tps !== 0) {
      stats.offGridNotes++;
    }
    const steps = Math.max(1, Math.round(note.duration / tps));
    const di = durationIndex(steps);
    if (steps > MAX_DURATION_STEPS) {
      stats.cappedNotes++;
    } else if (DURATION_STEPS[di] !== steps) {
      stats.roundedDurations++;
    }
    used.add(note.track);
    placed.push({ e, track: note.track, note: { slot: 0, pitch: note.pitch, dur: di, vel: velocityBin(note.velocity) } });
  }
  const headerTracks = used.size > 0 ? [...used].sort((a, b) => a - b) : [0];
  const roles = assignTrackRoles(score.tracks, headerTracks);
  const slotOfTrack = new Map(headerTracks.map((t, k) => [t, k]));
  for (const p of placed) {
    p.note.slot = slotOfTrack.get(p.track) ?? 0;
    p.e.notes.push(p.note);
  }
  stats.notes = placed.length;
  return roles;
}
