/**
 * Repeat passes: a bar written once inside `|: ... :|` is played on every pass, so editing it
 * means editing every pass alike. These helpers find the passes of written bars and carry new
 * notes from the first pass into the others, so a regenerated bar reads the same on each pass
 * (the splicer then replaces its written text once).
 *
 * Pure TypeScript.
 */

import type { Score } from './score';

/** Performed bars grouped by written bar: for each performed bar in [from, to), every performed bar playing the same written bar. */
export function passesOf(score: Score, from: number, to: number): number[][] {
  const out: number[][] = [];
  for (let k = from; k < to; k++) {
    const w = score.bars[k].written;
    out.push(score.bars.flatMap((b, i) => (b.written === w ? [i] : [])));
  }
  return out;
}

/**
 * The first pass of the selected performed bars: for each written bar the selection touches, its
 * first performed bar. Returns the half-open range of those bars and how many times they are
 * played (1 outside repeats).
 */
export function firstPass(score: Score, hits: readonly number[]): { from: number; to: number; passes: number } {
  const seen = new Set<number>();
  const first: number[] = [];
  for (const k of [...hits].sort((a, b) => a - b)) {
    const w = score.bars[k].written;
    if (!seen.has(w)) {
      seen.add(w);
      first.push(score.bars.findIndex((b) => b.written === w));
    }
  }
  first.sort((a, b) => a - b);
  const from = first[0];
  let to = from + 1;
  while (to < score.bars.length && first.includes(to)) {
    to++;
  }
  const passes = Math.max(...passesOf(score, from, to).map((p) => p.length));
  return { from, to, passes };
}

/**
 * `generated` (the piece with bars [from, to) regenerated) with those bars' notes and chord
 * symbols copied into every other pass of the same written bars.
 */
export function withSamePasses(generated: Score, from: number, to: number): Score {
  const groups = passesOf(generated, from, to);
  let notes = generated.notes;
  let chords = generated.chords;
  groups.forEach((group, i) => {
    const k = from + i;
    const src = generated.bars[k];
    const srcEnd = src.start + src.duration;
    for (const other of group) {
      if (other === k) {
        continue;
      }
      const dst = generated.bars[other];
      const dstEnd = dst.start + dst.duration;
      const shift = dst.start - src.start;
      notes = [
        ...notes.filter((n) => n.onset < dst.start || n.onset >= dstEnd),
        ...generated.notes.filter((n) => n.onset >= src.start && n.onset < srcEnd).map((n) => ({ ...n, onset: n.onset + shift, source: undefined })),
      ];
      chords = [
        ...chords.filter((c) => c.tick < dst.start || c.tick >= dstEnd),
        ...generated.chords.filter((c) => c.tick >= src.start && c.tick < srcEnd).map((c) => ({ ...c, tick: c.tick + shift, source: undefined })),
      ];
    }
  });
  return { ...generated, notes: [...notes].sort((a, b) => a.onset - b.onset || a.pitch - b.pitch), chords: [...chords].sort((a, b) => a.tick - b.tick) };
}
