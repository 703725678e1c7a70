/**
 * Chord symbols <-> chord tokens, and pitch spelling from a key signature.
 *
 * A chord symbol becomes one `CHORD_<root><quality>` token (12 roots as pitch classes x the
 * 12 qualities of `CHORD_QUALITIES`), then a `BASS_<pc>` token when it has a bass note other
 * than its root (`G/B`). `N.C.` (also `NC`, `N`) is `CHORD_N.C.`.
 *
 * Accepted spellings: ABC/lead-sheet style (`Am`, `F#m7`, `Bbmaj7`, `Cdim`, `Eo7`, `Bm7b5`,
 * `Bø`, `Caug`, `C+`, `Dsus`, `D7sus4`, `G/b`, `D/f+` for D/F#, `(E7)`) and Harte style as in POP909
 * (`C#:maj`, `Bb:min7`, `F#:maj7/5`, `D:hdim7`, `A:sus4(b7)`).
 * Qualities outside the 12 are reduced (the symbol is then not reproduced exactly):
 * ninths, elevenths and thirteenths to their seventh chord (`D9` -> `D7`, `Am9` -> `Am7`,
 * `Cmaj9` -> `Cmaj7`), minor sixth and minor-major seventh to minor, `add9` and power chords
 * (`5`) to the triad. Text that is not a chord (`"Slow"`, `"D.C."`) is not a chord symbol.
 *
 * The decoder spells a root (and a bass) from the key signature in force: the spelling on
 * the line of fifths nearest the key (from five fifths below its major tonic to six above),
 * with Fb, Cb, E#, B# replaced by E, B, F, C. In C major: C C# D Eb E F F# G Ab A Bb B.
 * So `canonicalChordName(name, fifths)` is what a round trip gives back.
 *
 * Pure TypeScript: no vscode, no DOM, no Node-only APIs.
 */

import type { Key, Mode } from '../music/score';
import { CHORD_QUALITIES, NO_CHORD } from './vocab';

/** A chord symbol in token terms. */
export interface ChordValue {
  /** Root pitch class 0..11, or -1 for no chord. */
  readonly root: number;
  /** Index in `CHORD_QUALITIES` (0 for no chord). */
  readonly quality: number;
  /** Bass pitch class when it differs from the root. */
  readonly bass?: number;
  /** False when the quality was reduced to a nearby one (the symbol is not reproduced). */
  readonly exact: boolean;
}

const LETTER_PC: Readonly<Record<string, number>> = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 };

/** Lead-sheet quality suffixes, exact ones first. Keys are compared after removing spaces and parentheses. */
const QUALITY_EXACT: Readonly<Record<string, string>> = {
  '': '',
  M: '',
  maj: '',
  major: '',
  m: 'm',
  mi: 'm',
  min: 'm',
  minor: 'm',
  '-': 'm',
  '7': '7',
  dom7: '7',
  maj7: 'maj7',
  M7: 'maj7',
  Maj7: 'maj7',
  ma7: 'maj7',
  'Δ': 'maj7',
  'Δ7': 'maj7',
  m7: 'm7',
  mi7: 'm7',
  min7: 'm7',
  '-7': 'm7',
  dim: 'dim',
  o: 'dim',
  '°': 'dim',
  dim7: 'dim7',
  o7: 'dim7',
  '°7': 'dim7',
  m7b5: 'm7b5',
  'm7-5': 'm7b5',
  min7b5: 'm7b5',
  'ø': 'm7b5',
  'ø7': 'm7b5',
  hdim7: 'm7b5',
  aug: 'aug',
  '+': 'aug',
  '+5': 'aug',
  '#5': 'aug',
  sus2: 'sus2',
  sus4: 'sus4',
  sus: 'sus4',
  '6': '6',
  M6: '6',
  maj6: '6',
};

/** Qualities reduced to one of the 12 (lossy). */
const QUALITY_REDUCED: Readonly<Record<string, string>> = {
  '9': '7',
  '11': '7',
  '13': '7',
  '7b9': '7',
  '7#9': '7',
  '7b5': '7',
  '7#5': '7',
  '7#11': '7',
  aug7: '7',
  '+7': '7',
  '7sus4': 'sus4',
  '7sus': 'sus4',
  sus47: 'sus4',
  'sus4b7': 'sus4',
  maj9: 'maj7',
  M9: 'maj7',
  maj13: 'maj7',
  m9: 'm7',
  min9: 'm7',
  m11: 'm7',
  min11: 'm7',
  m13: 'm7',
  m6: 'm',
  min6: 'm',
  mmaj7: 'm',
  mM7: 'm',
  minmaj7: 'm',
  madd9: 'm',
  add9: '',
  add2: '',
  '2': '',
  '5': '',
  '1': '',
  '69': '6',
  '6/9': '6',
  '7sus2': 'sus2',
};

/** Harte-style (POP909) qualities mapped to lead-sheet suffixes. */
const HARTE_QUALITY: Readonly<Record<string, string>> = {
  maj: '',
  min: 'm',
  '7': '7',
  maj7: 'maj7',
  min7: 'm7',
  dim: 'dim',
  dim7: 'dim7',
  hdim7: 'm7b5',
  aug: 'aug',
  sus2: 'sus2',
  sus4: 'sus4',
  maj6: '6',
  '6': '6',
  min6: 'm6',
  '9': '9',
  maj9: 'maj9',
  min9: 'm9',
  '11': '11',
  min11: 'm11',
  '13': '13',
  maj13: 'maj13',
  minmaj7: 'mmaj7',
  '5': '5',
  '1': '1',
};

/** Semitones above the root of a scale degree written as in Harte bass inversions (`3`, `b7`, `#4`). */
function degreeSemitones(degree: string): number | undefined {
  const m = /^([b#]*)(\d+)$/.exec(degree);
  if (!m) {
    return undefined;
  }
  const base = [0, 2, 4, 5, 7, 9, 11];
  const n = Number(m[2]);
  if (n < 1 || n > 13) {
    return undefined;
  }
  let s = base[(n - 1) % 7];
  for (const c of m[1]) {
    s += c === '#' ? 1 : -1;
  }
  return (s + 12) % 12;
}

/** Pitch class of a note name such as `C`, `f#`, `Bb`, `E♭`; undefined when it is not one. */
export function pitchClassOfName(name: string): number | undefined {
  const m = /^([A-Ga-g])([#b♯♭]*)$/.exec(name);
  if (!m) {
    return undefined;
  }
  let pc = LETTER_PC[m[1].toUpperCase()];
  for (const c of m[2]) {
    pc += c === '#' || c === '♯' ? 1 : -1;
  }
  return (pc + 12) % 12;
}

function qualityValue(suffix: string): { quality: number; exact: boolean } | undefined {
  const key = suffix.replace(/[\s()]/g, '');
  const exact = QUALITY_EXACT[key];
  if (exact !== undefined) {
    return { quality: CHORD_QUALITIES.indexOf(exact), exact: true };
  }
  const reduced = QUALITY_REDUCED[key];
  if (reduced !== undefined) {
    return { quality: CHORD_QUALITIES.indexOf(reduced), exact: false };
  }
  return undefined;
}

/**
 * Parses a chord symbol into token terms; undefined when the text is not a chord symbol
 * (annotations, tempo words, fingering...). See the module comment for what is accepted.
 */
export function parseChordSymbol(name: string): ChordValue | undefined {
  let text = name.trim().replace(/♭/g, 'b').replace(/♯/g, '#');
  // An optional chord written in parentheses, "(E7)", is still that chord.
  const optional = /^\((.*)\)$/.exec(text);
  if (optional) {
    text = optional[1].trim();
  }
  if (/^(N\.?C\.?|N|none)$/i.test(text)) {
    return { root: -1, quality: 0, exact: true };
  }
  const harte = /^([A-G][#b]*):([^/]+)(?:\/(.+))?$/.exec(text);
  if (harte) {
    return parseHarte(harte[1], harte[2], harte[3]);
  }
  const m = /^([A-G])([#b]?)([^/]*)(?:\/(.*))?$/.exec(text);
  if (!m) {
    return undefined;
  }
  const root = pitchClassOfName(m[1] + m[2]);
  let suffix = m[3];
  let bassText: string | undefined = m[4];
  // '6/9' is a quality, not a slash chord.
  if (suffix.endsWith('6') && bassText === '9') {
    suffix = `${suffix}/9`;
    bassText = undefined;
  }
  const q = qualityValue(suffix);
  if (root === undefined || q === undefined) {
    return undefined;
  }
  let bass: number | undefined;
  let exact = q.exact;
  if (bassText !== undefined) {
    // Some folk transcriptions write a sharp bass note with a trailing '+' ("D/f+" is D/F#).
    const b = /^([A-Ga-g][#b]?)(.*)$/.exec(bassText.trim().replace(/^([A-Ga-g])\+/, '$1#'));
    const pc = b ? pitchClassOfName(b[1]) : undefined;
    if (pc === undefined) {
      exact = false;
    } else {
      bass = pc;
      if (b !== null && b[2] !== '') {
        exact = false;
      }
    }
  }
  return bass === undefined || bass === root
    ? { root, quality: q.quality, exact }
    : { root, quality: q.quality, bass, exact };
}

function parseHarte(rootText: string, qualityText: string, bassText: string | undefined): ChordValue | undefined {
  const root = pitchClassOfName(rootText);
  if (root === undefined) {
    return undefined;
  }
  const paren = qualityText.indexOf('(');
  const base = paren >= 0 ? qualityText.slice(0, paren) : qualityText;
  const suffix = HARTE_QUALITY[base];
  if (suffix === undefined) {
    return undefined;
  }
  const q = qualityValue(suffix);
  if (q === undefined) {
    return undefined;
  }
  let exact = q.exact && paren < 0;
  let bass: number | undefined;
  if (bassText !== undefined) {
    const semis = degreeSemitones(bassText);
    if (semis === undefined) {
      exact = false;
    } else {
      bass = (root + semis) % 12;
    }
  }
  return bass === undefined || bass === root
    ? { root, quality: q.quality, exact }
    : { root, quality: q.quality, bass, exact };
}

/** Line-of-fifths position of a pitch class spelled for a key of `fifths` (see the module comment). */
function fifthsPosition(pc: number, fifths: number): number {
  const r = (((pc * 7) % 12) + 12) % 12;
  const lo = fifths - 5;
  let q = r;
  while (q < lo) {
    q += 12;
  }
  while (q > lo + 11) {
    q -= 12;
  }
  if (q < -6) {
    q += 12;
  } else if (q > 10) {
    q -= 12;
  }
  return q;
}

/** Name of a line-of-fifths position: 0 is C, 1 G, -1 F, 6 F#, -6 Gb (single accidentals in -8..12). */
export function nameOfFifthsPosition(q: number): string {
  const letter = 'FCGDAEB'[(((q + 1) % 7) + 7) % 7];
  const acc = Math.floor((q + 1) / 7);
  return letter + (acc > 0 ? '#'.repeat(acc) : 'b'.repeat(-acc));
}

/** A pitch class spelled for a key signature of `fifths` (e.g. 10 is `Bb` in C, `A#` in E). */
export function spellPitchClass(pc: number, fifths = 0): string {
  return nameOfFifthsPosition(fifthsPosition(((pc % 12) + 12) % 12, fifths));
}

/** The chord symbol a {@link ChordValue} is written as, spelled for a key signature of `fifths`. */
export function chordValueName(value: ChordValue, fifths = 0): string {
  if (value.root < 0) {
    return NO_CHORD;
  }
  const root = spellPitchClass(value.root, fifths) + CHORD_QUALITIES[value.quality];
  return value.bass === undefined ? root : `${root}/${spellPitchClass(value.bass, fifths)}`;
}

/**
 * The form a chord symbol takes after a token round trip in a key of `fifths`, or undefined
 * when the text is not a chord symbol (it is then dropped by the encoder).
 */
export function canonicalChordName(name: string, fifths = 0): string | undefined {
  const v = parseChordSymbol(name);
  return v === undefined ? undefined : chordValueName(v, fifths);
}

const MODE_FIFTHS_OFFSET: Readonly<Record<Mode, number>> = {
  lydian: -1,
  major: 0,
  mixolydian: 1,
  dorian: 2,
  minor: 3,
  phrygian: 4,
  locrian: 5,
};

/** The key with a signature of `fifths` (-7..7) in a mode; its tonic is spelled from both (2 sharps dorian: `E`). */
export function keyOf(fifths: number, mode: Mode): Key {
  return { tonic: nameOfFifthsPosition(fifths + MODE_FIFTHS_OFFSET[mode]), mode, fifths };
}
