/**
 * Expands ABC repeats and numbered endings into the performed order of written bars.
 */

/** What the expansion needs to know about one written bar. */
export interface RepeatBar {
  /** A `|:` or `::` opens a repeated section at this bar. */
  startRepeat: boolean;
  /** A `:|` or `::` closes a repeated section after this bar. */
  endRepeat: boolean;
  /** Pass numbers on which this bar is played (`[1`, `[2`, `[1,3`...); undefined outside endings. */
  ending?: ReadonlySet<number>;
}

/** Highest pass number an ending label may name. */
const MAX_PASS = 1000;

/**
 * Parses an ending label such as `1`, `2`, `1,3` or `1-3` into pass numbers; an unreadable label
 * (or one past pass 1000) counts as ending 1.
 */
export function parseEnding(label: string): Set<number> {
  const out = new Set<number>();
  for (const part of label.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+))?\s*$/.exec(part);
    if (!m) {
      continue;
    }
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (a > MAX_PASS) {
      // No tune is played this many times; a huge number (past 2^53 the loop below could not
      // even step) is a typo, read like any other unreadable label.
      continue;
    }
    for (let n = a; n <= Math.min(b, a + 16, MAX_PASS); n++) {
      out.add(n);
    }
  }
  if (out.size === 0) {
    out.add(1);
  }
  return out;
}

/** The union of pass numbers of the run of ending bars that bar `i` belongs to or that follows it. */
function endingNumbersAround(bars: readonly RepeatBar[], i: number): Set<number> {
  const out = new Set<number>();
  let lo = i;
  let hi = i;
  if (bars[i].ending === undefined) {
    if (i + 1 >= bars.length || bars[i + 1].ending === undefined) {
      return out;
    }
    lo = i + 1;
    hi = i + 1;
  }
  while (lo > 0 && bars[lo - 1].ending !== undefined && !bars[lo].startRepeat) {
    lo--;
  }
  while (hi + 1 < bars.length && bars[hi + 1].ending !== undefined && !bars[hi + 1].startRepeat) {
    hi++;
  }
  for (let j = lo; j <= hi; j++) {
    for (const n of bars[j].ending ?? []) {
      out.add(n);
    }
  }
  return out;
}

/**
 * The performed order of written bars: each `:|` jumps back to the last `|:` (or to the start of the
 * piece, or to the bar after the previous repeated section) as many times as the endings ask for
 * (once when there are none), and an ending bar is played only on the passes it names.
 *
 * `maxBars` bounds the result so that malformed input cannot blow up; `capped` reports when it did.
 */
export function expandRepeats(
  bars: readonly RepeatBar[],
  maxBars: number,
): { order: number[]; capped: boolean } {
  const order: number[] = [];
  let sectionStart = 0;
  let pass = 1;
  let arrivedByJump = false;
  let i = 0;
  while (i < bars.length) {
    if (order.length >= maxBars) {
      return { order, capped: true };
    }
    const bar = bars[i];
    if (bar.startRepeat && !arrivedByJump) {
      sectionStart = i;
      pass = 1;
    }
    arrivedByJump = false;
    if (bar.ending !== undefined && !bar.ending.has(pass)) {
      i++;
      continue;
    }
    order.push(i);
    if (bar.endRepeat) {
      const numbers = endingNumbersAround(bars, i);
      const again = numbers.size === 0 ? pass === 1 : numbers.has(pass + 1);
      if (again) {
        pass++;
        i = sectionStart;
        arrivedByJump = true;
        continue;
      }
      sectionStart = i + 1;
      pass = 1;
    } else if (bar.ending !== undefined && i + 1 < bars.length && bars[i + 1].ending === undefined) {
      // Leaving the last ending: the next section starts here.
      sectionStart = i + 1;
      pass = 1;
    }
    i++;
  }
  return { order, capped: false };
}

/** Longest part-order string expanded (`P:` in the header), in parts. */
const MAX_PARTS = 200;

/**
 * The parts of a header `P:` field in playing order: `ABA` -> A B A; `A2B` -> A A B;
 * `(AB)2C` -> A B A B C; dots and spaces separate. Undefined when it names fewer than two parts.
 */
export function parsePartOrder(text: string | undefined): string[] | undefined {
  if (text === undefined) {
    return undefined;
  }
  let pos = 0;
  const group = (): string[] => {
    const out: string[] = [];
    while (pos < text.length && text[pos] !== ')' && out.length <= MAX_PARTS) {
      const c = text[pos++];
      let item: string[];
      if (c === '(') {
        item = group();
        pos++;
      } else if (/[A-Za-z]/.test(c)) {
        item = [c];
      } else {
        continue;
      }
      const m = /^\d+/.exec(text.slice(pos));
      const times = m ? Math.min(Number(m[0]), MAX_PARTS) : 1;
      pos += m ? m[0].length : 0;
      for (let k = 0; k < times && out.length <= MAX_PARTS; k++) {
        out.push(...item);
      }
    }
    return out.slice(0, MAX_PARTS);
  };
  const parts = group();
  return parts.length >= 2 ? parts : undefined;
}

/**
 * The performed order of written bars when the header names a part order (`P:ABA`) and the body
 * marks its parts (`P:A`): each named part, its repeats expanded, in that order. Bars before the
 * first part mark are played once first. Without a part order or part marks, {@link expandRepeats}.
 */
export function expandParts(
  bars: readonly (RepeatBar & { part?: string })[],
  partOrder: readonly string[] | undefined,
  maxBars: number,
): { order: number[]; capped: boolean } {
  if (partOrder === undefined || !bars.some((b) => b.part !== undefined)) {
    return expandRepeats(bars, maxBars);
  }
  const order: number[] = [];
  const play = (indices: number[]): boolean => {
    const { order: inner, capped } = expandRepeats(indices.map((i) => bars[i]), maxBars - order.length);
    order.push(...inner.map((k) => indices[k]));
    return capped;
  };
  const intro = bars.map((b, i) => (b.part === undefined ? i : -1)).filter((i) => i >= 0);
  if (play(intro)) {
    return { order, capped: true };
  }
  for (const name of partOrder) {
    const indices = bars.map((b, i) => (b.part === name ? i : -1)).filter((i) => i >= 0);
    if (play(indices)) {
      return { order, capped: true };
    }
  }
  return { order, capped: false };
}
