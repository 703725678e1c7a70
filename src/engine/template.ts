/**
 * Template SSMs for the SING head and the structure-derived related bars: from the piece
 * itself, a form string, another score or an explicit matrix (see {@link TemplateSpec}).
 *
 * Pure TypeScript: no vscode, no Node-only APIs.
 */

import { MusicInputError } from '../music/score';
import { barTicks } from '../music/score';
import type { Score } from '../music/score';
import { TEMPLATE_SAME } from '../structure/compliance';
import { formToTemplate, isUniqueSectionLabel, parseForm } from '../structure/form';
import type { FormSection } from '../structure/form';
import { barSsm, validateSsm } from '../structure/ssm';
import type { Ssm } from '../structure/ssm';
import type { RelatedBars } from './plan';
import type { TemplateSpec } from './types';

/**
 * The similarity expected between two bars `interval` apart where a template claims nothing:
 * what a SING head trained on real tunes' own SSMs sees between bars that are not repeats.
 */
export type Background = (interval: number) => number;

/**
 * The background of a model's training corpus: its mean bar similarity at each interval (the
 * card's `corpusLt`; e.g. bars 4 apart in a folk tune share a third of their notes on
 * average), kept below the same-bar threshold so that it never makes a bar a repeat.
 * Undefined without a curve.
 */
export function corpusBackground(values: readonly (number | null)[] | undefined): Background | undefined {
  if (!values || values.length < 2) {
    return undefined;
  }
  const cap = TEMPLATE_SAME * 0.9;
  return (interval) => {
    const v = values[Math.min(Math.abs(interval), values.length - 1)];
    return v === null || v === undefined || !Number.isFinite(v) ? 0 : Math.min(cap, Math.max(0, v));
  };
}

/** `ssm` with every off-diagonal cell raised to at least the background at its interval. */
export function withBackground(ssm: Ssm, background: Background): Ssm {
  const n = ssm.size;
  const data = Float32Array.from(ssm.data);
  for (let b = 0; b < n; b++) {
    for (let c = 0; c < n; c++) {
      if (b !== c) {
        data[b * n + c] = Math.max(data[b * n + c], background(c - b));
      }
    }
  }
  return { size: n, data };
}

/**
 * A `size`-bar template that keeps the prompt's own SSM over its bars and claims nothing about
 * the new ones: their cells are the background (a piece continued with no form chosen).
 */
export function promptWithBackground(ssm: Ssm, size: number, background: Background): Ssm {
  const n = Math.min(ssm.size, size);
  const data = new Float32Array(size * size);
  for (let b = 0; b < size; b++) {
    for (let c = 0; c < size; c++) {
      data[b * size + c] = b === c ? 1 : b < n && c < n ? ssm.data[b * ssm.size + c] : background(c - b);
    }
  }
  return { size, data };
}

/** Bars at the end of a section that share the tune's cadence, and how alike the template calls them. */
export const SHARED_CADENCE = { bars: 2, similarity: 0.75 } as const;

/** The opening bar of a section that comes back halfway through it (the a-b-a-c phrases of a part). */
export const PHRASE_ECHO = { bars: 1, similarity: 0.75 } as const;

/**
 * First- and second-time endings: a section played twice in a row (`A8 A8`) leads back to its
 * start the first time and closes the second, so the last bars of the two passes are marked apart
 * (`differ`, below the same-bar threshold), while every part's first-time endings are alike and
 * every part's second-time endings are alike (`alike`).
 */
export const ENDINGS = { differ: 0.4, alike: 0.9 } as const;

/**
 * A tune in parts (a form in which some section comes back, `A8 A8 B8 B8`), written as the
 * dance-tune tradition writes it:
 * - each part closes with the tune's cadence: the last {@link SHARED_CADENCE} bars of sections of
 *   equal length and different letters are marked alike (the B part ends as the A part does);
 * - inside each part of 8 or more bars (a multiple of 4), its first {@link PHRASE_ECHO} bar comes
 *   back halfway through (bar 5 echoes bar 1);
 * - a part played twice in a row has first- and second-time endings ({@link ENDINGS}).
 * A through-composed form (`A8 B8 C8 D8`) is left as it is; intro/outro/non-repeating sections
 * (`i`, `o`, `x`) never share, echo or take endings.
 */
export function withSharedCadences(ssm: Ssm, sections: readonly FormSection[]): Ssm {
  const letters = sections.map((s) => s.label.toUpperCase());
  const parts = letters.some((l, k) => !isUniqueSectionLabel(sections[k].label) && letters.indexOf(l) !== k);
  if (!parts) {
    return ssm;
  }
  const n = ssm.size;
  const data = Float32Array.from(ssm.data);
  const starts: number[] = [];
  sections.reduce((bar, s) => (starts.push(bar), bar + s.bars), 0);
  const set = (p: number, q: number, v: number): void => {
    data[p * n + q] = v;
    data[q * n + p] = v;
  };
  const mark = (p: number, q: number, similarity: number): void => set(p, q, Math.max(data[p * n + q], similarity));
  const repeatable = (k: number): boolean => !isUniqueSectionLabel(sections[k].label);
  sections.forEach((s, k) => {
    if (s.bars >= 8 && s.bars % 4 === 0 && repeatable(k)) {
      for (let o = 0; o < PHRASE_ECHO.bars; o++) {
        mark(starts[k] + o, starts[k] + s.bars / 2 + o, PHRASE_ECHO.similarity);
      }
    }
  });
  for (let a = 0; a < sections.length; a++) {
    for (let b = a + 1; b < sections.length; b++) {
      const sa = sections[a];
      const sb = sections[b];
      if (letters[a] === letters[b] || sa.bars !== sb.bars || !repeatable(a) || !repeatable(b)) {
        continue;
      }
      const k = Math.min(SHARED_CADENCE.bars, Math.floor(sa.bars / 2));
      for (let o = sa.bars - k; o < sa.bars; o++) {
        mark(starts[a] + o, starts[b] + o, SHARED_CADENCE.similarity);
      }
    }
  }
  // Parts played twice in a row: (last bar of the first pass, last bar of the second pass).
  const twice: [number, number][] = [];
  for (let k = 1; k < sections.length; k++) {
    if (letters[k] === letters[k - 1] && sections[k].bars === sections[k - 1].bars && repeatable(k) && sections[k].bars >= 4) {
      twice.push([starts[k] - 1, starts[k] + sections[k].bars - 1]);
    }
  }
  twice.forEach(([first, second]) => set(first, second, ENDINGS.differ));
  for (let i = 0; i < twice.length; i++) {
    for (let j = i + 1; j < twice.length; j++) {
      set(twice[i][0], twice[j][0], ENDINGS.alike);
      set(twice[i][1], twice[j][1], ENDINGS.alike);
      set(twice[i][0], twice[j][1], Math.min(data[twice[i][0] * n + twice[j][1]], ENDINGS.differ));
      set(twice[i][1], twice[j][0], Math.min(data[twice[i][1] * n + twice[j][0]], ENDINGS.differ));
    }
  }
  return { size: n, data };
}

/**
 * The new bars (1-based, in writing order) that close on the key's final: the piece's last bar
 * and every new bar the template marks as the same as it (a part's second-time ending, or a
 * part that ends as the tune does). `totalBars` counts the prompt's bars and the `bars` new ones.
 */
export function cadenceBars(template: Ssm, totalBars: number, bars: number): number[] {
  const last = totalBars - 1;
  const n = template.size;
  const out: number[] = [];
  for (let k = 1; k <= bars; k++) {
    const b = totalBars - bars + k - 1;
    if (b === last || (b >= 0 && b < n && last < n && template.data[b * n + last] >= TEMPLATE_SAME)) {
      out.push(k);
    }
  }
  return out;
}

/**
 * Extends (or cuts) an SSM to `size` bars by repeating its pattern: entry (b, c) is
 * entry (b mod n, c mod n) of the source, and the diagonal stays 1. A piece continued past
 * its end is thus asked to repeat its own form (bar n + k acts like bar k).
 */
export function tileSsm(ssm: Ssm, size: number): Ssm {
  const n = ssm.size;
  if (n === size) {
    return ssm;
  }
  const data = new Float32Array(size * size);
  if (n > 0) {
    for (let b = 0; b < size; b++) {
      for (let c = 0; c < size; c++) {
        data[b * size + c] = b === c ? 1 : ssm.data[(b % n) * n + (c % n)];
      }
    }
  }
  return { size, data };
}

/**
 * Whether the piece opens with a pickup (an anacrusis: a first bar shorter than its meter's).
 * A form string then describes the bars after it: its bar 1 is the piece's bar 2.
 */
export function hasPickup(piece: Score): boolean {
  const b = piece.bars[0];
  return b !== undefined && b.duration < barTicks(b.meter);
}

/** The template with a leading pickup bar that is like no other bar (form strings count full bars). */
export function withPickup(t: Ssm): Ssm {
  const n = t.size + 1;
  const data = new Float32Array(n * n);
  data[0] = 1;
  for (let b = 1; b < n; b++) {
    for (let c = 1; c < n; c++) {
      data[b * n + c] = t.data[(b - 1) * t.size + (c - 1)];
    }
  }
  return { size: n, data };
}

/**
 * The one rule that sizes a template SSM to the `bars` of the piece being made, whatever its
 * source (the piece itself, another score, a painted matrix): cut when longer; when shorter, the
 * bars past it take the background (with one), else repeat the template's pattern ({@link tileSsm}).
 */
export function fitTemplate(ssm: Ssm, bars: number, background?: Background): Ssm {
  if (ssm.size === bars) {
    return ssm;
  }
  return background ? promptWithBackground(ssm, bars, background) : tileSsm(ssm, bars);
}

/**
 * The template SSM of a spec. `piece` is the prompt (for `{ kind: 'piece' }`). The piece's own
 * SSM, another score's and an explicit matrix are sized to `bars` by one rule ({@link fitTemplate}),
 * whichever front sent them; a form keeps its own length. With a `background` (the model's corpus
 * curve, see {@link corpusBackground}), a form's "different" cells take the background instead of
 * 0, and bars past an SSM take the background instead of repeating its pattern.
 */
export function templateSsm(spec: TemplateSpec, piece: Score, bars: number, background?: Background): Ssm {
  switch (spec.kind) {
    case 'piece':
      return fitTemplate(barSsm(piece), bars, background);
    case 'form': {
      const sections = parseForm(spec.form);
      const f = withSharedCadences(formToTemplate(sections), sections);
      const t = background ? withBackground(f, background) : f;
      return hasPickup(piece) ? withPickup(t) : t;
    }
    case 'score':
      return fitTemplate(barSsm(spec.score), bars, background);
    case 'matrix': {
      if (!Number.isInteger(spec.size) || spec.size < 0 || !Array.isArray(spec.data) || spec.data.length !== spec.size * spec.size) {
        throw new MusicInputError(
          'template-invalid',
          `A template matrix of size ${String(spec.size)} needs ${String(spec.size)}^2 values, got ${Array.isArray(spec.data) ? spec.data.length : 'none'}.`,
        );
      }
      const ssm: Ssm = { size: spec.size, data: Float32Array.from(spec.data) };
      validateSsm(ssm);
      for (const v of ssm.data) {
        if (v < 0 || v > 1) {
          throw new MusicInputError('template-invalid', `Template values must lie in [0, 1], got ${v}.`);
        }
      }
      return fitTemplate(ssm, bars, background);
    }
    default:
      throw new MusicInputError('template-invalid', `Unknown template kind '${String((spec as { kind: unknown }).kind)}'.`);
  }
}

/**
 * Structure-derived related bars: bar b sees in full the `count` earlier bars with the
 * highest template similarity to it (ties to the nearer bar). Bars outside the template
 * fall back to `fallback` (fixed offsets).
 */
export function templateRelatedBars(template: Ssm, count: number, fallback: RelatedBars): RelatedBars {
  const k = Math.max(1, Math.floor(count));
  const cache = new Map<number, number[]>();
  const n = template.size;
  return (bar) => {
    if (bar >= n) {
      return fallback(bar);
    }
    let out = cache.get(bar);
    if (out === undefined) {
      const cands: number[] = [];
      for (let c = 0; c < bar; c++) {
        cands.push(c);
      }
      cands.sort((x, y) => template.data[bar * n + y] - template.data[bar * n + x] || y - x);
      out = cands.slice(0, k);
      cache.set(bar, out);
    }
    return out;
  };
}
