/**
 * The token vocabulary of Refrain: one fixed, versioned, REMI-like list of token strings.
 * The tokenizer (`./encode`, `./decode`), the corpus shard builder and the
 * generation engine all use it, and the Python trainer reads the same strings from each
 * shard's `meta.json`.
 *
 * Layout (ids in this order, {@link VOCAB_SIZE} = 598 for version 1):
 *
 * | kind | names | count | meaning |
 * |---|---|---|---|
 * | `pad` `bos` `eos` `bar` `sum` | `PAD` `BOS` `EOS` `BAR` `SUM` | 5 | padding, piece start/end, bar start, the bar's summary token (Museformer) |
 * | `meter` | `METER_2/2` ... `METER_12/16`, `METER_other` | 22 | time signature ({@link METERS}); `other` = any meter not listed, its bars always carry a `LEN` |
 * | `len` | `LEN_1` ... `LEN_96` | 96 | length of a bar in grid steps, only when it differs from its meter's (pickups, odd bars) |
 * | `keySig` | `KEYSIG_-7` ... `KEYSIG_+7` | 15 | key signature in fifths (flats negative) |
 * | `mode` | `MODE_major` ... `MODE_locrian` | 7 | mode; `KEYSIG` + `MODE` together name the key (tonic follows) |
 * | `tempo` | `TEMPO_38` ... `TEMPO_214` | 16 | tempo bin, named by its centre in quarter notes per minute ({@link TEMPO_BINS}) |
 * | `track` | `TRACK_melody` ... `TRACK_other` | 8 | track role ({@link TRACK_ROLES}) |
 * | `pos` | `POS_0` ... `POS_95` | 96 | onset position in the bar, in grid steps (12 per quarter note by default) |
 * | `chord` | `CHORD_C` ... `CHORD_B6`, `CHORD_N.C.` | 145 | chord symbol: 12 roots x 12 qualities ({@link CHORD_QUALITIES}), plus no chord |
 * | `bass` | `BASS_C` ... `BASS_B` | 12 | bass note of a slash chord (`G/B`), right after its `CHORD` |
 * | `pitch` | `PITCH_21` ... `PITCH_108` | 88 | MIDI pitch (piano range) |
 * | `dur` | `DUR_1` ... `DUR_192` | 80 | note duration in grid steps ({@link DURATION_STEPS}) |
 * | `vel` | `VEL_0` ... `VEL_7` | 8 | velocity bin (16 MIDI velocities per bin) |
 *
 * Token names are spelled with sharps for chord roots in the vocabulary (`CHORD_C#m`); the
 * decoder re-spells them from the key (see `./chords`).
 *
 * Pure TypeScript: no vscode, no DOM, no Node-only APIs.
 */

import { TPQ } from '../music/score';
import type { Meter, Mode } from '../music/score';

/** Version of the vocabulary. Any change to the list below (order, names, count) bumps it. */
export const VOCAB_VERSION = 1;

/** Default grid: positions per quarter note (12: sixteenths and eighth/sixteenth triplets). */
export const DEFAULT_GRID = 12;

/** Longest bar supported, in grid steps: 96 = 8 quarter notes (4/2) at the default grid. */
export const MAX_BAR_STEPS = 96;

/** Lowest and highest pitch with a token (piano range, MIDI 21..108). */
export const PITCH_MIN = 21;
/** See {@link PITCH_MIN}. */
export const PITCH_MAX = 108;

/** Number of velocity bins; bin `b` holds MIDI velocities `16b+1 .. 16b+16` (the last one up to 127). */
export const VELOCITY_BINS = 8;

/** Velocity given to decoded notes when the sequence has no `VEL` tokens. */
export const DEFAULT_VELOCITY = 80;

/** The kinds of token, in vocabulary order. */
export type TokenKind =
  | 'pad'
  | 'bos'
  | 'eos'
  | 'bar'
  | 'sum'
  | 'meter'
  | 'len'
  | 'keySig'
  | 'mode'
  | 'tempo'
  | 'track'
  | 'pos'
  | 'chord'
  | 'bass'
  | 'pitch'
  | 'dur'
  | 'vel';

/** Every {@link TokenKind}, in vocabulary order. */
export const TOKEN_KINDS: readonly TokenKind[] = [
  'pad',
  'bos',
  'eos',
  'bar',
  'sum',
  'meter',
  'len',
  'keySig',
  'mode',
  'tempo',
  'track',
  'pos',
  'chord',
  'bass',
  'pitch',
  'dur',
  'vel',
];

/**
 * Meters with their own token, in token order. Each fits in {@link MAX_BAR_STEPS} at the
 * default grid. Any other meter is written `METER_other` and its bars carry `LEN` tokens.
 */
export const METERS: readonly Meter[] = [
  { num: 2, den: 2 },
  { num: 3, den: 2 },
  { num: 4, den: 2 },
  { num: 2, den: 4 },
  { num: 3, den: 4 },
  { num: 4, den: 4 },
  { num: 5, den: 4 },
  { num: 6, den: 4 },
  { num: 7, den: 4 },
  { num: 3, den: 8 },
  { num: 5, den: 8 },
  { num: 6, den: 8 },
  { num: 7, den: 8 },
  { num: 9, den: 8 },
  { num: 10, den: 8 },
  { num: 11, den: 8 },
  { num: 12, den: 8 },
  { num: 5, den: 16 },
  { num: 6, den: 16 },
  { num: 9, den: 16 },
  { num: 12, den: 16 },
];

/** Modes in token order (the `mode` field of `Key`). */
export const MODES: readonly Mode[] = ['major', 'minor', 'dorian', 'phrygian', 'lydian', 'mixolydian', 'locrian'];

/**
 * Tempo bin centres in quarter notes per minute: `120 * 2^((i - 10) / 6)` rounded, i = 0..15
 * (38..214; two bins per whole tone, 60 and 120 exact).
 */
export const TEMPO_BINS: readonly number[] = Array.from({ length: 16 }, (_, i) => Math.round(120 * 2 ** ((i - 10) / 6)));

/**
 * Track roles, in token order. Tracks are mapped to roles by `./tracks` (POP909 MELODY /
 * BRIDGE / PIANO, chorale Soprano / Alto / Tenor / Bass, drums by the track's drum flag).
 */
export const TRACK_ROLES = ['melody', 'bridge', 'alto', 'tenor', 'piano', 'bass', 'drums', 'other'] as const;

/** One of {@link TRACK_ROLES}. */
export type TrackRole = (typeof TRACK_ROLES)[number];

/**
 * Chord qualities in token order, written as the suffix after the root (`''` is major).
 * Other qualities are reduced to the nearest of these by `./chords`.
 */
export const CHORD_QUALITIES: readonly string[] = ['', 'm', '7', 'maj7', 'm7', 'dim', 'dim7', 'm7b5', 'aug', 'sus2', 'sus4', '6'];

/** Pitch-class names used in token names (sharps). */
export const PITCH_CLASS_NAMES: readonly string[] = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];

/** Name of the no-chord token's value. */
export const NO_CHORD = 'N.C.';

/** Index of `CHORD_N.C.` within the chord kind (after the 12 x 12 root/quality tokens). */
export const NO_CHORD_INDEX = 144;

/**
 * Note durations with a token, in grid steps, ascending: every step from 1 to 48 (a whole
 * note), every 3 steps (a sixteenth) to 96, every 6 steps to 192 (four 4/4 bars).
 * A duration between two of them is rounded to the nearer (ties to the shorter); a longer
 * one is capped at 192.
 */
export const DURATION_STEPS: readonly number[] = buildDurationSteps();

function buildDurationSteps(): number[] {
  const out: number[] = [];
  for (let d = 1; d <= 48; d++) {
    out.push(d);
  }
  for (let d = 51; d <= 96; d += 3) {
    out.push(d);
  }
  for (let d = 102; d <= 192; d += 6) {
    out.push(d);
  }
  return out;
}

/** Longest duration with a token, in grid steps. */
export const MAX_DURATION_STEPS = DURATION_STEPS[DURATION_STEPS.length - 1];

/** First id and count of each kind. */
export interface TokenRange {
  readonly start: number;
  readonly count: number;
}

/** The names of every token, in id order. */
export const VOCAB: readonly string[] = buildNames();

/** Number of tokens. */
export const VOCAB_SIZE = VOCAB.length;

/** Where each kind's ids start and how many there are. */
export const TOKEN_RANGES: Readonly<Record<TokenKind, TokenRange>> = buildRanges();

/** Id of `PAD` (0). */
export const PAD_ID = 0;
/** Id of `BOS`. */
export const BOS_ID = 1;
/** Id of `EOS`. */
export const EOS_ID = 2;
/** Id of `BAR`. */
export const BAR_ID = 3;
/** Id of `SUM`, the per-bar summary token. */
export const SUM_ID = 4;

/** Bar index given to header tokens (BOS, header meter, key, tempo, track list) in the `bar` array. */
export const HEADER_BAR = 0xffff;
/** Position given to tokens without an onset position in the `pos` array. */
export const NO_POS = 0xff;

function kindNames(kind: TokenKind): string[] {
  switch (kind) {
    case 'pad':
      return ['PAD'];
    case 'bos':
      return ['BOS'];
    case 'eos':
      return ['EOS'];
    case 'bar':
      return ['BAR'];
    case 'sum':
      return ['SUM'];
    case 'meter':
      return [...METERS.map((m) => `METER_${m.num}/${m.den}`), 'METER_other'];
    case 'len':
      return Array.from({ length: MAX_BAR_STEPS }, (_, i) => `LEN_${i + 1}`);
    case 'keySig':
      return Array.from({ length: 15 }, (_, i) => `KEYSIG_${i - 7 > 0 ? '+' : ''}${i - 7}`);
    case 'mode':
      return MODES.map((m) => `MODE_${m}`);
    case 'tempo':
      return TEMPO_BINS.map((b) => `TEMPO_${b}`);
    case 'track':
      return TRACK_ROLES.map((r) => `TRACK_${r}`);
    case 'pos':
      return Array.from({ length: MAX_BAR_STEPS }, (_, i) => `POS_${i}`);
    case 'chord': {
      const out: string[] = [];
      for (const root of PITCH_CLASS_NAMES) {
        for (const q of CHORD_QUALITIES) {
          out.push(`CHORD_${root}${q}`);
        }
      }
      out.push(`CHORD_${NO_CHORD}`);
      return out;
    }
    case 'bass':
      return PITCH_CLASS_NAMES.map((p) => `BASS_${p}`);
    case 'pitch':
      return Array.from({ length: PITCH_MAX - PITCH_MIN + 1 }, (_, i) => `PITCH_${PITCH_MIN + i}`);
    case 'dur':
      return DURATION_STEPS.map((d) => `DUR_${d}`);
    case 'vel':
      return Array.from({ length: VELOCITY_BINS }, (_, i) => `VEL_${i}`);
  }
}

function buildNames(): string[] {
  const out: string[] = [];
  for (const kind of TOKEN_KINDS) {
    out.push(...kindNames(kind));
  }
  return out;
}

function buildRanges(): Record<TokenKind, TokenRange> {
  const out = {} as Record<TokenKind, TokenRange>;
  let start = 0;
  for (const kind of TOKEN_KINDS) {
    const count = kindNames(kind).length;
    out[kind] = { start, count };
    start += count;
  }
  return out;
}

const KIND_OF_ID: readonly TokenKind[] = TOKEN_KINDS.flatMap((k) => kindNames(k).map(() => k));
const ID_OF_NAME: ReadonlyMap<string, number> = new Map(VOCAB.map((name, id) => [name, id]));

/** The name of a token id, e.g. `'PITCH_60'`; `'<unk:ID>'` for an id outside the vocabulary. */
export function tokenName(id: number): string {
  return Number.isInteger(id) && id >= 0 && id < VOCAB_SIZE ? VOCAB[id] : `<unk:${id}>`;
}

/** The id of a token name; throws `Error` for a name that is not in the vocabulary. */
export function tokenId(name: string): number {
  const id = ID_OF_NAME.get(name);
  if (id === undefined) {
    throw new Error(`Unknown token name '${name}'.`);
  }
  return id;
}

/** The id of a token name, or undefined when the vocabulary has no such token. */
export function findTokenId(name: string): number | undefined {
  return ID_OF_NAME.get(name);
}

/** The kind of a token id; undefined outside the vocabulary. */
export function tokenKind(id: number): TokenKind | undefined {
  return Number.isInteger(id) && id >= 0 && id < VOCAB_SIZE ? KIND_OF_ID[id] : undefined;
}

/** Index of a token within its kind (e.g. 0 for `PITCH_21`); -1 outside the vocabulary. */
export function tokenIndex(id: number): number {
  const kind = tokenKind(id);
  return kind === undefined ? -1 : id - TOKEN_RANGES[kind].start;
}

/** The id of the `index`-th token of a kind; throws `RangeError` when out of range. */
export function idOf(kind: TokenKind, index: number): number {
  const r = TOKEN_RANGES[kind];
  if (!Number.isInteger(index) || index < 0 || index >= r.count) {
    throw new RangeError(`No ${kind} token with index ${index} (0..${r.count - 1}).`);
  }
  return r.start + index;
}

/** Whether an id belongs to a kind. */
export function isKind(id: number, kind: TokenKind): boolean {
  const r = TOKEN_RANGES[kind];
  return id >= r.start && id < r.start + r.count;
}

/** Index of a meter in {@link METERS}, or -1 (then it is written `METER_other`). */
export function meterIndex(meter: Meter): number {
  return METERS.findIndex((m) => m.num === meter.num && m.den === meter.den);
}

/** Index of the `METER_other` token within the meter kind. */
export const METER_OTHER_INDEX = METERS.length;

/** Grid steps of one bar of a meter, or NaN when the meter's bar is not a whole number of steps. */
export function meterSteps(meter: Meter, grid: number = DEFAULT_GRID): number {
  const steps = (grid * 4 * meter.num) / meter.den;
  return Number.isInteger(steps) ? steps : Number.NaN;
}

/**
 * The meter written for a `METER_other` bar of `steps` grid steps: the fraction with the
 * smallest denominator among 4, 8, 16, 32 whose bar has that many steps (5/8 for 30 steps
 * at grid 12). Falls back to quarter notes rounded.
 */
export function meterForSteps(steps: number, grid: number = DEFAULT_GRID): Meter {
  for (const den of [4, 8, 16, 32]) {
    const num = (steps * den) / (4 * grid);
    if (Number.isInteger(num) && num > 0) {
      return { num, den };
    }
  }
  return { num: Math.max(1, Math.round(steps / grid)), den: 4 };
}

/** The tempo bin (0..15) nearest to a tempo, in log scale. */
export function tempoBin(bpm: number): number {
  if (!Number.isFinite(bpm) || bpm <= 0) {
    return tempoBin(120);
  }
  const i = Math.round(6 * Math.log2(bpm / 120)) + 10;
  return Math.min(TEMPO_BINS.length - 1, Math.max(0, i));
}

/** The velocity bin (0..7) of a MIDI velocity. */
export function velocityBin(velocity: number): number {
  const v = Math.min(127, Math.max(1, Math.round(velocity)));
  return Math.min(VELOCITY_BINS - 1, Math.floor((v - 1) / 16));
}

/** The velocity a decoded note of a bin gets: the bin's middle (8, 24, ... 120). */
export function velocityOfBin(bin: number): number {
  return bin * 16 + 8;
}

/**
 * Index in {@link DURATION_STEPS} of the duration token for a length in grid steps: the
 * nearest (ties to the shorter), at least the first, at most the last.
 */
export function durationIndex(steps: number): number {
  if (!(steps > DURATION_STEPS[0])) {
    return 0;
  }
  if (steps >= MAX_DURATION_STEPS) {
    return DURATION_STEPS.length - 1;
  }
  let lo = 0;
  let hi = DURATION_STEPS.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (DURATION_STEPS[mid] <= steps) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return steps - DURATION_STEPS[lo] <= DURATION_STEPS[hi] - steps ? lo : hi;
}

/** Ticks per grid step for a grid; throws `RangeError` unless the grid divides {@link TPQ}. */
export function ticksPerStep(grid: number): number {
  if (!Number.isInteger(grid) || grid <= 0 || TPQ % grid !== 0) {
    throw new RangeError(`The grid must be a whole number of positions per quarter note that divides ${TPQ}, got ${grid}.`);
  }
  return TPQ / grid;
}
