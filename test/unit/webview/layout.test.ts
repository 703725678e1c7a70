import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import type { RollPayload, SsmPayload } from '../../../src/protocol/messages';
import { ssmPayload } from '../../../src/protocol/ssmPayload';
import {
  barOfTick,
  chartIntervalAt,
  chartSegments,
  chartX,
  createRollLayout,
  extendBarStarts,
  heatmapBarSpan,
  heatmapHit,
  noteRects,
  pitchRange,
  pitchToY,
  tickToX,
  xToBar,
  xToTick,
  barPlacement,
} from '../../../webview/layout';
import type { ChartLayout } from '../../../webview/layout';

/** A roll with a short pickup bar (one quarter) and two full 4/4 bars, one melody and one drum track. */
function roll(): RollPayload {
  return {
    ticksPerQuarter: 480,
    barStarts: Uint32Array.from([0, 480, 2400, 4320]),
    tracks: [
      { name: 'Melody', isDrum: false, program: 73 },
      { name: 'Drums', isDrum: true, program: 0 },
    ],
    notes: {
      pitch: Uint8Array.from([67, 60, 72, 36]),
      velocity: Uint8Array.from([80, 80, 80, 100]),
      track: Uint16Array.from([0, 0, 0, 1]),
      onset: Uint32Array.from([0, 480, 1440, 480]),
      duration: Uint32Array.from([480, 960, 1920, 240]),
    },
    tempoTicks: Uint32Array.from([0]),
    tempoBpm: Float32Array.from([120]),
  };
}

describe('piano roll layout', () => {
  test('pitch range pads and spans at least two octaves, drums left out', () => {
    assert.deepEqual(pitchRange([60, 62]), { low: 49, high: 72 });
    assert.deepEqual(pitchRange([]), { low: 54, high: 77 });
    assert.deepEqual(pitchRange([0, 127]), { low: 0, high: 127 });
    const layout = createRollLayout(roll(), 300, 120);
    assert.ok(layout.pitchLow <= 58 && layout.pitchHigh >= 74);
    assert.ok(layout.pitchLow > 36, 'the drum note does not stretch the range');
    assert.equal(layout.bars, 3);
    assert.equal(layout.barWidth, 100);
  });

  test('each bar gets the same column, x is proportional to ticks, and a pickup is drawn at its real width', () => {
    const r = roll();
    const layout = createRollLayout(r, 300, 120);
    // The one-quarter pickup takes the last quarter of its column, leading into bar 2.
    assert.equal(tickToX(layout, r.barStarts, 0), 75);
    assert.equal(tickToX(layout, r.barStarts, 240), 87.5, 'half of the pickup bar');
    assert.equal(tickToX(layout, r.barStarts, 480), 100);
    assert.equal(tickToX(layout, r.barStarts, 480 + 960), 150);
    assert.equal(tickToX(layout, r.barStarts, 4320), 300);
    assert.equal(tickToX(layout, r.barStarts, 99_999), 300);
    for (const x of [75, 80, 99, 100, 180, 299]) {
      assert.ok(Math.abs(tickToX(layout, r.barStarts, xToTick(layout, r.barStarts, x)) - x) < 1e-9, `x ${x}`);
    }
    assert.equal(xToTick(layout, r.barStarts, 12.5), 0, 'the empty part of the pickup column is before the first note');
    // A two-eighth pickup in 6/8 takes a third of its column; a short last bar starts at the left.
    const jig = Uint32Array.from([0, 480, 1920, 3360, 4320]);
    assert.deepEqual(barPlacement(jig, 0), { span: 480, full: 1440, offset: 960 });
    assert.deepEqual(barPlacement(jig, 3), { span: 960, full: 1440, offset: 0 });
    const four = createRollLayout({ ...r, barStarts: jig }, 400, 120);
    assert.ok(Math.abs(tickToX(four, jig, 0) - 100 * (2 / 3)) < 1e-9);
    assert.equal(tickToX(four, jig, 3360), 300);
    assert.ok(Math.abs(tickToX(four, jig, 3360 + 480) - (300 + 100 / 3)) < 1e-9);
    assert.equal(xToBar(layout, 0), 0);
    assert.equal(xToBar(layout, 150), 1);
    assert.equal(xToBar(layout, 299.9), 2);
    assert.equal(xToBar(layout, 300), -1);
    assert.equal(xToBar(layout, -1), -1);
  });

  test('barOfTick finds the bar by binary search', () => {
    const starts = Uint32Array.from([0, 480, 2400, 4320]);
    assert.equal(barOfTick(starts, 0), 0);
    assert.equal(barOfTick(starts, 479), 0);
    assert.equal(barOfTick(starts, 480), 1);
    assert.equal(barOfTick(starts, 4319), 2);
    assert.equal(barOfTick(starts, 4320), 3);
    assert.equal(barOfTick(Uint32Array.from([0]), 10), -1);
  });

  test('note rectangles sit on their pitch rows and bar positions', () => {
    const r = roll();
    const layout = createRollLayout(r, 300, 120);
    const rects = noteRects(r, layout);
    assert.equal(rects.length, 16);
    // Note 1: C4 from the start of bar 2 for half of it.
    assert.equal(rects[4], 100);
    assert.equal(rects[5], pitchToY(layout, 60));
    assert.equal(rects[6], 50);
    assert.ok(Math.abs(rects[7] - layout.rowHeight) < 1e-6);
    // Higher pitches are drawn higher.
    assert.ok(rects[2 * 4 + 1] < rects[1 * 4 + 1]);
    // The drum note is clamped onto the bottom row.
    assert.ok(Math.abs(rects[3 * 4 + 1] - pitchToY(layout, layout.pitchLow)) < 1e-6);
  });

  test('extendBarStarts appends empty bars as long as the last one', () => {
    assert.deepEqual(Array.from(extendBarStarts(Uint32Array.from([0, 480, 2400]), 2, 480)), [0, 480, 2400, 4320, 6240]);
    assert.deepEqual(Array.from(extendBarStarts(Uint32Array.from([0]), 1, 480)), [0, 1920]);
    const same = Uint32Array.from([0, 10]);
    assert.equal(extendBarStarts(same, 0, 480), same);
  });
});

describe('heatmap hit-testing', () => {
  const ssm: SsmPayload = ssmPayload(Float32Array.from({ length: 16 }, (_, k) => (k % 5 === 0 ? 1 : 0.25)), 4);

  test('maps a point to bars i (row) and j (column) and the value', () => {
    const layout = { x0: 10, y0: 20, side: 200 };
    const hit = heatmapHit(layout, ssm, 10 + 160, 20 + 10);
    assert.ok(hit);
    assert.equal(hit.row, 0);
    assert.equal(hit.col, 3);
    assert.deepEqual(hit.rowBars, { start: 0, end: 1 });
    assert.deepEqual(hit.colBars, { start: 3, end: 4 });
    assert.equal(hit.value, 0.25);
    assert.equal(heatmapHit(layout, ssm, 10 + 60, 20 + 60)?.value, 1);
    assert.equal(heatmapHit(layout, ssm, 9, 30), undefined);
    assert.equal(heatmapHit(layout, ssm, 50, 20 + 200), undefined);
  });

  test('on a downsampled SSM a cell stands for a block of bars', () => {
    const big = ssmPayload(new Float32Array(1000 * 1000).fill(0.5), 1000, 500);
    assert.equal(big.size, 500);
    const hit = heatmapHit({ x0: 0, y0: 0, side: 500 }, big, 499.5, 0.5);
    assert.ok(hit);
    assert.deepEqual(hit.colBars, { start: 998, end: 1000 });
    assert.deepEqual(hit.rowBars, { start: 0, end: 2 });
    // And back: the bar's row span on screen is its cell.
    assert.deepEqual(heatmapBarSpan({ x0: 0, y0: 0, side: 500 }, big, 999), { from: 499, to: 500 });
    assert.deepEqual(heatmapBarSpan({ x0: 0, y0: 0, side: 200 }, ssm, 2), { from: 100, to: 150 });
    assert.equal(heatmapBarSpan({ x0: 0, y0: 0, side: 200 }, ssm, 4), undefined);
  });
});

describe('L_t chart', () => {
  const layout: ChartLayout = { width: 230, height: 100, maxInterval: 11, left: 20, right: 10, top: 5, bottom: 15 };

  test('places intervals 1..max across the plot and finds the nearest one', () => {
    assert.equal(chartX(layout, 1), 20);
    assert.equal(chartX(layout, 11), 220);
    assert.equal(chartIntervalAt(layout, 20), 1);
    assert.equal(chartIntervalAt(layout, 39), 2);
    assert.equal(chartIntervalAt(layout, 221), 11);
    assert.equal(chartIntervalAt(layout, 300), undefined);
  });

  test('NaN values break the curve into segments', () => {
    const values = Float32Array.from([1, 0.5, 0.6, Number.NaN, 0.2, 0.3, 0.4]);
    const segments = chartSegments(layout, values);
    assert.equal(segments.length, 2);
    assert.equal(segments[0].length, 2);
    assert.equal(segments[1].length, 3);
    assert.equal(segments[0][0][1], 5 + 0.5 * 80);
  });
});
