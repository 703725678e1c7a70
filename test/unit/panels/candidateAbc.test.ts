import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { readAbc } from '../../../src/music/abc/reader';
import { applyTextEdit } from '../../../src/music/splice';
import { candidateAbc } from '../../../src/panels/candidateAbc';
import { notationPayload } from '../../../src/panels/payloads';
import { toTemplateSpec } from '../../../src/panels/templates';
import { E, appendBars } from '../splice/helpers';

const TUNE = 'X:1\nT:Test\nM:4/4\nL:1/8\nK:D\nDEFG ABcd|d2f2 e2c2|\nX:2\nT:Other\nK:C\nCDEF|\n';

describe('candidateAbc: the ABC a panel card shows is the edit Insert applies', () => {
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

describe('toTemplateSpec: the panel template as the engine receives it', () => {
  const ssm = { size: 2, data: Float32Array.from([1, 0, 0, 1]) };
  test('"this piece" is the engine\'s own piece template, so new bars get one too', () => {
    assert.deepEqual(toTemplateSpec({ kind: 'ssm', origin: 'piece', ssm, label: 'this piece' }), { kind: 'piece' });
  });
  test('a form goes as its string; a file or painted template as a matrix; none as nothing (free)', () => {
    assert.deepEqual(toTemplateSpec({ kind: 'ssm', origin: 'form', ssm, label: 'form', form: 'A8 A8 B8 B8' }), { kind: 'form', form: 'A8 A8 B8 B8' });
    assert.deepEqual(toTemplateSpec({ kind: 'ssm', origin: 'painted', ssm, label: 'painted' }), { kind: 'matrix', size: 2, data: [1, 0, 0, 1] });
    assert.deepEqual(toTemplateSpec({ kind: 'ssm', origin: 'file', ssm, label: 'f' }), { kind: 'matrix', size: 2, data: [1, 0, 0, 1] });
    assert.equal(toTemplateSpec({ kind: 'none' }), undefined);
  });
});
