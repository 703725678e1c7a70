import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { splitTunes } from '../../../src/music/abc/reader';
import { MusicInputError } from '../../../src/music/score';
import type { Score } from '../../../src/music/score';
import { applyTextEdit, planAbcContinuation, planAbcInfill } from '../../../src/music/splice';
import { barRows, fixture, tunesOf } from './helpers';

/** `score` with the notes starting in bars `[from, to)` moved by `semitones`, cut at the span's end. */
function moved(score: Score, from: number, to: number, semitones: number): Score {
  const g: Score = structuredClone(score);
  const start = g.bars[from].start;
  const end = g.bars[to - 1].start + g.bars[to - 1].duration;
  for (const n of g.notes) {
    if (n.onset >= start && n.onset < end) {
      n.pitch += semitones;
      n.duration = Math.min(n.duration, end - n.onset);
    }
  }
  return g;
}

/** `score` followed by copies of its bars `[0, count)` moved by `semitones` (the generated continuation). */
function continued(score: Score, count: number, semitones: number): Score {
  const g: Score = structuredClone(score);
  let at = g.length;
  for (let k = 0; k < count; k++) {
    const b = score.bars[k];
    for (const n of score.notes) {
      if (n.onset >= b.start && n.onset < b.start + b.duration) {
        g.notes.push({ ...n, source: undefined, pitch: n.pitch + semitones, onset: at + n.onset - b.start, duration: Math.min(n.duration, b.start + b.duration - n.onset) });
      }
    }
    g.bars.push({ start: at, duration: b.duration, meter: b.meter, written: -1 });
    at += b.duration;
  }
  g.length = at;
  g.notes.sort((a, b) => a.onset - b.onset || a.pitch - b.pitch);
  return g;
}

/** Differences between the bars of `actual` and the expected ones (generated inside `[from, to)`, original outside). */
function differences(actual: Score, original: Score, generated: Score, from: number, to: number): string[] {
  const out: string[] = [];
  if (actual.bars.length !== generated.bars.length) {
    out.push(`${actual.bars.length} bars, expected ${generated.bars.length}`);
  }
  for (let k = 0; k < Math.min(actual.bars.length, generated.bars.length); k++) {
    const want = barRows(k >= from && k < to ? generated : original, k);
    const got = barRows(actual, k);
    if (JSON.stringify(want) !== JSON.stringify(got)) {
      out.push(`bar ${k + 1}: expected ${want.join(' ')}, got ${got.join(' ')}`);
    }
  }
  return out;
}

const REFUSALS = new Set(['infill-in-repeat', 'infill-multi-rest', 'infill-not-contiguous']);

describe('every span of every fixture tune', () => {
  for (const name of ['tricky.abc', 'tunes.abc', 'infill.abc']) {
    test(`${name}: infill of 1 and 2 bars, and a continuation, read back as generated`, () => {
      const text = fixture(name);
      const tunes = tunesOf(text);
      let done = 0;
      const failures: string[] = [];
      tunes.forEach((tune, index) => {
        const original = tune.score;
        for (const width of [1, 2]) {
          for (let from = 0; from + width <= original.bars.length; from++) {
            const to = from + width;
            const generated = moved(original, from, to, width === 1 ? 1 : -2);
            let out: string;
            try {
              out = applyTextEdit(text, planAbcInfill(text, original, generated, from, to));
            } catch (e) {
              assert.ok(e instanceof MusicInputError && REFUSALS.has(e.code), `${tune.title} bars ${from + 1}-${to}: ${String(e)}`);
              continue;
            }
            const back = tunesOf(out);
            const diff = differences(back[index].score, original, generated, from, to);
            if (diff.length > 0) {
              failures.push(`${tune.title} bars ${from + 1}-${to}:\n  ${diff.join('\n  ')}`);
            }
            const others = splitTunes(text);
            splitTunes(out).forEach((r, i) => {
              if (i !== index) {
                assert.equal(out.slice(r.start, r.end), text.slice(others[i].start, others[i].end));
              }
            });
            done++;
          }
        }
        const generated = continued(original, 2, 1);
        const out = applyTextEdit(text, planAbcContinuation(text, original.source!, original, generated, { from: original.bars.length, to: generated.bars.length }));
        const diff = differences(tunesOf(out)[index].score, original, generated, original.bars.length, generated.bars.length);
        if (diff.length > 0) {
          failures.push(`${tune.title} continued:\n  ${diff.join('\n  ')}`);
        }
        done++;
      });
      assert.deepEqual(failures, []);
      assert.ok(done >= tunes.length * 4, `only ${done} edits were planned`);
    });
  }
});
