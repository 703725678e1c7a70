/**
 * The template as the model sees it (`models/train/structure.py` is the training-side twin;
 * both must agree, see test/unit/engine/structure.test.ts):
 *
 * - structural source bars: bar i's source is the earliest earlier bar j that the template
 *   marks as the same (T[i][j] >= {@link TEMPLATE_SAME}), followed to its own source, else i.
 *   In `A8 A8 B8 B8` bars 8..15 get sources 0..7, so bar 9 sits where bar 1 sat. Models with a
 *   `sbar` input rotate one slice of each head by it (StrIPEs: structure as positions), and
 *   models trained with `structRelated` see every token of the earlier bars that share a
 *   source (Museformer: structure-related bars in full);
 * - bars left to the end (`toend` input): 0, 1, 2, 3 (three or more), {@link END_UNKNOWN}.
 *
 * Pure TypeScript.
 */

import { TEMPLATE_SAME } from '../structure/compliance';
import type { Ssm } from '../structure/ssm';
import { HEADER_BAR } from '../tokens/vocab';

/** A template cell at or above this marks two bars as the same (the form-compliance threshold too). */
export { TEMPLATE_SAME };
/** The `sbar` value of tokens without a structural coordinate (header tokens, no template). */
export const NO_SOURCE = 65535;
/** `toend` values: 0..2 bars left, 3 = three or more, 4 = unknown. */
export const END_FAR = 3;
export const END_UNKNOWN = 4;

/** Structural source bar of each bar of a template (see the module comment). */
export function sourceBars(t: Ssm): Int32Array {
  const n = t.size;
  const src = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    src[i] = i;
    for (let j = 0; j < i; j++) {
      if (t.data[i * n + j] >= TEMPLATE_SAME) {
        src[i] = src[j];
        break;
      }
    }
  }
  return src;
}

/** Per-bar structure the decoder feeds to the model and uses in the plan. */
export interface BarStructure {
  /** The `sbar` value of a token of bar `bar` (or of a header token). */
  source(bar: number): number;
  /** The `toend` value of a token of bar `bar`. */
  toEnd(bar: number): number;
  /** Earlier bars that share bar `bar`'s source (the template marks them the same), ascending. */
  sameAs(bar: number): readonly number[];
}

/**
 * The structure of a piece of `totalBars` bars under a template (undefined: none known, every
 * token gets {@link NO_SOURCE}); `knownEnd` false gives {@link END_UNKNOWN} (open-ended
 * continuation, e.g. inline ghost text). Bars past the template's size have no source.
 */
export function barStructure(template: Ssm | undefined, totalBars: number, knownEnd: boolean): BarStructure {
  const src = template ? sourceBars(template) : new Int32Array(0);
  const groups = new Map<number, number[]>();
  for (let i = 0; i < src.length; i++) {
    const g = groups.get(src[i]);
    if (g) {
      g.push(i);
    } else {
      groups.set(src[i], [i]);
    }
  }
  const empty: readonly number[] = [];
  return {
    source: (bar) => (bar === HEADER_BAR || bar < 0 || bar >= src.length ? NO_SOURCE : src[bar]),
    toEnd: (bar) => (!knownEnd || bar === HEADER_BAR || bar < 0 ? END_UNKNOWN : Math.min(END_FAR, Math.max(0, totalBars - 1 - bar))),
    sameAs: (bar) => {
      if (bar < 0 || bar >= src.length) {
        return empty;
      }
      const g = groups.get(src[bar]) ?? empty;
      return g.filter((b) => b < bar);
    },
  };
}
