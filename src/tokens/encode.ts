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
import { parseChordSymbol } from './chords';
import type { ChordValue } from './chords';
import { assignTrackRoles } from './tracks';
import {
  BAR_ID,
  BOS_ID,
  DEFAULT_GRID,
  DURATION_STEPS,
  EOS_ID,
  HEADER_BAR,
  MAX_BAR_STEPS,
  MAX_DURATION_STEPS,
  METER_OTHER_INDEX,
  MODES,
  NO_CHORD_INDEX,
  NO_POS,
  PITCH_MAX,
  PITCH_MIN,
  SUM_ID,
  TRACK_ROLES,
  durationIndex,
  idOf,
  meterIndex,
  meterSteps,
  tempoBin,
  ticksPerStep,
  velocityBin,
} from './vocab';
import type { TrackRole } from './vocab';

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

interface NoteEvent {
  slot: number;
  pitch: number;
  dur: number;
  vel: number;
}

interface PosEvents {
  key?: Key;
  tempo?: number;
  chord?: ChordValue;
  notes: NoteEvent[];
}

/** Score -> tokens. See the module comment; throws `MusicInputError` (codes `tokens-*`) when it cannot. */
export function encodeScore(score: Score, options: EncodeOptions = {}): TokenSequence {
  return encodeScoreDetailed(score, options).sequence;
}

/**
 * Like {@link encodeScore}, also reporting what was rounded or dropped.
 *
 * Throws `MusicInputError` with code `tokens-bad-grid`, `tokens-bad-option`, `tokens-no-bars`,
 * `tokens-bar-length` (a bar under one step or over 96 steps), `tokens-key` or
 * `tokens-too-many-tracks`.
 */
export function encodeScoreDetailed(score: Score, options: EncodeOptions = {}): { sequence: TokenSequence; stats: EncodeStats } {
  const grid = options.grid ?? DEFAULT_GRID;
  let tps: number;
  try {
    tps = ticksPerStep(grid);
  } catch (e) {
    throw new MusicInputError('tokens-bad-grid', (e as Error).message);
  }
  const includeVelocity = options.includeVelocity === true;
  const includeChords = options.includeChords !== false;
  const maxBars = options.maxBars;
  if (maxBars !== undefined && (!Number.isInteger(maxBars) || maxBars < 1)) {
    throw new MusicInputError('tokens-bad-option', `maxBars must be a whole number >= 1, got ${maxBars}.`);
  }
  if (score.bars.length === 0) {
    throw new MusicInputError('tokens-no-bars', 'The piece has no bars to tokenise.');
  }
  const truncated = maxBars !== undefined && score.bars.length > maxBars;
  const bars = truncated ? score.bars.slice(0, maxBars) : score.bars;
  const n = bars.length;
  const origin = bars[0].start;
  const toStep = (tick: number): number => Math.round((tick - origin) / tps);

  // Bar boundaries in steps.
  const bound = new Int32Array(n + 1);
  for (let b = 0; b < n; b++) {
    bound[b] = toStep(bars[b].start);
  }
  bound[n] = toStep(bars[n - 1].start + bars[n - 1].duration);
  for (let b = 0; b < n; b++) {
    const len = bound[b + 1] - bound[b];
    if (!(len >= 1 && len <= MAX_BAR_STEPS)) {
      throw new MusicInputError(
        'tokens-bar-length',
        `Bar ${b + 1} is ${len} grid steps long; the tokenizer handles bars of 1 to ${MAX_BAR_STEPS} steps ` +
          `(${MAX_BAR_STEPS / grid} quarter notes).`,
      );
    }
  }
  const barOfStep = (step: number): number => {
    if (step < 0 || step >= bound[n]) {
      return -1;
    }
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (bound[mid] <= step) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  };

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

  const events: Map<number, PosEvents>[] = bars.map(() => new Map());
  const at = (step: number): PosEvents | undefined => {
    const b = barOfStep(step);
    if (b < 0) {
      return undefined;
    }
    const p = step - bound[b];
    let e = events[b].get(p);
    if (e === undefined) {
      e = { notes: [] };
      events[b].set(p, e);
    }
    return e;
  };

  // Key: header value and changes.
  const keys = [...score.keys].sort((a, b) => a.tick - b.tick);
  for (const k of keys) {
    checkKey(k.key);
  }
  let headerKey: Key = { tonic: 'C', mode: 'major', fifths: 0 };
  let firstKeyChange = 0;
  if (keys.length > 0) {
    headerKey = keys[0].key;
    while (firstKeyChange < keys.length && toStep(keys[firstKeyChange].tick) <= 0) {
      headerKey = keys[firstKeyChange].key;
      firstKeyChange++;
    }
  }
  let curKey = headerKey;
  for (let i = firstKeyChange; i < keys.length; i++) {
    const k = keys[i].key;
    if (k.fifths === curKey.fifths && k.mode === curKey.mode) {
      continue;
    }
    const e = at(toStep(keys[i].tick));
    if (e !== undefined) {
      e.key = k;
      curKey = k;
    }
  }

  // Tempo: header bin and changes of bin.
  const tempos = [...score.tempos].sort((a, b) => a.tick - b.tick);
  let headerTempo = tempoBin(120);
  let firstTempoChange = 0;
  if (tempos.length > 0) {
    headerTempo = tempoBin(tempos[0].bpm);
    while (firstTempoChange < tempos.length && toStep(tempos[firstTempoChange].tick) <= 0) {
      headerTempo = tempoBin(tempos[firstTempoChange].bpm);
      firstTempoChange++;
    }
  }
  let curTempo = headerTempo;
  for (let i = firstTempoChange; i < tempos.length; i++) {
    const t = tempoBin(tempos[i].bpm);
    if (t === curTempo) {
      continue;
    }
    const e = at(toStep(tempos[i].tick));
    if (e !== undefined) {
      e.tempo = t;
      curTempo = t;
    }
  }

  // Chords.
  if (includeChords) {
    const chords = [...score.chords].sort((a, b) => a.tick - b.tick);
    for (const c of chords) {
      const v = parseChordSymbol(c.name);
      const e = v === undefined || !Number.isFinite(c.tick) ? undefined : at(toStep(c.tick));
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

  // Notes.
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
    const e = ok ? at(toStep(note.onset)) : undefined;
    if (e === undefined) {
      stats.droppedNotes++;
      continue;
    }
    if ((note.onset - origin) % tps !== 0 || note.duration % tps !== 0) {
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
  stats.roles = roles;
  const slotOfTrack = new Map(headerTracks.map((t, k) => [t, k]));
  for (const p of placed) {
    p.note.slot = slotOfTrack.get(p.track) ?? 0;
    p.e.notes.push(p.note);
  }
  stats.notes = placed.length;

  // Emit.
  const ids: number[] = [];
  const barIdx: number[] = [];
  const posArr: number[] = [];
  const push = (id: number, bar: number, pos: number): void => {
    ids.push(id);
    barIdx.push(bar);
    posArr.push(pos);
  };
  push(BOS_ID, HEADER_BAR, NO_POS);
  push(meterToken(bars[0].meter, grid), HEADER_BAR, NO_POS);
  push(idOf('keySig', headerKey.fifths + 7), HEADER_BAR, NO_POS);
  push(idOf('mode', MODES.indexOf(headerKey.mode)), HEADER_BAR, NO_POS);
  push(idOf('tempo', headerTempo), HEADER_BAR, NO_POS);
  for (const role of roles) {
    push(idOf('track', TRACK_ROLES.indexOf(role)), HEADER_BAR, NO_POS);
  }
  let keyInForce = headerKey;
  let tempoInForce = headerTempo;
  for (let b = 0; b < n; b++) {
    const meter = bars[b].meter;
    const len = bound[b + 1] - bound[b];
    const meterTok = meterToken(meter, grid);
    const other = meterTok === idOf('meter', METER_OTHER_INDEX);
    if (other) {
      stats.otherMeterBars++;
    }
    push(BAR_ID, b, NO_POS);
    if (b > 0 && !sameMeter(meter, bars[b - 1].meter)) {
      push(meterTok, b, NO_POS);
    }
    if (other || len !== meterSteps(meter, grid)) {
      push(idOf('len', len - 1), b, NO_POS);
    }
    let slot = 0;
    const positions = [...events[b].keys()].sort((x, y) => x - y);
    for (const p of positions) {
      const e = events[b].get(p) as PosEvents;
      // A key or tempo change can turn out to restate what is in force (several changes at
      // one position): it is then left out, and so is a position left with no event.
      const keyChange = e.key !== undefined && (e.key.fifths !== keyInForce.fifths || e.key.mode !== keyInForce.mode);
      const tempoChange = e.tempo !== undefined && e.tempo !== tempoInForce;
      if (!keyChange && !tempoChange && e.chord === undefined && e.notes.length === 0) {
        continue;
      }
      push(idOf('pos', p), b, p);
      if (keyChange && e.key !== undefined) {
        push(idOf('keySig', e.key.fifths + 7), b, p);
        push(idOf('mode', MODES.indexOf(e.key.mode)), b, p);
        keyInForce = e.key;
      }
      if (tempoChange && e.tempo !== undefined) {
        push(idOf('tempo', e.tempo), b, p);
        tempoInForce = e.tempo;
      }
      if (e.chord !== undefined) {
        const c = e.chord;
        push(c.root < 0 ? idOf('chord', NO_CHORD_INDEX) : idOf('chord', c.root * 12 + c.quality), b, p);
        if (c.root >= 0 && c.bass !== undefined) {
          push(idOf('bass', c.bass), b, p);
        }
      }
      e.notes.sort((x, y) => x.slot - y.slot || x.pitch - y.pitch || x.dur - y.dur || x.vel - y.vel);
      for (const note of e.notes) {
        if (note.slot !== slot) {
          push(idOf('track', TRACK_ROLES.indexOf(roles[note.slot])), b, p);
          slot = note.slot;
        }
        push(idOf('pitch', note.pitch - PITCH_MIN), b, p);
        push(idOf('dur', note.dur), b, p);
        if (includeVelocity) {
          push(idOf('vel', note.vel), b, p);
        }
      }
    }
    push(SUM_ID, b, NO_POS);
  }
  if (!truncated) {
    push(EOS_ID, n - 1, NO_POS);
  }
  return {
    sequence: { ids: Uint16Array.from(ids), bar: Uint16Array.from(barIdx), pos: Uint8Array.from(posArr) },
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
