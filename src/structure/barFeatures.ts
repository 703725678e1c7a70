/**
 * Per-bar features behind the bar SSMs of `ssm.ts`: note sets (Museformer eq. 4), onset
 * position sets, duration-weighted chroma, and their pairwise similarities. See the comment of
 * `barSsm` in `ssm.ts` for the definitions and the empty-bar rules.
 *
 * Pure TypeScript: no vscode, no DOM, no Node-only APIs.
 */

import { MusicInputError, barIndexAt, barTicks } from '../music/score';
import type { Bar, Note, Score } from '../music/score';

/** Track choice shared by the bar SSM options. */
export interface TrackSelection {
  /** Track indices to analyse; drum tracks given here are used. Default: all non-drum tracks. */
  readonly tracks?: readonly number[];
  /** When `tracks` is not given, also analyse drum tracks. Default false. */
  readonly includeDrums?: boolean;
}

/** Returns a predicate telling which tracks to analyse, validating `options.tracks`. */
export function trackFilter(score: Score, options: TrackSelection): (track: number) => boolean {
  if (options.tracks !== undefined) {
    const chosen = new Set<number>();
    for (const t of options.tracks) {
      if (!Number.isInteger(t) || t < 0 || t >= score.tracks.length) {
        throw new MusicInputError(
          'structure-bad-track',
          `Track ${String(t)} does not exist; this score has ${score.tracks.length} track(s), numbered from 0.`,
        );
      }
      chosen.add(t);
    }
    return (track) => chosen.has(track);
  }
  const includeDrums = options.includeDrums === true;
  return (track) => includeDrums || score.tracks[track]?.isDrum !== true;
}

/** A note the analysis can use: finite onset, positive finite duration, finite pitch. */
export function isUsable(note: Note): boolean {
  return (
    Number.isFinite(note.onset) && Number.isFinite(note.duration) && note.duration > 0 && Number.isFinite(note.pitch)
  );
}

/** Notes grouped by the bar their onset falls in; notes outside every bar are dropped. */
export function groupByOnsetBar(bars: readonly Bar[], notes: readonly Note[]): Note[][] {
  const out: Note[][] = bars.map(() => []);
  for (const note of notes) {
    const b = barIndexAt(bars, note.onset);
    if (b >= 0) {
      out[b].push(note);
    }
  }
  return out;
}

/**
 * Offset added to positions in bar `index` so that they are measured from the downbeat of a
 * full bar: a first bar shorter than its meter (an anacrusis) is right-aligned.
 */
function alignmentShift(bars: readonly Bar[], index: number): number {
  if (index !== 0) {
    return 0;
  }
  const bar = bars[0];
  const full = barTicks(bar.meter);
  return bar.duration < full ? full - bar.duration : 0;
}

/** Sorted unique ids of the (pitch, snapped onset in bar, snapped duration) notes of each bar. */
export function noteIdSets(bars: readonly Bar[], byBar: readonly Note[][], grid: number): Int32Array[] {
  const ids = new Map<string, number>();
  return byBar.map((barNotes, b) => {
    const shift = alignmentShift(bars, b);
    const start = bars[b].start;
    const set = new Int32Array(barNotes.length);
    for (let k = 0; k < barNotes.length; k++) {
      const note = barNotes[k];
      const pos = Math.round((note.onset - start + shift) / grid);
      const dur = Math.max(1, Math.round(note.duration / grid));
      const key = `${Math.round(note.pitch)}:${pos}:${dur}`;
      let id = ids.get(key);
      if (id === undefined) {
        id = ids.size;
        ids.set(key, id);
      }
      set[k] = id;
    }
    return sortedUnique(set);
  });
}

/** Sorted unique snapped onset positions (grid steps from the downbeat) of each bar. */
export function onsetPositionSets(bars: readonly Bar[], byBar: readonly Note[][], grid: number): Int32Array[] {
  return byBar.map((barNotes, b) => {
    const shift = alignmentShift(bars, b);
    const start = bars[b].start;
    const set = new Int32Array(barNotes.length);
    for (let k = 0; k < barNotes.length; k++) {
      set[k] = Math.round((barNotes[k].onset - start + shift) / grid);
    }
    return sortedUnique(set);
  });
}

/** Sorts in place and returns the prefix view without duplicates. */
function sortedUnique(values: Int32Array): Int32Array {
  values.sort();
  let w = 0;
  for (let r = 0; r < values.length; r++) {
    if (r === 0 || values[r] !== values[w - 1]) {
      values[w++] = values[r];
    }
  }
  return values.subarray(0, w);
}

/** Jaccard index of two sorted unique integer sets by merging them; 1 when both are empty. */
export function setJaccard(a: Int32Array, b: Int32Array): number {
  if (a.length === 0 && b.length === 0) {
    return 1;
  }
  let i = 0;
  let j = 0;
  let common = 0;
  while (i < a.length && j < b.length) {
    const x = a[i];
    const y = b[j];
    if (x === y) {
      common++;
      i++;
      j++;
    } else if (x < y) {
      i++;
    } else {
      j++;
    }
  }
  return common / (a.length + b.length - common);
}

/** Jaccard index from the size of the intersection and of both sets; 1 when both are empty. */
export function jaccardFromCounts(common: number, sizeA: number, sizeB: number): number {
  const union = sizeA + sizeB - common;
  return union === 0 ? 1 : common / union;
}

/**
 * Sizes of the pairwise intersections of sorted unique integer sets, computed through an
 * inverted index (each element lists the sets holding it), so the cost is the number of
 * co-occurring pairs rather than every pair of sets times their lengths. Entry `i * n + j`
 * for i < j holds |sets[i] ∩ sets[j]|; other entries stay 0. Same result as
 * {@link setJaccard}'s count, faster when elements are spread over few sets.
 */
export function intersectionCounts(sets: readonly Int32Array[]): Int32Array {
  const n = sets.length;
  const counts = new Int32Array(n * n);
  const postings = new Map<number, number[]>();
  for (let b = 0; b < n; b++) {
    for (const id of sets[b]) {
      const list = postings.get(id);
      if (list === undefined) {
        postings.set(id, [b]);
      } else {
        list.push(b);
      }
    }
  }
  for (const list of postings.values()) {
    // Bars were visited in order, so each list is increasing: list[a] < list[c] for a < c.
    for (let a = 0; a < list.length; a++) {
      const row = list[a] * n;
      for (let c = a + 1; c < list.length; c++) {
        counts[row + list[c]]++;
      }
    }
  }
  return counts;
}

/**
 * Unit-length 12-bin chroma per bar (12 values per bar, all zero for a silent bar), weighted
 * by the time each note sounds inside the bar.
 */
export function chromaVectors(bars: readonly Bar[], notes: readonly Note[]): Float64Array {
  const n = bars.length;
  const out = new Float64Array(n * 12);
  if (n === 0) {
    return out;
  }
  const pieceStart = bars[0].start;
  const pieceEnd = bars[n - 1].start + bars[n - 1].duration;
  for (const note of notes) {
    const from = Math.max(note.onset, pieceStart);
    const to = Math.min(note.onset + note.duration, pieceEnd);
    if (to <= from) {
      continue;
    }
    const pc = ((Math.round(note.pitch) % 12) + 12) % 12;
    for (let b = barIndexAt(bars, from); b >= 0 && b < n && bars[b].start < to; b++) {
      const bar = bars[b];
      const overlap = Math.min(to, bar.start + bar.duration) - Math.max(from, bar.start);
      if (overlap > 0) {
        out[b * 12 + pc] += overlap;
      }
    }
  }
  for (let b = 0; b < n; b++) {
    let norm = 0;
    for (let k = 0; k < 12; k++) {
      norm += out[b * 12 + k] * out[b * 12 + k];
    }
    if (norm > 0) {
      const inv = 1 / Math.sqrt(norm);
      for (let k = 0; k < 12; k++) {
        out[b * 12 + k] *= inv;
      }
    }
  }
  return out;
}

/** Cosine of two unit chroma vectors, clamped to [0, 1]; 1 for two silent bars, 0 for one. */
export function chromaCosine(chroma: Float64Array, i: number, j: number): number {
  let dot = 0;
  let ni = 0;
  let nj = 0;
  for (let k = 0; k < 12; k++) {
    const x = chroma[i * 12 + k];
    const y = chroma[j * 12 + k];
    dot += x * y;
    ni += x;
    nj += y;
  }
  if (ni === 0 || nj === 0) {
    return ni === 0 && nj === 0 ? 1 : 0;
  }
  return Math.min(1, Math.max(0, dot));
}
