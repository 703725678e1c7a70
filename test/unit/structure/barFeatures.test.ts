import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { intersectionCounts, jaccardFromCounts, setJaccard } from '../../../src/structure/barFeatures';
import { mulberry32 } from '../../../src/platform/prng';

function randomSet(r: () => number, size: number, range: number): Int32Array {
  const s = new Set<number>();
  while (s.size < size) {
    s.add(Math.floor(r() * range));
  }
  return Int32Array.from([...s].sort((a, b) => a - b));
}

describe('set similarities', () => {
  test('setJaccard on hand-made sets', () => {
    assert.equal(setJaccard(Int32Array.from([1, 2, 3]), Int32Array.from([2, 3, 4, 5])), 2 / 5);
    assert.equal(setJaccard(new Int32Array(0), new Int32Array(0)), 1);
    assert.equal(setJaccard(new Int32Array(0), Int32Array.from([1])), 0);
  });

  test('the inverted-index counts agree with merging every pair', () => {
    const r = mulberry32(11);
    const sets: Int32Array[] = [];
    for (let k = 0; k < 60; k++) {
      sets.push(randomSet(r, Math.floor(r() * 12), 30));
    }
    const counts = intersectionCounts(sets);
    for (let i = 0; i < sets.length; i++) {
      for (let j = i + 1; j < sets.length; j++) {
        const viaCounts = jaccardFromCounts(counts[i * sets.length + j], sets[i].length, sets[j].length);
        assert.equal(viaCounts, setJaccard(sets[i], sets[j]), `${i},${j}`);
      }
    }
  });
});
