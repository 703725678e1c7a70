import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { readAbc } from '../../../src/music/abc/reader';
import { applyTextEdit } from '../../../src/music/splice';
import { notationOf, planAbcEdit } from '../../../src/generation/edits';
import type { Score } from '../../../src/music/score';
import type { BarSpan } from '../../../src/music/splice';
import { notationPayload } from '../../../src/webviews/shared/payloads';
import { templatePreview, templateSpecOf } from '../../../src/webviews/shared/templates';
import { E, appendBars } from '../splice/helpers';

/** The edit and notation of a continuation, as the generation service plans them for a card. */
function candidateAbc(text: string, score: Score, generated: Score, span: BarSpan) {
  const edit = planAbcEdit({ text, score, task: { kind: 'continue', bars: span.to - span.from }, generated, newBars: span });
  return { edit, insert: edit.newText, notation: notationOf(text, score, edit) };
}

const TUNE = 'X:1\nT:Test\nM:4/4\nL:1/8\nK:D\nDEFG ABcd|d2f2 e2c2|\nX:2\nT:Other\nK:C\nCDEF|\n';

describe('planAbcEdit and notationOf: the ABC a panel card shows is the edit Insert applies', () => {
  test('the insert text is exactly what the edit writes, and the file then holds the new bars', () => {
    const score = readAbc(TUNE).tunes[0].score;
    const generated = appendBars(score, [{ notes: [[62, 0, 2 * E], [66, 2 * E, 2 * E], [69, 4 * E, 4 * E]] }, { notes: [[74, 0, 8 * E]] }]);
    const span = { from: score.bars.length, to: score.bars.length + 2 };
    const abc = candidateAbc(TUNE, score, generated, span);
    assert.equal(abc.insert, abc.edit.newText);
    const after = applyTextEdit(TUNE, abc.edit);
    assert.equal(after.slice(abc.edit.start, abc.edit.start + abc.insert.length), abc.insert);
    const reread = readAbc(after).tunes;
    assert.equal(reread[0].score.bars.length, 4);
    // The other tune is untouched.
    assert.ok(after.endsWith('X:2\nT:Other\nK:C\nCDEF|\n'));
  });

  test('the notation is a small tune: the meter, unit and key in force, then the inserted text', () => {
    const score = readAbc(TUNE).tunes[0].score;
    const generated = appendBars(score, [{ notes: [[62, 0, 8 * E]] }]);
    const abc = candidateAbc(TUNE, score, generated, { from: score.bars.length, to: score.bars.length + 1 });
    const lines = abc.notation.split('\n');
    assert.deepEqual(lines.slice(0, 4), ['X:1', 'M:4/4', 'L:1/8', 'K:D']);
    assert.ok(abc.insert.includes(lines.slice(4).join('\n')));
    assert.ok(!/^[|:\]]/.test(lines[4]), 'the notation starts with the new bars, not the old closing bar line');
    assert.equal(readAbc(abc.notation).tunes.length, 1);
  });
});

describe('notationPayload', () => {
  test('maps every performed bar to its written text in the tune, repeats to the same range', () => {
    const text = 'X:1\nM:4/4\nL:1/4\nK:C\n|:CDEF|GABc:|\n';
    const score = readAbc(text).tunes[0].score;
    const n = notationPayload(text, score);
    assert.ok(n);
    assert.equal(n.abc, text.slice(score.source?.start, score.source?.end));
    assert.equal(n.barStart.length, 4);
    assert.equal(n.abc.slice(n.barStart[0], n.barEnd[0]).replace(/[|:]/g, ''), 'CDEF');
    assert.equal(n.abc.slice(n.barStart[1], n.barEnd[1]).replace(/[|:]/g, ''), 'GABc');
    assert.equal(n.barStart[2], n.barStart[0]);
    assert.equal(n.barStart[3], n.barStart[1]);
  });

  test('gives nothing for a %%beginps block (abcjs would never return)', () => {
    const text = 'X:1\nK:C\n%%beginps\nCDEF|\n';
    const score = readAbc(text).tunes[0]?.score;
    if (score) {
      assert.equal(notationPayload(text, score), undefined);
    }
  });
});

describe('templateSpecOf: the panel template as the engine receives it', () => {
  const score = readAbc(TUNE).tunes[0].score;
  const context = { score, readFile: async () => ({ bytes: new TextEncoder().encode(TUNE), path: 'other.abc', name: 'other.abc' }) };
  test('"this piece" is the engine\'s own piece template, as the commands send it', async () => {
    assert.deepEqual((await templateSpecOf({ kind: 'piece' }, context)).spec, { kind: 'piece' });
  });
  test('a form goes as its string, a file as its score, a painting as its matrix, none as nothing (free)', async () => {
    assert.deepEqual((await templateSpecOf({ kind: 'form', form: ' A8 A8 B8 B8 ' }, context)).spec, { kind: 'form', form: 'A8 A8 B8 B8' });
    assert.deepEqual((await templateSpecOf({ kind: 'painted', size: 2, data: Float32Array.from([1, 0.5, 0, 1]) }, context)).spec, { kind: 'matrix', size: 2, data: [1, 0.25, 0.25, 1] });
    const file = (await templateSpecOf({ kind: 'file', uri: 'file:///other.abc' }, context)).spec;
    assert.ok(file?.kind === 'score' && file.score.bars.length === 2);
    assert.equal((await templateSpecOf({ kind: 'none' }, context)).spec, undefined);
  });
  test('every SSM template covers the new bars too (the engine\'s one rule), so they are not free', async () => {
    for (const choice of [{ kind: 'piece' as const }, { kind: 'file' as const, uri: 'file:///other.abc' }, { kind: 'painted' as const, size: 2, data: Float32Array.from([1, 0, 0, 1]) }]) {
      const ssm = templatePreview((await templateSpecOf(choice, context)).spec, score, 4);
      assert.equal(ssm?.size, score.bars.length + 4, choice.kind);
    }
  });
});
