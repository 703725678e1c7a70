/**
 * Key signatures and pitch spelling shared by the ABC reader and writer.
 *
 * Letters are indexed 0..6 for C D E F G A B. A "staff step" is `7 * octave + letter`
 * with step 0 the ABC note `C` (middle C, MIDI 60), as abcjs numbers its `pitch` field.
 */
import type { Key, Mode } from '../score';

/** Semitones above C of the natural notes C D E F G A B. */
export const NATURAL_PC: readonly number[] = [0, 2, 4, 5, 7, 9, 11];

/** Upper-case letter names by letter index. */
export const LETTERS: readonly string[] = ['C', 'D', 'E', 'F', 'G', 'A', 'B'];

/** Position of each letter on the circle of fifths, C = 0 (F = -1, B = 5). */
const LETTER_FIFTHS: readonly number[] = [0, 2, 4, -1, 1, 3, 5];

/** Fifths of each mode relative to the major key on the same tonic. */
const MODE_OFFSET: Readonly<Record<Mode, number>> = {
  major: 0,
  minor: -3,
  dorian: -2,
  phrygian: -4,
  lydian: 1,
  mixolydian: -1,
  locrian: -5,
};

/** ABC suffix written after the tonic for each mode. */
const MODE_SUFFIX: Readonly<Record<Mode, string>> = {
  major: '',
  minor: 'm',
  dorian: 'dor',
  phrygian: 'phr',
  lydian: 'lyd',
  mixolydian: 'mix',
  locrian: 'loc',
};

/** Major-key tonics by fifths, from -8 (Fb) to 12 (B#). */
const MAJOR_TONICS: readonly string[] = [
  'Fb', 'Cb', 'Gb', 'Db', 'Ab', 'Eb', 'Bb', 'F', 'C', 'G', 'D', 'A', 'E', 'B', 'F#', 'C#', 'G#', 'D#', 'A#', 'E#', 'B#',
];

/** The mode named by an ABC `K:` mode word (`m`, `min`, `Dor`, `mixolydian`...); unknown words mean major. */
export function modeFromAbc(word: string): Mode {
  const w = word.trim().toLowerCase();
  if (w === 'm' || w.startsWith('min') || w.startsWith('aeo')) {
    return 'minor';
  }
  switch (w.slice(0, 3)) {
    case 'dor':
      return 'dorian';
    case 'phr':
      return 'phrygian';
    case 'lyd':
      return 'lydian';
    case 'mix':
      return 'mixolydian';
    case 'loc':
      return 'locrian';
    default:
      return 'major';
  }
}

/** Brings a fifths count into -7..7 by enharmonic change (12 fifths make an octave of semitones). */
function normalizeFifths(fifths: number): number {
  let f = fifths;
  while (f > 7) {
    f -= 12;
  }
  while (f < -7) {
    f += 12;
  }
  return f;
}

/**
 * The key for a tonic letter, accidental (`''`, `'#'`, `'b'`) and mode, e.g. `('F', '#', 'minor')`.
 * Unknown letters give C major.
 */
export function keyFromParts(letter: string, accidental: string, mode: Mode): Key {
  const idx = LETTERS.indexOf(letter.toUpperCase());
  if (idx < 0) {
    return { tonic: 'C', mode: 'major', fifths: 0 };
  }
  let fifths = LETTER_FIFTHS[idx];
  let acc = '';
  if (accidental === '#' || accidental === '♯') {
    fifths += 7;
    acc = '#';
  } else if (accidental === 'b' || accidental === '♭') {
    fifths -= 7;
    acc = 'b';
  }
  fifths += MODE_OFFSET[mode];
  return { tonic: LETTERS[idx] + acc, mode, fifths: normalizeFifths(fifths) };
}

/** Alteration (-1, 0, +1) of each letter C..B under a key signature of `fifths` sharps (negative: flats). */
export function signatureOf(fifths: number): number[] {
  const sig = [0, 0, 0, 0, 0, 0, 0];
  const f = normalizeFifths(Math.round(fifths));
  const sharpOrder = [3, 0, 4, 1, 5, 2, 6];
  const flatOrder = [6, 2, 5, 1, 4, 0, 3];
  for (let i = 0; i < Math.abs(f); i++) {
    if (f > 0) {
      sig[sharpOrder[i]] = 1;
    } else {
      sig[flatOrder[i]] = -1;
    }
  }
  return sig;
}

/**
 * The `K:` value the writer uses for a key: tonic and mode derived from the key's `fifths` and
 * `mode` (so the signature is always the one `fifths` says), e.g. `'Ador'`, `'F#m'`, `'Bb'`.
 */
export function keyFieldText(key: Key): string {
  const fifths = normalizeFifths(Math.round(key.fifths));
  const mode: Mode = key.mode in MODE_OFFSET ? key.mode : 'major';
  const index = fifths - MODE_OFFSET[mode] + 8;
  const tonic = MAJOR_TONICS[index];
  if (tonic === undefined || tonic === 'Fb' || tonic === 'E#' || tonic === 'B#') {
    return MAJOR_TONICS[fifths + 8];
  }
  return tonic + MODE_SUFFIX[mode];
}

/** MIDI number of a staff step with an alteration in semitones. */
export function midiOfStep(step: number, alter: number): number {
  const octave = Math.floor(step / 7);
  const letter = step - octave * 7;
  return 60 + 12 * octave + NATURAL_PC[letter] + alter;
}

/** A spelled pitch: staff step (letter and octave) plus alteration in semitones. */
export interface Spelling {
  step: number;
  alter: number;
}

/**
 * Spells a MIDI pitch in a key: the letter the signature already gives that pitch when there is
 * one; otherwise a natural; otherwise the sharp or flat closest to the key on the circle of fifths (sharp
 * on a tie), so C major writes C#, Eb, F#, G#, Bb and D minor C#. When the two are close, a
 * chromatic step up (`direction` > 0) reads as a sharp and a step down (`direction` < 0) as a flat.
 */
export function spellPitch(midi: number, fifths: number, signature: readonly number[], direction = 0): Spelling {
  const pc = ((midi % 12) + 12) % 12;
  let inKey: Spelling | undefined;
  let natural: Spelling | undefined;
  let best: Spelling | undefined;
  let bestScore = Infinity;
  const center = fifths + 2;
  for (let letter = 0; letter < 7; letter++) {
    let alter = pc - NATURAL_PC[letter];
    if (alter > 6) {
      alter -= 12;
    } else if (alter < -6) {
      alter += 12;
    }
    if (alter < -1 || alter > 1) {
      continue;
    }
    const natMidi = midi - alter;
    const octave = Math.floor((natMidi - 60) / 12);
    const spelling = { step: octave * 7 + letter, alter };
    if (alter === signature[letter] && inKey === undefined) {
      inKey = spelling;
    }
    if (alter === 0) {
      natural = spelling;
    } else {
      // A chromatic step up reads best as a sharp, a step down as a flat.
      const towards = direction === 0 ? 0 : Math.sign(direction) === alter ? -5 : 0;
      const score = towards + Math.abs(LETTER_FIFTHS[letter] + 7 * alter - center) * 2 + (alter > 0 ? 0 : 1);
      if (score < bestScore) {
        bestScore = score;
        best = spelling;
      }
    }
  }
  return inKey ?? natural ?? best ?? { step: Math.floor((midi - 60) / 12) * 7, alter: pc };
}

/** ABC text of a staff step without accidental: `C,` `C` `c` `c'`. */
export function stepText(step: number): string {
  const octave = Math.floor(step / 7);
  const letter = LETTERS[step - octave * 7];
  if (octave >= 1) {
    return letter.toLowerCase() + "'".repeat(octave - 1);
  }
  return letter + ','.repeat(-octave);
}

/** ABC accidental text for an alteration: `^`, `_`, `=`, `^^`, `__`. */
export function accidentalText(alter: number): string {
  switch (alter) {
    case 1:
      return '^';
    case -1:
      return '_';
    case 2:
      return '^^';
    case -2:
      return '__';
    default:
      return '=';
  }
}
