/**
 * Template SSMs for the SING head and the structure-derived related bars: from the piece
 * itself, a form string, another score or an explicit matrix (see {@link TemplateSpec}).
 *
 * Pure TypeScript: no vscode, no Node-only APIs.
 */

import { MusicInputError } from '../music/score';
import { barTicks } from '../music/score';
import type { Score } from '../music/score';
import { formToTemplate, parseForm } from '../structure/form';
import { barSsm, validateSsm } from '../structure/ssm';
import type { Ssm } from '../structure/ssm';
import type { RelatedBars } from './plan';
import type { TemplateSpec } from './types';

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
 * source (the piece itself, another score, a painted matrix): cut when longer, and when shorter
 * the bars past it repeat the template's pattern ({@link tileSsm}).
 */
export function fitTemplate(ssm: Ssm, bars: number): Ssm {
  return ssm.size === bars ? ssm : tileSsm(ssm, bars);
}

/**
 * The template SSM of a spec. `piece` is the prompt (for `{ kind: 'piece' }`). The piece's own
 * SSM, another score's and an explicit matrix are sized to `bars` by one rule ({@link fitTemplate}),
 * whichever front sent them; a form keeps its own length.
 */
export function templateSsm(spec: TemplateSpec, piece: Score, bars: number): Ssm {
  switch (spec.kind) {
    case 'piece':
      return fitTemplate(barSsm(piece), bars);
    case 'form': {
      const t = formToTemplate(parseForm(spec.form));
      return hasPickup(piece) ? withPickup(t) : t;
    }
    case 'score':
      return fitTemplate(barSsm(spec.score), bars);
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
      return fitTemplate(ssm, bars);
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
