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
  private readonly _minFolkDur: number;

  /** `grammar` is the state after the prefix (it is cloned). */
  constructor(grammar: TokenGrammar, options: ConstraintOptions) {
    this._g = grammar.clone();
    this._o = options;
    this._folk = options.target === 'abc-folk';
    this._maxNotes = this._folk ? 1 : Math.max(1, options.maxNotesPerPosition ?? 6);
    this._minFolkDur = DURATION_STEPS.find(isFolkDuration) ?? 1;
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
    if (this.done) {
      return m;
    }
    const f = this.forced();
    if (f !== undefined) {
      m[f] = 1;
      return m;
    }
    const g = this._g;
    for (const id of g.allowedIds()) {
      m[id] = 1;
    }
    const block = (kind: TokenKind): void => {
      const r = TOKEN_RANGES[kind];
      m.fill(0, r.start, r.start + r.count);
    };
    for (const k of KIND_BLOCKED_ALWAYS) {
      block(k);
    }
    if (!this._o.allowChords) {
      block('chord');
      block('bass');
    } else {
      const ch = this._o.chords;
      const cr = TOKEN_RANGES.chord;
      for (let i = 0; ch && i < cr.count; i++) {
        if (!ch[i]) {
          m[cr.start + i] = 0;
        }
      }
      const pcs = this._o.pitchClasses;
      const br = TOKEN_RANGES.bass;
      for (let i = 0; pcs && i < br.count; i++) {
        if (!pcs[i]) {
          m[br.start + i] = 0;
        }
      }
    }
    if (this._folk) {
      block('track');
    }
    const afterNote = this._lastKind === 'dur' || this._lastKind === 'vel';
    if (afterNote && this._notesHere >= this._maxNotes) {
      block('pitch');
    }
    // Pitches: range, and ascending within a position and track.
    const pr = TOKEN_RANGES.pitch;
    for (let i = 0; i < pr.count; i++) {
      const p = PITCH_MIN + i;
      if (p < this._o.pitchLow || p > this._o.pitchHigh || (this._notesHere > 0 && p <= this._lastPitch)) {
        m[pr.start + i] = 0;
      }
    }
    const pcs = this._o.pitchClasses;
    const fin = this._o.finalPitchClass;
    const cadenceBar = fin !== undefined && (this._o.cadenceBars ? this._o.cadenceBars.includes(this._barsBegun) : this._barsBegun === this._o.bars);
    const barLen = g.barLength;
    const minDur = this._folk ? this._minFolkDur : 1;
    const finalMin = Math.max(minDur, this._o.finalMinSteps ?? minDur);
    if (pcs || cadenceBar) {
      // Mode lock; and in the last bar a non-final pitch only where the final note still fits after it.
      const roomForAnother = g.position + minDur + finalMin <= barLen;
      for (let i = 0; i < pr.count; i++) {
        const pc = (PITCH_MIN + i) % 12;
        if ((pcs && !pcs[pc] && pc !== fin) || (cadenceBar && pc !== fin && !roomForAnother)) {
          m[pr.start + i] = 0;
        }
      }
    }
    // Durations end inside the bar (and, after a non-final pitch in the last bar, before its end).
    const left = g.stepsLeft() - (cadenceBar && this._lastKind === 'pitch' && this._lastPitch % 12 !== fin ? finalMin : 0);
    const dr = TOKEN_RANGES.dur;
    // The final itself either reaches the end of the last bar or leaves room for another note and a final.
    const durOk = (d: number): boolean => d <= left && (!this._folk || isFolkDuration(d));
    const finalFits = (d: number): boolean => d === left || d <= left - minDur - finalMin;
    const finalNote = cadenceBar && this._lastKind === 'pitch' && this._lastPitch % 12 === fin && DURATION_STEPS.some((d) => durOk(d) && finalFits(d));
    for (let i = 0; i < dr.count; i++) {
      const d = DURATION_STEPS[i];
      if (!durOk(d) || (finalNote && !finalFits(d))) {
        m[dr.start + i] = 0;
      }
    }
    // Positions: monophonic (folk) onsets wait for the previous note; a note must still fit.
    const ps = TOKEN_RANGES.pos;
    for (let i = 0; i < ps.count; i++) {
      if ((this._folk && i < this._noteEnd) || !(i + minDur <= barLen)) {
        m[ps.start + i] = 0;
      }
    }
    if (cadenceBar && this._lastNotePitch >= 0 && this._lastNotePitch % 12 !== fin && this._lastKind !== 'pitch') {
      m[TOKEN_RANGES.sum.start] = 0; // the piece may not end on a note other than its final
    }
    let any = false;
    for (let i = 0; i < m.length && !any; i++) {
      any = m[i] === 1;
    }
    if (!any) {
      // Never a dead end: close the bar if the grammar lets us, else fall back to the grammar.
      const sum = TOKEN_RANGES.sum.start;
      if (g.accepts(sum)) {
        m[sum] = 1;
      } else {
        for (const id of g.allowedIds()) {
          m[id] = 1;
        }
        m[TOKEN_RANGES.eos.start] = 0;
      }
    }
    return m;
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
