/**
 * The token grammar, as a state machine a constrained sampler can drive: after any prefix it
 * says which token kinds and which ids may come next, and how many grid steps are left in
 * the current bar. Every sequence `encodeScore` writes is accepted (with the same
 * `includeVelocity` and grid), and every sequence the grammar accepts up to an `EOS`
 * decodes to well-formed bars of exactly their meter's (or `LEN`'s) length.
 *
 * ```
 * start    -> BOS
 * BOS      -> METER -> KEYSIG -> MODE -> TEMPO -> TRACK (TRACK)* -> BAR
 * BAR      -> METER | LEN | POS | SUM          (LEN required after METER_other)
 * METER    -> LEN | POS | SUM
 * LEN      -> POS | SUM
 * POS      -> KEYSIG | TEMPO | CHORD | TRACK | PITCH     (a position has at least one event)
 * KEYSIG   -> MODE
 * MODE     -> TEMPO | CHORD | TRACK | PITCH | POS | SUM
 * TEMPO    -> CHORD | TRACK | PITCH | POS | SUM
 * CHORD    -> BASS | TRACK | PITCH | POS | SUM
 * BASS     -> TRACK | PITCH | POS | SUM
 * TRACK    -> PITCH
 * PITCH    -> DUR
 * DUR      -> VEL (with velocity) | TRACK | PITCH | POS | SUM (without)
 * VEL      -> TRACK | PITCH | POS | SUM
 * SUM      -> BAR | EOS
 * ```
 *
 * Value rules: positions strictly increase within a bar and stay below its length; a header
 * `TRACK` names a role not yet declared, a bar `TRACK` a declared role other than the current
 * one; a bar `METER` differs from the meter in force (except `METER_other`), a `LEN` differs
 * from the meter's length; a key change differs from the key in force, a tempo change from
 * the tempo bin in force; `BASS` differs from its chord's root and never follows `N.C.`.
 *
 * Pure TypeScript: no vscode, no DOM, no Node-only APIs.
 */

import { MusicInputError } from '../music/score';
import {
  CHORD_QUALITIES,
  DEFAULT_GRID,
  MAX_BAR_STEPS,
  METERS,
  METER_OTHER_INDEX,
  NO_CHORD_INDEX,
  TOKEN_RANGES,
  VOCAB_SIZE,
  meterSteps,
  tokenIndex,
  tokenKind,
  tokenName,
} from './vocab';
import type { TokenKind } from './vocab';

/** Options of {@link TokenGrammar}; must match those the sequence was (or will be) encoded with. */
export interface GrammarOptions {
  /** Grid steps per quarter note. Default 12. */
  grid?: number;
  /** Whether every `DUR` is followed by a `VEL`. Default false. */
  includeVelocity?: boolean;
}

type Phase =
  | 'start'
  | 'hMeter'
  | 'hKeySig'
  | 'hMode'
  | 'hTempo'
  | 'hTrack'
  | 'hTracks'
  | 'barStart'
  | 'barMeter'
  | 'barLen'
  | 'pos'
  | 'keySig'
  | 'mode'
  | 'tempo'
  | 'chord'
  | 'bass'
  | 'track'
  | 'pitch'
  | 'dur'
  | 'vel'
  | 'sum'
  | 'end';

const AFTER_EVENT: readonly TokenKind[] = ['track', 'pitch', 'pos', 'sum'];

const NEXT: Readonly<Record<Phase, readonly TokenKind[]>> = {
  start: ['bos'],
  hMeter: ['meter'],
  hKeySig: ['keySig'],
  hMode: ['mode'],
  hTempo: ['tempo'],
  hTrack: ['track'],
  hTracks: ['track', 'bar'],
  barStart: ['meter', 'len', 'pos', 'sum'],
  barMeter: ['len', 'pos', 'sum'],
  barLen: ['pos', 'sum'],
  pos: ['keySig', 'tempo', 'chord', 'track', 'pitch'],
  keySig: ['mode'],
  mode: ['tempo', 'chord', ...AFTER_EVENT],
  tempo: ['chord', ...AFTER_EVENT],
  chord: ['bass', ...AFTER_EVENT],
  bass: AFTER_EVENT,
  track: ['pitch'],
  pitch: ['dur'],
  dur: AFTER_EVENT,
  vel: AFTER_EVENT,
  sum: ['bar', 'eos'],
  end: [],
};

/** Phase reached by each kind of token (the header phases are handled apart). */
const PHASE_OF_KIND: Readonly<Partial<Record<TokenKind, Phase>>> = {
  bar: 'barStart',
  len: 'barLen',
  pos: 'pos',
  keySig: 'keySig',
  mode: 'mode',
  tempo: 'tempo',
  chord: 'chord',
  bass: 'bass',
  track: 'track',
  pitch: 'pitch',
  dur: 'dur',
  vel: 'vel',
  sum: 'sum',
  eos: 'end',
};

/**
 * The grammar's state after a prefix. Feed tokens with {@link TokenGrammar.push}; ask
 * {@link TokenGrammar.allowedKinds}, {@link TokenGrammar.allowedIds} or
 * {@link TokenGrammar.accepts} what may come next.
 */
export class TokenGrammar {
  private readonly _grid: number;
  private readonly _velocity: boolean;
  private _phase: Phase = 'start';
  private _roles: number[] = [];
  private _track = 0;
  private _meter = -1;
  private _barLen = Number.NaN;
  private _explicitLen = false;
  private _pos = -1;
  private _bar = -1;
  private _fifths = 0;
  private _mode = 0;
  private _pendingFifths = 0;
  private _tempo = -1;
  private _chordRoot = -1;
  private _length = 0;

  constructor(options: GrammarOptions = {}) {
    this._grid = options.grid ?? DEFAULT_GRID;
    this._velocity = options.includeVelocity === true;
  }

  /** A grammar that has read `prefix`; throws `MusicInputError('tokens-grammar')` if the prefix breaks the grammar. */
  static fromPrefix(prefix: ArrayLike<number>, options: GrammarOptions = {}): TokenGrammar {
    const g = new TokenGrammar(options);
    for (let i = 0; i < prefix.length; i++) {
      g.push(prefix[i]);
    }
    return g;
  }

  /** An independent copy of this state. */
  clone(): TokenGrammar {
    const g = new TokenGrammar({ grid: this._grid, includeVelocity: this._velocity });
    Object.assign(g, this);
    g._roles = [...this._roles];
    return g;
  }

  /** Tokens read so far. */
  get length(): number {
    return this._length;
  }

  /** Index of the current bar (-1 before the first `BAR`). */
  get barIndex(): number {
    return this._bar;
  }

  /** Length of the current bar in grid steps (NaN outside a bar or before its length is known). */
  get barLength(): number {
    return this._phase === 'sum' || this._bar < 0 ? Number.NaN : this._barLen;
  }

  /** Onset position of the current event in grid steps (-1 before the bar's first `POS`). */
  get position(): number {
    return this._pos;
  }

  /** Whether the sequence is complete (an `EOS` was read). */
  get done(): boolean {
    return this._phase === 'end';
  }

  /** Whether the last token closed a bar (`SUM`) or the header: a bar may start now. */
  get atBarBoundary(): boolean {
    return this._phase === 'sum' || this._phase === 'hTracks';
  }

  /**
   * Grid steps left in the current bar from the current position (from the bar start before
   * its first `POS`); 0 outside a bar. A note of at most this many steps ends within the bar.
   */
  stepsLeft(): number {
    if (this._bar < 0 || this._phase === 'sum' || this._phase === 'end' || !Number.isFinite(this._barLen)) {
      return 0;
    }
    return this._barLen - Math.max(0, this._pos);
  }

  /** The kinds of token that may come next (each has at least one allowed id). */
  allowedKinds(): TokenKind[] {
    return this._candidateKinds().filter((k) => this._anyOfKind(k));
  }

  /** Every id that may come next, ascending. */
  allowedIds(): number[] {
    const out: number[] = [];
    // The kinds' id ranges are disjoint: taken in the order of their starts, the ids come ascending.
    for (const kind of byRangeStart(this._candidateKinds())) {
      const r = TOKEN_RANGES[kind];
      for (let i = 0; i < r.count; i++) {
        if (this._valueOk(kind, i)) {
          out.push(r.start + i);
        }
      }
    }
    return out;
  }

  /** A 0/1 mask over the whole vocabulary of the ids that may come next. */
  allowedMask(): Uint8Array {
    const mask = new Uint8Array(VOCAB_SIZE);
    for (const id of this.allowedIds()) {
      mask[id] = 1;
    }
    return mask;
  }

  /** Whether `id` may come next. */
  accepts(id: number): boolean {
    const kind = tokenKind(id);
    if (kind === undefined || !this._candidateKinds().includes(kind)) {
      return false;
    }
    return this._valueOk(kind, tokenIndex(id));
  }

  /** Reads one token; throws `MusicInputError('tokens-grammar')` when it may not come next. */
  push(id: number): void {
    if (!this.accepts(id)) {
      const expected = this.allowedKinds();
      throw new MusicInputError(
        'tokens-grammar',
        `Token ${this._length} (${tokenName(id)}) is not allowed here; expected ${expected.length > 0 ? expected.join(' | ') : 'nothing'}` +
          `${this._bar >= 0 ? ` (bar ${this._bar + 1})` : ''}.`,
      );
    }
    const kind = tokenKind(id) as TokenKind;
    const v = tokenIndex(id);
    this._length++;
    const header = this._bar < 0;
    switch (kind) {
      case 'bos':
        this._phase = 'hMeter';
        return;
      case 'meter':
        this._meter = v;
        if (header) {
          this._phase = 'hKeySig';
        } else {
          this._barLen = this._nominal();
          this._phase = 'barMeter';
        }
        return;
      case 'keySig':
        this._pendingFifths = v - 7;
        this._phase = header ? 'hMode' : 'keySig';
        return;
      case 'mode':
        this._fifths = this._pendingFifths;
        this._mode = v;
        this._phase = header ? 'hTempo' : 'mode';
        return;
      case 'tempo':
        this._tempo = v;
        this._phase = header ? 'hTrack' : 'tempo';
        return;
      case 'track':
        if (header) {
          this._roles.push(v);
          this._phase = 'hTracks';
        } else {
          this._track = this._roles.indexOf(v);
          this._phase = 'track';
        }
        return;
      case 'bar':
        this._bar++;
        this._pos = -1;
        this._track = 0;
        this._explicitLen = false;
        this._barLen = this._nominal();
        this._phase = 'barStart';
        return;
      case 'len':
        this._barLen = v + 1;
        this._explicitLen = true;
        this._phase = 'barLen';
        return;
      case 'pos':
        this._pos = v;
        this._phase = 'pos';
        return;
      case 'chord':
        this._chordRoot = v === NO_CHORD_INDEX ? -1 : Math.floor(v / CHORD_QUALITIES.length);
        this._phase = 'chord';
        return;
      default:
        this._phase = PHASE_OF_KIND[kind] ?? this._phase;
    }
  }

  /** Nominal bar length of the meter in force, NaN for `METER_other` or one that does not fit. */
  private _nominal(): number {
    if (this._meter < 0 || this._meter >= METER_OTHER_INDEX) {
      return Number.NaN;
    }
    const s = meterSteps(METERS[this._meter], this._grid);
    return s <= MAX_BAR_STEPS ? s : Number.NaN;
  }

  private _candidateKinds(): readonly TokenKind[] {
    switch (this._phase) {
      case 'barStart':
        return Number.isFinite(this._barLen) ? NEXT.barStart : METER_OR_LEN;
      case 'barMeter':
        return Number.isFinite(this._barLen) ? NEXT.barMeter : LEN_ONLY;
      case 'dur':
        return this._velocity ? VEL_ONLY : NEXT.dur;
      default:
        return NEXT[this._phase];
    }
  }

  private _anyOfKind(kind: TokenKind): boolean {
    const r = TOKEN_RANGES[kind];
    for (let i = 0; i < r.count; i++) {
      if (this._valueOk(kind, i)) {
        return true;
      }
    }
    return false;
  }

  private _valueOk(kind: TokenKind, v: number): boolean {
    const header = this._bar < 0;
    switch (kind) {
      case 'meter':
        return header || v === METER_OTHER_INDEX || v !== this._meter;
      case 'len': {
        const nominal = this._nominal();
        return v + 1 !== nominal && !this._explicitLen;
      }
      case 'pos':
        return v > this._pos && v < this._barLen;
      case 'track':
        if (header) {
          return !this._roles.includes(v);
        }
        return this._roles.includes(v) && this._roles.indexOf(v) !== this._track;
      case 'mode':
        return header || this._pendingFifths !== this._fifths || v !== this._mode;
      case 'tempo':
        return header || v !== this._tempo;
      case 'bass':
        return this._chordRoot >= 0 && v !== this._chordRoot;
      default:
        return true;
    }
  }
}

const METER_OR_LEN: readonly TokenKind[] = ['meter', 'len'];
const LEN_ONLY: readonly TokenKind[] = ['len'];
const VEL_ONLY: readonly TokenKind[] = ['vel'];

const sortedKinds = new WeakMap<readonly TokenKind[], readonly TokenKind[]>();

/** `kinds` in the order of their id ranges (memoized per list: the grammar's lists are constants, or small literals). */
function byRangeStart(kinds: readonly TokenKind[]): readonly TokenKind[] {
  let out = sortedKinds.get(kinds);
  if (out === undefined) {
    out = [...kinds].sort((a, b) => TOKEN_RANGES[a].start - TOKEN_RANGES[b].start);
    sortedKinds.set(kinds, out);
  }
  return out;
}

/** The kinds of token that may follow `prefix` (see {@link TokenGrammar}); throws if the prefix is malformed. */
export function nextTokenKinds(prefix: ArrayLike<number>, options: GrammarOptions = {}): TokenKind[] {
  return TokenGrammar.fromPrefix(prefix, options).allowedKinds();
}

/** Grid steps left in the bar `prefix` ends in (see {@link TokenGrammar.stepsLeft}); throws if the prefix is malformed. */
export function stepsLeftInBar(prefix: ArrayLike<number>, options: GrammarOptions = {}): number {
  return TokenGrammar.fromPrefix(prefix, options).stepsLeft();
}

/**
 * Checks a whole sequence against the grammar: the index of the first token that breaks it
 * with the reason, or undefined when every token is allowed (the sequence may still be
 * unfinished; see {@link TokenGrammar.done}).
 */
export function findGrammarError(ids: ArrayLike<number>, options: GrammarOptions = {}): { index: number; message: string } | undefined {
  const g = new TokenGrammar(options);
  for (let i = 0; i < ids.length; i++) {
    try {
      g.push(ids[i]);
    } catch (e) {
      return { index: i, message: (e as Error).message };
    }
  }
  return undefined;
}
