/**
 * SSM payloads: block-mean downsampling of a bar SSM to at most {@link MAX_SSM_SIDE} cells a
 * side, and the map from a cell back to the bars it covers. The host downsamples; the webview
 * maps a hovered cell to bars with the same edges.
 *
 * Pure TypeScript: no vscode, no DOM.
 */

import { MAX_SSM_SIDE } from './messages';
import type { SsmPayload } from './messages';

/**
 * The first bar of each cell when `bars` bars are shown in `size` cells: `size + 1` entries,
 * `edges[c] = floor(c * bars / size)`, so cell c covers bars `[edges[c], edges[c + 1])`. With
 * `size === bars` every cell is one bar.
 */
export function cellEdges(bars: number, size: number): Int32Array {
  const edges = new Int32Array(size + 1);
  for (let c = 0; c <= size; c++) {
    edges[c] = size === 0 ? 0 : Math.floor((c * bars) / size);
  }
  return edges;
}

/** The bars `[start, end)` that cell `c` of an SSM payload covers. */
export function barsOfCell(payload: Pick<SsmPayload, 'bars' | 'size'>, c: number): { start: number; end: number } {
  if (payload.size === 0 || c < 0 || c >= payload.size) {
    return { start: -1, end: -1 };
  }
  return { start: Math.floor((c * payload.bars) / payload.size), end: Math.floor(((c + 1) * payload.bars) / payload.size) };
}

/** The cell that shows bar `bar` (inverse of {@link barsOfCell}); -1 outside. */
export function cellOfBar(payload: Pick<SsmPayload, 'bars' | 'size'>, bar: number): number {
  if (bar < 0 || bar >= payload.bars || payload.size === 0) {
    return -1;
  }
  // floor(c * bars / size) <= bar  <=>  c <= (bar * size + size - 1) / bars, roughly; search locally.
  let c = Math.min(payload.size - 1, Math.floor((bar * payload.size) / payload.bars));
  while (c > 0 && Math.floor((c * payload.bars) / payload.size) > bar) {
    c--;
  }
  while (c + 1 < payload.size && Math.floor(((c + 1) * payload.bars) / payload.size) <= bar) {
    c++;
  }
  return c;
}

/**
 * An SSM payload of a `bars` x `bars` row-major matrix: the matrix itself when `bars <= cap`
 * (copied into a fresh array, so the payload owns it), else block means over
 * {@link cellEdges}. NaN entries count as 0. `cap` defaults to {@link MAX_SSM_SIDE}.
 */
export function ssmPayload(data: ArrayLike<number>, bars: number, cap: number = MAX_SSM_SIDE): SsmPayload {
  if (!Number.isInteger(bars) || bars < 0 || data.length !== bars * bars) {
    throw new RangeError(`an SSM of ${bars} bars needs ${bars * bars} values, got ${data.length}`);
  }
  const side = Math.max(1, Math.floor(cap));
  if (bars <= side) {
    const copy = new Float32Array(bars * bars);
    for (let k = 0; k < copy.length; k++) {
      const v = data[k];
      copy[k] = Number.isNaN(v) ? 0 : v;
    }
    return { bars, size: bars, data: copy };
  }
  const size = side;
  const edges = cellEdges(bars, size);
  const out = new Float32Array(size * size);
  // Sum each source row into its cell row, then divide by the block areas.
  for (let r = 0; r < size; r++) {
    const acc = new Float64Array(size);
    for (let i = edges[r]; i < edges[r + 1]; i++) {
      const row = i * bars;
      for (let c = 0; c < size; c++) {
        let s = 0;
        for (let j = edges[c]; j < edges[c + 1]; j++) {
          const v = data[row + j];
          s += Number.isNaN(v) ? 0 : v;
        }
        acc[c] += s;
      }
    }
    const h = edges[r + 1] - edges[r];
    for (let c = 0; c < size; c++) {
      out[r * size + c] = acc[c] / (h * (edges[c + 1] - edges[c]));
    }
  }
  return { bars, size, data: out };
}
