/**
 * Geometry of the views, free of the DOM so plain-Node tests cover it: the piano roll's
 * bar-aligned x axis and pitch rows, heatmap hit-testing (cell -> bars, also when the SSM was
 * downsampled), and the L_t chart.
 *
 * The roll and the heatmap share one x axis: bar b spans `[b * barWidth, (b + 1) * barWidth)`
 * in both, so column j of the heatmap sits under bar j of the roll. Within a bar, x is
 * proportional to ticks on the scale of a full bar, so a short bar is drawn at its real width:
 * a pickup (a first bar shorter than the second) at the right end of its column, leading into
 * bar 2; any other short bar from the left of its column (see {@link barPlacement}).
 */

import type { RollPayload, SsmPayload } from '../src/protocol/messages';
import { barsOfCell, cellOfBar } from '../src/protocol/ssmPayload';
import { barAtTick } from './notationMap';

/** Where the roll's notes go. */
export interface RollLayout {
  /** Drawing area in CSS pixels. */
  readonly width: number;
  readonly height: number;
  /** Lowest and highest pitch shown (inclusive). */
  readonly pitchLow: number;
  readonly pitchHigh: number;
  /** Number of bars across the width. */
  readonly bars: number;
  /** Width of one bar. */
  readonly barWidth: number;
  /** Height of one pitch row. */
  readonly rowHeight: number;
}

/** Lowest and highest pitch of the notes, padded, spanning at least `minSpan` semitones. */
export function pitchRange(pitches: ArrayLike<number>, minSpan = 24, pad = 2): { low: number; high: number } {
  let low = 127;
  let high = 0;
  for (let k = 0; k < pitches.length; k++) {
    low = Math.min(low, pitches[k]);
    high = Math.max(high, pitches[k]);
  }
  if (pitches.length === 0) {
    low = 60;
    high = 72;
  }
  low = Math.max(0, low - pad);
  high = Math.min(127, high + pad);
  if (high - low + 1 < minSpan) {
    const grow = minSpan - (high - low + 1);
    low = Math.max(0, low - Math.ceil(grow / 2));
    high = Math.min(127, low + minSpan - 1);
    low = Math.max(0, high - minSpan + 1);
  }
  return { low, high };
}

/** The layout of a roll in a `width` x `height` box. Drum notes are left out of the pitch range. */
export function createRollLayout(roll: Pick<RollPayload, 'barStarts' | 'notes' | 'tracks'>, width: number, height: number): RollLayout {
  const pitches: number[] = [];
  for (let k = 0; k < roll.notes.pitch.length; k++) {
    if (!roll.tracks[roll.notes.track[k]]?.isDrum) {
      pitches.push(roll.notes.pitch[k]);
    }
  }
  const { low, high } = pitchRange(pitches);
  const bars = Math.max(0, roll.barStarts.length - 1);
  return {
    width,
    height,
    pitchLow: low,
    pitchHigh: high,
    bars,
    barWidth: bars > 0 ? width / bars : width,
    rowHeight: height / (high - low + 1),
  };
}

/** Index of the bar holding `tick` (binary search over bar starts); -1 before, `bars` after. */
export function barOfTick(barStarts: ArrayLike<number>, tick: number): number {
  const bars = barStarts.length - 1;
  return bars > 0 && tick >= barStarts[bars] ? bars : barAtTick(barStarts, tick);
}

/**
 * How bar `b` fills its column: `span` its ticks, `full` the ticks of a whole column (the bar
 * itself, or its neighbour when the bar is shorter: the next bar for the first bar, the previous
 * one otherwise), `offset` the empty ticks before it (a pickup sits at the right end).
 */
export function barPlacement(barStarts: ArrayLike<number>, b: number): { span: number; full: number; offset: number } {
  const bars = barStarts.length - 1;
  const span = barStarts[b + 1] - barStarts[b];
  const neighbour = b === 0 ? (bars > 1 ? barStarts[2] - barStarts[1] : span) : barStarts[b] - barStarts[b - 1];
  const full = Math.max(span, neighbour);
  return { span, full, offset: b === 0 ? full - span : 0 };
}

/** The x of a tick: its bar's left edge plus its place in the bar, on the scale of a full bar. */
export function tickToX(layout: RollLayout, barStarts: ArrayLike<number>, tick: number): number {
  const b = barOfTick(barStarts, tick);
  if (b < 0) {
    return barStarts.length > 1 ? tickToX(layout, barStarts, barStarts[0]) : 0;
  }
  if (b >= layout.bars) {
    return layout.width;
  }
  const { full, offset } = barPlacement(barStarts, b);
  const frac = full > 0 ? (offset + tick - barStarts[b]) / full : 0;
  return (b + frac) * layout.barWidth;
}

/** The tick at x (inverse of {@link tickToX}), clamped to the roll and to the bar's real width. */
export function xToTick(layout: RollLayout, barStarts: ArrayLike<number>, x: number): number {
  if (layout.bars === 0) {
    return 0;
  }
  const pos = Math.max(0, Math.min(layout.bars, x / layout.barWidth));
  const b = Math.min(layout.bars - 1, Math.floor(pos));
  const { span, full, offset } = barPlacement(barStarts, b);
  return barStarts[b] + Math.max(0, Math.min(span, (pos - b) * full - offset));
}

/** The bar under x, or -1 outside the roll. */
export function xToBar(layout: RollLayout, x: number): number {
  if (layout.bars === 0 || x < 0 || x >= layout.width) {
    return -1;
  }
  return Math.min(layout.bars - 1, Math.floor(x / layout.barWidth));
}

/** The top y of a pitch's row (high pitches at the top). */
export function pitchToY(layout: RollLayout, pitch: number): number {
  return (layout.pitchHigh - pitch) * layout.rowHeight;
}

/**
 * One rectangle per note, `[x, y, w, h]` packed in a Float32Array (4 values per note), in the
 * roll's order. Notes outside the pitch range (drums) are placed on the nearest edge row; at
 * least one pixel wide.
 */
export function noteRects(roll: Pick<RollPayload, 'barStarts' | 'notes'>, layout: RollLayout): Float32Array {
  const n = roll.notes.pitch.length;
  const out = new Float32Array(n * 4);
  for (let k = 0; k < n; k++) {
    const start = roll.notes.onset[k];
    const x0 = tickToX(layout, roll.barStarts, start);
    const x1 = tickToX(layout, roll.barStarts, start + roll.notes.duration[k]);
    const pitch = Math.max(layout.pitchLow, Math.min(layout.pitchHigh, roll.notes.pitch[k]));
    out[k * 4] = x0;
    out[k * 4 + 1] = pitchToY(layout, pitch);
    out[k * 4 + 2] = Math.max(1, x1 - x0);
    out[k * 4 + 3] = Math.max(1, layout.rowHeight);
  }
  return out;
}

/** A heatmap drawn as a square of `side` pixels at (x0, y0). */
export interface HeatmapLayout {
  readonly x0: number;
  readonly y0: number;
  readonly side: number;
}

/** What is under the pointer on the heatmap. */
export interface HeatmapHit {
  /** Cell row and column in the payload. */
  readonly row: number;
  readonly col: number;
  /** Bars `[start, end)` the row and the column stand for (one bar each unless downsampled). */
  readonly rowBars: { readonly start: number; readonly end: number };
  readonly colBars: { readonly start: number; readonly end: number };
  /** The cell's similarity. */
  readonly value: number;
}

/** The heatmap cell under (x, y), with the bars it stands for; undefined outside. */
export function heatmapHit(layout: HeatmapLayout, ssm: SsmPayload, x: number, y: number): HeatmapHit | undefined {
  if (ssm.size === 0 || layout.side <= 0) {
    return undefined;
  }
  const u = (x - layout.x0) / layout.side;
  const v = (y - layout.y0) / layout.side;
  if (u < 0 || v < 0 || u >= 1 || v >= 1) {
    return undefined;
  }
  const col = Math.min(ssm.size - 1, Math.floor(u * ssm.size));
  const row = Math.min(ssm.size - 1, Math.floor(v * ssm.size));
  return { row, col, rowBars: barsOfCell(ssm, row), colBars: barsOfCell(ssm, col), value: ssm.data[row * ssm.size + col] };
}

/** The pixel rectangle of bar `bar`'s row or column on the heatmap (its cell when downsampled). */
export function heatmapBarSpan(layout: HeatmapLayout, ssm: Pick<SsmPayload, 'bars' | 'size'>, bar: number): { from: number; to: number } | undefined {
  if (bar < 0 || bar >= ssm.bars || ssm.size === 0) {
    return undefined;
  }
  const cell = layout.side / ssm.size;
  const k = cellOfBar(ssm, bar);
  return { from: k * cell, to: (k + 1) * cell };
}

/** Plot geometry of the L_t chart: intervals 1..maxInterval across, values 0..1 up. */
export interface ChartLayout {
  readonly width: number;
  readonly height: number;
  readonly maxInterval: number;
  /** Inner margins. */
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
}

/** The x of interval t on the chart. */
export function chartX(layout: ChartLayout, t: number): number {
  const span = Math.max(1, layout.maxInterval - 1);
  return layout.left + ((t - 1) / span) * (layout.width - layout.left - layout.right);
}

/** The y of a value in [0, 1] on the chart (clamped). */
export function chartY(layout: ChartLayout, value: number): number {
  const v = Math.max(0, Math.min(1, value));
  return layout.top + (1 - v) * (layout.height - layout.top - layout.bottom);
}

/**
 * The curve's polyline segments: runs of defined values (NaN breaks a run), each point
 * `[x, y]`. Index 0 of `values` is not drawn (it is the diagonal).
 */
export function chartSegments(layout: ChartLayout, values: ArrayLike<number>): [number, number][][] {
  const segments: [number, number][][] = [];
  let current: [number, number][] = [];
  const last = Math.min(values.length - 1, layout.maxInterval);
  for (let t = 1; t <= last; t++) {
    const v = values[t];
    if (Number.isFinite(v)) {
      current.push([chartX(layout, t), chartY(layout, v)]);
    } else if (current.length > 0) {
      segments.push(current);
      current = [];
    }
  }
  if (current.length > 0) {
    segments.push(current);
  }
  return segments;
}

/** The interval nearest to x on the chart, or undefined outside the plot. */
export function chartIntervalAt(layout: ChartLayout, x: number): number | undefined {
  const inner = layout.width - layout.left - layout.right;
  if (x < layout.left - 4 || x > layout.width - layout.right + 4 || inner <= 0) {
    return undefined;
  }
  const span = Math.max(1, layout.maxInterval - 1);
  const t = Math.round(((x - layout.left) / inner) * span) + 1;
  return Math.max(1, Math.min(layout.maxInterval, t));
}

/**
 * Bar starts with `extra` empty bars appended, each as long as the last bar (one quarter at
 * `ticksPerQuarter` when there is none): room on the roll for bars still to be generated.
 */
export function extendBarStarts(barStarts: Uint32Array, extra: number, ticksPerQuarter: number): Uint32Array {
  const n = barStarts.length - 1;
  const add = Math.max(0, Math.floor(extra));
  if (add === 0 || n < 0) {
    return barStarts;
  }
  const last = n > 0 ? barStarts[n] - barStarts[n - 1] : ticksPerQuarter * 4;
  const out = new Uint32Array(barStarts.length + add);
  out.set(barStarts);
  for (let k = 1; k <= add; k++) {
    out[n + k] = barStarts[n] + k * Math.max(1, last);
  }
  return out;
}
