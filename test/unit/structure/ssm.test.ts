import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { MusicInputError } from '../../../src/music/score';
import { barSsm, createSsm, ssmDistance, ssmToImageText, validateSsm } from '../../../src/structure/ssm';
import type { Ssm } from '../../../src/structure/ssm';
import { randomScore } from '../scoreBuilder';

function ssmOf(rows: number[][]): Ssm {
  return { size: rows.length, data: Float32Array.from(rows.flat()) };
}

describe('ssmDistance', () => {
  test('is 0 from a matrix to itself', () => {
    const x = barSsm(randomScore(7, 30), 'combined');
    assert.equal(ssmDistance(x, x), 0);
    assert.equal(ssmDistance(createSsm(0), createSsm(0)), 0);
  });

  test('hand-computed mean squared difference', () => {
    const a = ssmOf([
      [1, 0.5],
      [0.5, 1],
    ]);
    const b = ssmOf([
      [1, 0],
      [0, 1],
    ]);
    assert.equal(ssmDistance(a, b), 0.125);
    assert.equal(ssmDistance(b, a), 0.125);
  });

  test('different sizes throw, or compare the leading block when asked', () => {
    const a = ssmOf([
      [1, 0.5, 0],
      [0.5, 1, 0],
      [0, 0, 1],
    ]);
    const b = ssmOf([
      [1, 0],
      [0, 1],
    ]);
    assert.throws(
      () => ssmDistance(a, b),
      (e: unknown) => e instanceof MusicInputError && e.code === 'ssm-size-mismatch' && /3 and 2 bars/.test(e.message),
    );
    assert.equal(ssmDistance(a, b, { sizeMismatch: 'leading-block' }), 0.125);
    assert.equal(ssmDistance(b, a, { sizeMismatch: 'leading-block' }), 0.125);
  });
});

describe('ssmToImageText', () => {
  test('draws an identity matrix with full and empty shades', () => {
    const id = ssmOf([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    assert.deepEqual(ssmToImageText(id), ['@  ', ' @ ', '  @']);
  });

  test('maps values to the ten shades, clamps, and marks NaN', () => {
    const m = ssmOf([
      [0, 0.5, 1, 2],
      [-1, Number.NaN, 0.12, 0.9],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
    const lines = ssmToImageText(m);
    assert.equal(lines[0], ' +@@');
    assert.equal(lines[1], ' ?.%');
  });

  test('block-averages big matrices down to maxSize', () => {
    // 4x4 of 2x2 blocks: top-left ones, bottom-right zeros, others 0.5 on average.
    const m = ssmOf([
      [1, 1, 1, 0],
      [1, 1, 0, 1],
      [1, 0, 0, 0],
      [0, 1, 0, 0],
    ]);
    assert.deepEqual(ssmToImageText(m, { maxSize: 2 }), ['@+', '+ ']);
    const big = barSsm(randomScore(3, 100));
    const lines = ssmToImageText(big, { maxSize: 10 });
    assert.equal(lines.length, 10);
    assert.ok(lines.every((l) => l.length === 10));
    assert.equal(ssmToImageText(big).length, 48);
    assert.deepEqual(ssmToImageText(createSsm(0)), []);
  });
});

describe('validateSsm / createSsm', () => {
  test('accept good matrices, name the problem of bad ones', () => {
    validateSsm(barSsm(randomScore(1, 5)));
    assert.throws(
      () => validateSsm({ size: 2, data: new Float32Array(3) }),
      (e: unknown) => e instanceof MusicInputError && e.code === 'ssm-invalid' && /needs 4 values/.test(e.message),
    );
    assert.throws(
      () => validateSsm(ssmOf([[1, Number.NaN], [0, 1]])),
      (e: unknown) => e instanceof MusicInputError && /\(0, 1\)/.test(e.message),
    );
    assert.throws(() => createSsm(-1), (e: unknown) => e instanceof MusicInputError && e.code === 'ssm-invalid');
  });
});
