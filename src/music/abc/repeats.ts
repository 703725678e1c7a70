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
