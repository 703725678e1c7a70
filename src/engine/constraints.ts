/**
 * Constrained decoding: which token ids may come next while the engine writes new bars.
 * The token grammar (`tokens/grammar.ts`) makes every bar well-formed and metrically
 * complete; on top of it, per target:
 * - all targets: no meter, bar-length, key or tempo changes in new bars (a bar's `METER` /
 *   `LEN` may be forced, for infill), no `EOS` (the engine stops after the requested bars),
 *   every note ends inside its bar, pitches in the allowed range, at most
 *   {@link ConstraintOptions.maxNotesPerPosition} notes per position and track, ascending;
 * - `'abc-folk'`: one monophonic voice on one track (no `TRACK` in bars, one note per
 *   position, the next onset not before the previous note ends) and only note lengths a folk
 *   tune writes (whole sixteenths, or eighth/quarter triplets);
 * - chord symbols only when the prompt has some; with the mode lock, only chords whose tones lie in
 *   the allowed pitch classes, the major or seventh chord on the fifth above the final (the
 *   dominant a minor or modal tune borrows) and chords the prompt itself uses ({@link allowedChords}).
 *
 * Pure TypeScript: no vscode, no Node-only APIs.
 */

import { TokenGrammar } from '../tokens/grammar';
import { DURATION_STEPS, TOKEN_RANGES, VOCAB_SIZE, tokenIndex, tokenKind } from '../tokens/vocab';
import type { TokenKind } from '../tokens/vocab';
import { CHORD_QUALITIES, HEADER_BAR, NO_CHORD_INDEX, NO_POS, PITCH_MIN } from '../tokens/vocab';
import type { GenerationTarget } from './types';
import { parseChordSymbol } from '../tokens/chords';
import type { Score } from '../music/score';

/** Options of {@link GenerationConstraints}. */
export interface ConstraintOptions {
  target: GenerationTarget;
  /** Bars to write. */
  bars: number;
  /** Lowest and highest MIDI pitch allowed. */
  pitchLow: number;
  pitchHigh: number;
  /** Whether chord symbols may be written. */
  allowChords: boolean;
  /** Per new bar, the tokens forced right after its `BAR` (its `METER` / `LEN`); default none. */
  barHeaders?: readonly (readonly number[])[];
  /** Most notes at one position of one track (midi target). Default 6. */
  maxNotesPerPosition?: number;
  /** Mode lock: the pitch classes new notes may use (12 entries); default all. */
  pitchClasses?: readonly boolean[];
  /** Mode lock for chord symbols: which chord-kind token indices may be written (see {@link allowedChords}); default all. */
  chords?: readonly boolean[];
  /**
   * Cadence: in each cadence bar (see `cadenceBars`), the last note has this pitch class (the key's final). A note of
   * another pitch class there must leave room for a later note; default no cadence rule.
   */
  finalPitchClass?: number;
  /** Cadence: the new bars (1-based, in writing order) whose last note is the final; default the last one. */
  cadenceBars?: readonly number[];
  /** Cadence: the final note lasts at least this many grid steps (a beat); default the shortest folk note. */
  finalMinSteps?: number;
}

/** Whether a duration in grid steps (12 per quarter) is one a folk tune writes. */
export function isFolkDuration(steps: number): boolean {
  return steps % 3 === 0 || steps === 4 || steps === 8;
}

/** Chord tones of each of `CHORD_QUALITIES`, as semitones above the root. */
const QUALITY_TONES: readonly (readonly number[])[] = [
  [0, 4, 7], // major
  [0, 3, 7], // m
  [0, 4, 7, 10], // 7
  [0, 4, 7, 11], // maj7
  [0, 3, 7, 10], // m7
  [0, 3, 6], // dim
  [0, 3, 6, 9], // dim7
  [0, 3, 6, 10], // m7b5
  [0, 4, 8], // aug
  [0, 2, 7], // sus2
  [0, 5, 7], // sus4
  [0, 4, 7, 9], // 6
];

/**
 * The chord symbols a mode-locked tune may write, by chord-kind token index (root x 12 +
 * quality, then no chord): those whose tones all lie in `pitchClasses`, the major and seventh
 * chords on the fifth above `finalPc` (E and E7 in A minor or A dorian), no chord, and every
 * chord in `used` (the prompt's own, by the same index).
 */
export function allowedChords(pitchClasses: readonly boolean[], finalPc: number, used: readonly number[] = []): boolean[] {
  const out = new Array<boolean>(TOKEN_RANGES.chord.count).fill(false);
  const dominant = (finalPc + 7) % 12;
  for (let root = 0; root < 12; root++) {
    for (let q = 0; q < CHORD_QUALITIES.length; q++) {
      const inMode = QUALITY_TONES[q].every((t) => pitchClasses[(root + t) % 12]);
      out[root * 12 + q] = inMode || (root === dominant && (q === 0 || q === 2));
    }
  }
  out[NO_CHORD_INDEX] = true;
  for (const i of used) {
    if (i >= 0 && i < out.length) {
      out[i] = true;
    }
  }
  return out;
}

/** The chord-kind token index of each chord symbol in a score that reads as one. */
export function promptChordIndices(score: Pick<Score, 'chords'>): number[] {
  const out: number[] = [];
  for (const c of score.chords) {
    const v = parseChordSymbol(c.name);
    if (v) {
      out.push(v.root < 0 ? NO_CHORD_INDEX : v.root * 12 + v.quality);
    }
  }
  return out;
}

const KIND_BLOCKED_ALWAYS: readonly TokenKind[] = ['eos', 'meter', 'len', 'keySig', 'mode', 'tempo', 'pad', 'bos'];

/**
 * 1 where the rules that hold for the whole generation allow an id: no {@link KIND_BLOCKED_ALWAYS}
 * kind; chord symbols (and bass notes) only when allowed, by the chord and mode lock; one track
 * (folk); pitches in range and (mode lock) in the allowed pitch classes or the final; folk lengths.
 */
function staticMask(o: ConstraintOptions, folk: boolean): Uint8Array {
  const m = new Uint8Array(VOCAB_SIZE).fill(1);
  const block = (kind: TokenKind): void => {
    const r = TOKEN_RANGES[kind];
    m.fill(0, r.start, r.start + r.count);
  };
  for (const k of KIND_BLOCKED_ALWAYS) {
    block(k);
  }
  const pcs = o.pitchClasses;
  if (!o.allowChords) {
    block('chord');
    block('bass');
  } else {
    const cr = TOKEN_RANGES.chord;
    for (let i = 0; o.chords && i < cr.count; i++) {
      m[cr.start + i] = o.chords[i] ? m[cr.start + i] : 0;
    }
    const br = TOKEN_RANGES.bass;
    for (let i = 0; pcs && i < br.count; i++) {
      m[br.start + i] = pcs[i] ? m[br.start + i] : 0;
    }
  }
  if (folk) {
    block('track');
  }
  const pr = TOKEN_RANGES.pitch;
  for (let i = 0; i < pr.count; i++) {
    const p = PITCH_MIN + i;
    if (p < o.pitchLow || p > o.pitchHigh || (pcs && !pcs[p % 12] && p % 12 !== o.finalPitchClass)) {
      m[pr.start + i] = 0;
    }
  }
  const dr = TOKEN_RANGES.dur;
  for (let i = 0; folk && i < dr.count; i++) {
    m[dr.start + i] = isFolkDuration(DURATION_STEPS[i]) ? m[dr.start + i] : 0;
  }
  return m;
}

/**
 * Tracks the grammar state and the target rules while new bars are written after a prefix.
 * Call {@link mask} for the allowed ids, {@link forced} for a token that must come, then
 * {@link push} the chosen id.
 */
export class GenerationConstraints {
  private readonly _g: TokenGrammar;
  private readonly _o: ConstraintOptions;
  private readonly _folk: boolean;
  private readonly _maxNotes: number;
  private _barsDone = 0;
  private _barsBegun = 0;
  private _forced: number[] = [];
  private _noteEnd = 0;
  private _lastKind: TokenKind | undefined;
  private _lastPitch = -1;
  /** Pitch of the last note written in the current bar (-1 none), for the cadence rule. */
  private _lastNotePitch = -1;
  private _notesHere = 0;
  private readonly _mask = new Uint8Array(VOCAB_SIZE);
  /** The ids the last mask allows, ascending, in the first `_idCount` entries. */
  private readonly _ids = new Int32Array(VOCAB_SIZE);
  private _idCount = 0;
  /** Shortest note and shortest final (cadence) in grid steps. */
  private readonly _minDur: number;
  private readonly _finalMin: number;
  /** 1 where the rules that never change allow an id (see {@link staticMask}). */
  private readonly _static: Uint8Array;
  /** Whether the bar being written ends on the final (the cadence rule). */
  private _cadenceBar: boolean;

  /** `grammar` is the state after the prefix (it is cloned). */
  constructor(grammar: TokenGrammar, options: ConstraintOptions) {
    this._g = grammar.clone();
    this._o = options;
    this._folk = options.target === 'abc-folk';
    this._maxNotes = this._folk ? 1 : Math.max(1, options.maxNotesPerPosition ?? 6);
    this._minDur = this._folk ? (DURATION_STEPS.find(isFolkDuration) ?? 1) : 1;
    this._finalMin = Math.max(this._minDur, options.finalMinSteps ?? this._minDur);
    this._static = staticMask(options, this._folk);
    this._cadenceBar = this._isCadenceBar();
  }

  /** Bars completed (their `SUM` read). */
  get barsDone(): number {
    return this._barsDone;
  }

  /** Whether the requested bars are all written. */
  get done(): boolean {
    return this._barsDone >= this._o.bars;
  }

  /** The grammar state (read only: do not push into it). */
  get grammar(): TokenGrammar {
    return this._g;
  }

  /** The token that must come next (a forced bar start or bar header), or undefined. */
  forced(): number | undefined {
    if (this.done) {
      return undefined;
    }
    if (this._forced.length > 0) {
      return this._forced[0];
    }
    if (this._g.atBarBoundary) {
      return TOKEN_RANGES.bar.start;
    }
    return undefined;
  }

  /** A 0/1 mask of the ids that may come next (a shared buffer, valid until the next push). */
  mask(): Uint8Array {
    const m = this._mask;
    m.fill(0);
    this._idCount = 0;
    if (this.done) {
      return m;
    }
    const f = this.forced();
    if (f !== undefined) {
      m[f] = 1;
      this._ids[this._idCount++] = f;
      return m;
    }
    const g = this._g;
    // The grammar's ids less those the fixed rules block, then the rules of the moment.
    const allowed = g.allowedIds();
    const st = this._static;
    for (let j = 0; j < allowed.length; j++) {
      m[allowed[j]] = st[allowed[j]];
    }
    const folk = this._folk;
    const lastKind = this._lastKind;
    const lastPitch = this._lastPitch;
    const pr = TOKEN_RANGES.pitch;
    if ((lastKind === 'dur' || lastKind === 'vel') && this._notesHere >= this._maxNotes) {
      m.fill(0, pr.start, pr.start + pr.count);
    }
    // Pitches ascending within a position and track.
    if (this._notesHere > 0) {
      m.fill(0, pr.start, pr.start + Math.max(0, Math.min(pr.count, lastPitch - PITCH_MIN + 1)));
    }
    const fin = this._o.finalPitchClass;
    const cadenceBar = this._cadenceBar;
    const barLen = g.barLength;
    const minDur = this._minDur;
    const finalMin = this._finalMin;
    // In the last bar a non-final pitch only where the final note still fits after it.
    if (cadenceBar && !(g.position + minDur + finalMin <= barLen)) {
      for (let i = 0; i < pr.count; i++) {
        if ((PITCH_MIN + i) % 12 !== fin) {
          m[pr.start + i] = 0;
        }
      }
    }
    // Durations end inside the bar (and, after a non-final pitch in the last bar, before its end).
    const afterPitch = cadenceBar && lastKind === 'pitch';
    const left = g.stepsLeft() - (afterPitch && lastPitch % 12 !== fin ? finalMin : 0);
    // The final itself either reaches the end of the last bar or leaves room for another note and a final.
    const dr = TOKEN_RANGES.dur;
    const room = left - minDur - finalMin;
    let finalNote = false;
    for (let i = 0; afterPitch && lastPitch % 12 === fin && i < dr.count && !finalNote; i++) {
      const d = DURATION_STEPS[i];
      finalNote = d <= left && (!folk || isFolkDuration(d)) && (d === left || d <= room);
    }
    for (let i = 0; i < dr.count; i++) {
      const d = DURATION_STEPS[i];
      if (d > left || (finalNote && d !== left && d > room)) {
        m[dr.start + i] = 0;
      }
    }
    // Positions: monophonic (folk) onsets wait for the previous note; a note must still fit.
    const ps = TOKEN_RANGES.pos;
    const noteEnd = folk ? this._noteEnd : 0;
    for (let i = 0; i < ps.count; i++) {
      if (i < noteEnd || !(i + minDur <= barLen)) {
        m[ps.start + i] = 0;
      }
    }
    if (cadenceBar && this._lastNotePitch >= 0 && this._lastNotePitch % 12 !== fin && lastKind !== 'pitch') {
      m[TOKEN_RANGES.sum.start] = 0; // the piece may not end on a note other than its final
    }
    const ids = this._ids;
    for (let j = 0; j < allowed.length; j++) {
      if (m[allowed[j]] === 1) {
        ids[this._idCount++] = allowed[j];
      }
    }
    if (this._idCount === 0) {
      // Never a dead end: close the bar if the grammar lets us, else fall back to the grammar.
      const sum = TOKEN_RANGES.sum.start;
      const eos = TOKEN_RANGES.eos.start;
      if (g.accepts(sum)) {
        m[sum] = 1;
        ids[this._idCount++] = sum;
      } else {
        for (const id of allowed) {
          m[id] = id === eos ? 0 : 1;
          if (id !== eos) {
            ids[this._idCount++] = id;
          }
        }
      }
    }
    return m;
  }

  /** The ids the last {@link mask} allowed, ascending (a view of a shared buffer, valid until the next push). */
  maskIds(): Int32Array {
    return this._ids.subarray(0, this._idCount);
  }

  /** Whether the bar being written (the `_barsBegun`-th new bar) is a cadence bar. */
  private _isCadenceBar(): boolean {
    const o = this._o;
    return o.finalPitchClass !== undefined && (o.cadenceBars ? o.cadenceBars.includes(this._barsBegun) : this._barsBegun === o.bars);
  }

  /** Reads the chosen token (throws `MusicInputError` when the grammar rejects it). */
  push(id: number): void {
    this._g.push(id);
    const kind = tokenKind(id);
    const v = tokenIndex(id);
    if (this._forced.length > 0 && this._forced[0] === id) {
      this._forced.shift();
    }
    switch (kind) {
      case 'bar': {
        const header = this._o.barHeaders?.[this._barsBegun];
        this._forced = header ? [...header] : [];
        this._barsBegun++;
        this._cadenceBar = this._isCadenceBar();
        this._lastNotePitch = -1;
        this._noteEnd = 0;
        this._notesHere = 0;
        this._lastPitch = -1;
        break;
      }
      case 'pos':
      case 'track':
        this._notesHere = 0;
        this._lastPitch = -1;
        break;
      case 'pitch':
        this._lastPitch = PITCH_MIN + v;
        this._lastNotePitch = PITCH_MIN + v;
        this._notesHere++;
        break;
      case 'dur':
        this._noteEnd = Math.max(this._noteEnd, this._g.position + DURATION_STEPS[v]);
        break;
      case 'sum':
        this._barsDone++;
        break;
      default:
        break;
    }
    this._lastKind = kind;
  }
}

/**
 * Bar index and onset position of each token as it is appended (the shard format's `bar`
 * and `pos` arrays): header tokens get {@link HEADER_BAR}; `POS` and the tokens of its events
 * get the position; `BAR`, `METER`, `LEN`, `SUM`, `EOS` get {@link NO_POS}.
 */
export class TokenCoordinates {
  private _bar = -1;
  private _pos = NO_POS;

  /** A tracker that has read `prefix`. */
  static after(prefix: ArrayLike<number>): TokenCoordinates {
    const t = new TokenCoordinates();
    for (let i = 0; i < prefix.length; i++) {
      t.next(prefix[i]);
    }
    return t;
  }

  /** An independent copy. */
  clone(): TokenCoordinates {
    const t = new TokenCoordinates();
    t._bar = this._bar;
    t._pos = this._pos;
    return t;
  }

  /** The (bar, pos) of the next token `id`, advancing the state. */
  next(id: number): { bar: number; pos: number } {
    const kind = tokenKind(id);
    switch (kind) {
      case 'bar':
        this._bar++;
        this._pos = NO_POS;
        return { bar: this._bar, pos: NO_POS };
      case 'pos':
        this._pos = tokenIndex(id);
        return { bar: this._bar, pos: this._pos };
      case 'sum':
      case 'eos':
        this._pos = NO_POS;
        return { bar: this._bar < 0 ? HEADER_BAR : this._bar, pos: NO_POS };
      default:
        if (this._bar < 0) {
          return { bar: HEADER_BAR, pos: NO_POS };
        }
        return { bar: this._bar, pos: kind === 'meter' || kind === 'len' ? NO_POS : this._pos };
    }
  }
}
