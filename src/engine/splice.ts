/**
 * Puts generated bars into the prompt's Score: the prompt keeps everything it had (meta,
 * tracks, exact note timing, grace notes, source ranges), and the new bars' notes and chord
 * symbols, decoded from tokens, are appended after its end or replace a span of its bars.
 *
 * Pure TypeScript: no vscode, no Node-only APIs.
 */

import { barTicks, sortNotes } from '../music/score';
import type { Bar, ChordSymbol, Note, Score } from '../music/score';

/** How decoded tracks map to the prompt's tracks, and which prompt tracks the new bars replace. */
export interface TrackMapping {
  /** Prompt track of each decoded track (decoded track t -> `toPrompt[t]`, the last entry beyond). */
  toPrompt: readonly number[];
  /** Prompt tracks whose notes in a replaced span are removed ('all' for every track). */
  replaced: readonly number[] | 'all';
}

function mapTrack(m: TrackMapping, t: number): number {
  return m.toPrompt.length === 0 ? 0 : m.toPrompt[Math.min(t, m.toPrompt.length - 1)];
}

function cloneScore(s: Score): Score {
  return {
    ...s,
    meta: { ...s.meta },
    notes: s.notes.map((n) => ({ ...n })),
    bars: s.bars.map((b) => ({ ...b })),
    writtenBars: s.writtenBars.map((w) => ({ ...w })),
    tracks: s.tracks.map((t) => ({ ...t })),
    tempos: [...s.tempos],
    meters: [...s.meters],
    keys: [...s.keys],
    chords: s.chords.map((c) => ({ ...c })),
  };
}

function inBar(bar: Bar, tick: number): boolean {
  return tick >= bar.start && tick < bar.start + bar.duration;
}

function movedNotes(decoded: Score, db: Bar, start: number, m: TrackMapping): Note[] {
  return decoded.notes
    .filter((n) => inBar(db, n.onset))
    .map((n) => ({
      pitch: n.pitch,
      onset: n.onset - db.start + start,
      duration: n.duration,
      velocity: n.velocity,
      track: mapTrack(m, n.track),
      voice: 0,
    }));
}

function movedChords(decoded: Score, db: Bar, start: number): ChordSymbol[] {
  return decoded.chords.filter((c) => inBar(db, c.tick)).map((c) => ({ tick: c.tick - db.start + start, name: c.name }));
}

/**
 * The prompt with `count` decoded bars (from `decodedFrom` on in `decoded`) appended after
 * its last bar. New bars are full bars of the prompt's last meter (the decoded bars' own length
 * and meter only when the prompt has no meter); notes past a bar's end are dropped.
 */
export function appendBars(prompt: Score, decoded: Score, decodedFrom: number, count: number, m: TrackMapping): Score {
  const out = cloneScore(prompt);
  let start = prompt.length;
  const promptMeter = out.meters.length > 0 ? out.meters[out.meters.length - 1].meter : undefined;
  let meter = promptMeter;
  for (let k = 0; k < count; k++) {
    const db = decoded.bars[decodedFrom + k];
    if (db === undefined) {
      break;
    }
    // New bars keep the piece's own meter: a full bar of it each.
    const barMeter = promptMeter ?? db.meter;
    const duration = promptMeter ? barTicks(promptMeter) : db.duration;
    out.writtenBars.push({});
    out.bars.push({ start, duration, meter: barMeter, written: out.writtenBars.length - 1 });
    if (meter === undefined || meter.num !== barMeter.num || meter.den !== barMeter.den) {
      out.meters.push({ tick: start, meter: barMeter });
      meter = barMeter;
    }
    out.notes.push(...movedNotes(decoded, db, start, m).filter((n) => n.onset < start + duration));
    out.chords.push(...movedChords(decoded, db, start));
    start += duration;
  }
  out.length = start;
  sortNotes(out.notes);
  out.chords.sort((a, b) => a.tick - b.tick);
  return out;
}

/**
 * The prompt with its bars [from, from + count) replaced by the decoded bars of the same
 * indices (notes of the replaced tracks and, when `replaceChords`, chord symbols). The bars
 * keep their place and length.
 */
export function replaceBars(prompt: Score, decoded: Score, from: number, count: number, m: TrackMapping, replaceChords: boolean): Score {
  const out = cloneScore(prompt);
  const first = prompt.bars[from];
  const last = prompt.bars[from + count - 1];
  const t0 = first.start;
  const t1 = last.start + last.duration;
  const replaced = m.replaced === 'all' ? undefined : new Set(m.replaced);
  out.notes = out.notes.filter((n) => n.onset < t0 || n.onset >= t1 || (replaced !== undefined && !replaced.has(n.track)));
  if (replaceChords) {
    out.chords = out.chords.filter((c) => c.tick < t0 || c.tick >= t1);
  }
  for (let k = 0; k < count; k++) {
    const db = decoded.bars[from + k];
    const pb = prompt.bars[from + k];
    if (db === undefined || pb === undefined) {
      break;
    }
    out.notes.push(...movedNotes(decoded, db, pb.start, m));
    if (replaceChords) {
      out.chords.push(...movedChords(decoded, db, pb.start));
    }
  }
  sortNotes(out.notes);
  out.chords.sort((a, b) => a.tick - b.tick);
  return out;
}
