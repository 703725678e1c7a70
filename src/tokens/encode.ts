/**
 * Score -> tokens.
 *
 * A piece is written as a header, then one group of tokens per bar, then `EOS`:
 *
 * ```
 * BOS METER KEYSIG MODE TEMPO TRACK+                      header (initial meter, key, tempo; one TRACK per track)
 * BAR [METER] [LEN]                                       a bar: meter when it changes, LEN when its length
 *     ( POS [KEYSIG MODE] [TEMPO] [CHORD [BASS]]            is not its meter's; then each onset position that
 *           ( [TRACK] PITCH DUR [VEL] )* )*                 has an event, in time order
 * SUM                                                     the bar's summary token (Museformer), one per bar
 * ... EOS
 * ```
 *
 * Rules (all of them are what {@link decodeTokens} inverts):
 * - Time is on a grid of `grid` steps per quarter note (default 12). Bar boundaries, onsets
 *   and durations are rounded to it. Bars are measured from the first bar's start.
 * - A note belongs to the bar its onset falls in; its `DUR` is its full length even when it
 *   crosses into later bars. Durations round to the nearest `DURATION_STEPS` value (ties to
 *   the shorter, at least one step) and are capped at 192 steps (not split).
 * - Within a position, notes are ordered by track (in header order), then pitch, then
 *   duration. Each bar starts on the first header track; `TRACK` switches track and stays in
 *   force until the bar's `SUM`. A single-track piece therefore has no `TRACK` inside bars.
 * - Only tracks with at least one encoded note are listed in the header (in track order), so
 *   decoded track numbers count those tracks only; a piece without notes lists its first track.
 * - Drum tracks are encoded like any other track, with the `TRACK_drums` role.
 * - Key and tempo changes inside the piece are written at their position, only when they
 *   change the key (signature and mode) or the tempo bin. Chord symbols likewise; one chord
 *   per position (the last one wins); text that is not a chord symbol is dropped.
 * - Dropped (counted in {@link EncodeStats}): notes outside every bar, notes outside pitch
 *   21..108, notes on a track the score does not have. Grace notes and the voice number are
 *   not encoded.
 * - A meter without a token is written `METER_other`, and each of its bars carries `LEN`.
 * - `maxBars` keeps the first bars only; a sequence cut that way has no `EOS`.
 *
 * Per-token arrays (see docs/shard-format.md): `bar` is the bar index (65535 for header
 * tokens; `EOS` carries the last bar's index), `pos` the onset position in grid steps for
 * `POS` and every token of that position's events, 255 for the others.
 *
 * Pure TypeScript: no vscode, no DOM, no Node-only APIs.
 */

import { MusicInputError } from '../music/score';
import type { Key, Meter, Score } from '../music/score';
import {
  BAR_ID,
  BOS_ID,
  DEFAULT_GRID,
  EOS_ID,
  HEADER_BAR,
  MAX_BAR_STEPS,
  METER_OTHER_INDEX,
  MODES,
  NO_CHORD_INDEX,
  NO_POS,
  PITCH_MIN,
  SUM_ID,
  TRACK_ROLES,
  idOf,
  meterIndex,
  meterSteps,
  tempoBin,
  ticksPerStep,
} from './vocab';
import type { TrackRole } from './vocab';
import { EventGrid, placeChanges, placeChords, placeNotes } from './encodeEvents';
import type { PosEvents } from './encodeEvents';

/** A tokenised piece: ids plus, per token, its bar index and onset position (see the shard format). */
export interface TokenSequence {
  ids: Uint16Array;
  bar: Uint16Array;
  pos: Uint8Array;
}

/** Options of {@link encodeScore}. */
export interface EncodeOptions {
  /** Grid steps per quarter note; must divide 480. Default 12. */
  grid?: number;
  /** Write a `VEL` token after every `DUR`. Default false. */
  includeVelocity?: boolean;
  /** Write chord symbols. Default true. */
  includeChords?: boolean;
  /** Encode only the first `maxBars` bars (then no `EOS`). */
  maxBars?: number;
}

/** What the encoder had to round, cap or drop. */
export interface EncodeStats {
  /** Bars encoded. */
  bars: number;
  /** Notes encoded. */
  notes: number;
  /** True when `maxBars` cut the piece. */
  truncated: boolean;
  /** Notes left out: onset outside every encoded bar, pitch outside 21..108, or unknown track. */
  droppedNotes: number;
  /** Notes whose onset or duration was not on the grid. */
  offGridNotes: number;
  /** Notes whose duration in steps had no token and was rounded. */
  roundedDurations: number;
  /** Notes longer than the longest duration token (capped). */
  cappedNotes: number;
  /** Chord symbols left out: not a chord, outside the bars, or another chord at the same position. */
  droppedChords: number;
  /** Chord symbols whose quality or bass was reduced. */
  reducedChords: number;
  /** Bars written with `METER_other`. */
  otherMeterBars: number;
  /** Role of each header track. */
  roles: TrackRole[];
}

/** Score -> tokens. See the module comment; throws `MusicInputError` (codes `tokens-*`) when it cannot. */
export function encodeScore(score: Score, options: EncodeOptions = {}): TokenSequence {
  return encodeScoreDetailed(score, options).sequence;
}

/** Token ids with their bar index and position, as they are written. */
class TokenWriter {
  readonly ids: number[] = [];
  readonly bar: number[] = [];
  readonly pos: number[] = [];

  push(id: number, bar: number, pos: number): void {
    this.ids.push(id);
    this.bar.push(bar);
    this.pos.push(pos);
  }
}

/** What the bars are written with: the header's key and tempo, the track roles, the options. */
interface EmitContext {
  grid: EventGrid;
  gridSteps: number;
  headerKey: Key;
  headerTempo: number;
  roles: TrackRole[];
  includeVelocity: boolean;
  stats: EncodeStats;
}

/** Writes the header (BOS, meter, key, mode, tempo, tracks) and every bar's tokens. */
function emitTokens(out: TokenWriter, c: EmitContext): void {
  const { grid, gridSteps, roles, stats } = c;
  const bars = grid.bars;
  out.push(BOS_ID, HEADER_BAR, NO_POS);
  out.push(meterToken(bars[0].meter, gridSteps), HEADER_BAR, NO_POS);
  out.push(idOf('keySig', c.headerKey.fifths + 7), HEADER_BAR, NO_POS);
  out.push(idOf('mode', MODES.indexOf(c.headerKey.mode)), HEADER_BAR, NO_POS);
  out.push(idOf('tempo', c.headerTempo), HEADER_BAR, NO_POS);
  for (const role of roles) {
    out.push(idOf('track', TRACK_ROLES.indexOf(role)), HEADER_BAR, NO_POS);
  }
  const inForce = { key: c.headerKey, tempo: c.headerTempo };
  for (let b = 0; b < bars.length; b++) {
    const meter = bars[b].meter;
    const len = grid.bound[b + 1] - grid.bound[b];
    const meterTok = meterToken(meter, gridSteps);
    const other = meterTok === idOf('meter', METER_OTHER_INDEX);
    if (other) {
      stats.otherMeterBars++;
    }
    out.push(BAR_ID, b, NO_POS);
    if (b > 0 && !sameMeter(meter, bars[b - 1].meter)) {
      out.push(meterTok, b, NO_POS);
    }
    if (other || len !== meterSteps(meter, gridSteps)) {
      out.push(idOf('len', len - 1), b, NO_POS);
    }
    emitPositions(out, b, grid.events[b], inForce, c);
    out.push(SUM_ID, b, NO_POS);
  }
}

/** The positions of bar `b` in order: key and tempo changes, chord, then the notes by track slot. */
function emitPositions(out: TokenWriter, b: number, events: Map<number, PosEvents>, inForce: { key: Key; tempo: number }, c: EmitContext): void {
  let slot = 0;
  const positions = [...events.keys()].sort((x, y) => x - y);
  for (const p of positions) {
    const e = events.get(p) as PosEvents;
    // A key or tempo change can turn out to restate what is in force (several changes at
    // one position): it is then left out, and so is a position left with no event.
    const keyChange = e.key !== undefined && (e.key.fifths !== inForce.key.fifths || e.key.mode !== inForce.key.mode);
    const tempoChange = e.tempo !== undefined && e.tempo !== inForce.tempo;
    if (!keyChange && !tempoChange && e.chord === undefined && e.notes.length === 0) {
      continue;
    }
    out.push(idOf('pos', p), b, p);
    if (keyChange && e.key !== undefined) {
      out.push(idOf('keySig', e.key.fifths + 7), b, p);
      out.push(idOf('mode', MODES.indexOf(e.key.mode)), b, p);
      inForce.key = e.key;
    }
    if (tempoChange && e.tempo !== undefined) {
      out.push(idOf('tempo', e.tempo), b, p);
      inForce.tempo = e.tempo;
    }
    if (e.chord !== undefined) {
      const ch = e.chord;
      out.push(ch.root < 0 ? idOf('chord', NO_CHORD_INDEX) : idOf('chord', ch.root * 12 + ch.quality), b, p);
      if (ch.root >= 0 && ch.bass !== undefined) {
        out.push(idOf('bass', ch.bass), b, p);
      }
    }
    e.notes.sort((x, y) => x.slot - y.slot || x.pitch - y.pitch || x.dur - y.dur || x.vel - y.vel);
    for (const note of e.notes) {
      if (note.slot !== slot) {
        out.push(idOf('track', TRACK_ROLES.indexOf(c.roles[note.slot])), b, p);
        slot = note.slot;
      }
      out.push(idOf('pitch', note.pitch - PITCH_MIN), b, p);
      out.push(idOf('dur', note.dur), b, p);
      if (c.includeVelocity) {
        out.push(idOf('vel', note.vel), b, p);
      }
    }
  }
}

/**
 * Like {@link encodeScore}, also reporting what was rounded or dropped.
 *
 * Throws `MusicInputError` with code `tokens-bad-grid`, `tokens-bad-option`, `tokens-no-bars`,
 * `tokens-bar-length` (a bar under one step or over 96 steps), `tokens-key` or
 * `tokens-too-many-tracks`.
 */
export function encodeScoreDetailed(score: Score, options: EncodeOptions = {}): { sequence: TokenSequence; stats: EncodeStats } {
  const gridSteps = options.grid ?? DEFAULT_GRID;
  let tps: number;
  try {
    tps = ticksPerStep(gridSteps);
  } catch (e) {
    throw new MusicInputError('tokens-bad-grid', (e as Error).message);
  }
  const maxBars = options.maxBars;
  if (maxBars !== undefined && (!Number.isInteger(maxBars) || maxBars < 1)) {
    throw new MusicInputError('tokens-bad-option', `maxBars must be a whole number >= 1, got ${maxBars}.`);
  }
  if (score.bars.length === 0) {
    throw new MusicInputError('tokens-no-bars', 'The piece has no bars to tokenise.');
  }
  const truncated = maxBars !== undefined && score.bars.length > maxBars;
  const grid = new EventGrid(truncated ? score.bars.slice(0, maxBars) : score.bars, tps, gridSteps);
  const n = grid.bars.length;
  const stats: EncodeStats = {
    bars: n,
    notes: 0,
    truncated,
    droppedNotes: 0,
    offGridNotes: 0,
    roundedDurations: 0,
    cappedNotes: 0,
    droppedChords: 0,
    reducedChords: 0,
    otherMeterBars: 0,
    roles: [],
  };

  const keys = [...score.keys].sort((a, b) => a.tick - b.tick);
  for (const k of keys) {
    checkKey(k.key);
  }
  const headerKey = placeChanges<Key>(
    grid,
    keys.map((k) => ({ tick: k.tick, value: k.key })),
    { tonic: 'C', mode: 'major', fifths: 0 },
    (a, b) => a.fifths === b.fifths && a.mode === b.mode,
    (e, key) => {
      e.key = key;
    },
  );
  const tempos = [...score.tempos].sort((a, b) => a.tick - b.tick);
  const headerTempo = placeChanges<number>(
    grid,
    tempos.map((t) => ({ tick: t.tick, value: tempoBin(t.bpm) })),
    tempoBin(120),
    (a, b) => a === b,
    (e, tempo) => {
      e.tempo = tempo;
    },
  );
  if (options.includeChords !== false) {
    placeChords(grid, score, stats);
  }
  const roles = placeNotes(grid, score, stats);
  stats.roles = roles;

  const out = new TokenWriter();
  emitTokens(out, { grid, gridSteps, headerKey, headerTempo, roles, includeVelocity: options.includeVelocity === true, stats });
  if (!truncated) {
    out.push(EOS_ID, n - 1, NO_POS);
  }
  return {
    sequence: { ids: Uint16Array.from(out.ids), bar: Uint16Array.from(out.bar), pos: Uint8Array.from(out.pos) },
    stats,
  };
}

/** The meter token for a meter at a grid: its own token when it has one that fits, else `METER_other`. */
export function meterToken(meter: Meter, grid: number = DEFAULT_GRID): number {
  const i = meterIndex(meter);
  const steps = meterSteps(meter, grid);
  return i >= 0 && steps <= MAX_BAR_STEPS ? idOf('meter', i) : idOf('meter', METER_OTHER_INDEX);
}

function sameMeter(a: Meter, b: Meter): boolean {
  return a.num === b.num && a.den === b.den;
}

function checkKey(key: Key): void {
  if (!Number.isInteger(key.fifths) || key.fifths < -7 || key.fifths > 7 || !MODES.includes(key.mode)) {
    throw new MusicInputError(
      'tokens-key',
      `Key ${key.tonic} ${key.mode} with ${key.fifths} fifths has no token (signatures -7..7, modes ${MODES.join(', ')}).`,
    );
  }
}
