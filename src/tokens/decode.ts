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

/** A bar once its `SUM` (or the end) closed it: meter token index, length and start in steps. */
interface ClosedBar {
  meterIndex: number;
  len: number;
  startStep: number;
}

/** Reads tokens one at a time into bars, notes, chords, key and tempo changes (see the module comment). */
class TokenReader {
  headerMeter = -1;
  headerKey: Key | undefined;
  headerTempo: number | undefined;
  readonly roles: TrackRole[] = [];
  readonly bars: ClosedBar[] = [];
  readonly notes: Note[] = [];
  readonly chords: ChordSymbol[] = [];
  readonly keyChanges: KeyChange[] = [];
  readonly tempoChanges: TempoChange[] = [];
  private readonly _trackOfRole = new Map<TrackRole, number>();
  private _meterIdx = -1;
  private _prevLen: number;
  private _nextStart = 0;
  private _open: OpenBar | undefined;
  private _pos = -1;
  private _track = 0;
  private _pendingPitch = -1;
  private _pendingFifths: number | undefined;
  private _lastNote: Note | undefined;
  private _prevKind: string | undefined;
  private _lastChord: { chord: ChordSymbol; root: number; quality: number } | undefined;
  private _curFifths = 0;

  constructor(
    private readonly _grid: number,
    private readonly _tps: number,
  ) {
    this._prevLen = 4 * _grid;
  }

  /** Whether a bar is open (opened by `BAR`, not yet closed by `SUM`). */
  get hasOpenBar(): boolean {
    return this._open !== undefined;
  }

  /** The track of a role, added when new. */
  addRole(role: TrackRole): number {
    let t = this._trackOfRole.get(role);
    if (t === undefined) {
      t = this.roles.length;
      this.roles.push(role);
      this._trackOfRole.set(role, t);
    }
    return t;
  }

  private _barLen(bar: OpenBar): number {
    if (bar.len !== undefined) {
      return bar.len;
    }
    const m = bar.meterIndex >= 0 && bar.meterIndex < METERS.length ? meterSteps(METERS[bar.meterIndex], this._grid) : Number.NaN;
    return Number.isFinite(m) ? m : this._prevLen;
  }

  /** Closes the open bar, if any: its length is settled and its events kept. */
  close(): void {
    const open = this._open;
    if (open === undefined) {
      return;
    }
    const len = this._barLen(open);
    this.bars.push({ meterIndex: open.meterIndex, len, startStep: open.startStep });
    this.notes.push(...open.notes);
    this.chords.push(...open.chords);
    this.keyChanges.push(...open.keys);
    this.tempoChanges.push(...open.tempos);
    this._prevLen = len;
    this._nextStart = open.startStep + len;
    this._open = undefined;
  }

  private _inBar(): boolean {
    return this._open !== undefined && this._pos >= 0 && this._pos < this._barLen(this._open);
  }

  private _tickAt(): number {
    return ((this._open as OpenBar).startStep + this._pos) * this._tps;
  }

  /** Reads one token; false at `EOS` (nothing after it is read). */
  token(id: number): boolean {
    const kind = tokenKind(id);
    const value = tokenIndex(id);
    const prev = this._prevKind;
    this._prevKind = kind;
    if (kind !== 'dur') {
      this._pendingPitch = -1;
    }
    if (kind !== 'vel' && kind !== 'dur') {
      this._lastNote = undefined;
    }
    switch (kind) {
      case 'eos':
        return false;
      case 'bar':
        this.close();
        this._open = { meterIndex: this._meterIdx, startStep: this._nextStart, notes: [], chords: [], keys: [], tempos: [] };
        this._pos = -1;
        this._track = this.roles.length > 0 ? 0 : this.addRole('melody');
        break;
      case 'sum':
        this.close();
        this._pos = -1;
        break;
      case 'meter':
        this._meter(value);
        break;
      case 'len':
        if (this._open !== undefined && this._pos < 0) {
          this._open.len = value + 1;
        }
        break;
      case 'pos':
        if (this._open !== undefined) {
          this._pos = value;
        }
        break;
      case 'keySig':
        this._pendingFifths = value - 7;
        break;
      case 'mode':
        this._mode(value, prev);
        break;
      case 'tempo':
        this._tempo(value);
        break;
      case 'track':
        this._trackToken(value);
        break;
      case 'chord':
        this._chord(value);
        break;
      case 'bass':
        this._bass(value, prev);
        break;
      case 'pitch':
        if (this._open !== undefined && this._inBar()) {
          this._pendingPitch = PITCH_MIN + value;
        }
        break;
      case 'dur':
        this._dur(value);
        break;
      case 'vel':
        if (prev === 'dur' && this._lastNote !== undefined) {
          this._lastNote.velocity = velocityOfBin(value);
        }
        this._lastNote = undefined;
        break;
      default:
        // Unknown ids, PAD and BOS.
        break;
    }
    return true;
  }

  private _meter(value: number): void {
    if (this._open === undefined) {
      if (this.bars.length === 0) {
        this.headerMeter = value;
        this._meterIdx = value;
      }
    } else if (this._pos < 0) {
      this._open.meterIndex = value;
      this._meterIdx = value;
    }
  }

  private _mode(value: number, prev: string | undefined): void {
    const fifths = prev === 'keySig' && this._pendingFifths !== undefined ? this._pendingFifths : this._curFifths;
    const key = keyOf(fifths, MODES[value]);
    if (this._open === undefined) {
      if (this.bars.length === 0) {
        this.headerKey = key;
        this._curFifths = fifths;
      }
    } else if (this._inBar()) {
      this._open.keys.push({ tick: this._tickAt(), key });
      this._curFifths = fifths;
    }
    this._pendingFifths = undefined;
  }

  private _tempo(value: number): void {
    if (this._open === undefined) {
      if (this.bars.length === 0) {
        this.headerTempo = value;
      }
    } else if (this._inBar()) {
      this._open.tempos.push({ tick: this._tickAt(), bpm: TEMPO_BINS[value] });
    }
  }

  private _trackToken(value: number): void {
    const role = TRACK_ROLES[value];
    if (this._open === undefined) {
      if (this.bars.length === 0) {
        this.addRole(role);
      }
    } else {
      this._track = this.addRole(role);
    }
  }

  private _chord(value: number): void {
    this._lastChord = undefined;
    if (this._open !== undefined && this._inBar()) {
      const root = value === NO_CHORD_INDEX ? -1 : Math.floor(value / CHORD_QUALITIES.length);
      const quality = value === NO_CHORD_INDEX ? 0 : value % CHORD_QUALITIES.length;
      const chord = { tick: this._tickAt(), name: chordValueName({ root, quality, exact: true }, this._curFifths) };
      this._open.chords.push(chord);
      this._lastChord = { chord, root, quality };
    }
  }

  private _bass(value: number, prev: string | undefined): void {
    const last = this._lastChord;
    if (prev === 'chord' && last !== undefined && last.root >= 0) {
      last.chord.name = chordValueName({ root: last.root, quality: last.quality, bass: value, exact: true }, this._curFifths);
    }
  }

  private _dur(value: number): void {
    if (this._pendingPitch >= 0 && this._open !== undefined) {
      const note: Note = {
        pitch: this._pendingPitch,
        onset: this._tickAt(),
        duration: DURATION_STEPS[value] * this._tps,
        velocity: DEFAULT_VELOCITY,
        track: this._track,
        voice: 0,
      };
      this._open.notes.push(note);
      this._lastNote = note;
    }
    this._pendingPitch = -1;
  }
}

/** The Score of what a reader read: tracks per role, bars with their meters, header key and tempo first. */
function assembleScore(r: TokenReader, grid: number, tps: number): Score {
  if (r.roles.length === 0) {
    r.addRole('melody');
  }
  const tracks: Track[] = r.roles.map((role, i) => trackForRole(role, i));
  let defaultMeterIndex = r.headerMeter;
  if (defaultMeterIndex < 0) {
    defaultMeterIndex = METERS.findIndex((m) => m.num === 4 && m.den === 4);
  }
  const bars = r.bars;
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
    notes: sortNotes(r.notes),
    bars: scoreBars,
    writtenBars: scoreBars.map(() => ({})),
    tracks,
    tempos: [{ tick: 0, bpm: TEMPO_BINS[r.headerTempo ?? tempoBin(120)] }, ...r.tempoChanges],
    meters,
    keys: [{ tick: 0, key: r.headerKey ?? keyOf(0, 'major') }, ...r.keyChanges],
    chords: r.chords,
    length,
  };
}

/** Tokens -> Score. Never throws for any id sequence; see the module comment. */
export function decodeTokens(seq: { ids: ArrayLike<number> }, options: DecodeOptions = {}): Score {
  const grid = options.grid ?? DEFAULT_GRID;
  const tps = ticksPerStep(grid);
  const ids = seq.ids;
  const reader = new TokenReader(grid, tps);
  for (let i = 0; i < ids.length; i++) {
    if (!reader.token(ids[i])) {
      break;
    }
  }
  if (reader.hasOpenBar && options.partialBar !== 'drop') {
    reader.close();
  }
  return assembleScore(reader, grid, tps);
}
