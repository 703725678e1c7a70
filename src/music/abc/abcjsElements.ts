/**
 * abcjs's parse output, as much of it as the ABC reader uses, and what the reader takes from
 * its elements: meters, keys and their signatures (explicit `K:` accidentals too), tempos.
 */
import type { Key, Meter } from '../score';
import { keyFromParts, modeFromAbc } from './keys';
import { SkipTune } from './skipTune';

export interface RawPitch {
  pitch: number;
  accidental?: string;
  startTie?: unknown;
}

export interface RawChord {
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

export const ACCIDENTAL_ALTER: Readonly<Record<string, number>> = {
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
export function meterOf(el: RawElement, offset: number): Meter | undefined {
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

export function keyOfElement(el: RawElement): Key {
  const root = el.root ?? 'C';
  if (root === 'HP') {
    return { tonic: 'C', mode: 'major', fifths: 0 };
  }
  if (root === 'Hp') {
    return { tonic: 'A', mode: 'mixolydian', fifths: 2 };
  }
  return keyFromParts(root, el.acc ?? '', modeFromAbc(el.mode ?? ''));
}

export function signatureOfElement(el: RawElement): number[] {
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
export function explicitSignature(fieldText: string): number[] | undefined {
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
