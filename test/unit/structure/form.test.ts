import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { MusicInputError } from '../../../src/music/score';
import {
  FormSyntaxError,
  MAX_FORM_BARS,
  formBarCount,
  formToString,
  formToTemplate,
  parseForm,
} from '../../../src/structure/form';
import type { FormSection } from '../../../src/structure/form';
import { ssmAt } from '../../../src/structure/ssm';

function brief(sections: FormSection[]): string[] {
  return sections.map((s) => `${s.label}${s.variation ? '~' : ''}${s.bars}`);
}

/** Asserts parseForm(text) throws a form-invalid FormSyntaxError at `position` matching `pattern`. */
function assertBad(text: string, position: number, pattern: RegExp): void {
  assert.throws(
    () => parseForm(text),
    (e: unknown) => {
      assert.ok(e instanceof MusicInputError, 'a MusicInputError');
      assert.ok(e instanceof FormSyntaxError, 'a FormSyntaxError');
      assert.equal(e.code, 'form-invalid');
      assert.equal(e.position, position, `position for ${JSON.stringify(text)}: ${e.message}`);
      assert.match(e.message, pattern);
      return true;
    },
  );
}

describe('parseForm', () => {
  test('spaced sections with counts', () => {
    assert.deepEqual(brief(parseForm('A8 A8 B8 A8')), ['A8', 'A8', 'B8', 'A8']);
  });

  test('letters without counts take 8 bars, or defaultBars', () => {
    assert.deepEqual(brief(parseForm('AABA')), ['A8', 'A8', 'B8', 'A8']);
    assert.deepEqual(brief(parseForm('AABA', { defaultBars: 4 })), ['A4', 'A4', 'B4', 'A4']);
    assert.deepEqual(brief(parseForm('A4 B')), ['A4', 'B8']);
  });

  test('POP909 labels without spaces; lowercase is a variation unless pop909 is set', () => {
    const text = 'i4A4B8A4A4b4B8o2';
    assert.deepEqual(brief(parseForm(text)), ['i4', 'A4', 'B8', 'A4', 'A4', 'b~4', 'B8', 'o2']);
    assert.deepEqual(brief(parseForm(text, { pop909: true })), ['i4', 'A4', 'B8', 'A4', 'A4', 'b4', 'B8', 'o2']);
    assert.equal(formBarCount(parseForm(text)), 38);
  });

  test('reserved letters i, o, x, X are never variations; multi-digit counts and a trailing newline', () => {
    assert.deepEqual(brief(parseForm('i8A12x1X10o3\n')), ['i8', 'A12', 'x1', 'X10', 'o3']);
  });

  test('separators: whitespace, commas, bars; leading zeros', () => {
    assert.deepEqual(brief(parseForm(' A8,A8 | B08\tA8 ')), ['A8', 'A8', 'B8', 'A8']);
  });

  test('bad input names the offending position', () => {
    assertBad('A0', 1, /'A' at position 1 has 0 bars/);
    assertBad('A-3', 1, /Unexpected character '-' \(U\+002D\) at position 2\. Bar counts cannot be negative/);
    assertBad('8A', 0, /Bar count '8' at position 1 has no section letter/);
    assertBad('A8 12B', 3, /Bar count '12' at position 4/);
    assertBad('', 0, /empty/);
    assertBad('  \n ', 0, /empty/);
    assertBad('A999999', 1, /has 999999 bars; a section may have at most 512/);
    assertBad('A99999999999999999999', 1, /at most 512/);
    assertBad('A8 Ä8', 3, /'Ä' \(U\+00C4\) at position 4/);
    assertBad('A8🎵B8', 2, /'🎵' \(U\+1F3B5\) at position 3/);
    assertBad('🎵🎵x', 0, /U\+1F3B5/);
    assertBad('A8\u0000', 2, /Unexpected character U\+0000 at position 3/);
    assertBad('A8 B8 ·', 6, /U\+00B7/);
    assertBad('A\u200bA', 1, /U\+200B at position 2/);
  });

  test('a form longer than the limit is refused at the section that crosses it', () => {
    const text = 'A512 '.repeat(MAX_FORM_BARS / 512) + 'B1';
    assertBad(text, text.length - 2, /longer than 2048 bars at section 'B'/);
    assert.equal(formBarCount(parseForm('A512 '.repeat(4))), 2048);
  });

  test('a bad defaultBars is refused', () => {
    assert.throws(() => parseForm('AB', { defaultBars: 0 }), (e: unknown) => e instanceof MusicInputError && e.code === 'form-invalid');
  });
});

describe('formToString', () => {
  test('round-trips every format', () => {
    for (const text of ['A8 A8 B8 A8', 'i4 A4 B8 A4 A4 b4 B8 o2', 'X2 x4 b4 A8']) {
      assert.equal(formToString(parseForm(text)), text);
    }
    assert.equal(formToString(parseForm('AABA')), 'A8 A8 B8 A8');
    assert.equal(formToString(parseForm('i4A4b4o2', { pop909: true }), { compact: true }), 'i4A4b4o2');
    const pop = parseForm('i4A4b4o2', { pop909: true });
    assert.deepEqual(parseForm(formToString(pop), { pop909: true }), pop);
  });

  test('a variation flag writes lowercase; bad hand-built sections throw', () => {
    assert.equal(formToString([{ label: 'A', variation: true, bars: 4 }]), 'a4');
    assert.throws(
      () => formToString([{ label: 'AB', variation: false, bars: 4 }]),
      (e: unknown) => e instanceof MusicInputError && e.code === 'form-invalid' && /Section 1/.test(e.message),
    );
    assert.throws(
      () => formToString([{ label: 'A', variation: false, bars: 2.5 }]),
      (e: unknown) => e instanceof MusicInputError && e.code === 'form-invalid',
    );
  });
});

describe('formToTemplate', () => {
  test('AABA: 1 between equal bar positions of A sections, 0 elsewhere, unit diagonal', () => {
    const t = formToTemplate(parseForm('A2 A2 B2 A2'));
    assert.equal(t.size, 8);
    const expectedOnes = new Set(['0,2', '0,6', '2,6', '1,3', '1,7', '3,7']);
    for (let i = 0; i < 8; i++) {
      for (let j = 0; j < 8; j++) {
        const key = i < j ? `${i},${j}` : `${j},${i}`;
        const expected = i === j || expectedOnes.has(key) ? 1 : 0;
        assert.equal(ssmAt(t, i, j), expected, `${i},${j}`);
      }
    }
  });

  test('variations get variationSimilarity, other pairs otherSimilarity', () => {
    const t = formToTemplate(parseForm('A2 a2 a2 B2'), { variationSimilarity: 0.75, otherSimilarity: 0.125 });
    assert.equal(ssmAt(t, 0, 2), 0.75); // A1 vs a1
    assert.equal(ssmAt(t, 1, 3), 0.75); // A2 vs a2
    assert.equal(ssmAt(t, 2, 4), 1); // a1 vs a1
    assert.equal(ssmAt(t, 0, 3), 0.125); // A1 vs a2
    assert.equal(ssmAt(t, 0, 6), 0.125); // A1 vs B1
    assert.equal(ssmAt(t, 6, 6), 1);
    const d = formToTemplate(parseForm('A1 a1'));
    assert.equal(ssmAt(d, 0, 1), 0.5);
  });

  test('intro, outro, x and X sections are similar only to themselves', () => {
    const t = formToTemplate(parseForm('i1 A1 X1 A1 X1 x1 x1 o1 i1'));
    for (let i = 0; i < 9; i++) {
      for (let j = 0; j < 9; j++) {
        const expected = i === j || (i === 1 && j === 3) || (i === 3 && j === 1) ? 1 : 0;
        assert.equal(ssmAt(t, i, j), expected, `${i},${j}`);
      }
    }
  });

  test('POP909 b is its own label, not a variation of B', () => {
    const sections = parseForm('B1b1b1', { pop909: true });
    const t = formToTemplate(sections);
    assert.equal(ssmAt(t, 0, 1), 0);
    assert.equal(ssmAt(t, 1, 2), 1);
    assert.equal(ssmAt(formToTemplate(parseForm('B1b1b1')), 0, 1), 0.5);
  });

  test('sections of the same letter and different lengths match up to the shorter', () => {
    const t = formToTemplate(parseForm('A3 A2'));
    assert.equal(ssmAt(t, 0, 3), 1);
    assert.equal(ssmAt(t, 1, 4), 1);
    assert.equal(ssmAt(t, 2, 3), 0);
    assert.equal(ssmAt(t, 2, 4), 0);
  });

  test('is exactly symmetric with a unit diagonal on a POP909-like form', () => {
    const t = formToTemplate(parseForm('i4A4B8A4A4b4B8A4A4b4b4A4A4b4A4o3'));
    for (let i = 0; i < t.size; i++) {
      assert.equal(ssmAt(t, i, i), 1);
      for (let j = 0; j < t.size; j++) {
        assert.equal(ssmAt(t, i, j), ssmAt(t, j, i));
      }
    }
  });

  test('bad options throw', () => {
    assert.throws(
      () => formToTemplate(parseForm('AB'), { variationSimilarity: 2 }),
      (e: unknown) => e instanceof MusicInputError && /variationSimilarity/.test(e.message),
    );
    assert.throws(
      () => formToTemplate(parseForm('AB'), { otherSimilarity: Number.NaN }),
      (e: unknown) => e instanceof MusicInputError && /otherSimilarity/.test(e.message),
    );
  });
});
