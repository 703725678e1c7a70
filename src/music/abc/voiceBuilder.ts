/**
 * The per-voice half of the ABC reader: the builder that turns one voice's stream of abcjs
 * elements (`./abcjsElements`) into written bars (pitches from key signature and bar
 * accidentals, tuplets, ties marked, repeats, endings, parts, meters, keys and tempos). The
 * voices are gathered across abcjs's printed lines by `./collectVoices`.
 */
import type { Key, Meter, SourceRange } from '../score';
import { ACCIDENTAL_ALTER, barLength, explicitSignature, keyOfElement, meterOf, sameKey, signatureOfElement, tempoOf } from './abcjsElements';
import type { RawElement, RawPitch, RawStaff } from './abcjsElements';
import { midiOfStep } from './keys';
import { parseEnding } from './repeats';
import { MAX_WARNINGS, SkipTune } from './skipTune';

/** Longest multi-bar rest (`Z1000`), in bars. */
const MAX_MULTI_REST = 1000;

/** A count for a message: grouped digits, at most three decimals. */
function formatCount(n: number): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: 3 }) : 'an unreadable number of';
}

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
