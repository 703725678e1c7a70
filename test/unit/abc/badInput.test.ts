import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readAbc } from '../../../src/music/abc/reader';
import { MusicInputError } from '../../../src/music/score';
import { mulberry32 } from '../../../src/platform/prng';
import { readOne, tune } from './helpers';

function throwsCode(text: string, code: string, options?: { maxBytes?: number }): void {
  assert.throws(
    () => readAbc(text, options),
    (e: unknown) => e instanceof MusicInputError && e.code === code && e.message.length > 10,
  );
}

/** Deterministic bytes (the low byte of each mulberry32 draw). */
function randomBytes(n: number, seed: number): Uint8Array {
  const rand = mulberry32(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = Math.floor(rand() * 4294967296) & 255;
  }
  return out;
}

describe('whole-file problems throw MusicInputError with a specific code', () => {
  test('empty and whitespace-only files', () => {
    throwsCode('', 'abc-empty');
    throwsCode('  \n\t\n', 'abc-empty');
  });

  test('random bytes are binary, not ABC', () => {
    for (const seed of [1, 2, 3]) {
      const text = new TextDecoder('utf-8', { fatal: false }).decode(randomBytes(4096, seed));
      throwsCode(text, 'abc-binary');
    }
    throwsCode('X:1\nT:t\nK:C\nabc\u0000def\n', 'abc-binary');
  });

  test('nonsense text has no tune', () => {
    throwsCode('Dear diary, today I wrote no music at all.\nNone.\n', 'abc-no-tunes');
  });

  test('a file over the size limit is rejected before parsing', () => {
    const big = 'X:1\nT:big\nK:C\n' + 'abcdefg '.repeat((10 * 1024 * 1024) / 8 + 1);
    throwsCode(big, 'abc-too-large');
    throwsCode(tune('abc|'), 'abc-too-large', { maxBytes: 10 });
    // Multi-byte characters count as bytes.
    const accented = tune('"\u00e9\u00e9\u00e9\u00e9\u00e9"abc|');
    throwsCode(accented, 'abc-too-large', { maxBytes: accented.length + 2 });
    assert.equal(readAbc(accented, { maxBytes: accented.length + 5 }).tunes.length, 1);
  });
});

describe('bad tunes are skipped with a code, the others still read', () => {
  test('a tune without K: is skipped with abc-no-key', () => {
    const r = readAbc('X:1\nT:No key\nM:4/4\nABC|\n\nX:2\nT:Fine\nK:C\nCDE|\n');
    assert.deepEqual(r.skipped.map((s) => [s.index, s.reference, s.title, s.code]), [[0, 1, 'No key', 'abc-no-key']]);
    assert.equal(r.tunes.length, 1);
    assert.equal(r.tunes[0].index, 1);
  });

  test('absurd meters are skipped with abc-bad-meter', () => {
    for (const m of ['0/0', '1000/3', '7/0']) {
      const r = readAbc(tune('ABcd|', `M:${m}\nL:1/8\nK:C`));
      assert.equal(r.tunes.length, 0, m);
      assert.equal(r.skipped[0].code, 'abc-bad-meter', m);
      assert.match(r.skipped[0].reason, /meter/);
    }
  });

  test('an unclosed chord is read with a warning', () => {
    const t = readOne(tune('[ceg\nabc|'));
    assert.ok(t.warnings.some((w) => /chord/i.test(w) && !w.includes('<')), t.warnings.join(' | '));
    assert.ok(t.score.notes.length >= 3);
  });

  test('a tune of more than a million characters is skipped unparsed with abc-too-long', () => {
    const long = tune(Array.from({ length: 13000 }, () => 'abcd efga|'.repeat(8)).join('\n'));
    const r = readAbc(long + '\n' + tune('CDEF|'));
    assert.deepEqual(r.skipped.map((s) => [s.index, s.code]), [[0, 'abc-too-long']]);
    assert.equal(r.tunes.length, 1);
  });

  test('a tune with a header but no notes is skipped with abc-no-notes', () => {
    const r = readAbc('X:1\nT:Empty\nM:4/4\nK:C\n\nX:2\nT:Words only\nK:C\nW:some words\n');
    assert.deepEqual(r.skipped.map((s) => s.code), ['abc-no-notes', 'abc-no-notes']);
  });

  test('garbage inside tunes never escapes readAbc', () => {
    const junk = ['(((((((((', '[[[[]]]]', '{{{{', '"""', '|||::::|:|:|', '^^^^^_____', "c''''''''''''''''''''", 'A/0', 'A0/0', 'z-1', '[K:]', '[M:]', '[L:0/0]', 'x>>>>>y', '!trill!!!', 'V:', '&&&&'];
    for (const j of junk) {
      const text = tune(`ABc ${j} def|${j}|`) + '\n' + tune(j);
      const r = readAbc(text);
      assert.equal(r.tunes.length + r.skipped.length, 2, j);
      for (const s of r.skipped) {
        assert.ok(s.code.startsWith('abc-') && s.reason.length > 0, j);
      }
      for (const t of r.tunes) {
        for (const n of t.score.notes) {
          assert.ok(Number.isInteger(n.onset) && n.duration > 0 && n.pitch >= 0 && n.pitch <= 127, j);
        }
      }
    }
  });

  test('random printable text inside a tune body is read or skipped, quickly', () => {
    const alphabet = 'abcdefgABCDEFGzx,\'^_=/[]|:()-{}"<>123456789 \n!.~HTuvK:M:L:';
    const bytes = randomBytes(20000, 7);
    let body = '';
    for (const b of bytes) {
      body += alphabet[b % alphabet.length];
    }
    const r = readAbc(tune(body));
    assert.equal(r.tunes.length + r.skipped.length, 1);
  });
});
