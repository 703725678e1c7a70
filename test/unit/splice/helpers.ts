/** Shared helpers of the splice tests: fixtures, hand-made generated scores, per-bar note rows. */
import assert from 'node:assert/strict';
import { readAbc } from '../../../src/music/abc/reader';
import type { AbcTune } from '../../../src/music/abc/reader';
import type { ChordSymbol, Key, Meter, Note, Score } from '../../../src/music/score';
import { TPQ, barTicks, sortNotes } from '../../../src/music/score';
import { fixtureText } from '../fixtures';

/** An eighth note in ticks. */
export const E = TPQ / 2;

/** Text of a file in `test/fixtures/splice`. */
export function fixture(name: string): string {
  return fixtureText('splice', name);
}

/** Every tune of a text, none skipped. */
export function tunesOf(text: string): AbcTune[] {
  const r = readAbc(text);
  assert.deepEqual(r.skipped, [], `skipped: ${JSON.stringify(r.skipped)}`);
  return r.tunes;
}

/** A bar to put into a generated score: notes as `[pitch, offset, duration]` in ticks from the bar start. */
export interface NewBar {
  notes: [number, number, number][];
  chords?: [string, number][];
  meter?: Meter;
  /** Length in ticks (default: a full bar of the meter). */
  duration?: number;
  /** A key change at the bar's start. */
  key?: Key;
}

function addBar(g: Score, k: number, start: number, bar: NewBar, fallbackMeter: Meter, track: number): number {
  const meter = bar.meter ?? fallbackMeter;
  const duration = bar.duration ?? barTicks(meter);
  g.bars.splice(k, 0, { start, duration, meter, written: -1 });
  for (const [pitch, at, dur] of bar.notes) {
    g.notes.push({ pitch, onset: start + at, duration: dur, velocity: 80, track, voice: 0 });
  }
  for (const [name, at] of bar.chords ?? []) {
    g.chords.push({ tick: start + at, name });
  }
  if (bar.key) {
    g.keys.push({ tick: start, key: bar.key });
  }
  if (!g.meters.some((m) => m.tick <= start && m.meter.num === meter.num && m.meter.den === meter.den)) {
    g.meters.push({ tick: start, meter });
  }
  return duration;
}

function finish(g: Score): Score {
  sortNotes(g.notes);
  g.chords.sort((a, b) => a.tick - b.tick);
  g.keys.sort((a, b) => a.tick - b.tick);
  g.meters.sort((a, b) => a.tick - b.tick);
  const last = g.bars[g.bars.length - 1];
  g.length = last.start + last.duration;
  return g;
}

/** A copy of `score` with `bars` appended after its last bar (what the engine returns for a continuation). */
export function appendBars(score: Score, bars: NewBar[], track = 0): Score {
  const g: Score = structuredClone(score);
  let start = g.length;
  let meter = g.bars[g.bars.length - 1].meter;
  for (const b of bars) {
    start += addBar(g, g.bars.length, start, b, meter, track);
    meter = b.meter ?? meter;
  }
  return finish(g);
}

/**
 * A copy of `score` with performed bars `[from, from + bars.length)` replaced (same lengths): their
 * notes (onset in the bars) and chord symbols are dropped and the new ones put in.
 */
export function replaceBars(score: Score, from: number, bars: NewBar[], track = 0): Score {
  const g: Score = structuredClone(score);
  const start = g.bars[from].start;
  const last = g.bars[from + bars.length - 1];
  const end = last.start + last.duration;
  g.notes = g.notes.filter((n) => n.onset < start || n.onset >= end);
  g.chords = g.chords.filter((c: ChordSymbol) => c.tick < start || c.tick >= end);
  bars.forEach((b, i) => {
    const old = g.bars[from + i];
    for (const [pitch, at, dur] of b.notes) {
      g.notes.push({ pitch, onset: old.start + at, duration: dur, velocity: 80, track, voice: 0 });
    }
    for (const [name, at] of b.chords ?? []) {
      g.chords.push({ tick: old.start + at, name });
    }
  });
  return finish(g);
}

/** `pitch@offset/duration` of the notes starting in bar `k` (offsets from the bar start), chord symbols, bar length. */
export function barRows(score: Score, k: number): string[] {
  const b = score.bars[k];
  assert.ok(b, `bar ${k + 1} missing (the score has ${score.bars.length})`);
  const end = b.start + b.duration;
  const notes = score.notes
    .filter((n: Note) => n.onset >= b.start && n.onset < end && !score.tracks[n.track]?.isDrum)
    .map((n) => `${n.pitch}@${n.onset - b.start}/${n.duration}`)
    .sort();
  const chords = score.chords.filter((c) => c.tick >= b.start && c.tick < end).map((c) => `"${c.name}"@${c.tick - b.start}`);
  return [`len ${b.duration}`, ...notes, ...chords];
}

/** Asserts bar `k` of `actual` holds what bar `j` of `expected` holds. */
export function assertSameBar(actual: Score, k: number, expected: Score, j: number, what: string): void {
  assert.deepEqual(barRows(actual, k), barRows(expected, j), `${what}: bar ${k + 1}`);
}
