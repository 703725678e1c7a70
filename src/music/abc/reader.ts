/**
 * ABC reader: text -> Score, one per tune, over abcjs `parseOnly` (which runs without a DOM).
 *
 * abcjs gives staff positions, written durations and bar lines; this module applies key
 * signatures and bar accidentals to get MIDI numbers, scales tuplets, merges ties, expands
 * repeats and endings into the performed order, and keeps each written bar's source range.
 */
import { parseOnly } from 'abcjs';
import type {
  Bar,
  ChordSymbol,
  Key,
  KeyChange,
  Meter,
  MeterChange,
  Note,
  Score,
  SourceRange,
  TempoChange,
  Track,
  WrittenBar,
} from '../score';
import { MusicInputError, TPQ, barTicks, sortNotes } from '../score';
import { parseTuneHeader, splitTuneRanges, voiceDeclarations } from './header';
import { keyFromParts, midiOfStep, modeFromAbc } from './keys';
import { expandParts, parseEnding, parsePartOrder } from './repeats';
import { guardForAbcjs } from './guard';
import { VoiceOwners, firstCharOf } from './voiceOwners';

/** One tune read from an ABC file. */
export interface AbcTune {
  score: Score;
  /** 0-based position among the tunes in the file. */
  index: number;
  /** The `X:` number. */
  reference?: number;
  title?: string;
  /** Problems abcjs or the reader noticed that did not stop the tune from being read. */
  warnings: string[];
}

/** A tune the reader could not turn into a Score. */
export interface SkippedTune {
  index: number;
  reference?: number;
  title?: string;
  /** Stable reason code, e.g. `'abc-no-key'`, `'abc-no-notes'`, `'abc-bad-meter'`. */
  code: string;
  /** User-readable explanation. */
  reason: string;
}

/** Everything read from one ABC file. */
export interface AbcReadResult {
  tunes: AbcTune[];
  skipped: SkippedTune[];
  /** How many tunes the file holds (read, skipped, or not selected). */
  count: number;
}

/** Options of {@link readAbc}. */
export interface AbcReadOptions {
  /** Largest accepted text, in UTF-8 bytes (default 10 MB). */
  maxBytes?: number;
  /**
   * Picks the tunes to read (indices into the file's tunes, whose ranges are offsets of `text`);
   * the others are neither read nor listed. Default: every tune. Reading one tune of a large book
   * costs that tune, not the book.
   */
  select?: (ranges: readonly { start: number; end: number; reference?: number }[]) => readonly number[];
  /** Stops once this many tunes were read (skipped tunes do not count). Default: no limit. */
  stopAfter?: number;
}

/** Default size limit of {@link readAbc}: 10 MB. */
export const DEFAULT_MAX_ABC_BYTES = 10 * 1024 * 1024;

/** Ticks per whole note. */
const WHOLE = TPQ * 4;
/** Default MIDI velocity of ABC notes. */
const VELOCITY = 80;
/** Upper bounds that keep malformed input from producing huge scores. */
const MAX_PERFORMED_BARS = 20000;
const MAX_NOTES = 200000;
const MAX_WARNINGS = 20;
/** Longest multi-bar rest (`Z1000`), in bars. */
const MAX_MULTI_REST = 1000;

/** A count for a message: grouped digits, at most three decimals. */
function formatCount(n: number): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: 3 }) : 'an unreadable number of';
}
/** Longest tune text handed to abcjs (about 200,000 notes); longer tunes are skipped unparsed. */
const MAX_TUNE_CHARS = 1_000_000;

// ---- abcjs output, as much of it as the reader uses -------------------------------------------

interface RawPitch {
  pitch: number;
  accidental?: string;
  startTie?: unknown;
}

interface RawChord {
  name?: string;
  position?: string;
}

interface RawElement {
  el_type?: string;
  startChar?: number;
  endChar?: number;
  duration?: number | number[];
  pitches?: RawPitch[];
  rest?: { type?: string; text?: number | string };
  gracenotes?: RawPitch[];
  chord?: RawChord[];
  startTriplet?: number;
  tripletMultiplier?: number;
  endTriplet?: boolean;
  type?: string;
  startEnding?: string;
  endEnding?: boolean;
  accidentals?: { acc?: string; note?: string }[];
  root?: string;
  acc?: string;
  mode?: string;
  value?: { num?: string; den?: string }[];
  bpm?: number;
  title?: string;
}

interface RawStaff {
  voices?: RawElement[][];
  key?: RawElement;
  meter?: RawElement;
  title?: string[];
}

interface RawTune {
  lines?: { staff?: RawStaff[] }[];
  metaText?: { title?: string; tempo?: RawElement; partOrder?: string };
  warnings?: string[];
}

// ---- per-voice written bars -------------------------------------------------------------------

/** A tone of an event: staff step, MIDI pitch and whether a tie starts on it. */
interface Tone {
  step: number;
  midi: number;
  tieStart: boolean;
}

/** A note, chord or rest in a written bar. Offsets and durations are in whole notes. */
interface Event {
  offset: number;
  dur: number;
  tones: Tone[];
  invisible: boolean;
  graces?: number[];
  chords: string[];
  source: SourceRange;
}

/** One written bar of one voice. */
interface VoiceBar {
  events: Event[];
  /** End of the last event (whole notes). */
  len: number;
  startRepeat: boolean;
  endRepeat: boolean;
  ending?: Set<number>;
  meter: Meter;
  keyAtStart: Key;
  keyChanges: { offset: number; key: Key }[];
  tempos: { offset: number; bpm: number }[];
  /** `Zn` multi-bar rest: the bar stands for `n` bars of rest. */
  multiRest?: number;
  /** The part (`P:A` in the body) the bar belongs to. */
  part?: string;
  contentStart?: number;
  contentEnd?: number;
}

/** Thrown inside the per-tune reader to skip the tune with a code. */
class SkipTune extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

const ACCIDENTAL_ALTER: Readonly<Record<string, number>> = {
  sharp: 1,
  flat: -1,
  natural: 0,
  dblsharp: 2,
  dblflat: -2,
  quartersharp: 0,
  quarterflat: 0,
};

const LETTER_INDEX: Readonly<Record<string, number>> = { c: 0, d: 1, e: 2, f: 3, g: 4, a: 5, b: 6 };

function isValidMeter(m: Meter): boolean {
  return Number.isInteger(m.num) && Number.isInteger(m.den) && m.num >= 1 && m.num <= 64 && [1, 2, 4, 8, 16, 32, 64].includes(m.den);
}

/** The meter an abcjs meter element describes; undefined for free meter (`M:none`). Throws SkipTune when absurd. */
function meterOf(el: RawElement, offset: number): Meter | undefined {
  switch (el.type) {
    case 'common_time':
      return { num: 4, den: 4 };
    case 'cut_time':
      return { num: 2, den: 2 };
    case 'tempus_perfectum':
    case 'tempus_perfectum_prolatio':
      return { num: 3, den: 4 };
    case 'tempus_imperfectum':
    case 'tempus_imperfectum_prolatio':
      return { num: 2, den: 4 };
    case 'specified': {
      const v = el.value?.[0];
      if (!v) {
        return undefined;
      }
      if (v.den === undefined || String(v.den).trim() === '') {
        const where = el.startChar === undefined ? '' : ` at character ${el.startChar + offset}`;
        throw new SkipTune(
          'abc-bad-meter',
          `The meter M:${v.num ?? ''}${where} has no denominator: write it as a fraction, such as M:${v.num ?? 4}/4.`,
        );
      }
      const num = String(v.num ?? '')
        .split(/[+.]/)
        .reduce((s, p) => s + Number(p.trim()), 0);
      const meter = { num, den: Number(v.den) };
      if (!isValidMeter(meter)) {
        const where = el.startChar === undefined ? '' : ` at character ${el.startChar + offset}`;
        throw new SkipTune('abc-bad-meter', `The meter ${v.num}/${v.den}${where} is not a usable time signature.`);
      }
      return meter;
    }
    default:
      return undefined;
  }
}

function keyOfElement(el: RawElement): Key {
  const root = el.root ?? 'C';
  if (root === 'HP') {
    return { tonic: 'C', mode: 'major', fifths: 0 };
  }
  if (root === 'Hp') {
    return { tonic: 'A', mode: 'mixolydian', fifths: 2 };
  }
  return keyFromParts(root, el.acc ?? '', modeFromAbc(el.mode ?? ''));
}

function signatureOfElement(el: RawElement): number[] {
  const sig = [0, 0, 0, 0, 0, 0, 0];
  for (const a of el.accidentals ?? []) {
    const letter = LETTER_INDEX[String(a.note ?? '').toLowerCase()];
    if (letter !== undefined) {
      sig[letter] = ACCIDENTAL_ALTER[a.acc ?? ''] ?? 0;
    }
  }
  return sig;
}

/**
 * The signature of a `K:` field written with `exp` (`K:D exp ^f _b`): only the accidentals listed.
 * abcjs adds them to the tonic's own signature, so the reader works this out itself.
 */
function explicitSignature(fieldText: string): number[] | undefined {
  if (!/(^|\s)exp(\s|$)/i.test(fieldText)) {
    return undefined;
  }
  const sig = [0, 0, 0, 0, 0, 0, 0];
  const re = /(\^\^|__|\^|_|=)([a-gA-G])/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(fieldText)) !== null) {
    const alter = { '^^': 2, __: -2, '^': 1, _: -1, '=': 0 }[m[1]] ?? 0;
    sig[LETTER_INDEX[m[2].toLowerCase()]] = alter;
  }
  return sig;
}

function sameKey(a: Key, b: Key): boolean {
  return a.tonic === b.tonic && a.mode === b.mode && a.fifths === b.fifths;
}

function barLength(m: Meter): number {
  return m.num / m.den;
}

/** Quarter notes per minute of an abcjs tempo element; undefined when it has no usable number. */
function tempoOf(el: RawElement, unit: number): number | undefined {
  if (typeof el.bpm !== 'number' || !Number.isFinite(el.bpm) || el.bpm <= 0) {
    return undefined;
  }
  const beats = Array.isArray(el.duration) ? el.duration.reduce((s, d) => s + d, 0) : unit;
  const bpm = (el.bpm * (beats > 0 ? beats : unit)) / 0.25;
  return bpm > 0 && bpm < 2000 ? Math.round(bpm * 1000) / 1000 : undefined;
}

/** Removes abcjs's HTML markup from a warning. */
function cleanWarning(w: string): string {
  return w
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 240);
}

/** Builds the written bars of one voice from its stream of abcjs elements. */
class VoiceBuilder {
  readonly bars: VoiceBar[] = [];
  private _bar: VoiceBar;
  private _offset = 0;
  private _meter: Meter;
  private _key: Key;
  private _sig: number[];
  private _barAcc = new Map<number, number>();
  private _tripletMult = 1;
  private _inTriplet = false;
  private _pendingStartRepeat = false;
  private _ending: Set<number> | undefined;
  private _part: string | undefined;
  private readonly _textOffset: number;
  private readonly _unit: number;
  readonly warnings: string[];

  /** Text abcjs parsed (for reading `K:` fields back) and the signature of an `exp` key in force. */
  private readonly _text: string;
  private _explicit: { accidentals: string; sig: number[] } | undefined;
  private _headerExplicit: number[] | undefined;

  constructor(meter: Meter, key: Key, sig: number[], textOffset: number, unit: number, warnings: string[], text: string) {
    this._text = text;
    const headerKey = /^K:(.*)$/m.exec(text);
    this._headerExplicit = headerKey ? explicitSignature(headerKey[1]) : undefined;
    this._meter = meter;
    this._key = key;
    this._sig = sig;
    this._textOffset = textOffset;
    this._unit = unit;
    this.warnings = warnings;
    this._bar = this._newBar();
  }

  private _newBar(): VoiceBar {
    const bar: VoiceBar = {
      events: [],
      len: 0,
      startRepeat: this._pendingStartRepeat,
      endRepeat: false,
      meter: this._meter,
      keyAtStart: this._key,
      keyChanges: [],
      tempos: [],
    };
    if (this._ending) {
      bar.ending = this._ending;
    }
    if (this._part !== undefined) {
      bar.part = this._part;
    }
    return bar;
  }

  /** A part mark (`P:B`): the bars from here on belong to part B. */
  part(el: RawElement): void {
    const title = typeof el.title === 'string' ? el.title.trim().charAt(0) : '';
    if (title === '') {
      return;
    }
    this._part = title;
    if (this._bar.events.length === 0) {
      this._bar.part = title;
    }
  }

  /** Line-start key and meter from the staff header. */
  lineStart(staff: RawStaff): void {
    if (staff.meter) {
      this.meter(staff.meter);
    }
    if (staff.key) {
      const accidentals = signatureOfElement(staff.key).join();
      if (this._headerExplicit) {
        // The first line's key is the header's.
        this._explicit = { accidentals, sig: this._headerExplicit };
        this._headerExplicit = undefined;
      }
      this.key(staff.key, this._explicit?.accidentals === accidentals ? this._explicit.sig : undefined);
    }
  }

  meter(el: RawElement): void {
    const m = meterOf(el, this._textOffset);
    if (m) {
      this._meter = m;
      if (this._bar.events.length === 0) {
        this._bar.meter = m;
      }
    }
  }

  key(el: RawElement, explicit?: number[]): void {
    const key = keyOfElement(el);
    let sig = explicit;
    if (sig === undefined && el.startChar !== undefined && el.endChar !== undefined) {
      sig = explicitSignature(this._text.slice(el.startChar, el.endChar));
      this._explicit = sig ? { accidentals: signatureOfElement(el).join(), sig } : undefined;
    }
    this._sig = sig ?? signatureOfElement(el);
    if (sameKey(key, this._key)) {
      return;
    }
    this._key = key;
    if (this._bar.events.length === 0) {
      this._bar.keyAtStart = key;
    } else {
      this._bar.keyChanges.push({ offset: this._offset, key });
    }
  }

  tempo(el: RawElement): void {
    const bpm = tempoOf(el, this._unit);
    if (bpm !== undefined) {
      this._bar.tempos.push({ offset: this._offset, bpm });
    }
  }

  private _midi(p: RawPitch, update: boolean): { step: number; midi: number } {
    const step = Math.round(Number(p.pitch));
    if (!Number.isFinite(step) || Math.abs(step) > 100) {
      throw new SkipTune('abc-bad-pitch', 'A note lies outside any playable range.');
    }
    let alter: number;
    const explicit = p.accidental === undefined ? undefined : ACCIDENTAL_ALTER[p.accidental];
    if (explicit !== undefined) {
      alter = explicit;
      if (update) {
        this._barAcc.set(step, explicit);
      }
    } else {
      const letter = ((step % 7) + 7) % 7;
      alter = this._barAcc.get(step) ?? this._sig[letter];
    }
    let midi = midiOfStep(step, alter);
    if (midi < 0 || midi > 127) {
      this._warn(`A note outside the MIDI range was moved to ${midi < 0 ? 0 : 127}.`);
      midi = midi < 0 ? 0 : 127;
    }
    return { step, midi };
  }

  /** `The note "C9" at character 12`: what an element is, as written, and where. */
  private _describe(el: RawElement, what: string): string {
    if (el.startChar === undefined || el.endChar === undefined) {
      return `A ${what}`;
    }
    const written = this._text.slice(el.startChar, el.endChar).trim().slice(0, 40);
    return `The ${what} "${written}" at character ${el.startChar + this._textOffset}`;
  }

  private _warn(w: string): void {
    if (this.warnings.length < MAX_WARNINGS && !this.warnings.includes(w)) {
      this.warnings.push(w);
    }
  }

  note(el: RawElement): void {
    if (el.startTriplet) {
      this._inTriplet = true;
      this._tripletMult = typeof el.tripletMultiplier === 'number' && el.tripletMultiplier > 0 ? el.tripletMultiplier : 1;
    }
    const mult = this._inTriplet ? this._tripletMult : 1;
    if (el.endTriplet) {
      this._inTriplet = false;
    }
    const raw = typeof el.duration === 'number' ? el.duration : 0;
    if (el.rest?.type !== 'multimeasure' && (!Number.isFinite(raw) || raw < 0 || raw > 64)) {
      throw new SkipTune('abc-bad-length', `${this._describe(el, 'note')} lasts ${formatCount(raw)} whole notes; a note or rest may last at most 64. Check its length number and the L: field.`);
    }
    const source = { start: (el.startChar ?? 0) + this._textOffset, end: (el.endChar ?? el.startChar ?? 0) + this._textOffset };
    const chords: string[] = [];
    for (const c of el.chord ?? []) {
      if ((c.position === undefined || c.position === 'default') && typeof c.name === 'string') {
        // abcjs prints accidentals in chord names as music symbols; keep them as written (b, #).
        const ascii = c.name.replace(/\u266d/g, 'b').replace(/\u266f/g, '#').replace(/\u266e/g, '=');
        for (const name of ascii.split('\n')) {
          if (name.trim() !== '') {
            chords.push(name.trim());
          }
        }
      }
    }
    if (el.rest?.type === 'multimeasure') {
      const asked = Math.round(Number(el.rest.text) || 1);
      if (asked > MAX_MULTI_REST) {
        throw new SkipTune(
          'abc-bad-length',
          `${this._describe(el, 'multi-bar rest')} asks for ${formatCount(asked)} bars of rest; Refrain reads up to ${MAX_MULTI_REST}. Check the number after Z.`,
        );
      }
      const n = Math.max(1, asked);
      if (this._bar.events.length === 0) {
        this._bar.multiRest = n;
      }
      this._push({ offset: this._offset, dur: n * barLength(this._meter), tones: [], invisible: false, chords, source });
      return;
    }
    const dur = raw * mult;
    if (dur <= 0) {
      return;
    }
    const tones: Tone[] = [];
    let graces: number[] | undefined;
    if (!el.rest && el.pitches) {
      for (const g of el.gracenotes ?? []) {
        graces ??= [];
        graces.push(this._midi(g, false).midi);
      }
      for (const p of el.pitches) {
        const { step, midi } = this._midi(p, true);
        const tone = { step, midi, tieStart: p.startTie !== undefined };
        const same = tones.find((t) => t.midi === midi);
        if (same) {
          // A unison in a chord (`[A2A2]`) sounds as one note.
          same.tieStart ||= tone.tieStart;
        } else {
          tones.push(tone);
        }
      }
    }
    const event: Event = { offset: this._offset, dur, tones, invisible: el.rest?.type === 'invisible' || el.rest?.type === 'spacer', chords, source };
    if (graces) {
      event.graces = graces;
    }
    this._push(event);
  }

  private _push(e: Event): void {
    const bar = this._bar;
    if (bar.events.length === 0) {
      bar.meter = this._meter;
      bar.contentStart = e.source.start;
    }
    bar.contentEnd = e.source.end;
    bar.events.push(e);
    this._offset += e.dur;
    bar.len = this._offset;
  }

  barLine(el: RawElement): void {
    const type = el.type ?? '';
    const closesRepeat = type === 'bar_right_repeat' || type === 'bar_dbl_repeat';
    const opensRepeat = type === 'bar_left_repeat' || type === 'bar_dbl_repeat';
    const bar = this._bar;
    if (bar.events.length > 0) {
      bar.endRepeat = closesRepeat;
      this.bars.push(bar);
      this._pendingStartRepeat = false;
    } else {
      if (closesRepeat && this.bars.length > 0) {
        this.bars[this.bars.length - 1].endRepeat = true;
      }
      // Repeat marks, key, meter and tempo fields seen in an empty bar carry over to the next one.
      this._pendingStartRepeat = bar.startRepeat;
    }
    const pendingTempos = bar.events.length === 0 ? bar.tempos : [];
    if (
      el.endEnding ||
      closesRepeat ||
      opensRepeat ||
      type === 'bar_thin_thin' ||
      type === 'bar_thin_thick' ||
      type === 'bar_thick_thin'
    ) {
      this._ending = undefined;
    }
    if (typeof el.startEnding === 'string' && el.startEnding !== '') {
      this._ending = parseEnding(el.startEnding);
    }
    this._pendingStartRepeat = this._pendingStartRepeat || opensRepeat;
    this._barAcc = new Map();
    this._offset = 0;
    this._inTriplet = false;
    this._bar = this._newBar();
    this._bar.tempos.push(...pendingTempos);
  }

  /** Closes the last bar at the end of the voice. */
  finish(): void {
    if (this._bar.events.length > 0) {
      this.bars.push(this._bar);
    }
  }
}

// ---- assembling the Score -------------------------------------------------------------------

/** A voice: its abcjs position (staff, voice in staff) and its written bars. */
interface VoiceData {
  staff: number;
  voiceInStaff: number;
  bars: VoiceBar[];
  /** Performed order: written bar index per performed slot (multi-bar rests repeat their index). */
  slots: number[];
  hasNotes: boolean;
}

/** A voice being read: where it sits (staff, voice in staff), the `V:` id that owns it, its builder. */
interface VoiceEntry {
  staff: number;
  voice: number;
  owner: string;
  builder: VoiceBuilder;
}

/** Feeds one abcjs element stream to a voice builder. */
function feedElements(b: VoiceBuilder, staff: RawStaff, elements: readonly RawElement[] | undefined): void {
  b.lineStart(staff);
  for (const el of elements ?? []) {
    switch (el?.el_type) {
      case 'note':
        b.note(el);
        break;
      case 'bar':
        b.barLine(el);
        break;
      case 'key':
        b.key(el);
        break;
      case 'meter':
        b.meter(el);
        break;
      case 'tempo':
        b.tempo(el);
        break;
      case 'part':
        b.part(el);
        break;
      default:
        break;
    }
  }
}

/**
 * Gathers each voice's element streams across abcjs's printed lines. A stream belongs to the `V:`
 * voice that owns its first character in the text (see {@link VoiceOwners}); a second stream of the
 * same voice on one staff is an `&` overlay, read as a voice of its own. A voice keeps the staff
 * position of its first appearance.
 */
function collectVoices(
  tune: RawTune,
  abcText: string,
  newBuilder: () => VoiceBuilder,
): { builders: Map<string, VoiceEntry>; titles: Map<number, string> } {
  const owners = new VoiceOwners(abcText);
  const builders = new Map<string, VoiceEntry>();
  const titles = new Map<number, string>();
  const taken = new Set<string>();
  const lastKeyAt = new Map<string, string>();
  let extraStaff = 1000;
  for (const line of tune.lines ?? []) {
    (Array.isArray(line.staff) ? line.staff : []).forEach((staff, s) => {
      if (!staff || !Array.isArray(staff.voices)) {
        return;
      }
      const seen = new Map<string, number>();
      staff.voices.forEach((elements, v) => {
        const first = firstCharOf(elements);
        const owner = first === undefined ? undefined : owners.ownerAt(first);
        let key = lastKeyAt.get(`${s}:${v}`) ?? `${owners.defaultId}@${s}:${v}`;
        if (owner !== undefined) {
          const n = seen.get(owner) ?? 0;
          seen.set(owner, n + 1);
          key = n === 0 ? owner : `${owner}&${n}`;
        }
        lastKeyAt.set(`${s}:${v}`, key);
        let entry = builders.get(key);
        if (!entry) {
          const free = !taken.has(`${s}:${v}`);
          entry = { staff: free ? s : extraStaff++, voice: free ? v : 0, owner: owner ?? owners.defaultId, builder: newBuilder() };
          taken.add(`${entry.staff}:${entry.voice}`);
          builders.set(key, entry);
        }
        const title = staff.title?.[0];
        if (v === 0 && !titles.has(entry.staff) && typeof title === 'string' && title.trim() !== '') {
          titles.set(entry.staff, title.trim());
        }
        feedElements(entry.builder, staff, elements);
      });
    });
  }
  return { builders, titles };
}

function readOneTune(tuneText: string, textOffset: number, warnings: string[]): Score {
  if (tuneText.length > MAX_TUNE_CHARS) {
    throw new SkipTune('abc-too-long', `The tune is longer than ${MAX_TUNE_CHARS / 1_000_000} million characters.`);
  }
  const header = parseTuneHeader(tuneText);
  if (!header.hasKey) {
    throw new SkipTune('abc-no-key', 'The tune has no K: (key) line, which ends an ABC tune header.');
  }
  const unitMeta = header.meta.unitNoteLength ?? { num: 1, den: 8 };
  const unit = unitMeta.num / unitMeta.den;
  let parsed: RawTune[];
  const abcText = guardForAbcjs(tuneText, (w) => {
    if (warnings.length < MAX_WARNINGS && !warnings.includes(w)) {
      warnings.push(w);
    }
  });
  try {
    parsed = parseOnly(abcText) as unknown as RawTune[];
  } catch (e) {
    throw new SkipTune(
      'abc-parse-error',
      `The ABC parser (abcjs) failed on this tune (${e instanceof Error ? e.message : String(e)}). ` +
        'The tune is probably incomplete: check that its header ends with a K: line and that each V: line is followed by music.',
    );
  }
  const tune = parsed[0];
  if (!tune || !Array.isArray(tune.lines)) {
    throw new SkipTune('abc-no-notes', 'The tune has no music lines.');
  }
  for (const w of tune.warnings ?? []) {
    if (warnings.length < MAX_WARNINGS) {
      warnings.push(cleanWarning(String(w)));
    }
  }

  // Collect each voice's elements across lines.
  const defaultMeter: Meter = { num: 4, den: 4 };
  const defaultKey: Key = { tonic: 'C', mode: 'major', fifths: 0 };
  const { builders, titles } = collectVoices(tune, abcText, () =>
    new VoiceBuilder(defaultMeter, defaultKey, [0, 0, 0, 0, 0, 0, 0], textOffset, unit, warnings, abcText),
  );

  const partOrder = parsePartOrder(tune.metaText?.partOrder);
  const voices: VoiceData[] = [];
  for (const { staff, voice, builder } of builders.values()) {
    builder.finish();
    const hasNotes = builder.bars.some((b) => b.events.some((e) => e.tones.length > 0));
    if (!hasNotes) {
      continue;
    }
    const { order, capped } = expandParts(builder.bars, partOrder, MAX_PERFORMED_BARS);
    if (capped) {
      throw new SkipTune('abc-too-long', `The tune expands to more than ${MAX_PERFORMED_BARS} bars when its repeats are played.`);
    }
    const slots: number[] = [];
    for (const i of order) {
      const n = builder.bars[i].multiRest ?? 1;
      for (let k = 0; k < n; k++) {
        slots.push(i);
      }
      if (slots.length > MAX_PERFORMED_BARS) {
        throw new SkipTune('abc-too-long', `The tune has more than ${MAX_PERFORMED_BARS} bars when its repeats and rests are played.`);
      }
    }
    voices.push({ staff, voiceInStaff: voice, bars: builder.bars, slots, hasNotes });
  }
  if (voices.length === 0) {
    throw new SkipTune('abc-no-notes', 'The tune has no notes.');
  }
  voices.sort((a, b) => a.staff - b.staff || a.voiceInStaff - b.voiceInStaff);

  // The master voice (most performed bars, first on ties) gives written bars, meters, keys and tempos.
  let master = voices[0];
  for (const v of voices) {
    if (v.slots.length > master.slots.length) {
      master = v;
    }
  }

  // Tracks: one per staff that has notes, named after the staff's first declared voice.
  const staffs = [...new Set(voices.map((v) => v.staff))].sort((a, b) => a - b);
  const declared = voiceDeclarations(tuneText);
  const allVoiceKeys = [...builders.values()].sort((a, b) => a.staff - b.staff || a.voice - b.voice);
  const tracks: Track[] = staffs.map((s, i) => {
    const owner = allVoiceKeys.find((k) => k.staff === s)?.owner;
    const decl = declared.find((d) => d.id === owner);
    const name = titles.get(s) ?? decl?.name ?? decl?.id ?? 'Melody';
    const channel = i < 9 ? i : Math.min(15, i + 1);
    return { name: staffs.length === 1 && !titles.has(s) && decl?.name === undefined ? 'Melody' : name, channel, program: 0, isDrum: false };
  });
  const trackOfStaff = new Map(staffs.map((s, i) => [s, i]));

  // Written bars of the master voice.
  const writtenBars: WrittenBar[] = master.bars.map((b) => {
    const wb: WrittenBar = {};
    if (b.contentStart !== undefined && b.contentEnd !== undefined) {
      wb.source = { start: b.contentStart, end: b.contentEnd };
    }
    if (b.ending !== undefined) {
      wb.ending = Math.min(...b.ending);
    }
    return wb;
  });

  // Performed bar lengths: the longest content of any voice in that slot.
  const slotCount = master.slots.length;
  // Invisible rests (`x`) take time like any rest: `G6 Hx` fills a 4/4 bar.
  const lens: number[] = [];
  for (let k = 0; k < slotCount; k++) {
    let len = 0;
    for (const v of voices) {
      const idx = v.slots[k];
      if (idx !== undefined) {
        const wb = v.bars[idx];
        len = Math.max(len, wb.multiRest !== undefined ? barLength(wb.meter) : wb.len);
      }
    }
    lens.push(len);
  }
  const starts: number[] = [];
  let acc = 0;
  for (const len of lens) {
    starts.push(Math.round(acc * WHOLE));
    acc += len;
  }
  const length = Math.round(acc * WHOLE);

  const bars: Bar[] = [];
  const meters: MeterChange[] = [];
  const keys: KeyChange[] = [];
  const tempos: TempoChange[] = [];
  const headerTempo = tune.metaText?.tempo ? tempoOf(tune.metaText.tempo, unit) : undefined;
  tempos.push({ tick: 0, bpm: headerTempo ?? 120 });
  const pushKey = (tick: number, key: Key): void => {
    const last = keys[keys.length - 1];
    if (last && sameKey(last.key, key)) {
      return;
    }
    if (last && last.tick === tick) {
      keys[keys.length - 1] = { tick, key };
    } else {
      keys.push({ tick, key });
    }
  };
  const pushTempo = (tick: number, bpm: number): void => {
    const last = tempos[tempos.length - 1];
    if (last.tick === tick) {
      last.bpm = bpm;
    } else if (last.bpm !== bpm) {
      tempos.push({ tick, bpm });
    }
  };
  for (let k = 0; k < slotCount; k++) {
    const wbIndex = master.slots[k];
    const wb = master.bars[wbIndex];
    const start = starts[k];
    const duration = Math.round((k + 1 < slotCount ? starts[k + 1] : length) - start);
    if (k === 0 || wbIndex !== master.slots[k - 1]) {
      pushKey(start, wb.keyAtStart);
      for (const kc of wb.keyChanges) {
        pushKey(start + Math.round(kc.offset * WHOLE), kc.key);
      }
      for (const t of wb.tempos) {
        pushTempo(start + Math.round(t.offset * WHOLE), t.bpm);
      }
    }
    if (duration <= 0) {
      continue;
    }
    const lastMeter = meters[meters.length - 1];
    if (!lastMeter || lastMeter.meter.num !== wb.meter.num || lastMeter.meter.den !== wb.meter.den) {
      meters.push({ tick: start, meter: wb.meter });
    }
    bars.push({ start, duration, meter: wb.meter, written: wbIndex });
  }
  joinSplitBars(bars);
  if (meters.length === 0) {
    meters.push({ tick: 0, meter: master.bars[0]?.meter ?? defaultMeter });
  }
  if (keys.length === 0) {
    keys.push({ tick: 0, key: defaultKey });
  }
  meters[0] = { tick: 0, meter: meters[0].meter };
  keys[0] = { tick: 0, key: keys[0].key };

  // Notes, in performed order per voice, with ties merged.
  const notes: Note[] = [];
  const chords: ChordSymbol[] = [];
  const chordSeen = new Set<string>();
  for (const v of voices) {
    const track = trackOfStaff.get(v.staff) ?? 0;
    let pending: { step: number; note: Note }[] = [];
    for (let k = 0; k < v.slots.length && k < slotCount; k++) {
      const wb = v.bars[v.slots[k]];
      if (wb.multiRest !== undefined) {
        pending = [];
        continue;
      }
      const start = starts[k];
      for (const e of wb.events) {
        const onset = start + Math.round(e.offset * WHOLE);
        const end = start + Math.round((e.offset + e.dur) * WHOLE);
        for (const name of e.chords) {
          const id = `${onset}\u0000${name}`;
          if (!chordSeen.has(id)) {
            chordSeen.add(id);
            chords.push({ tick: onset, name, source: e.source });
          }
        }
        const next: { step: number; note: Note }[] = [];
        let first = true;
        for (const t of e.tones) {
          let target: Note | undefined;
          // A tie joins the same pitch in the next note or chord. abcjs marks tie ends by position
          // in the chord, not by pitch, so its endTie flag is not used.
          {
            const found =
              pending.find((p) => p.step === t.step && p.note.onset + p.note.duration === onset) ??
              pending.find((p) => p.note.pitch === t.midi && p.note.onset + p.note.duration === onset);
            if (found) {
              target = found.note;
              pending = pending.filter((p) => p !== found);
              target.duration = end - target.onset;
            }
          }
          if (!target) {
            if (end <= onset) {
              continue;
            }
            target = { pitch: t.midi, onset, duration: end - onset, velocity: VELOCITY, track, voice: v.voiceInStaff, source: e.source };
            if (first && e.graces && e.graces.length > 0) {
              target.graces = [...e.graces];
            }
            first = false;
            notes.push(target);
            if (notes.length > MAX_NOTES) {
              throw new SkipTune('abc-too-long', `The tune has more than ${MAX_NOTES} notes when its repeats are played.`);
            }
          }
          if (t.tieStart) {
            next.push({ step: t.step, note: target });
          }
        }
        pending = next;
      }
    }
  }
  if (notes.length === 0) {
    throw new SkipTune('abc-no-notes', 'The tune has no notes.');
  }
  // Voice numbers restart at 0 within each track.
  const voiceNumber = new Map<string, number>();
  for (const s of staffs) {
    voices.filter((v) => v.staff === s).forEach((v, i) => voiceNumber.set(`${s}:${v.voiceInStaff}`, i));
  }
  for (const n of notes) {
    n.voice = voiceNumber.get(`${staffs[n.track]}:${n.voice}`) ?? 0;
  }
  chords.sort((a, b) => a.tick - b.tick);

  return {
    meta: header.meta,
    notes: sortNotes(notes),
    bars,
    writtenBars,
    tracks,
    tempos,
    meters,
    keys,
    chords,
    length,
    source: { start: textOffset, end: textOffset + tuneText.length },
  };
}

// ---- whole file --------------------------------------------------------------------------------

/** UTF-8 byte length of a string, stopping early once it exceeds `limit`. */
function utf8LengthExceeds(text: string, limit: number): boolean {
  if (text.length > limit) {
    return true;
  }
  if (text.length * 3 <= limit) {
    return false;
  }
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      bytes += 1;
    } else if (c < 0x800) {
      bytes += 2;
    } else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4;
      i++;
    } else {
      bytes += 3;
    }
    if (bytes > limit) {
      return true;
    }
  }
  return false;
}

/** True when the text looks like binary data decoded as text (NULs, control characters, U+FFFD). */
function looksBinary(text: string): boolean {
  const sample = text.length > 65536 ? text.slice(0, 65536) : text;
  let bad = 0;
  for (let i = 0; i < sample.length; i++) {
    const c = sample.charCodeAt(i);
    if (c === 0) {
      return true;
    }
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12) || c === 0xfffd || c === 0x7f) {
      bad++;
    }
  }
  return bad > Math.max(8, sample.length * 0.01);
}

/**
 * Splits ABC text into tunes on `X:` lines (a text without `X:` but with a `K:` line is one tune).
 * Each range is half-open, in characters of `text`, and ends at the blank line that ends the tune.
 */
export function splitTunes(text: string): { start: number; end: number; reference?: number }[] {
  return splitTuneRanges(text);
}

/**
 * Reads every tune of an ABC file. Throws {@link MusicInputError} only for whole-file problems:
 * `abc-empty`, `abc-too-large`, `abc-binary`, `abc-no-tunes`. A tune that cannot be read is listed
 * in `skipped` with a code and reason; this function does not throw for one bad tune.
 */
export function readAbc(text: string, options: AbcReadOptions = {}): AbcReadResult {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_ABC_BYTES;
  if (typeof text !== 'string' || text.trim() === '') {
    throw new MusicInputError('abc-empty', 'The ABC file is empty.');
  }
  if (utf8LengthExceeds(text, maxBytes)) {
    const mb = (maxBytes / (1024 * 1024)).toFixed(maxBytes % (1024 * 1024) === 0 ? 0 : 1);
    throw new MusicInputError('abc-too-large', `The ABC file is larger than ${mb} MB, the most Refrain reads: split the tune book into smaller files.`);
  }
  if (looksBinary(text)) {
    throw new MusicInputError('abc-binary', 'The file holds binary data, not ABC text.');
  }
  if (!text.includes('\r')) {
    return readTunes(text, options);
  }
  // abcjs turns CRLF into LF before it counts characters, so its offsets would drift by one per
  // line in a Windows file. Read an LF copy and map every source range back to the real text.
  const { normalized, toOriginal } = normalizeNewlines(text);
  const select = options.select;
  const result = readTunes(normalized, {
    ...options,
    select: select && ((ranges) => select(ranges.map((r) => ({ ...r, start: toOriginal[r.start], end: toOriginal[r.end] })))),
  });
  const map = (r: SourceRange | undefined): SourceRange | undefined => (r ? { start: toOriginal[r.start], end: toOriginal[r.end] } : r);
  for (const t of result.tunes) {
    const sc = t.score;
    sc.source = map(sc.source);
    for (const n of sc.notes) {
      n.source = map(n.source);
    }
    for (const c of sc.chords) {
      c.source = map(c.source);
    }
    for (const w of sc.writtenBars) {
      w.source = map(w.source);
    }
  }
  return result;
}

/** LF-only text and, for each of its offsets (end included), the offset in the original text. */
function normalizeNewlines(text: string): { normalized: string; toOriginal: Int32Array } {
  const normalized = text.replace(/\r\n?/g, '\n');
  const toOriginal = new Int32Array(normalized.length + 1);
  let o = 0;
  for (let i = 0; i < normalized.length; i++) {
    toOriginal[i] = o;
    o += text[o] === '\r' && text[o + 1] === '\n' ? 2 : 1;
  }
  toOriginal[normalized.length] = o;
  return { normalized, toOriginal };
}

function readTunes(text: string, options: AbcReadOptions): AbcReadResult {
  const ranges = splitTuneRanges(text);
  if (ranges.length === 0) {
    throw new MusicInputError('abc-no-tunes', 'No ABC tune found: a tune starts with an X: line and needs a K: line.');
  }
  const tunes: AbcTune[] = [];
  const skipped: SkippedTune[] = [];
  const chosen = options.select ? options.select(ranges) : ranges.map((_, i) => i);
  const stopAfter = options.stopAfter ?? Infinity;
  for (const index of chosen) {
    const r = ranges[index];
    if (r === undefined || tunes.length >= stopAfter) {
      continue;
    }
    const tuneText = text.slice(r.start, r.end);
    const title = /^T:(.*)$/m.exec(tuneText)?.[1]?.trim();
    const warnings: string[] = [];
    try {
      const score = readOneTune(tuneText, r.start, warnings);
      const tune: AbcTune = { score, index, warnings };
      if (r.reference !== undefined) {
        tune.reference = r.reference;
      }
      if (score.meta.title !== undefined) {
        tune.title = score.meta.title;
      }
      tunes.push(tune);
    } catch (e) {
      const skip: SkippedTune =
        e instanceof SkipTune
          ? { index, code: e.code, reason: e.message }
          : { index, code: 'abc-unreadable', reason: `The tune could not be read: ${e instanceof Error ? e.message : String(e)}` };
      if (r.reference !== undefined) {
        skip.reference = r.reference;
      }
      if (title !== undefined && title !== '') {
        skip.title = title;
      }
      skipped.push(skip);
    }
  }
  return { tunes, skipped, count: ranges.length };
}

/**
 * Joins two adjacent short performed bars that together fill exactly one bar of their shared
 * meter: the short bar that ends a repeated part (`... D2:|`) and the pickup that follows it
 * when the repeat is played (`|:A2|...`). Musically they are one bar; keeping them apart would
 * make every repeated 8-bar part 9 bars long and shift the piece's structure. The joined bar
 * keeps the first one's written bar for editor mapping. The opening pickup stays a short bar.
 */
function joinSplitBars(bars: Bar[]): void {
  let out = 0;
  for (let i = 0; i < bars.length; i++) {
    const b = bars[i];
    const next = bars[i + 1];
    const full = barTicks(b.meter);
    if (
      next !== undefined &&
      b.duration < full &&
      next.duration < full &&
      b.duration + next.duration === full &&
      b.meter.num === next.meter.num &&
      b.meter.den === next.meter.den &&
      next.start === b.start + b.duration
    ) {
      bars[out++] = { ...b, duration: full };
      i++;
    } else {
      bars[out++] = b;
    }
  }
  bars.length = out;
}
