/**
 * Form strings (`'A8 A8 B8 A8'`, `'AABA'`, POP909 `'i4A4B8A4A4b4B8o2'`) and the bar-level
 * template SSM a form stands for (the SING template).
 *
 * Grammar: a form is a sequence of sections, each one ASCII letter followed by an optional
 * bar count (decimal, 1..{@link MAX_SECTION_BARS}; default {@link ParseFormOptions.defaultBars},
 * 8). Sections may be separated by whitespace, `,` or `|`, or written back to back.
 *
 * Letters:
 * - `i` (intro), `o` (outro), `x` and `X` (material that does not repeat) are reserved: such a
 *   section is similar only to itself (its bars are on the template's diagonal only).
 * - Any other uppercase letter is a section label; every occurrence of the same label repeats
 *   the same material.
 * - Any other lowercase letter is, by default, a variation of its uppercase (`a` varies `A`).
 *   POP909's human labels use lowercase differently: `b` there marks a non-melodic
 *   (instrumental) phrase, not a variation of `B`. With `{ pop909: true }` every lowercase
 *   letter is a label of its own (`variation: false`).
 *
 * Pure TypeScript: no vscode, no DOM, no Node-only APIs.
 */

import { MusicInputError } from '../music/score';
import type { Ssm } from './ssm';

/** Most bars one section may have. */
export const MAX_SECTION_BARS = 512;
/** Most bars a whole form may have (the template SSM is this size squared). */
export const MAX_FORM_BARS = 2048;
/** Letters reserved for intro, outro and non-repeating material. */
export const UNIQUE_SECTION_LABELS: readonly string[] = ['i', 'o', 'x', 'X'];

/** One section of a form. */
export interface FormSection {
  /** The section letter as written: `'A'`, `'B'`, `'a'` (a variation of A), `'i'`, `'X'`... */
  readonly label: string;
  /** True when the section is a variation of `label.toUpperCase()` (a lowercase letter). */
  readonly variation: boolean;
  /** Length in bars, >= 1. */
  readonly bars: number;
}

/** Options of {@link parseForm}. */
export interface ParseFormOptions {
  /** Bars of a section written without a count (`'AABA'`). Default 8. */
  readonly defaultBars?: number;
  /** Read lowercase letters as POP909 does: labels of their own, not variations. Default false. */
  readonly pop909?: boolean;
}

/** Options of {@link formToString}. */
export interface FormToStringOptions {
  /** Write sections back to back (`'i4A4B8'`, the POP909 style) instead of space-separated. */
  readonly compact?: boolean;
}

/** Options of {@link formToTemplate}. */
export interface FormTemplateOptions {
  /** Similarity of bar k of a section and bar k of a variation of it (A vs a). Default 0.5. */
  readonly variationSimilarity?: number;
  /** Similarity of every other pair of distinct bars. Default 0. */
  readonly otherSimilarity?: number;
}

/**
 * A malformed form string. `code` is `'form-invalid'`; `position` is the 0-based offset into
 * the text (UTF-16 units, as editor ranges count) of the offending character; the message
 * names it as a 1-based character position.
 */
export class FormSyntaxError extends MusicInputError {
  readonly position: number;
  constructor(message: string, position: number) {
    super('form-invalid', message);
    this.name = 'FormSyntaxError';
    this.position = position;
  }
}

const SEPARATORS = new Set([',', '|']);

function isAsciiLetter(c: string): boolean {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

/** 1-based character (code point) position of UTF-16 offset `offset` in `text`. */
function columnOf(text: string, offset: number): number {
  return Array.from(text.slice(0, offset)).length + 1;
}

/** A printable description of one character: `'é' (U+00E9)`, or just the code for controls. */
function describeChar(c: string): string {
  const cp = c.codePointAt(0) ?? 0;
  const code = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  const printable = cp >= 0x20 && cp !== 0x7f && !(cp >= 0x80 && cp < 0xa0) && !/\p{C}/u.test(c);
  return printable ? `'${c}' (${code})` : code;
}

/** Whether a section letter is reserved (intro, outro, non-repeating): similar only to itself. */
export function isUniqueSectionLabel(label: string): boolean {
  return UNIQUE_SECTION_LABELS.includes(label);
}

/**
 * Parses a form string into sections. Accepts `'A8 A8 B8 A8'`, `'AABA'` (each section
 * `defaultBars`, default 8), and POP909 labels such as `'i4A4B8A4A4b4B8o2'`; see the module
 * comment for the grammar and the meaning of the letters.
 *
 * Throws {@link FormSyntaxError} (a `MusicInputError` with code `'form-invalid'`) naming the
 * offending position for: an empty form, a character that is not a letter, digit or
 * separator (`'A-3'`, unicode letters), a bar count with no letter before it (`'8A'`), a
 * count of 0, a section longer than {@link MAX_SECTION_BARS}, and a form longer than
 * {@link MAX_FORM_BARS} bars in all.
 */
export function parseForm(text: string, options: ParseFormOptions = {}): FormSection[] {
  const defaultBars = options.defaultBars ?? 8;
  if (!Number.isInteger(defaultBars) || defaultBars < 1 || defaultBars > MAX_SECTION_BARS) {
    throw new MusicInputError(
      'form-invalid',
      `The default section length must be a whole number of bars from 1 to ${MAX_SECTION_BARS}, got ${defaultBars}.`,
    );
  }
  if (typeof text !== 'string') {
    throw new FormSyntaxError('The form must be text, like \'A8 A8 B8 A8\'.', 0);
  }
  const sections: FormSection[] = [];
  let total = 0;
  let p = 0;
  while (p < text.length) {
    const cp = text.codePointAt(p) ?? 0;
    const c = String.fromCodePoint(cp);
    if (/\s/u.test(c) || SEPARATORS.has(c)) {
      p += c.length;
      continue;
    }
    if (isDigit(c)) {
      let end = p;
      while (end < text.length && isDigit(text[end])) {
        end++;
      }
      throw new FormSyntaxError(
        `Bar count '${text.slice(p, end)}' at position ${columnOf(text, p)} has no section letter before it; write the letter first, as in 'A8'.`,
        p,
      );
    }
    if (!isAsciiLetter(c)) {
      const hint =
        c === '-' ? ' Bar counts cannot be negative.' : ' Sections are a letter A-Z or a-z with an optional bar count.';
      throw new FormSyntaxError(`Unexpected character ${describeChar(c)} at position ${columnOf(text, p)}.${hint}`, p);
    }
    const start = p;
    p++;
    let end = p;
    while (end < text.length && isDigit(text[end])) {
      end++;
    }
    let bars = defaultBars;
    if (end > p) {
      const digits = text.slice(p, end).replace(/^0+(?=\d)/, '');
      bars = digits.length > 9 ? Number.POSITIVE_INFINITY : Number.parseInt(digits, 10);
      if (bars === 0) {
        throw new FormSyntaxError(
          `Section '${c}' at position ${columnOf(text, start)} has 0 bars; a section needs at least 1 bar.`,
          p,
        );
      }
      if (bars > MAX_SECTION_BARS) {
        throw new FormSyntaxError(
          `Section '${c}' at position ${columnOf(text, start)} has ${text.slice(p, end)} bars; a section may have at most ${MAX_SECTION_BARS}.`,
          p,
        );
      }
    }
    total += bars;
    if (total > MAX_FORM_BARS) {
      throw new FormSyntaxError(
        `The form is longer than ${MAX_FORM_BARS} bars at section '${c}' (position ${columnOf(text, start)}).`,
        start,
      );
    }
    const lower = c >= 'a' && c <= 'z';
    const variation = lower && !options.pop909 && !isUniqueSectionLabel(c);
    sections.push({ label: c, variation, bars });
    p = end;
  }
  if (sections.length === 0) {
    throw new FormSyntaxError(
      'The form is empty; write sections such as \'A8 A8 B8 A8\', \'AABA\' or \'i4A8B8o2\'.',
      0,
    );
  }
  return sections;
}

/** Checks hand-built sections; throws `MusicInputError('form-invalid')` naming the bad one. */
function validateSections(sections: readonly FormSection[]): number {
  let total = 0;
  sections.forEach((s, k) => {
    if (typeof s.label !== 'string' || s.label.length !== 1 || !isAsciiLetter(s.label)) {
      throw new MusicInputError('form-invalid', `Section ${k + 1} has label '${String(s.label)}'; labels are one letter A-Z or a-z.`);
    }
    if (!Number.isInteger(s.bars) || s.bars < 1 || s.bars > MAX_SECTION_BARS) {
      throw new MusicInputError(
        'form-invalid',
        `Section ${k + 1} ('${s.label}') has ${String(s.bars)} bars; use a whole number from 1 to ${MAX_SECTION_BARS}.`,
      );
    }
    total += s.bars;
  });
  if (total > MAX_FORM_BARS) {
    throw new MusicInputError('form-invalid', `The form has ${total} bars; the most allowed is ${MAX_FORM_BARS}.`);
  }
  return total;
}

/** The letter a section is written with: lowercase for a variation, else its label. */
function writtenLetter(s: FormSection): string {
  return s.variation ? s.label.toLowerCase() : s.label;
}

/** Total number of bars of a form. */
export function formBarCount(sections: readonly FormSection[]): number {
  return sections.reduce((sum, s) => sum + s.bars, 0);
}

/**
 * Writes sections back as a form string that {@link parseForm} reads to the same sections:
 * `'A8 A8 B8 A8'`, or with `{ compact: true }` `'A8A8B8A8'`. Bar counts are always written.
 */
export function formToString(sections: readonly FormSection[], options: FormToStringOptions = {}): string {
  validateSections(sections);
  return sections.map((s) => `${writtenLetter(s)}${s.bars}`).join(options.compact ? '' : ' ');
}

/**
 * The bar-level template SSM a form stands for, `formBarCount(sections)` bars square:
 * - 1 on the diagonal;
 * - 1 between bar k of a section and bar k of another section with the same letter;
 * - `variationSimilarity` (default 0.5) between bar k of a section and bar k of a variation
 *   of it (A vs a; a section with `variation: true` against one of the same base letter);
 * - `otherSimilarity` (default 0) everywhere else, including every pair involving an
 *   intro/outro/non-repeating section (`i`, `o`, `x`, `X`) other than its diagonal.
 * Sections of the same letter but different lengths match bar for bar up to the shorter one.
 */
export function formToTemplate(sections: readonly FormSection[], options: FormTemplateOptions = {}): Ssm {
  const variationSimilarity = options.variationSimilarity ?? 0.5;
  const otherSimilarity = options.otherSimilarity ?? 0;
  for (const [name, v] of [
    ['variationSimilarity', variationSimilarity],
    ['otherSimilarity', otherSimilarity],
  ] as const) {
    if (!Number.isFinite(v) || v < 0 || v > 1) {
      throw new MusicInputError('form-invalid', `${name} must be a number from 0 to 1, got ${v}.`);
    }
  }
  const n = validateSections(sections);
  const sectionOf = new Int32Array(n);
  const offsetOf = new Int32Array(n);
  let bar = 0;
  sections.forEach((s, k) => {
    for (let o = 0; o < s.bars; o++) {
      sectionOf[bar] = k;
      offsetOf[bar] = o;
      bar++;
    }
  });
  const letters = sections.map(writtenLetter);
  const data = new Float32Array(n * n);
  for (let p = 0; p < n; p++) {
    data[p * n + p] = 1;
    const sp = sections[sectionOf[p]];
    const lp = letters[sectionOf[p]];
    const uniqueP = isUniqueSectionLabel(lp);
    for (let q = p + 1; q < n; q++) {
      let v = otherSimilarity;
      if (!uniqueP && offsetOf[p] === offsetOf[q]) {
        const sq = sections[sectionOf[q]];
        const lq = letters[sectionOf[q]];
        if (!isUniqueSectionLabel(lq)) {
          if (lp === lq) {
            v = 1;
          } else if ((sp.variation || sq.variation) && lp.toUpperCase() === lq.toUpperCase()) {
            v = variationSimilarity;
          }
        }
      }
      data[p * n + q] = v;
      data[q * n + p] = v;
    }
  }
  return { size: n, data };
}
