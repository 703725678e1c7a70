/**
 * The per-voice half of the ABC reader: abcjs's output types, and the builder that turns one
 * voice's stream of abcjs elements into written bars (pitches from key signature and bar
 * accidentals, tuplets, ties marked, repeats, endings, parts, meters, keys and tempos). The voices
 * are gathered across abcjs's printed lines by the `V:` voice that owns their text.
 */
import type { Key, Meter, SourceRange } from '../score';
import { keyFromParts, midiOfStep, modeFromAbc } from './keys';
import { parseEnding } from './repeats';
import { VoiceOwners, firstCharOf } from './voiceOwners';

/** Most warnings kept per tune. */
export const MAX_WARNINGS = 20;
/** Longest multi-bar rest (`Z1000`), in bars. */
const MAX_MULTI_REST = 1000;

/** A count for a message: grouped digits, at most three decimals. */
function formatCount(n: number): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: 3 }) : 'an unreadable number of';
}

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

export interface RawElement {
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

export interface RawStaff {
  voices?: RawElement[][];
  key?: RawElement;
  meter?: RawElement;
  title?: string[];
}

export interface RawTune {
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
export interface VoiceBar {
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
export class SkipTune extends Error {
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

export function sameKey(a: Key, b: Key): boolean {
  return a.tonic === b.tonic && a.mode === b.mode && a.fifths === b.fifths;
}

export function barLength(m: Meter): number {
  return m.num / m.den;
}

/** Quarter notes per minute of an abcjs tempo element; undefined when it has no usable number. */
export function tempoOf(el: RawElement, unit: number): number | undefined {
  if (typeof el.bpm !== 'number' || !Number.isFinite(el.bpm) || el.bpm <= 0) {
    return undefined;
  }
  const beats = Array.isArray(el.duration) ? el.duration.reduce((s, d) => s + d, 0) : unit;
  const bpm = (el.bpm * (beats > 0 ? beats : unit)) / 0.25;
  return bpm > 0 && bpm < 2000 ? Math.round(bpm * 1000) / 1000 : undefined;
}

/** Removes abcjs's HTML markup from a warning. */
export function cleanWarning(w: string): string {
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
export class VoiceBuilder {
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

/** A voice being read: where it sits (staff, voice in staff), the `V:` id that owns it, its builder. */
export interface VoiceEntry {
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
export function collectVoices(
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
