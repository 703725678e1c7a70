/**
 * Pitch classes of a key: its final (tonic) and the seven notes of its mode. The mode's notes
 * are those of the key signature (A dorian and G major share one signature, so one note set),
 * which is how ABC's `K:` defines them.
 *
 * Pure TypeScript.
 */

import type { Key } from '../music/score';

const LETTER_PC: Record<string, number> = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 };
const MAJOR_STEPS = [0, 2, 4, 5, 7, 9, 11];

/** Pitch class 0..11 (C = 0) of the key's final: `D` dorian -> 2, `Bb` major -> 10. */
export function tonicPitchClass(key: Key): number {
  const t = key.tonic.trim();
  const base = LETTER_PC[t.charAt(0).toUpperCase()] ?? 0;
  let shift = 0;
  for (const ch of t.slice(1)) {
    shift += ch === '#' ? 1 : ch === 'b' ? -1 : 0;
  }
  return (((base + shift) % 12) + 12) % 12;
}

/** The key's seven pitch classes, as a 12-entry membership table (index = pitch class). */
export function scalePitchClasses(key: Key): boolean[] {
  const majorTonic = (((7 * key.fifths) % 12) + 12) % 12;
  const out = new Array<boolean>(12).fill(false);
  for (const s of MAJOR_STEPS) {
    out[(majorTonic + s) % 12] = true;
  }
  return out;
}
