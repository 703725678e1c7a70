/**
 * Playback planning, free of the DOM and of WebAudio: the tempo map (ticks <-> seconds), which
 * notes sound when for a piece, a bar selection or a candidate, the playhead position at a
 * time, and the timbre the small synth gives each track.
 */

import type { RollPayload } from '../src/protocol/messages';

/** Most notes one playback schedules (the rest are dropped, latest first). */
export const MAX_PLAYBACK_NOTES = 20_000;

/** A tempo map: tempo changes at ticks (the first at 0), quarter notes per minute. */
export interface TempoMap {
  readonly ticksPerQuarter: number;
  readonly ticks: ArrayLike<number>;
  readonly bpm: ArrayLike<number>;
}

/** The tempo map of a roll. */
export function tempoMapOf(roll: Pick<RollPayload, 'ticksPerQuarter' | 'tempoTicks' | 'tempoBpm'>): TempoMap {
  if (roll.tempoTicks.length === 0) {
    return { ticksPerQuarter: roll.ticksPerQuarter, ticks: [0], bpm: [120] };
  }
  return { ticksPerQuarter: roll.ticksPerQuarter, ticks: roll.tempoTicks, bpm: roll.tempoBpm };
}

function bpmAt(map: TempoMap, k: number): number {
  const b = map.bpm[k];
  return Number.isFinite(b) && b > 0 ? b : 120;
}

/** Seconds from tick 0 to `tick`, following the tempo changes. */
export function tickToSeconds(map: TempoMap, tick: number): number {
  let seconds = 0;
  for (let k = 0; k < map.ticks.length; k++) {
    const from = k === 0 ? 0 : map.ticks[k];
    if (tick <= from) {
      break;
    }
    const to = k + 1 < map.ticks.length ? Math.min(tick, map.ticks[k + 1]) : tick;
    seconds += ((to - from) / map.ticksPerQuarter) * (60 / bpmAt(map, k));
  }
  return seconds;
}

/** The tick reached after `seconds` (inverse of {@link tickToSeconds}). */
export function secondsToTick(map: TempoMap, seconds: number): number {
  let left = Math.max(0, seconds);
  for (let k = 0; k < map.ticks.length; k++) {
    const from = k === 0 ? 0 : map.ticks[k];
    const perTick = 60 / bpmAt(map, k) / map.ticksPerQuarter;
    const next = k + 1 < map.ticks.length ? map.ticks[k + 1] : Number.POSITIVE_INFINITY;
    const span = (next - from) * perTick;
    if (left < span) {
      return from + left / perTick;
    }
    left -= span;
  }
  return 0;
}

/** The frequency of a MIDI pitch (A4 = 69 = 440 Hz). */
export function midiToHz(pitch: number): number {
  return 440 * Math.pow(2, (pitch - 69) / 12);
}

/** A span of the roll to play: ticks `[from, to)`. */
export interface PlaySegment {
  readonly from: number;
  readonly to: number;
}

/** One note to sound, times in seconds from the start of playback. */
export interface ScheduledNote {
  readonly start: number;
  readonly end: number;
  readonly pitch: number;
  readonly velocity: number;
  readonly track: number;
  readonly drum: boolean;
}

/** A segment placed on the playback clock. */
export interface PlacedSegment extends PlaySegment {
  readonly startTime: number;
  readonly endTime: number;
}

/** What to play: notes sorted by start time, the segments on the clock, and the total length. */
export interface PlaybackPlan {
  readonly notes: readonly ScheduledNote[];
  readonly segments: readonly PlacedSegment[];
  readonly duration: number;
  /** Notes left out over {@link MAX_PLAYBACK_NOTES}. */
  readonly dropped: number;
}

/** Ticks `[from, to)` of bars `[firstBar, lastBar]` (inclusive, clamped to the roll). */
export function barSpan(barStarts: ArrayLike<number>, firstBar: number, lastBar: number): PlaySegment {
  const bars = barStarts.length - 1;
  if (bars <= 0) {
    return { from: 0, to: 0 };
  }
  const a = Math.max(0, Math.min(bars - 1, Math.min(firstBar, lastBar)));
  const b = Math.max(0, Math.min(bars - 1, Math.max(firstBar, lastBar)));
  return { from: barStarts[a], to: barStarts[b + 1] };
}

/**
 * Plans the playback of segments of a roll, one after the other. A note belongs to a segment
 * when its onset is in it; it is cut at the segment's end. Segments of zero length are skipped.
 */
export function planPlayback(roll: RollPayload, segments: readonly PlaySegment[], maxNotes = MAX_PLAYBACK_NOTES): PlaybackPlan {
  const map = tempoMapOf(roll);
  const notes: ScheduledNote[] = [];
  const placed: PlacedSegment[] = [];
  let clock = 0;
  let dropped = 0;
  for (const seg of segments) {
    if (!(seg.to > seg.from)) {
      continue;
    }
    const t0 = tickToSeconds(map, seg.from);
    const t1 = tickToSeconds(map, seg.to);
    for (let k = 0; k < roll.notes.onset.length; k++) {
      const onset = roll.notes.onset[k];
      if (onset < seg.from || onset >= seg.to) {
        continue;
      }
      if (notes.length >= maxNotes) {
        dropped++;
        continue;
      }
      const end = Math.min(seg.to, onset + roll.notes.duration[k]);
      const track = roll.notes.track[k];
      notes.push({
        start: clock + tickToSeconds(map, onset) - t0,
        end: clock + tickToSeconds(map, end) - t0,
        pitch: roll.notes.pitch[k],
        velocity: roll.notes.velocity[k],
        track,
        drum: roll.tracks[track]?.isDrum === true,
      });
    }
    placed.push({ from: seg.from, to: seg.to, startTime: clock, endTime: clock + (t1 - t0) });
    clock += t1 - t0;
  }
  notes.sort((a, b) => a.start - b.start || a.pitch - b.pitch);
  return { notes, segments: placed, duration: clock, dropped };
}

/** The roll tick under the playhead `elapsed` seconds into a plan; undefined when past the end. */
export function playheadTick(roll: Pick<RollPayload, 'ticksPerQuarter' | 'tempoTicks' | 'tempoBpm'>, plan: PlaybackPlan, elapsed: number): number | undefined {
  const map = tempoMapOf(roll);
  for (const seg of plan.segments) {
    if (elapsed >= seg.startTime && elapsed < seg.endTime) {
      const tick = secondsToTick(map, tickToSeconds(map, seg.from) + (elapsed - seg.startTime));
      return Math.min(seg.to, Math.max(seg.from, tick));
    }
  }
  return undefined;
}

/** The notes whose start falls in `[from, to)` seconds: indexes into the plan (notes are sorted). */
export function notesStartingIn(plan: PlaybackPlan, from: number, to: number, startIndex = 0): { first: number; end: number } {
  let first = startIndex;
  while (first < plan.notes.length && plan.notes[first].start < from) {
    first++;
  }
  let end = first;
  while (end < plan.notes.length && plan.notes[end].start < to) {
    end++;
  }
  return { first, end };
}

/** The shape of a synth voice. */
export interface Timbre {
  readonly wave: 'sine' | 'triangle' | 'square' | 'sawtooth';
  /** Seconds. */
  readonly attack: number;
  readonly decay: number;
  /** Level held after the decay, 0..1 of the peak. */
  readonly sustain: number;
  readonly release: number;
  /** Low-pass cutoff in Hz that softens the wave. */
  readonly cutoff: number;
}

/** A timbre for a General MIDI program, by family (piano, organ, guitar, bass, strings, ...). */
export function timbreOf(program: number): Timbre {
  const family = Math.max(0, Math.min(15, Math.floor(program / 8)));
  switch (family) {
    case 0: // piano
    case 1: // chromatic percussion
      return { wave: 'triangle', attack: 0.005, decay: 0.5, sustain: 0.25, release: 0.25, cutoff: 5000 };
    case 2: // organ
      return { wave: 'square', attack: 0.01, decay: 0.05, sustain: 0.8, release: 0.08, cutoff: 2500 };
    case 3: // guitar
      return { wave: 'sawtooth', attack: 0.003, decay: 0.35, sustain: 0.2, release: 0.2, cutoff: 3000 };
    case 4: // bass
      return { wave: 'triangle', attack: 0.005, decay: 0.25, sustain: 0.5, release: 0.12, cutoff: 1200 };
    case 5: // strings
    case 6: // ensemble
      return { wave: 'sawtooth', attack: 0.08, decay: 0.2, sustain: 0.8, release: 0.3, cutoff: 2800 };
    case 7: // brass
      return { wave: 'sawtooth', attack: 0.03, decay: 0.15, sustain: 0.7, release: 0.15, cutoff: 3500 };
    case 8: // reed
    case 9: // pipe (flutes, whistles: most folk tunes)
      return { wave: 'sine', attack: 0.02, decay: 0.1, sustain: 0.85, release: 0.1, cutoff: 6000 };
    default:
      return { wave: 'triangle', attack: 0.01, decay: 0.3, sustain: 0.5, release: 0.2, cutoff: 4000 };
  }
}
