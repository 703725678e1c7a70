/**
 * Note lengths in ABC for the writer (`./writer`, `./voiceWriter`): a length in ticks as
 * multiples of the unit `L:` (plain, dotted, tied pieces or an explicit fraction), the unit that
 * writes a tune's notes most briefly, and the beat and beam-group lengths of a meter.
 */
import type { Meter, Note } from '../score';
import { TPQ } from '../score';

/** Ticks per whole note. */
const WHOLE = TPQ * 4;

function gcd(a: number, b: number): number {
  let x = Math.abs(a);
  let y = Math.abs(b);
  while (y) {
    [x, y] = [y, x % y];
  }
  return x || 1;
}

export function isPow2(n: number): boolean {
  return n >= 1 && Number.isInteger(n) && (n & (n - 1)) === 0;
}

/** `ticks / unit` as a reduced fraction. */
export function ratio(ticks: number, unit: number): [number, number] {
  const g = gcd(ticks, unit);
  return [ticks / g, unit / g];
}

/** True when `ticks` is a binary fraction of the unit (writable with `/2`, `/4`...). */
export function isDyadic(ticks: number, unit: number): boolean {
  return isPow2(ratio(ticks, unit)[1]);
}

/** True when a multiplier n/d is one plain or dotted note value. */
function isSingleValue(n: number, d: number): boolean {
  return isPow2(d) && (isPow2(n) || (n % 3 === 0 && isPow2(n / 3)));
}

/** Duration suffix for a multiplier n/d of the unit: `''`, `2`, `/`, `3/2`, `/4`... */
export function suffix(n: number, d: number): string {
  if (d === 1) {
    return n === 1 ? '' : String(n);
  }
  if (n === 1) {
    return d === 2 ? '/' : `/${d}`;
  }
  return `${n}/${d}`;
}

/**
 * Duration suffixes of the pieces a duration is written as: one piece when it is a plain or
 * dotted value, tied pieces (largest first) for other binary fractions, one explicit fraction
 * otherwise.
 */
export function durationPieces(ticks: number, unit: number): string[] {
  const [n, d] = ratio(ticks, unit);
  if (!isPow2(d)) {
    return [suffix(n, d)];
  }
  if (isSingleValue(n, d)) {
    return [suffix(n, d)];
  }
  const out: string[] = [];
  let rn = n;
  let rd = d;
  while (rn > 0 && out.length < 16) {
    // Largest power of two p/q <= rn/rd, then the dotted value when it still fits.
    let pn = 1;
    let pd = 1;
    while (pn * 2 * rd <= rn * pd) {
      pn *= 2;
    }
    while (pn * rd > rn * pd) {
      pd *= 2;
    }
    if (pn * 3 * rd <= rn * pd * 2) {
      pn *= 3;
      pd *= 2;
    }
    const g = gcd(pn, pd);
    pn /= g;
    pd /= g;
    out.push(suffix(pn, pd));
    // rn/rd - pn/pd
    const nn = rn * pd - pn * rd;
    const dd = rd * pd;
    const g2 = gcd(nn, dd);
    rn = nn / g2;
    rd = dd / g2;
  }
  return out;
}

/** Characters the duration of a note adds, for choosing `L:`. */
function durationCost(ticks: number, unit: number): number {
  if (isDyadic(ticks, unit)) {
    const pieces = durationPieces(ticks, unit);
    return pieces.reduce((s, p) => s + p.length, 0) + (pieces.length - 1) * 3;
  }
  if (isDyadic((ticks * 3) / 2, unit) && Number.isInteger((ticks * 3) / 2)) {
    return durationPieces((ticks * 3) / 2, unit).join('').length + 1;
  }
  return 6;
}

/**
 * Picks the unit note length that keeps the written durations shortest (1/8 on ties). A dotted
 * pair that can be written as broken rhythm (`A>B`) counts as one character.
 */
export function chooseUnit(notes: readonly Note[]): { den: number; ticks: number } {
  const candidates = [8, 16, 4];
  const ordered = [...notes].sort((a, b) => a.track - b.track || a.onset - b.onset || a.pitch - b.pitch);
  let best = candidates[0];
  let bestCost = Infinity;
  for (const den of candidates) {
    const unit = WHOLE / den;
    let cost = 0;
    for (let i = 0; i < ordered.length; i++) {
      const n = ordered[i];
      const m = ordered[i + 1];
      if (m && m.track === n.track && m.onset === n.onset + n.duration) {
        const a = n.duration;
        const b = m.duration;
        if ((a === 3 * b || b === 3 * a) && isPow2(ratio((a + b) / 2, unit)[0]) && isPow2(ratio((a + b) / 2, unit)[1])) {
          cost += 1 + (a + b === 2 * unit ? 0 : 2);
          i++;
          continue;
        }
      }
      cost += durationCost(n.duration, unit);
    }
    if (cost < bestCost) {
      bestCost = cost;
      best = den;
    }
  }
  return { den: best, ticks: WHOLE / best };
}

function isCompound(m: Meter): boolean {
  return m.num % 3 === 0 && m.num > 3 && m.den >= 8;
}

/** Ticks of one beat. */
export function beatTicks(m: Meter): number {
  return Math.round(((isCompound(m) ? 3 : 1) * WHOLE) / m.den);
}

/** Ticks of one beam group (spaces are written between groups). */
export function groupTicks(m: Meter, unitDen: number): number {
  if (isCompound(m)) {
    return beatTicks(m);
  }
  if (m.num === 4 && m.den === 4) {
    return unitDen <= 8 ? WHOLE / 2 : WHOLE / 4;
  }
  if (m.den === 2) {
    return WHOLE / 2;
  }
  return beatTicks(m);
}
