/**
 * The variation control: a copy prior that makes a bar the template marks as the same as an
 * earlier bar come back as that bar was written, as strongly as the writer asks.
 *
 * While bar b is written and its structural source s < b (see `./structure`) is complete, the
 * prior walks s's tokens alongside b's: as long as b has followed s token for token, the next
 * token of s is the target; when b departs from s, the prior waits for the end of the current
 * note and picks s up again at the first onset at or after it (aligned by position in the bar).
 * The target's logit is raised by `(1 - variation) * strength(cell) * MAX_COPY_BIAS` nats, where
 * cell is the template's similarity of b and s and strength rises from 0 at the "same" threshold
 * (0.5) to 1 at 1: a form's repeated section (cell 1) comes back as written, while a real tune's
 * SSM used as a template (cells of 0.5-0.8 for bars that vary) only leans the model towards its
 * source, so the piece is not made more self-similar than its template. Variation 0 writes the
 * target whenever the grammar allows it, variation 1 leaves the model alone.
 *
 * Pure TypeScript.
 */

import type { Ssm } from '../structure/ssm';
import { DURATION_STEPS, tokenIndex, tokenKind } from '../tokens/vocab';
import type { TokenLayout } from './plan';
import { TEMPLATE_SAME } from './structure';
import type { BarStructure } from './structure';

/** Logit boost (nats) of the copy target at variation 0 short of forcing, cell 1. */
export const MAX_COPY_BIAS = 8;

/** What the prior asks of the next token. */
export interface CopyTarget {
  id: number;
  /** Nats to add to the target's logit. */
  bias: number;
  /** Write the target outright (variation 0). */
  force: boolean;
}

export class CopyPrior {
  private _src: number[] | undefined;
  private _k = -1;
  private _cell = 0;
  private _onset = 0;
  private _cursor = 0;

  constructor(
    private readonly _layout: TokenLayout,
    private readonly _structure: BarStructure,
    private readonly _template: Ssm,
    private readonly _variation: number,
  ) {}

  /** Whether the prior does anything at all. */
  get active(): boolean {
    return this._variation < 1;
  }

  /** Reads the token just appended to the layout, in bar `bar`. */
  push(id: number, bar: number): void {
    const kind = tokenKind(id);
    if (kind === 'bar') {
      this._startBar(bar);
      return;
    }
    if (kind === 'pos') {
      this._onset = tokenIndex(id);
    } else if (kind === 'dur') {
      this._cursor = this._onset + DURATION_STEPS[tokenIndex(id)];
    }
    if (!this._src) {
      return;
    }
    if (this._k >= 0 && this._src[this._k] === id) {
      this._k++;
    } else {
      this._k = -1;
    }
    if (this._k < 0 && kind === 'dur') {
      this._resync();
    }
  }

  /** The token the prior favours next, or undefined. */
  target(): CopyTarget | undefined {
    if (!this._src || this._k < 0 || this._k >= this._src.length || !this.active) {
      return undefined;
    }
    const strength = Math.min(1, Math.max(0, (this._cell - TEMPLATE_SAME) / (1 - TEMPLATE_SAME)));
    return { id: this._src[this._k], bias: (1 - this._variation) * strength * MAX_COPY_BIAS, force: this._variation <= 0 && this._cell >= TEMPLATE_SAME };
  }

  private _startBar(bar: number): void {
    this._src = undefined;
    this._k = -1;
    this._onset = 0;
    this._cursor = 0;
    const s = this._structure.source(bar);
    if (!this.active || s >= bar || s < 0 || s >= this._layout.bars) {
      return;
    }
    const first = this._layout.barFirst(s);
    const sum = this._layout.barSum(s);
    if (first < 0 || sum < 0) {
      return;
    }
    const src: number[] = [];
    for (let i = first; i <= sum; i++) {
      src.push(this._layout.idAt(i));
    }
    const n = this._template.size;
    this._cell = bar < n && s < n ? Math.min(1, this._template.data[bar * n + s]) : 0;
    this._src = src;
    this._k = 1; // the BAR token itself
  }

  /** After a departure: the first onset of the source bar at or after the current note's end. */
  private _resync(): void {
    const src = this._src as number[];
    for (let j = 0; j < src.length; j++) {
      if (tokenKind(src[j]) === 'pos' && tokenIndex(src[j]) >= this._cursor) {
        this._k = j;
        return;
      }
      if (tokenKind(src[j]) === 'sum') {
        this._k = j;
        return;
      }
    }
  }
}
