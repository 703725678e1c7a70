import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { MusicInputError } from '../../../src/music/score';
import {
  barSsm,
  IntervalSimilarityAccumulator,
  corpusSimilarityByInterval,
  similarityByInterval,
  similarityError,
  topIntervals,
} from '../../../src/structure/ssm';
import type { Ssm } from '../../../src/structure/ssm';
import { buildScore, distinctBar } from '../scoreBuilder';

/** An SSM from its upper triangle given row by row (diagonal 1). */
function ssmFromUpper(size: number, upper: number[]): Ssm {
  const data = new Float32Array(size * size);
  let k = 0;
  for (let i = 0; i < size; i++) {
    data[i * size + i] = 1;
    for (let j = i + 1; j < size; j++) {
      data[i * size + j] = upper[k];
      data[j * size + i] = upper[k];
      k++;
    }
  }
  return { size, data };
}

function close(actual: number, expected: number, label = ''): void {
  assert.ok(Math.abs(actual - expected) < 1e-6, `${label} expected ${expected}, got ${actual}`);
}

describe('similarityByInterval', () => {
  test('a piece that repeats every 2 bars has L_2 = L_4 = 1 and L_1 = L_3 = 0', () => {
    const a = distinctBar(0);
    const b = distinctBar(1);
    const score = buildScore([a, b, a, b, a, b, a, b]);
    const lt = similarityByInterval(barSsm(score), 10);
    assert.equal(lt.length, 11);
    assert.equal(lt[0], 1);
    assert.equal(lt[1], 0);
    assert.equal(lt[2], 1);
    assert.equal(lt[3], 0);
    assert.equal(lt[4], 1);
    assert.equal(lt[7], 0);
    assert.ok(Number.isNaN(lt[8]), 'no pair at distance 8 in 8 bars');
    assert.ok(Number.isNaN(lt[10]));
  });

  test('hand-computed means of the superdiagonals, default length 41', () => {
    // s01 = .2, s02 = .4, s03 = .6, s12 = .8, s13 = 0, s23 = .5
    const ssm = ssmFromUpper(4, [0.2, 0.4, 0.6, 0.8, 0, 0.5]);
    const lt = similarityByInterval(ssm);
    assert.equal(lt.length, 41);
    close(lt[1], (0.2 + 0.8 + 0.5) / 3);
    close(lt[2], (0.4 + 0) / 2);
    close(lt[3], 0.6);
    assert.ok(Number.isNaN(lt[4]));
  });

  test('skipEmpty leaves out pairs that involve an empty bar', () => {
    const a = distinctBar(0);
    const score = buildScore([[], [], a, a]);
    const ssm = barSsm(score);
    const all = similarityByInterval(ssm, 3);
    const skipped = similarityByInterval(ssm, 3, { skipEmpty: true });
    close(all[1], (1 + 0 + 1) / 3); // (empty,empty)=1, (empty,a)=0, (a,a)=1
    assert.equal(skipped[1], 1);
    assert.ok(Number.isNaN(skipped[2]));
  });

  test('a bad interval throws', () => {
    assert.throws(
      () => similarityByInterval(ssmFromUpper(2, [0]), -1),
      (e: unknown) => e instanceof MusicInputError && e.code === 'structure-bad-interval',
    );
  });
});

describe('corpusSimilarityByInterval', () => {
  const p1 = ssmFromUpper(3, [0.5, 0.25, 1]); // s01 .5, s02 .25, s12 1
  const p2 = ssmFromUpper(2, [0]); // s01 0

  test('pools all pairs across pieces (eq. 5) with pair counts', () => {
    const { lt, pairs, pieces } = corpusSimilarityByInterval([p1, p2], 3);
    assert.equal(pieces, 2);
    assert.deepEqual(Array.from(pairs), [5, 3, 1, 0]);
    close(lt[0], 1);
    close(lt[1], (0.5 + 1 + 0) / 3);
    close(lt[2], 0.25);
    assert.ok(Number.isNaN(lt[3]));
  });

  test('per-piece weighting averages each piece\'s own L_t', () => {
    const { lt } = corpusSimilarityByInterval([p1, p2], 3, { weighting: 'pieces' });
    close(lt[1], ((0.5 + 1) / 2 + 0) / 2);
    close(lt[2], 0.25);
  });

  test('streams: a generator is read once, and the accumulator gives the same answer', () => {
    let made = 0;
    function* pieces(): Generator<Ssm> {
      for (let k = 0; k < 5; k++) {
        made++;
        yield k % 2 === 0 ? p1 : p2;
      }
    }
    const viaFunction = corpusSimilarityByInterval(pieces(), 2);
    assert.equal(made, 5);
    const acc = new IntervalSimilarityAccumulator(2);
    for (const s of [p1, p2, p1, p2, p1]) {
      acc.add(s);
    }
    assert.deepEqual(Array.from(acc.result().lt), Array.from(viaFunction.lt));
    close(viaFunction.lt[1], (3 * 1.5 + 2 * 0) / (3 * 2 + 2));
  });

  test('an empty corpus gives NaN everywhere and zero pairs', () => {
    const { lt, pairs, pieces } = corpusSimilarityByInterval([], 2);
    assert.equal(pieces, 0);
    assert.ok(Array.from(lt).every(Number.isNaN));
    assert.deepEqual(Array.from(pairs), [0, 0, 0]);
  });
});

describe('similarityError', () => {
  test('eq. 6 with T = 40 on constant curves', () => {
    const gen = new Float64Array(41).fill(0.3);
    const ref = new Float64Array(41).fill(0.1);
    gen[0] = 123; // index 0 is ignored
    close(similarityError(gen, ref), 0.2);
  });

  test('hand-computed with T = 3', () => {
    const gen = Float64Array.from([1, 0.5, 0.2, 0.9, 0.9]);
    const ref = Float64Array.from([1, 0.3, 0.4, 0.6, 0]);
    close(similarityError(gen, ref, 3), (0.2 + 0.2 + 0.3) / 3);
  });

  test('missing or NaN intervals are left out; nothing left gives NaN', () => {
    const gen = Float64Array.from([1, 0.5, Number.NaN]);
    const ref = Float64Array.from([1, 0.25, 0.5, 0.5]);
    close(similarityError(gen, ref, 40), 0.25);
    assert.ok(Number.isNaN(similarityError(Float64Array.from([1]), ref)));
  });

  test('identical curves give 0', () => {
    const lt = similarityByInterval(ssmFromUpper(4, [0.2, 0.4, 0.6, 0.8, 0, 0.5]));
    assert.equal(similarityError(lt, lt), 0);
  });
});

describe('topIntervals', () => {
  test('finds 4 and 8 on a piece with 4- and 8-bar periodicity', () => {
    // Sections of 8 bars: S1 = p p', S2 = S1, S3 = q q', where p' is p with its last bar changed.
    const bar = distinctBar;
    const p = [bar(0), bar(1), bar(2), bar(3)];
    const pp = [bar(0), bar(1), bar(2), bar(4)];
    const q = [bar(5), bar(6), bar(7), bar(8)];
    const qq = [bar(5), bar(6), bar(7), bar(9)];
    const score = buildScore([...p, ...pp, ...p, ...pp, ...q, ...qq]);
    const lt = similarityByInterval(barSsm(score), 20);
    close(lt[4], 12 / 20);
    close(lt[8], 8 / 16);
    close(lt[12], 3 / 12);
    const top = topIntervals(lt, 2);
    assert.deepEqual(
      top.map((t) => t.interval),
      [4, 8],
    );
    close(top[0].value, 0.6);
    assert.ok(top[0].prominence > top[1].prominence);
    assert.deepEqual(
      topIntervals(lt, 5).map((t) => t.interval),
      [4, 8, 12],
    );
  });

  test('respects minInterval/maxInterval and ignores NaN', () => {
    const lt = Float64Array.from([1, 0.9, 0.1, 0.1, 0.7, 0.1, 0.1, Number.NaN, Number.NaN]);
    assert.deepEqual(
      topIntervals(lt, 3).map((t) => t.interval),
      [1, 4],
    );
    assert.deepEqual(
      topIntervals(lt, 3, { minInterval: 2 }).map((t) => t.interval),
      [4],
    );
    assert.deepEqual(topIntervals(lt, 3, { maxInterval: 3 }).map((t) => t.interval), [1]);
    assert.deepEqual(topIntervals(lt, 0), []);
  });

  test('with the bar count, an interval needs at least 4 pairs of bars (no interval 31 of 32 bars)', () => {
    // A 32-bar piece whose first and last bars match: L_31 = 1 rests on one pair.
    const lt = new Float64Array(32).fill(0.1);
    lt[8] = 0.6;
    lt[31] = 1;
    assert.deepEqual(topIntervals(lt, 3).map((t) => t.interval), [31, 8]);
    assert.deepEqual(topIntervals(lt, 3, { bars: 32 }).map((t) => t.interval), [8]);
    lt[28] = 0.9;
    assert.deepEqual(topIntervals(lt, 3, { bars: 32 }).map((t) => t.interval), [28, 8]);
    assert.deepEqual(topIntervals(lt, 3, { bars: 32, minPairs: 16 }).map((t) => t.interval), [8]);
  });

  test('a flat curve has no peaks', () => {
    assert.deepEqual(topIntervals(new Float64Array(41).fill(0.5), 5), []);
  });
});
