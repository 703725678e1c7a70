import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import type { CandidateMetrics } from '../../../src/engine/types';
import type { GenerationCandidate } from '../../../src/generation/request';
import { TPQ } from '../../../src/music/score';
import type { Score } from '../../../src/music/score';
import { MAX_SSM_SIDE } from '../../../src/protocol/messages';
import { candidateView, pieceView, rollPayload, structureOf } from '../../../src/webviews/shared/payloads';
import { BAR_A, BAR_B, BAR_C, eightBars, scoreOf } from './scores';

describe('rollPayload', () => {
  test('packs every note into typed arrays with bar starts', () => {
    const score = eightBars();
    const roll = rollPayload(score);
    assert.equal(roll.ticksPerQuarter, TPQ);
    assert.deepEqual(Array.from(roll.barStarts), [0, 1, 2, 3, 4, 5, 6, 7, 8].map((b) => b * 4 * TPQ));
    assert.equal(roll.notes.pitch.length, score.notes.length);
    assert.ok(roll.notes.pitch instanceof Uint8Array && roll.notes.onset instanceof Uint32Array);
    score.notes.forEach((n, k) => {
      assert.equal(roll.notes.pitch[k], n.pitch);
      assert.equal(roll.notes.onset[k], n.onset);
      assert.equal(roll.notes.duration[k], n.duration);
    });
    assert.deepEqual(Array.from(roll.tempoBpm), [120]);
    assert.equal(roll.truncated, undefined);
  });

  test('a bar range shifts ticks to start at 0 and keeps only its notes', () => {
    const score = scoreOf([BAR_A, BAR_B, BAR_C], { num: 4, den: 4 }, 90);
    score.tempos.push({ tick: 4 * TPQ * 2 + 10, bpm: 60 });
    const roll = rollPayload(score, { fromBar: 1, toBar: 3, firstNewBar: 1 });
    assert.deepEqual(Array.from(roll.barStarts), [0, 4 * TPQ, 8 * TPQ]);
    assert.deepEqual(Array.from(roll.notes.pitch), [62, 65, 69, 74, 48, 67, 65]);
    assert.equal(roll.notes.onset[0], 0);
    assert.deepEqual(Array.from(roll.tempoTicks), [0, 4 * TPQ + 10]);
    assert.deepEqual(Array.from(roll.tempoBpm), [90, 60]);
    assert.equal(roll.firstNewBar, 1);
  });

  test('caps the notes and counts the rest', () => {
    const roll = rollPayload(eightBars(), { maxNotes: 5 });
    assert.equal(roll.notes.pitch.length, 5);
    assert.equal(roll.truncated, eightBars().notes.length - 5);
  });
});

describe('pieceView', () => {
  test('carries the SSM, L_t and peaks of the piece', () => {
    const view = pieceView(eightBars(), {
      key: 'abc:file#0',
      revision: 3,
      format: 'abc',
      name: 'tune.abc',
      tuneIndex: 0,
      tuneCount: 2,
      feature: 'jaccard',
      selectable: true,
      title: 'Test',
    });
    assert.equal(view.ssm.size, 8);
    assert.equal(view.ssm.bars, 8);
    // Bars 1, 3, 5 and 7 are the same: similarity 1.
    assert.equal(view.ssm.data[0 * 8 + 2], 1);
    assert.equal(view.ssm.data[0 * 8 + 6], 1);
    assert.ok(view.ssm.data[0 * 8 + 1] < 1);
    assert.ok(view.lt instanceof Float32Array);
    assert.equal(view.lt.length, 8);
    // A B A C A B A C: every pair four bars apart is equal, so L_4 = 1 and 4 is a peak.
    assert.equal(view.lt[4], 1);
    assert.ok(view.topIntervals.some((t) => t.interval === 4));
    assert.deepEqual(view.meters, ['4/4']);
    assert.equal(view.title, 'Test');
    assert.equal(view.selectable, true);
  });

  test('a long piece has its SSM downsampled to the cap', () => {
    const bars = Array.from({ length: 600 }, (_, k) => (k % 2 === 0 ? BAR_A : BAR_B));
    const { ssm, lt } = structureOf(scoreOf(bars), 'jaccard');
    assert.equal(ssm.bars, 600);
    assert.equal(ssm.size, MAX_SSM_SIDE);
    assert.equal(lt.length, 65);
    assert.equal(lt[2], 1);
  });
});

/** A candidate whose last `newBars` bars are new. */
function candidate(score: Score, newBars: number, metrics: CandidateMetrics): GenerationCandidate {
  const to = score.bars.length;
  const source = { format: 'abc' as const, uri: 'file:///t.abc', version: 1, tuneIndex: 0, score };
  return { score, newBars: { from: to - newBars, to }, tokens: 10, logLikelihood: -10, metrics, seed: 1, source, task: { kind: 'continue', bars: newBars } };
}

describe('candidateView', () => {
  test('shows the new bars with up to four bars of context and drops non-finite metrics', () => {
    const score = scoreOf([BAR_A, BAR_B, BAR_A, BAR_C, BAR_A, BAR_B, BAR_A, BAR_C, BAR_A, BAR_B]);
    const view = candidateView('7-1', 'Candidate 1', candidate(score, 2, { se: 0.12, templateDistance: Number.NaN }), 'jaccard');
    assert.equal(view.newBars, 2);
    assert.equal(view.roll.barStarts.length, 7);
    assert.equal(view.roll.firstNewBar, 4);
    assert.equal(view.ssm.bars, 10);
    assert.deepEqual(view.metrics, [
      { name: 'similarity error', value: 0.12 },
      { name: 'log-likelihood', value: -10 },
    ]);
  });
});

describe('candidateView for the panel cards', () => {
  test('carries follows-the-form, SE and the ABC Insert writes; drops figures out of range', () => {
    const score = scoreOf([BAR_A, BAR_B, BAR_A, BAR_B]);
    const abc = { edit: { start: 0, end: 0, newText: '|\nAB|' }, notation: 'X:1\nK:C\nAB|' };
    const view = candidateView('3-1', 'Candidate 1', { ...candidate(score, 2, { followsForm: 0.75, se: 0.02 }), abc }, 'jaccard');
    assert.equal(view.followsForm, 0.75);
    assert.equal(view.se, 0.02);
    assert.equal(view.abc, '|\nAB|');
    assert.equal(view.notation, 'X:1\nK:C\nAB|');
    const bad = candidateView('3-2', 'Candidate 2', candidate(score, 2, { followsForm: 1.5, se: Number.NaN }), 'jaccard');
    assert.equal(bad.followsForm, undefined);
    assert.equal(bad.se, undefined);
    assert.equal(bad.abc, undefined);
  });

  test('a piece view of an ABC tune carries its notation; a MIDI piece none', () => {
    const score = scoreOf([BAR_A, BAR_B]);
    const text = 'X:1\nK:C\nCDEF|GABc|\n';
    const withSource = { ...score, source: { start: 0, end: text.length }, writtenBars: [{ source: { start: 8, end: 13 } }, { source: { start: 13, end: 18 } }] };
    const abc = pieceView(withSource, { key: 'k', revision: 1, format: 'abc', name: 'a.abc', tuneIndex: 0, tuneCount: 1, feature: 'jaccard', selectable: true, text });
    assert.equal(abc.notation?.abc, text);
    assert.deepEqual(Array.from(abc.notation?.barStart ?? []), [8, 13]);
    const midi = pieceView(score, { key: 'm', revision: 1, format: 'midi', name: 'a.mid', tuneIndex: 0, tuneCount: 1, feature: 'jaccard', selectable: false });
    assert.equal(midi.notation, undefined);
  });
});
