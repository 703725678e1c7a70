/**
 * Canvas drawing of the piano roll, the SSM heatmap and the L_t chart. Geometry comes from
 * `layout.ts`, colours from `theme.ts`.
 */

import type { RollPayload, SsmPayload } from '../src/protocol/messages';
import { paintMatrix } from './colors';
import { chartSegments, chartX, chartY, heatmapBarSpan, noteRects, pitchToY } from './layout';
import type { ChartLayout, HeatmapHit, RollLayout } from './layout';
import type { Theme } from './theme';

/** Sizes a canvas for the device pixel ratio and returns its context scaled to CSS pixels. */
export function fitCanvas(canvas: HTMLCanvasElement, width: number, height: number): CanvasRenderingContext2D | undefined {
  const dpr = Math.max(1, Math.min(3, window.devicePixelRatio || 1));
  const w = Math.max(1, Math.round(width * dpr));
  const h = Math.max(1, Math.round(height * dpr));
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext('2d');
  if (!ctx) {
    return undefined;
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

/** The step between labelled bars so labels do not crowd (1, 2, 4, 8, 16, ...). */
export function labelStep(barWidth: number, minPixels: number): number {
  let step = 1;
  while (step * barWidth < minPixels && step < 4096) {
    step *= 2;
  }
  return step;
}

/** Options of {@link drawRoll}. */
export interface RollDrawOptions {
  /** Bars to shade as selected. */
  readonly selected?: readonly number[];
  /** Bar under the pointer. */
  readonly hoverBar?: number;
  /** First bar to mark as generated (the rest of the roll after it). */
  readonly newFrom?: number;
  /** Leave out bar numbers (small views). */
  readonly compact?: boolean;
}

/** Draws a piano roll: pitch grid, bar lines and numbers, shaded bars, notes coloured by track. */
export function drawRoll(ctx: CanvasRenderingContext2D, roll: RollPayload, layout: RollLayout, theme: Theme, options: RollDrawOptions = {}): void {
  const { width, height } = layout;
  ctx.fillStyle = theme.background;
  ctx.fillRect(0, 0, width, height);
  // Octave lines at every C; the C rows slightly shaded when rows are tall enough to see.
  ctx.fillStyle = theme.grid;
  for (let p = layout.pitchLow; p <= layout.pitchHigh; p++) {
    if (p % 12 === 0) {
      const y = pitchToY(layout, p) + layout.rowHeight;
      ctx.fillRect(0, Math.round(y) - 0.5, width, 1);
    }
  }
  const shade = (bar: number, style: string): void => {
    ctx.fillStyle = style;
    ctx.fillRect(bar * layout.barWidth, 0, layout.barWidth, height);
  };
  if (options.newFrom !== undefined && options.newFrom < layout.bars) {
    ctx.fillStyle = theme.newBars;
    ctx.fillRect(options.newFrom * layout.barWidth, 0, (layout.bars - options.newFrom) * layout.barWidth, height);
  }
  for (const b of options.selected ?? []) {
    if (b >= 0 && b < layout.bars) {
      shade(b, theme.selection);
    }
  }
  if (options.hoverBar !== undefined && options.hoverBar >= 0) {
    shade(options.hoverBar, theme.hover);
  }
  // Bar lines: every bar when there is room, else every `step` bars.
  const step = labelStep(layout.barWidth, 4);
  for (let b = 0; b <= layout.bars; b += step) {
    ctx.fillStyle = b % (step * 4) === 0 ? theme.gridStrong : theme.grid;
    ctx.fillRect(Math.min(width - 1, Math.round(b * layout.barWidth)), 0, 1, height);
  }
  // Notes.
  const rects = noteRects(roll, layout);
  const n = roll.notes.pitch.length;
  for (let k = 0; k < n; k++) {
    const track = roll.notes.track[k];
    ctx.fillStyle = theme.tracks[track % theme.tracks.length];
    ctx.globalAlpha = 0.55 + 0.45 * (roll.notes.velocity[k] / 127);
    ctx.fillRect(rects[k * 4], rects[k * 4 + 1], rects[k * 4 + 2], Math.max(1, rects[k * 4 + 3] - (layout.rowHeight > 3 ? 1 : 0)));
  }
  ctx.globalAlpha = 1;
  if (!options.compact && layout.bars > 0) {
    const labels = labelStep(layout.barWidth, 22);
    ctx.fillStyle = theme.muted;
    ctx.font = '10px var(--vscode-font-family, sans-serif)';
    ctx.textBaseline = 'top';
    for (let b = 0; b < layout.bars; b += labels) {
      ctx.fillText(String(b + 1), b * layout.barWidth + 2, 2);
    }
  }
}

let scratch: HTMLCanvasElement | undefined;

/** Options of {@link drawHeatmap}. */
export interface HeatmapDrawOptions {
  readonly hover?: HeatmapHit;
  /** Selected bars (i, j): their cells are outlined. */
  readonly selection?: { readonly i: number; readonly j: number };
  /** Draw a guide at this bar (where generated bars begin). */
  readonly newFrom?: number;
}

/** Draws an SSM as a `side` x `side` heatmap at the origin, one cell per matrix entry. */
export function drawHeatmap(ctx: CanvasRenderingContext2D, ssm: SsmPayload, side: number, theme: Theme, options: HeatmapDrawOptions = {}): void {
  ctx.fillStyle = theme.background;
  ctx.fillRect(0, 0, side, side);
  if (ssm.size === 0) {
    return;
  }
  scratch ??= document.createElement('canvas');
  scratch.width = ssm.size;
  scratch.height = ssm.size;
  const sctx = scratch.getContext('2d');
  if (!sctx) {
    return;
  }
  const image = sctx.createImageData(ssm.size, ssm.size);
  paintMatrix(ssm.data, theme.ramp, image.data);
  sctx.putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(scratch, 0, 0, side, side);
  const cell = side / ssm.size;
  // Light guides every 4 bars (or coarser) so positions can be read.
  let every = 4;
  while (every * (side / ssm.bars) < 16 && every < ssm.bars) {
    every *= 2;
  }
  ctx.fillStyle = theme.grid;
  for (let b = every; b < ssm.bars; b += every) {
    const p = (b / ssm.bars) * side;
    ctx.fillRect(Math.round(p), 0, 1, side);
    ctx.fillRect(0, Math.round(p), side, 1);
  }
  if (options.newFrom !== undefined && options.newFrom > 0 && options.newFrom < ssm.bars) {
    const p = Math.round((options.newFrom / ssm.bars) * side);
    ctx.fillStyle = theme.accent;
    ctx.fillRect(p, 0, 1, side);
    ctx.fillRect(0, p, side, 1);
  }
  if (options.hover) {
    ctx.strokeStyle = theme.foreground;
    ctx.lineWidth = 1;
    ctx.globalAlpha = 0.6;
    ctx.strokeRect(options.hover.col * cell + 0.5, 0.5, cell - 1, side - 1);
    ctx.strokeRect(0.5, options.hover.row * cell + 0.5, side - 1, cell - 1);
    ctx.globalAlpha = 1;
  }
  if (options.selection) {
    const a = heatmapBarSpan({ x0: 0, y0: 0, side }, ssm, options.selection.i);
    const b = heatmapBarSpan({ x0: 0, y0: 0, side }, ssm, options.selection.j);
    if (a && b) {
      ctx.strokeStyle = theme.playhead;
      ctx.lineWidth = 2;
      ctx.strokeRect(b.from + 1, a.from + 1, Math.max(2, b.to - b.from - 2), Math.max(2, a.to - a.from - 2));
      ctx.strokeRect(a.from + 1, b.from + 1, Math.max(2, a.to - a.from - 2), Math.max(2, b.to - b.from - 2));
    }
  }
  ctx.strokeStyle = theme.border;
  ctx.lineWidth = 1;
  ctx.strokeRect(0.5, 0.5, side - 1, side - 1);
}

/** Options of {@link drawChart}. */
export interface ChartDrawOptions {
  /** The training corpus curve, when the model card has one. */
  readonly corpus?: Float32Array;
  /** Related offsets switched on: marked as columns. */
  readonly offsets?: readonly number[];
  /** The piece's peaks: marked as dots. */
  readonly peaks?: readonly number[];
  /** Interval under the pointer. */
  readonly hover?: number;
}

/** Draws L_t (similarity by bar interval) with its axes, the chosen offsets, and the corpus curve. */
export function drawChart(ctx: CanvasRenderingContext2D, layout: ChartLayout, lt: Float32Array, theme: Theme, options: ChartDrawOptions = {}): void {
  const { width, height } = layout;
  ctx.fillStyle = theme.background;
  ctx.fillRect(0, 0, width, height);
  ctx.font = '10px var(--vscode-font-family, sans-serif)';
  ctx.fillStyle = theme.grid;
  for (const v of [0, 0.5, 1]) {
    ctx.fillRect(layout.left, Math.round(chartY(layout, v)), width - layout.left - layout.right, 1);
  }
  ctx.fillStyle = theme.muted;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'right';
  for (const v of [0, 0.5, 1]) {
    ctx.fillText(v.toFixed(1), layout.left - 4, chartY(layout, v));
  }
  if (layout.maxInterval < 1) {
    ctx.textAlign = 'left';
    ctx.fillText('Needs at least two bars.', layout.left + 4, height / 2);
    return;
  }
  const colWidth = Math.max(2, (width - layout.left - layout.right) / Math.max(1, layout.maxInterval - 1) - 1);
  ctx.fillStyle = theme.selection;
  for (const t of options.offsets ?? []) {
    if (t <= layout.maxInterval) {
      ctx.fillRect(chartX(layout, t) - colWidth / 2, layout.top, colWidth, height - layout.top - layout.bottom);
    }
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  ctx.fillStyle = theme.muted;
  const ticks = [1, 2, 4, 8, 12, 16, 24, 32, 48, 64].filter((t) => t <= layout.maxInterval);
  let lastX = -Infinity;
  for (const t of ticks) {
    const x = chartX(layout, t);
    if (x - lastX >= 18) {
      ctx.fillText(String(t), x, height - layout.bottom + 3);
      lastX = x;
    }
  }
  const stroke = (values: Float32Array, style: string, dash: number[], lineWidth: number): void => {
    ctx.strokeStyle = style;
    ctx.lineWidth = lineWidth;
    ctx.setLineDash(dash);
    for (const seg of chartSegments(layout, values)) {
      ctx.beginPath();
      seg.forEach(([x, y], k) => (k === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)));
      ctx.stroke();
    }
    ctx.setLineDash([]);
  };
  if (options.corpus) {
    stroke(options.corpus, theme.corpus, [4, 3], 1.5);
  }
  stroke(lt, theme.accent, [], 2);
  ctx.fillStyle = theme.foreground;
  for (const t of options.peaks ?? []) {
    const v = lt[t];
    if (t <= layout.maxInterval && Number.isFinite(v)) {
      ctx.beginPath();
      ctx.arc(chartX(layout, t), chartY(layout, v), 3, 0, Math.PI * 2);
      ctx.fill();
    }
  }
  if (options.hover !== undefined) {
    const x = chartX(layout, options.hover);
    ctx.fillStyle = theme.gridStrong;
    ctx.fillRect(Math.round(x), layout.top, 1, height - layout.top - layout.bottom);
  }
}

/** Draws the playhead on an overlay canvas (cleared first); x undefined clears only. */
export function drawPlayhead(ctx: CanvasRenderingContext2D, width: number, height: number, x: number | undefined, theme: Theme): void {
  ctx.clearRect(0, 0, width, height);
  if (x === undefined) {
    return;
  }
  ctx.fillStyle = theme.playhead;
  ctx.fillRect(Math.round(x) - 1, 0, 2, height);
}
