/**
 * Tokens -> Score: the inverse of `encodeScore` (see its module comment for the layout).
 *
 * The decoder is tolerant, so it can show a sequence while it is being generated and never
 * throws on a malformed one:
 * - A truncated tail is **completed**: a last bar opened by `BAR` but without its `SUM` is
 *   kept with the notes decoded so far and its full length (from its `LEN`, else its meter),
 *   unless `partialBar: 'drop'` is given, which leaves that bar and its events out. A final
 *   `PITCH` without its `DUR` is left out either way.
 * - Tokens out of place are skipped: `DUR` without a `PITCH` before it, `VEL` not right after
 *   a `DUR`, `BASS` not right after a `CHORD`, events at a position outside the bar, anything
 *   after `EOS`, `PAD` and ids outside the vocabulary. A missing header falls back to 4/4,
 *   C major, 120 bpm and one melody track; a bar with `METER_other` and no `LEN` gets the
 *   previous bar's length.
 * - A `TRACK` naming a role the header did not declare adds a track for it.
 *
 * Decoded values: onsets, durations and bar lengths are grid steps x (480 / grid) ticks; the
 * first bar starts at tick 0; velocity is the middle of its `VEL` bin, or 80 without `VEL`;
 * a key is its signature and mode with the tonic spelled from both; chord roots and basses are
 * spelled from the key in force (see `./chords`); tempo is the bin's centre; a
 * `METER_other` bar's meter is the simplest x/4, x/8 or x/16 fraction of its length.
 * Meta data, grace notes, voices and source ranges are not in the tokens.
 *
 * Pure TypeScript: no vscode, no DOM, no Node-only APIs.
 */

import { sortNotes } from '../music/score';
import type { Bar, ChordSymbol, Key, KeyChange, Meter, MeterChange, Note, Score, TempoChange, Track } from '../music/score';
import { chordValueName, keyOf } from './chords';
import { trackForRole } from './tracks';
import {
  CHORD_QUALITIES,
  DEFAULT_GRID,
  DEFAULT_VELOCITY,
  DURATION_STEPS,
  METERS,
  METER_OTHER_INDEX,
  MODES,
  NO_CHORD_INDEX,
  PITCH_MIN,
  TEMPO_BINS,
  TRACK_ROLES,
  meterForSteps,
  meterSteps,
  tempoBin,
  ticksPerStep,
  tokenIndex,
  tokenKind,
  velocityOfBin,
} from './vocab';
import type { TrackRole } from './vocab';

/** Options of {@link decodeTokens}. */
export interface DecodeOptions {
  /** Grid steps per quarter note the sequence was encoded with. Default 12. */
  grid?: number;
  /** What to do with a last bar that has no `SUM`: keep it (`'complete'`, default) or leave it out (`'drop'`). */
  partialBar?: 'complete' | 'drop';
}

interface OpenBar {
  meterIndex: number;
  len?: number;
  startStep: number;
  notes: Note[];
  chords: ChordSymbol[];
  keys: KeyChange[];
  tempos: TempoChange[];
}

/** Tokens -> Score. Never throws for any id sequence; see the module comment. */
export function decodeTokens(seq: { ids: ArrayLike<number> }, options: DecodeOptions = {}): Score {
  const grid = options.grid ?? DEFAULT_GRID;
  const tps = ticksPerStep(grid);
  const ids = seq.ids;

  let headerMeter = -1;
  let headerKey: Key | undefined;
  let headerTempo: number | undefined;
  const roles: TrackRole[] = [];
  const trackOfRole = new Map<TrackRole, number>();
  const addRole = (role: TrackRole): number => {
    let t = trackOfRole.get(role);
    if (t === undefined) {
      t = roles.length;
      roles.push(role);
      trackOfRole.set(role, t);
    }
    return t;
  };

  const bars: { meterIndex: number; len: number; startStep: number }[] = [];
  const notes: Note[] = [];
  const chords: ChordSymbol[] = [];
  const keyChanges: KeyChange[] = [];
  const tempoChanges: TempoChange[] = [];

  let meterIdx = -1;
  let prevLen = 4 * grid;
  let nextStart = 0;
  let open: OpenBar | undefined;
  let pos = -1;
  let track = 0;
  let pendingPitch = -1;
  let pendingFifths: number | undefined;
  let lastNote: Note | undefined;
  let prevKind: string | undefined;
  let lastChord: { chord: ChordSymbol; root: number; quality: number } | undefined;
  let curFifths = 0;

  const barLen = (bar: OpenBar): number => {
    if (bar.len !== undefined) {
      return bar.len;
    }
    const m = bar.meterIndex >= 0 && bar.meterIndex < METERS.length ? meterSteps(METERS[bar.meterIndex], grid) : Number.NaN;
    return Number.isFinite(m) ? m : prevLen;
  };
  const close = (): void => {
    if (open === undefined) {
      return;
    }
    const len = barLen(open);
    bars.push({ meterIndex: open.meterIndex, len, startStep: open.startStep });
    notes.push(...open.notes);
    chords.push(...open.chords);
    keyChanges.push(...open.keys);
    tempoChanges.push(...open.tempos);
    prevLen = len;
    nextStart = open.startStep + len;
    open = undefined;
  };
  const firstTrack = (): number => (roles.length > 0 ? 0 : addRole('melody'));
  const inBar = (): boolean => open !== undefined && pos >= 0 && pos < barLen(open);
  const tickAt = (): number => ((open as OpenBar).startStep + pos) * tps;

  let ended = false;
  for (let i = 0; i < ids.length && !ended; i++) {
    const id = ids[i];
    const kind = tokenKind(id);
    const value = tokenIndex(id);
    const prev = prevKind;
    prevKind = kind;
    if (kind !== 'dur') {
      pendingPitch = -1;
    }
    if (kind !== 'vel' && kind !== 'dur') {
      lastNote = undefined;
    }
    switch (kind) {
      case undefined:
      case 'pad':
      case 'bos':
        break;
      case 'eos':
        ended = true;
        break;
      case 'bar':
        close();
        open = { meterIndex: meterIdx, startStep: nextStart, notes: [], chords: [], keys: [], tempos: [] };
        pos = -1;
        track = firstTrack();
        break;
      case 'sum':
        close();
        pos = -1;
        break;
      case 'meter':
        if (open === undefined) {
          if (bars.length === 0) {
            headerMeter = value;
            meterIdx = value;
          }
        } else if (pos < 0) {
          open.meterIndex = value;
          meterIdx = value;
        }
        break;
      case 'len':
        if (open !== undefined && pos < 0) {
          open.len = value + 1;
        }
        break;
      case 'pos':
        if (open !== undefined) {
          pos = value;
        }
        break;
      case 'keySig':
        pendingFifths = value - 7;
        break;
      case 'mode': {
        const fifths = prev === 'keySig' && pendingFifths !== undefined ? pendingFifths : curFifths;
        const key = keyOf(fifths, MODES[value]);
        if (open === undefined) {
          if (bars.length === 0) {
            headerKey = key;
            curFifths = fifths;
          }
        } else if (inBar()) {
          open.keys.push({ tick: tickAt(), key });
          curFifths = fifths;
        }
        pendingFifths = undefined;
        break;
      }
      case 'tempo':
        if (open === undefined) {
          if (bars.length === 0) {
            headerTempo = value;
          }
        } else if (inBar()) {
          open.tempos.push({ tick: tickAt(), bpm: TEMPO_BINS[value] });
        }
        break;
      case 'track': {
        const role = TRACK_ROLES[value];
        if (open === undefined) {
          if (bars.length === 0) {
            addRole(role);
          }
        } else {
          track = addRole(role);
        }
        break;
      }
      case 'chord':
        lastChord = undefined;
        if (open !== undefined && inBar()) {
          const root = value === NO_CHORD_INDEX ? -1 : Math.floor(value / CHORD_QUALITIES.length);
          const quality = value === NO_CHORD_INDEX ? 0 : value % CHORD_QUALITIES.length;
          const chord = { tick: tickAt(), name: chordValueName({ root, quality, exact: true }, curFifths) };
          open.chords.push(chord);
          lastChord = { chord, root, quality };
        }
        break;
      case 'bass':
        if (prev === 'chord' && lastChord !== undefined && lastChord.root >= 0) {
          lastChord.chord.name = chordValueName(
            { root: lastChord.root, quality: lastChord.quality, bass: value, exact: true },
            curFifths,
          );
        }
        break;
      case 'pitch':
        if (open !== undefined && inBar()) {
          pendingPitch = PITCH_MIN + value;
        }
        break;
      case 'dur':
        if (pendingPitch >= 0 && open !== undefined) {
          const note: Note = {
            pitch: pendingPitch,
            onset: tickAt(),
            duration: DURATION_STEPS[value] * tps,
            velocity: DEFAULT_VELOCITY,
            track,
            voice: 0,
          };
          open.notes.push(note);
          lastNote = note;
        }
        pendingPitch = -1;
        break;
      case 'vel':
        if (prev === 'dur' && lastNote !== undefined) {
          lastNote.velocity = velocityOfBin(value);
        }
        lastNote = undefined;
        break;
    }
  }
  if (open !== undefined && options.partialBar !== 'drop') {
    close();
  }

  // Assemble the score.
  if (roles.length === 0) {
    addRole('melody');
  }
  const tracks: Track[] = roles.map((r, i) => trackForRole(r, i));
  let defaultMeterIndex = headerMeter;
  if (defaultMeterIndex < 0) {
    defaultMeterIndex = METERS.findIndex((m) => m.num === 4 && m.den === 4);
  }
  const scoreBars: Bar[] = [];
  const meters: MeterChange[] = [];
  for (let b = 0; b < bars.length; b++) {
    const bar = bars[b];
    const mi = bar.meterIndex >= 0 ? bar.meterIndex : defaultMeterIndex;
    const meter: Meter = mi >= 0 && mi < METER_OTHER_INDEX ? METERS[mi] : meterForSteps(bar.len, grid);
    scoreBars.push({ start: bar.startStep * tps, duration: bar.len * tps, meter, written: b });
    const last = meters[meters.length - 1];
    if (last === undefined || last.meter.num !== meter.num || last.meter.den !== meter.den) {
      meters.push({ tick: bar.startStep * tps, meter });
    }
  }
  if (meters.length === 0) {
    const mi = defaultMeterIndex >= 0 && defaultMeterIndex < METER_OTHER_INDEX ? defaultMeterIndex : 5;
    meters.push({ tick: 0, meter: METERS[mi] });
  }
  const length = bars.length > 0 ? (bars[bars.length - 1].startStep + bars[bars.length - 1].len) * tps : 0;
  return {
    meta: {},
    notes: sortNotes(notes),
    bars: scoreBars,
    writtenBars: scoreBars.map(() => ({})),
    tracks,
    tempos: [{ tick: 0, bpm: TEMPO_BINS[headerTempo ?? tempoBin(120)] }, ...tempoChanges],
    meters,
    keys: [{ tick: 0, key: headerKey ?? keyOf(0, 'major') }, ...keyChanges],
    chords,
    length,
  };
}
