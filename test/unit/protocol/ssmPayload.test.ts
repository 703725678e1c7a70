import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { MAX_SSM_SIDE } from '../../../src/protocol/messages';
import { barsOfCell, cellEdges, cellOfBar, ssmPayload } from '../../../src/protocol/ssmPayload';

/** A symmetric matrix with 1 on the diagonal and s(i, j) = 1 / (1 + |i - j|). */
function banded(n: number): Float32Array {
  const data = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      data[i * n + j] = 1 / (1 + Math.abs(i - j));
    }
  }
  return data;
}

describe('ssmPayload', () => {
  test('a matrix within the cap is sent as it is, in a copy', () => {
    const data = banded(8);
    const p = ssmPayload(data, 8);
    assert.equal(p.size, 8);
    assert.equal(p.bars, 8);
    assert.deepEqual(Array.from(p.data), Array.from(data));
    assert.notEqual(p.data, data);
    assert.equal(ssmPayload(banded(MAX_SSM_SIDE), MAX_SSM_SIDE).size, MAX_SSM_SIDE);
  });

  test('a matrix above the cap is block-averaged to the cap', () => {
    const n = 1000;
    const data = banded(n);
    const p = ssmPayload(data, n);
    assert.equal(p.size, MAX_SSM_SIDE);
    assert.equal(p.bars, n);
    assert.equal(p.data.length, MAX_SSM_SIDE * MAX_SSM_SIDE);
    // Each cell is the mean of its block.
    const edges = cellEdges(n, MAX_SSM_SIDE);
    for (const [r, c] of [[0, 0], [3, 7], [100, 100], [511, 0], [511, 511]]) {
      let sum = 0;
      let count = 0;
      for (let i = edges[r]; i < edges[r + 1]; i++) {
        for (let j = edges[c]; j < edges[c + 1]; j++) {
          sum += data[i * n + j];
          count++;
        }
      }
      assert.ok(Math.abs(p.data[r * MAX_SSM_SIDE + c] - sum / count) < 1e-6, `cell ${r},${c}`);
    }
    // Still symmetric.
    for (let r = 0; r < 50; r++) {
      for (let c = 0; c < 50; c++) {
        assert.equal(p.data[r * MAX_SSM_SIDE + c], p.data[c * MAX_SSM_SIDE + r]);
      }
    }
  });

  test('a smaller cap downsamples, and NaN counts as 0', () => {
    const data = Float32Array.from([1, Number.NaN, Number.NaN, 1]);
    const p = ssmPayload(data, 2, 1);
    assert.equal(p.size, 1);
    assert.equal(p.data[0], 0.5);
    assert.equal(ssmPayload(data, 2).data[1], 0);
  });

  test('rejects data of the wrong length', () => {
    assert.throws(() => ssmPayload(new Float32Array(5), 2), RangeError);
    assert.equal(ssmPayload(new Float32Array(0), 0).size, 0);
  });
});

describe('cells and bars', () => {
  test('cells cover every bar exactly once, in order', () => {
    for (const [bars, size] of [[10, 10], [1000, 512], [513, 512], [4096, 512], [7, 3]]) {
      let next = 0;
      for (let c = 0; c < size; c++) {
        const span = barsOfCell({ bars, size }, c);
        assert.equal(span.start, next, `bars ${bars} size ${size} cell ${c}`);
        assert.ok(span.end > span.start);
        next = span.end;
      }
      assert.equal(next, bars);
    }
  });

  test('cellOfBar inverts barsOfCell', () => {
    for (const [bars, size] of [[10, 10], [1000, 512], [513, 512], [7, 3]]) {
      for (let b = 0; b < bars; b++) {
        const c = cellOfBar({ bars, size }, b);
        const span = barsOfCell({ bars, size }, c);
        assert.ok(b >= span.start && b < span.end, `bar ${b} of ${bars} in cell ${c} [${span.start}, ${span.end})`);
      }
    }
    assert.equal(cellOfBar({ bars: 4, size: 4 }, -1), -1);
    assert.equal(cellOfBar({ bars: 4, size: 4 }, 4), -1);
    assert.deepEqual(barsOfCell({ bars: 4, size: 4 }, 4), { start: -1, end: -1 });
  });
});
