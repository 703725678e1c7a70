/**
 * Form compliance: how far a piece does what its template (a form string, another piece's SSM,
 * cells painted in the panel) asks, and how it ends and keeps its mode. One definition of each
 * figure, used by every surface: `refrain eval --forms`, the candidate metrics the engine
 * returns, the panel ("follows the form: N%") and the model pickers.
 *
 * - {@link followsForm}: how well the new bars do what the template says: the mean of the
 *   compliance rates of the bar pairs it marks as the same and of those it marks as different
 *   (see {@link sameSectionPairs} for which pairs are judged).
 * - {@link repeatFidelity} and {@link contrast}: mean bar Jaccard between the bars a form
 *   marks as the same section position, and between different sections at the same position
 *   (issue 9; pairs from {@link formPairs}).
 * - {@link tonicEnding} and {@link inModeShare}: the last note on the key's final (mode-aware),
 *   and the share of notes whose pitch class is in the key's mode.
 *
 * "Same" between generated bars is Museformer's note-set Jaccard (eq. 4, `barSsm(score,
 * 'jaccard')`: pitch, onset in bar and duration equal) of at least {@link JACCARD_SAME}.
 *
 * Pure TypeScript: no vscode, no DOM, no Node-only APIs.
 */

import type { Key, Mode, Score } from '../music/score';
import { NATURAL_PC, signatureOf } from '../music/abc/keys';
import { isUniqueSectionLabel, parseForm } from './form';
import type { FormSection } from './form';
import { barSsm } from './ssm';
import type { Ssm } from './ssm';

/** A template cell at or above this marks two bars as the same; below it, as different. */
export const TEMPLATE_SAME = 0.5;
/** Two bars of a piece count as the same when their note-set Jaccard is at least this. */
export const JACCARD_SAME = 0.5;
/** Largest bar offset at which {@link sameSectionPairs} looks for "different" pairs. */
export const DIFFERENT_OFFSETS = 16;
/**
 * The form whose pairs measure {@link repeatFidelity} and {@link contrast} of pieces that have
 * no form of their own (no template, a tune's own SSM, the real tunes): issue 9's reference.
 */
export const REFERENCE_FORM = 'A8 A8 B8 B8';

/** A pair of bars (0-based performed bars), `earlier < bar`. */
export interface BarPair {
  readonly bar: number;
  readonly earlier: number;
}

/** The pairs {@link followsForm} judges: see {@link sameSectionPairs}. */
export interface JudgedPairs {
  /** Pairs the template marks as the same (cell >= {@link TEMPLATE_SAME}): should come back. */
  readonly same: BarPair[];
  /** Pairs the template marks as different (cell < {@link TEMPLATE_SAME}): should stay apart. */
  readonly different: BarPair[];
}

/**
 * The bar pairs whose similarity the template prescribes, for the new bars [from, to):
 *
 * For each new bar i (from <= i < to, i >= 1, i inside the template):
 * - **same**: its single most similar earlier bar in the template, j* = the j < i with the
 *   largest cell T[i][j] (ties: the earliest j), when T[i][j*] >= {@link TEMPLATE_SAME}
 *   (0.5). At most one per bar.
 * - **different**: every j = i - d for d = 1..{@link DIFFERENT_OFFSETS} (16), j >= 0, with
 *   T[i][j] < {@link TEMPLATE_SAME}. At most 16 per bar.
 *
 * Earlier bars may be prompt bars (before `from`). The number of pairs is O(n).
 */
export function sameSectionPairs(template: Ssm, from: number, to: number): JudgedPairs {
  const n = template.size;
  const same: BarPair[] = [];
  const different: BarPair[] = [];
  const last = Math.min(to, n);
  for (let i = Math.max(from, 1); i < last; i++) {
    const row = i * n;
    let best = 0;
    let bestValue = template.data[row];
    for (let j = 1; j < i; j++) {
      if (template.data[row + j] > bestValue) {
        best = j;
        bestValue = template.data[row + j];
      }
    }
    if (bestValue >= TEMPLATE_SAME) {
      same.push({ bar: i, earlier: best });
    }
    for (let d = 1; d <= DIFFERENT_OFFSETS && i - d >= 0; d++) {
      if (template.data[row + i - d] < TEMPLATE_SAME) {
        different.push({ bar: i, earlier: i - d });
      }
    }
  }
  return { same, different };
}

/** The parts of {@link followsForm}, for reports that show them apart. */
export interface FormCompliance {
  /** {@link followsForm}: mean of sameKept / same and differentApart / different (over the kinds judged); NaN with no pair. */
  readonly share: number;
  /** Pairs marked the same. */
  readonly same: number;
  /** Of those, pairs whose bars have Jaccard >= {@link JACCARD_SAME}. */
  readonly sameKept: number;
  /** Pairs marked different. */
  readonly different: number;
  /** Of those, pairs whose bars have Jaccard < {@link JACCARD_SAME}. */
  readonly differentApart: number;
}

/**
 * Form compliance with its parts, from the piece's bar SSM (`barSsm(score, 'jaccard')`);
 * {@link followsForm} is its `share`. Pairs outside the piece are left out.
 */
export function formCompliance(pieceSsm: Ssm, template: Ssm, newBars: { from: number; to: number }): FormCompliance {
  const { same, different } = sameSectionPairs(template, newBars.from, Math.min(newBars.to, pieceSsm.size));
  const n = pieceSsm.size;
  const sim = (p: BarPair): number => pieceSsm.data[p.bar * n + p.earlier];
  const sameKept = same.filter((p) => sim(p) >= JACCARD_SAME).length;
  const differentApart = different.filter((p) => sim(p) < JACCARD_SAME).length;
  const parts: number[] = [];
  if (same.length > 0) {
    parts.push(sameKept / same.length);
  }
  if (different.length > 0) {
    parts.push(differentApart / different.length);
  }
  return {
    share: parts.length > 0 ? parts.reduce((a, b) => a + b, 0) / parts.length : Number.NaN,
    same: same.length,
    sameKept,
    different: different.length,
    differentApart,
  };
}

/**
 * "Follows the form: N%" (N = round(100 x this)): in [0, 1], how well the new bars do what
 * the template says, each kind of judged pair (same, different) weighing half.
 *
 * Judged pairs ({@link sameSectionPairs}): for each new bar i in [newBars.from, newBars.to)
 * that the template covers, (a) its most similar earlier bar in the template (largest cell
 * T[i][j], j < i, ties to the earliest j) when that cell is >= 0.5 ({@link TEMPLATE_SAME}): a
 * "same" pair; (b) the earlier bars i - d, d = 1..16, whose cell T[i][i-d] is < 0.5:
 * "different" pairs.
 *
 * A "same" pair complies when the two bars of the piece have note-set Jaccard (Museformer
 * eq. 4, `barSsm(score, 'jaccard')`) >= 0.5 ({@link JACCARD_SAME}); a "different" pair
 * complies when it is < 0.5. The result is the mean of the two kinds' compliance rates,
 * `(same kept / same + different apart / different) / 2` (one kind alone when the template
 * judges only one, e.g. `A8 B8 C8 D8` has no "same" pair), so a piece cannot score well by
 * keeping every bar apart when the form asks for repeats (there are far more "different"
 * pairs than "same" ones); NaN when no pair is judged (e.g. no new bar inside the template).
 * `pieceSsm` may be passed when the caller already has the piece's Jaccard SSM.
 */
export function followsForm(score: Score, templateSsm: Ssm, newBars: { from: number; to: number }, pieceSsm: Ssm = barSsm(score, 'jaccard')): number {
  return formCompliance(pieceSsm, templateSsm, newBars).share;
}

/** The bar pairs of a form that {@link repeatFidelity} and {@link contrast} average over. */
export interface FormPairs {
  /** Bar k of a section and bar k of a later section with the same label. */
  readonly fidelity: BarPair[];
  /** Bar k of the m-th section of one label and bar k of the m-th section of another label of the same length. */
  readonly contrast: BarPair[];
  /** The form whose pairs these are (the given form, or its paired relabelling; see {@link formPairs}). */
  readonly measuredAs: string;
  /** Total bars of the form. */
  readonly bars: number;
}

/**
 * The bar pairs that measure a form (issue 9), from its sections in order:
 *
 * - **fidelity**: for two sections with the same written letter (`A` and `A`; a variation `a`
 *   is not the same as `A`), bar k of the earlier and bar k of the later (k below the shorter
 *   length). `A8 A8 B8 B8` gives (i, i + 8) for i in 0..7 and 16..23.
 * - **contrast**: the m-th section of one letter against the m-th section of another letter of
 *   the same length, bar k against bar k. `A8 A8 B8 B8` gives (i, i + 16) for i in 0..15
 *   (A against B at the same section position); `A8 A8 B8 A8` gives (i, i + 16), i in 0..7.
 * - Reserved letters (`i`, `o`, `x`, `X`: intro, outro, non-repeating) take part in neither.
 * - A form that repeats no section (`A8 B8 C8 D8`) is measured at the pairs of its **paired
 *   relabelling**: sections 1-2, 3-4, ... get one letter each when their lengths agree, so
 *   `A8 B8 C8 D8` is measured as `A8 A8 B8 B8`. Its row then compares with the `A8 A8 B8 B8`
 *   row: a repeat fidelity there near the real tunes' means the model repeats where it was
 *   told not to.
 */
export function formPairs(form: string): FormPairs {
  const sections = parseForm(form);
  let pairs = pairsOf(sections);
  let measuredAs = sectionsText(sections);
  if (pairs.fidelity.length === 0) {
    const relabelled = pairedRelabelling(sections);
    const again = pairsOf(relabelled);
    if (again.fidelity.length > 0) {
      pairs = again;
      measuredAs = sectionsText(relabelled);
    }
  }
  return { ...pairs, measuredAs, bars: sections.reduce((s, x) => s + x.bars, 0) };
}

function letterOf(s: FormSection): string {
  return s.variation ? s.label.toLowerCase() : s.label;
}

function sectionsText(sections: readonly FormSection[]): string {
  return sections.map((s) => `${letterOf(s)}${s.bars}`).join(' ');
}

function pairedRelabelling(sections: readonly FormSection[]): FormSection[] {
  const letters = 'ABCDEFGHJKLMNPQRSTUVWYZ';
  const out: FormSection[] = [];
  let next = 0;
  for (let k = 0; k < sections.length; k++) {
    const label = letters[next % letters.length];
    next++;
    out.push({ label, variation: false, bars: sections[k].bars });
    if (k + 1 < sections.length && sections[k + 1].bars === sections[k].bars) {
      out.push({ label, variation: false, bars: sections[k + 1].bars });
      k++;
    }
  }
  return out;
}

function pairsOf(sections: readonly FormSection[]): { fidelity: BarPair[]; contrast: BarPair[] } {
  const starts: number[] = [];
  const occurrence: number[] = [];
  const seen = new Map<string, number>();
  let at = 0;
  for (const s of sections) {
    starts.push(at);
    at += s.bars;
    const letter = letterOf(s);
    const m = seen.get(letter) ?? 0;
    occurrence.push(m);
    seen.set(letter, m + 1);
  }
  const fidelity: BarPair[] = [];
  const contrast: BarPair[] = [];
  for (let p = 0; p < sections.length; p++) {
    const lp = letterOf(sections[p]);
    if (isUniqueSectionLabel(lp)) {
      continue;
    }
    for (let q = p + 1; q < sections.length; q++) {
      const lq = letterOf(sections[q]);
      if (isUniqueSectionLabel(lq)) {
        continue;
      }
      if (lp === lq) {
        const len = Math.min(sections[p].bars, sections[q].bars);
        for (let k = 0; k < len; k++) {
          fidelity.push({ bar: starts[q] + k, earlier: starts[p] + k });
        }
      } else if (
        lp.toUpperCase() !== lq.toUpperCase() &&
        occurrence[p] === occurrence[q] &&
        sections[p].bars === sections[q].bars
      ) {
        for (let k = 0; k < sections[p].bars; k++) {
          contrast.push({ bar: starts[q] + k, earlier: starts[p] + k });
        }
      }
    }
  }
  const order = (a: BarPair, b: BarPair): number => a.earlier - b.earlier || a.bar - b.bar;
  return { fidelity: fidelity.sort(order), contrast: contrast.sort(order) };
}

function meanOver(pieceSsm: Ssm, pairs: readonly BarPair[]): number {
  const n = pieceSsm.size;
  let sum = 0;
  let count = 0;
  for (const p of pairs) {
    if (p.bar < n) {
      sum += pieceSsm.data[p.bar * n + p.earlier];
      count++;
    }
  }
  return count > 0 ? sum / count : Number.NaN;
}

/**
 * Repeat fidelity (issue 9): the mean note-set Jaccard between the bars that `form` marks as
 * the same section position ({@link formPairs} `fidelity`; for `A8 A8 B8 B8`, bar i and bar
 * i + 8 inside `A8 A8` and inside `B8 B8`). Pairs past the piece's end are left out; NaN with
 * none. Real tunes of the tradition score about 0.9 on `A8 A8 B8 B8`.
 */
export function repeatFidelity(score: Score, form: string, pieceSsm: Ssm = barSsm(score, 'jaccard')): number {
  return meanOver(pieceSsm, formPairs(form).fidelity);
}

/**
 * Contrast (issue 9): the mean note-set Jaccard between bars of different sections at the same
 * section position ({@link formPairs} `contrast`; for `A8 A8 B8 B8`, bar i and bar i + 16).
 * Lower is more contrast. Pairs past the piece's end are left out; NaN with none.
 */
export function contrast(score: Score, form: string, pieceSsm: Ssm = barSsm(score, 'jaccard')): number {
  return meanOver(pieceSsm, formPairs(form).contrast);
}

/** Semitones from the relative major's tonic to each mode's final. */
const MODE_FINAL: Readonly<Record<Mode, number>> = {
  major: 0,
  dorian: 2,
  phrygian: 4,
  lydian: 5,
  mixolydian: 7,
  minor: 9,
  locrian: 11,
};

/**
 * The pitch class (0 = C) of a key's final, mode-aware: D dorian (signature of C major) gives
 * 2 (D), A minor 9. Derived from the key's signature (`fifths`) and `mode`, as the ABC writer
 * does, so it always agrees with {@link modeScale}.
 */
export function finalPitchClass(key: Key): number {
  const majorTonic = (((7 * Math.round(key.fifths)) % 12) + 12) % 12;
  return (majorTonic + (MODE_FINAL[key.mode] ?? 0)) % 12;
}

/** The 7 pitch classes of a key's mode: the natural letters altered by its signature. */
export function modeScale(key: Key): Set<number> {
  const sig = signatureOf(key.fifths);
  return new Set(NATURAL_PC.map((pc, l) => (((pc + sig[l]) % 12) + 12) % 12));
}

/** The key in force at a tick (the last key change at or before it; C major without one). */
export function keyAt(score: Score, tick: number): Key {
  let key: Key = { tonic: 'C', mode: 'major', fifths: 0 };
  for (const k of score.keys) {
    if (k.tick <= tick) {
      key = k.key;
    }
  }
  return key;
}

function pitchedNotes(score: Score): Score['notes'] {
  return score.notes.filter((n) => !score.tracks[n.track]?.isDrum);
}

/**
 * Whether the piece ends on its key's final: the last note (latest onset among pitched
 * tracks; of several notes starting then, the lowest) has the pitch class of
 * {@link finalPitchClass} of `key` (default: the key in force at that note). Mode-aware: in
 * D dorian the final is D. False for a piece without notes.
 */
export function tonicEnding(score: Score, key?: Key): boolean {
  const notes = pitchedNotes(score);
  if (notes.length === 0) {
    return false;
  }
  let last = notes[0];
  for (const n of notes) {
    if (n.onset > last.onset || (n.onset === last.onset && n.pitch < last.pitch)) {
      last = n;
    }
  }
  return ((last.pitch % 12) + 12) % 12 === finalPitchClass(key ?? keyAt(score, last.onset));
}

/**
 * The share, in [0, 1], of the notes starting in bar `fromBar` or later (pitched tracks) whose
 * pitch class is in the mode scale of `key` (default: the key in force at each note's onset;
 * {@link modeScale}). NaN when there is no such note.
 */
export function inModeShare(score: Score, key?: Key, fromBar = 0): number {
  const start = fromBar <= 0 ? Number.NEGATIVE_INFINITY : fromBar < score.bars.length ? score.bars[fromBar].start : score.length;
  const fixed = key ? modeScale(key) : undefined;
  let inMode = 0;
  let count = 0;
  for (const n of pitchedNotes(score)) {
    if (n.onset < start) {
      continue;
    }
    const scale = fixed ?? modeScale(keyAt(score, n.onset));
    count++;
    if (scale.has(((n.pitch % 12) + 12) % 12)) {
      inMode++;
    }
  }
  return count > 0 ? inMode / count : Number.NaN;
}
