/**
 * POP909 song annotations applied to the Score read from the song's MIDI file.
 *
 * The MIDI files of POP909 carry a placeholder time signature (2/4 or 1/4) and start a few
 * milliseconds to a beat before the first annotated beat, so their own bar grid is wrong.
 * The song folder's text files fix that (times in seconds, converted to ticks with the
 * MIDI tempo map):
 * - `beat_midi.txt` (`time downbeat-if-2-beats downbeat-if-4-beats` per beat): time zero is
 *   moved to the first beat, bars run from one 4-beat downbeat to the next (4/4, or 3/4 from
 *   the 2-beat column when the song's 4-beat downbeats are 6 beats apart), with a pickup bar
 *   before the first downbeat; a bar of another length keeps the song's meter and its own
 *   length; a gap longer than 8 beats is cut into bars of the meter. Notes, chords, keys and
 *   tempos are then snapped to the grid relative to the first beat; notes before it are
 *   dropped.
 * - `chord_midi.txt` (`start end label`, Harte labels such as `C#:min7`, `N`): one chord
 *   symbol at each change of label.
 * - `key_audio.txt` (`start end label`, `Gb:maj`): key changes (the first at tick 0), spelled
 *   with at most 6 sharps or flats (`Ab:min` becomes G# minor).
 *
 * Pure TypeScript: the caller reads the files (see `./shards`).
 */

import { MusicInputError, TPQ, sortNotes } from '../music/score';
import type { Bar, ChordSymbol, KeyChange, Meter, Mode, Note, Score, TempoChange } from '../music/score';
import { keyOf } from './chords';
import { MAX_BAR_STEPS, meterIndex, ticksPerStep } from './vocab';

/** A beat of `beat_midi.txt`. */
export interface Pop909Beat {
  /** Seconds. */
  time: number;
  /** Downbeat when the song is counted in bars of 2 beats. */
  down2: boolean;
  /** Downbeat when the song is counted in bars of 4 beats. */
  down4: boolean;
}

/** A timed label of `chord_midi.txt` or `key_audio.txt`. */
export interface Pop909Label {
  /** Seconds. */
  start: number;
  label: string;
}

/** The annotation files of a POP909 song folder, parsed. */
export interface Pop909Annotations {
  beats: Pop909Beat[];
  chords: Pop909Label[];
  keys: Pop909Label[];
}

/** Parses `beat_midi.txt`; lines that are not three numbers are ignored. */
export function parsePop909Beats(text: string): Pop909Beat[] {
  const out: Pop909Beat[] = [];
  for (const line of text.split(/\r?\n/)) {
    const parts = line.trim().split(/\s+/).map(Number);
    if (parts.length >= 3 && parts.every((x) => Number.isFinite(x))) {
      out.push({ time: parts[0], down2: parts[1] === 1, down4: parts[2] === 1 });
    }
  }
  return out.sort((a, b) => a.time - b.time);
}

/** Parses `chord_midi.txt` or `key_audio.txt` (`start end label` per line). */
export function parsePop909Labels(text: string): Pop909Label[] {
  const out: Pop909Label[] = [];
  for (const line of text.split(/\r?\n/)) {
    const parts = line.trim().split(/\s+/);
    if (parts.length >= 3 && Number.isFinite(Number(parts[0]))) {
      out.push({ start: Number(parts[0]), label: parts[2] });
    }
  }
  return out.sort((a, b) => a.start - b.start);
}

/** Seconds -> ticks (fractional) through a score's tempo map. */
export function secondsToTicks(tempos: readonly TempoChange[], seconds: number): number {
  const map = tempos.length > 0 ? [...tempos].sort((a, b) => a.tick - b.tick) : [{ tick: 0, bpm: 120 }];
  let tick = 0;
  let time = 0;
  let bpm = map[0].tick <= 0 ? map[0].bpm : 120;
  for (const t of map) {
    if (t.tick <= tick) {
      bpm = t.bpm;
      continue;
    }
    const segment = ((t.tick - tick) * 60) / (bpm * TPQ);
    if (time + segment > seconds) {
      break;
    }
    time += segment;
    tick = t.tick;
    bpm = t.bpm;
  }
  return tick + ((seconds - time) * bpm * TPQ) / 60;
}

/** A POP909 key label (`Gb:maj`, `C#:min`) as a key; undefined when it is not one. */
export function pop909Key(label: string): KeyChange['key'] | undefined {
  const m = /^([A-G])([#b]?):(maj|min)$/.exec(label.trim());
  if (!m) {
    return undefined;
  }
  let q = 'FCGDAEB'.indexOf(m[1]) - 1 + (m[2] === '#' ? 7 : m[2] === 'b' ? -7 : 0);
  const mode: Mode = m[3] === 'maj' ? 'major' : 'minor';
  if (mode === 'minor') {
    q -= 3;
  }
  // The enharmonic spelling with fewer accidentals (Ab minor is written G# minor); 6 and -6 stay as labelled.
  while (q > 6) {
    q -= 12;
  }
  while (q < -6) {
    q += 12;
  }
  return keyOf(q, mode);
}

/** The most frequent gap (in beats) between flagged beats; 0 when fewer than two are flagged. */
function dominantGap(flags: readonly boolean[]): number {
  const counts = new Map<number, number>();
  let last = -1;
  flags.forEach((f, i) => {
    if (f) {
      if (last >= 0) {
        counts.set(i - last, (counts.get(i - last) ?? 0) + 1);
      }
      last = i;
    }
  });
  let best = 0;
  let bestCount = 0;
  for (const [gap, n] of [...counts].sort((a, b) => a[0] - b[0])) {
    if (n > bestCount) {
      best = gap;
      bestCount = n;
    }
  }
  return best;
}

/** A song's time map: seconds to ticks, and ticks snapped to the grid relative to the first beat. */
interface SongClock {
  toTick(seconds: number): number;
  snap(tick: number): number;
}

/** The bar meter and the downbeat ticks: 3/4 when the bar-of-2 downbeats come every 3 beats and the bar-of-4 ones every 6, else the common bar-of-4 gap. */
function downbeatsOf(beats: Pop909Annotations['beats'], clock: SongClock): { meter: Meter; downbeats: number[] } {
  const g4 = dominantGap(beats.map((b) => b.down4));
  const g2 = dominantGap(beats.map((b) => b.down2));
  let flags = beats.map((b) => b.down4);
  let meter: Meter = { num: 4, den: 4 };
  if (g4 === 6 && g2 === 3) {
    flags = beats.map((b) => b.down2);
    meter = { num: 3, den: 4 };
  } else if (g4 > 0 && g4 !== 4 && meterIndex({ num: g4, den: 4 }) >= 0) {
    meter = { num: g4, den: 4 };
  }
  const downbeats: number[] = [];
  beats.forEach((b, i) => {
    if (flags[i]) {
      const t = clock.snap(clock.toTick(b.time));
      if (t >= 0 && (downbeats.length === 0 || t > downbeats[downbeats.length - 1])) {
        downbeats.push(t);
      }
    }
  });
  if (downbeats.length === 0) {
    downbeats.push(0);
  }
  return { meter, downbeats };
}

/**
 * Bars from the downbeats: a pickup before the first, one bar per gap (a gap too long for one bar
 * cut into bars of the meter), then bars of the meter past the last note.
 */
function barsOf(downbeats: readonly number[], meter: Meter, lastOnset: number, maxTicks: number): Bar[] {
  const meterTicks = (TPQ * 4 * meter.num) / meter.den;
  const lengths: number[] = [];
  const pushRegion = (len: number, pickup: boolean): void => {
    if (len <= 0) {
      return;
    }
    if (len <= maxTicks) {
      lengths.push(len);
      return;
    }
    const rest = len % meterTicks;
    const full = Math.floor(len / meterTicks);
    if (pickup && rest > 0) {
      lengths.push(rest);
    }
    for (let k = 0; k < full; k++) {
      lengths.push(meterTicks);
    }
    if (!pickup && rest > 0) {
      lengths.push(rest);
    }
  };
  pushRegion(downbeats[0], true);
  for (let i = 0; i + 1 < downbeats.length; i++) {
    pushRegion(downbeats[i + 1] - downbeats[i], false);
  }
  let end = downbeats[downbeats.length - 1];
  do {
    lengths.push(meterTicks);
    end += meterTicks;
  } while (end <= lastOnset);
  const bars: Bar[] = [];
  let t = 0;
  for (const len of lengths) {
    bars.push({ start: t, duration: len, meter, written: bars.length });
    t += len;
  }
  return bars;
}

/** Chord symbols at their snapped ticks (a repeated label once; the later of two at one tick). */
function chordsOf(annotations: Pop909Annotations, clock: SongClock): ChordSymbol[] {
  const chords: ChordSymbol[] = [];
  let lastLabel: string | undefined;
  for (const c of annotations.chords) {
    if (c.label === lastLabel) {
      continue;
    }
    lastLabel = c.label;
    const tick = Math.max(0, clock.snap(clock.toTick(c.start)));
    if (chords.length > 0 && chords[chords.length - 1].tick === tick) {
      chords.pop();
    }
    chords.push({ tick, name: c.label });
  }
  return chords;
}

/** Keys at their snapped ticks, the first at 0; labels that name no key are skipped. */
function keysOf(annotations: Pop909Annotations, clock: SongClock): KeyChange[] {
  const keys: KeyChange[] = [];
  for (const k of annotations.keys) {
    const key = pop909Key(k.label);
    if (key !== undefined) {
      keys.push({ tick: keys.length === 0 ? 0 : Math.max(0, clock.snap(clock.toTick(k.start))), key });
    }
  }
  return keys;
}

/** The MIDI file's tempos snapped (the later of two at one tick), with one at tick 0. */
function temposOf(score: Score, clock: SongClock): TempoChange[] {
  const tempos: TempoChange[] = [];
  for (const tc of [...score.tempos].sort((a, b) => a.tick - b.tick)) {
    const tick = Math.max(0, clock.snap(tc.tick));
    if (tempos.length > 0 && tempos[tempos.length - 1].tick === tick) {
      tempos.pop();
    }
    tempos.push({ tick, bpm: tc.bpm });
  }
  if (tempos.length === 0 || tempos[0].tick !== 0) {
    tempos.unshift({ tick: 0, bpm: tempos[0]?.bpm ?? 120 });
  }
  return tempos;
}

/**
 * The score re-barred and annotated from a POP909 song's annotation files (see the module
 * comment). `score` should be read without quantisation (`readMidi(bytes, { quantize: 0 })`);
 * the result is on the grid. Throws `MusicInputError('pop909-no-beats')` without beats.
 */
export function applyPop909Annotations(score: Score, annotations: Pop909Annotations, grid: number): Score {
  const step = ticksPerStep(grid);
  const beats = annotations.beats;
  if (beats.length < 2) {
    throw new MusicInputError('pop909-no-beats', 'The POP909 song has no beat annotations to place its bars.');
  }
  const toTick = (seconds: number): number => secondsToTicks(score.tempos, seconds);
  const origin = toTick(beats[0].time);
  const clock: SongClock = { toTick, snap: (tick) => Math.round((tick - origin) / step) * step };
  const { meter, downbeats } = downbeatsOf(beats, clock);

  // Notes snapped relative to the first beat.
  const notes: Note[] = [];
  for (const n of score.notes) {
    const onset = clock.snap(n.onset);
    if (onset < 0) {
      continue;
    }
    const end = clock.snap(n.onset + n.duration);
    notes.push({ ...n, onset, duration: Math.max(step, end - onset) });
  }
  sortNotes(notes);
  const lastOnset = notes.reduce((a, n) => Math.max(a, n.onset), 0);
  const bars = barsOf(downbeats, meter, lastOnset, MAX_BAR_STEPS * step);
  const last = bars[bars.length - 1];

  const chords = chordsOf(annotations, clock);
  const keys = keysOf(annotations, clock);
  return {
    ...score,
    notes,
    bars,
    writtenBars: bars.map(() => ({})),
    meters: [{ tick: 0, meter }],
    keys: keys.length > 0 ? keys : score.keys,
    chords: annotations.chords.length > 0 ? chords : score.chords,
    tempos: temposOf(score, clock),
    length: last.start + last.duration,
  };
}
