/**
 * Maps between the notation's characters and the piece's performed bars: a click on a note (its
 * character offset in the tune's ABC) gives a bar, a selected bar gives the character ranges to
 * highlight. A bar inside a repeat is written once, so several performed bars share a range: a
 * click picks the first pass. Free of the DOM.
 */

import type { NotationPayload } from '../src/protocol/messages';

/** The performed bar written at character `char` of the tune, or -1 when none. */
export function barAtChar(map: Pick<NotationPayload, 'barStart' | 'barEnd'>, char: number): number {
  for (let b = 0; b < map.barStart.length; b++) {
    if (map.barStart[b] >= 0 && char >= map.barStart[b] && char < map.barEnd[b]) {
      return b;
    }
  }
  // Bar lines sit between the ranges: take the bar that ends there.
  for (let b = 0; b < map.barStart.length; b++) {
    if (map.barEnd[b] >= 0 && char === map.barEnd[b]) {
      return b;
    }
  }
  return -1;
}

/** Character ranges `[start, end)` of the given performed bars, unique and in text order. */
export function rangesOfBars(map: Pick<NotationPayload, 'barStart' | 'barEnd'>, bars: readonly number[]): [number, number][] {
  const seen = new Set<number>();
  const out: [number, number][] = [];
  for (const b of bars) {
    if (b < 0 || b >= map.barStart.length || map.barStart[b] < 0 || seen.has(map.barStart[b])) {
      continue;
    }
    seen.add(map.barStart[b]);
    out.push([map.barStart[b], map.barEnd[b]]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

/** Whether an element spanning `[start, end)` lies in one of `ranges`. */
export function inRanges(ranges: readonly (readonly [number, number])[], start: number, end: number): boolean {
  return ranges.some(([s, e]) => start >= s && end <= e && end > start);
}

/** Written bars of a tune: how many distinct bar ranges the map holds. */
export function writtenBarCount(map: Pick<NotationPayload, 'barStart'>): number {
  const starts = new Set<number>();
  for (const s of map.barStart) {
    if (s >= 0) {
      starts.add(s);
    }
  }
  return starts.size;
}

/**
 * The tune's text as drawn: the header's title, rhythm and other text lines become comments (the
 * panel's header names the tune already), one character for one, so every character offset stays.
 */
export function withoutHeaderText(abc: string): string {
  const k = abc.search(/^K:/m);
  const head = k < 0 ? abc : abc.slice(0, k);
  return head.replace(/^[TRCOSZNHABDFG](?=:)/gm, '%') + (k < 0 ? '' : abc.slice(k));
}

/** The bar of `barStarts` (bar b spans `[barStarts[b], barStarts[b + 1])`) holding `tick`, or -1. */
export function barAtTick(barStarts: ArrayLike<number>, tick: number): number {
  let lo = 0;
  let hi = barStarts.length - 2;
  if (hi < 0 || tick < barStarts[0] || tick >= barStarts[barStarts.length - 1]) {
    return -1;
  }
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (barStarts[mid] <= tick) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}
