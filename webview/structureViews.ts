/**
 * The piece's structure views: the piano roll aligned with the bar SSM heatmap (hover for bars
 * and similarity, click to select, drag to paint a template), the L_t chart against the training
 * corpus, and the template preview. Rendered from the store and the piece on show.
 */

import { MAX_SSM_SIDE } from '../src/protocol/messages';
import type { ModelChoice, PieceView, RollPayload, SsmPayload } from '../src/protocol/messages';
import { h } from './dom';
import { drawChart, drawHeatmap, drawRoll, fitCanvas } from './draw';
import { chartIntervalAt, createRollLayout, extendBarStarts, heatmapHit, xToBar } from './layout';
import type { ChartLayout, HeatmapHit, RollLayout } from './layout';
import { isPainted, paintedMatrix, togglePainted } from './state';
import type { Store } from './store';
import type { Theme } from './theme';

const ROLL_HEIGHT = 170;
const CHART_HEIGHT = 130;
const MAX_VIEW_SIDE = 560;
const PREVIEW_SIDE = 140;

function barsText(span: { start: number; end: number }): string {
  return span.end - span.start <= 1 ? `${span.start + 1}` : `${span.start + 1}–${span.end}`;
}

/** What the views ask of the page. */
export interface StructureActions {
  /** Bars i and j were picked (click, keys). */
  select(i: number, j: number): void;
  /** Space or Enter on the heatmap: play the selection. */
  playSelection(): void;
  theme(): Theme;
  model(): ModelChoice | undefined;
}

/** Piano roll, heatmap, L_t chart and template preview. */
export class StructureViews {
  readonly rollCanvas = h('canvas', { className: 'roll', tabIndex: 0, attrs: { role: 'img', 'aria-label': 'Piano roll' } });
  readonly rollOverlay = h('canvas', { className: 'overlay', attrs: { 'aria-hidden': 'true' } });
  readonly ssmCanvas = h('canvas', { className: 'ssm', tabIndex: 0, attrs: { role: 'img', 'aria-label': 'Bar self-similarity matrix' } });
  private readonly _tooltip = h('div', { className: 'tooltip', hidden: true });
  readonly chartCanvas = h('canvas', { className: 'chart', attrs: { role: 'img', 'aria-label': 'Similarity by bar interval' } });
  private readonly _chartInfo = h('div', { className: 'chart-info' });
  readonly previewCanvas = h('canvas', { className: 'preview', hidden: true, attrs: { role: 'img', 'aria-label': 'Template preview' } });
  /** Roll and heatmap. */
  readonly element: HTMLElement;
  /** The L_t chart with its legend. */
  readonly chartElement: HTMLElement;
  /** The template preview with its heading. */
  readonly previewElement: HTMLElement;
  piece: PieceView | undefined;
  preview: { ssm: SsmPayload; label: string } | undefined;
  private _hover: HeatmapHit | undefined;
  private _hoverBar: number | undefined;
  private _hoverT: number | undefined;
  private _paintDrag: boolean | undefined;
  private _rollLayout: RollLayout | undefined;
  private _side = MAX_VIEW_SIDE;

  constructor(
    private readonly _store: Store,
    private readonly _actions: StructureActions,
  ) {
    this.element = h(
      'section',
      { className: 'views', attrs: { 'aria-label': 'Piano roll and bar self-similarity' } },
      h('h2', {}, 'Piano roll'),
      h('div', { className: 'roll-wrap' }, this.rollCanvas, this.rollOverlay),
      h('h2', {}, 'Bar self-similarity'),
      h('div', { className: 'ssm-wrap' }, this.ssmCanvas, this._tooltip),
    );
    const item = (cls: string, text: string): HTMLElement => h('span', { className: 'legend-item' }, h('span', { className: `swatch ${cls}` }), text);
    this.chartElement = h(
      'div',
      { className: 'chart-section' },
      h('h3', {}, 'Similarity by bar interval (L', h('sub', {}, 't'), ')'),
      this.chartCanvas,
      h('div', { className: 'legend' }, item('piece', 'this piece'), item('corpus', 'training corpus'), item('offsets', 'related bars on')),
      this._chartInfo,
    );
    this.previewElement = h('div', { className: 'preview-section' }, this.previewCanvas);
    this._setupPointer();
  }

  /** Width of the views. */
  get side(): number {
    return this._side;
  }

  /** The roll layout on screen (for the playhead). */
  get rollLayout(): RollLayout | undefined {
    return this._rollLayout;
  }

  /** Whether painting fits: the piece and its new bars within {@link MAX_SSM_SIDE}, and a full-size SSM. */
  canPaint(): boolean {
    const p = this.piece;
    return !!p && p.ssm.size === p.ssm.bars && p.ssm.bars + this._store.state.bars <= MAX_SSM_SIDE;
  }

  private _painting(): boolean {
    return this._store.state.templateKind === 'painted' && this.canPaint();
  }

  /** The SSM on the heatmap: the piece's, or in painted mode the painted template over it. */
  displayedSsm(): { ssm: SsmPayload; newFrom?: number } | undefined {
    const piece = this.piece;
    if (!piece) {
      return undefined;
    }
    if (this._painting()) {
      const size = piece.ssm.bars + this._store.state.bars;
      return { ssm: { bars: size, size, data: paintedMatrix(size, this._store.state.painted, { bars: piece.ssm.bars, data: piece.ssm.data }) }, newFrom: piece.ssm.bars };
    }
    return { ssm: piece.ssm };
  }

  private _displayedRoll(): RollPayload | undefined {
    const piece = this.piece;
    if (!piece) {
      return undefined;
    }
    if (this._painting()) {
      return { ...piece.roll, barStarts: extendBarStarts(piece.roll.barStarts, this._store.state.bars, piece.roll.ticksPerQuarter), firstNewBar: piece.ssm.bars };
    }
    return piece.roll;
  }

  /** Draws everything at the width available. */
  drawAll(width: number): void {
    this._side = Math.max(120, Math.min(MAX_VIEW_SIDE, Math.floor(width)));
    this.drawRoll();
    this.drawHeatmap();
    this.drawChart();
    this.drawPreview();
  }

  private _selectedBars(): number[] {
    const s = this._store.state.selection;
    return s ? [...new Set([s.i, s.j])] : [];
  }

  drawRoll(): void {
    const theme = this._actions.theme();
    const roll = this._displayedRoll();
    const ctx = fitCanvas(this.rollCanvas, this._side, ROLL_HEIGHT);
    fitCanvas(this.rollOverlay, this._side, ROLL_HEIGHT);
    if (!ctx) {
      return;
    }
    if (!roll) {
      this._rollLayout = undefined;
      ctx.fillStyle = theme.background;
      ctx.fillRect(0, 0, this._side, ROLL_HEIGHT);
      return;
    }
    this._rollLayout = createRollLayout(roll, this._side, ROLL_HEIGHT);
    drawRoll(ctx, roll, this._rollLayout, theme, {
      selected: this._selectedBars(),
      ...(this._hoverBar !== undefined ? { hoverBar: this._hoverBar } : {}),
      ...(roll.firstNewBar !== undefined ? { newFrom: roll.firstNewBar } : {}),
    });
  }

  drawHeatmap(): void {
    const theme = this._actions.theme();
    const shown = this.displayedSsm();
    const ctx = fitCanvas(this.ssmCanvas, this._side, this._side);
    if (!ctx) {
      return;
    }
    if (!shown) {
      ctx.fillStyle = theme.background;
      ctx.fillRect(0, 0, this._side, this._side);
      ctx.fillStyle = theme.muted;
      ctx.font = '12px var(--vscode-font-family, sans-serif)';
      ctx.fillText('No piece to show.', 12, 24);
      return;
    }
    const s = this._store.state;
    drawHeatmap(ctx, shown.ssm, this._side, theme, {
      ...(this._hover ? { hover: this._hover } : {}),
      ...(s.selection ? { selection: s.selection } : {}),
      ...(shown.newFrom !== undefined ? { newFrom: shown.newFrom } : {}),
    });
  }

  private _chartLayout(lt: Float32Array | undefined): ChartLayout {
    return { width: this._side, height: CHART_HEIGHT, maxInterval: Math.max(0, (lt?.length ?? 1) - 1), left: 30, right: 8, top: 8, bottom: 18 };
  }

  drawChart(): void {
    const lt = this.piece?.lt;
    const ctx = fitCanvas(this.chartCanvas, this._side, CHART_HEIGHT);
    if (!ctx) {
      return;
    }
    const corpus = this._actions.model()?.corpusLt;
    drawChart(ctx, this._chartLayout(lt), lt ?? new Float32Array(1), this._actions.theme(), {
      offsets: this._store.state.offsets,
      peaks: (this.piece?.topIntervals ?? []).map((p) => p.interval),
      ...(corpus ? { corpus } : {}),
      ...(this._hoverT !== undefined ? { hover: this._hoverT } : {}),
    });
    const t = this._hoverT;
    if (t !== undefined && lt) {
      const v = lt[t];
      const c = corpus && t < corpus.length ? corpus[t] : Number.NaN;
      this._chartInfo.textContent = `Interval ${t} bar${t === 1 ? '' : 's'}: this piece ${Number.isFinite(v) ? v.toFixed(3) : '–'}${Number.isFinite(c) ? `, corpus ${c.toFixed(3)}` : ''}`;
    } else {
      this._chartInfo.textContent = corpus ? '' : 'The training corpus curve appears when the chosen model provides one.';
    }
  }

  drawPreview(): void {
    const preview = this.preview;
    const kind = this._store.state.templateKind;
    if (!preview || preview.ssm.size === 0 || (kind !== 'form' && kind !== 'file')) {
      this.previewCanvas.hidden = true;
      return;
    }
    this.previewCanvas.hidden = false;
    this.previewCanvas.title = `The form to follow: ${preview.label}`;
    const ctx = fitCanvas(this.previewCanvas, PREVIEW_SIDE, PREVIEW_SIDE);
    if (ctx) {
      drawHeatmap(ctx, preview.ssm, PREVIEW_SIDE, this._actions.theme());
    }
  }

  private _setupPointer(): void {
    const canvas = this.ssmCanvas;
    const local = (e: MouseEvent): [number, number] => {
      const r = canvas.getBoundingClientRect();
      return [e.clientX - r.left, e.clientY - r.top];
    };
    const hitAt = (e: MouseEvent): { hit: HeatmapHit | undefined; x: number; y: number } => {
      const shown = this.displayedSsm();
      const [x, y] = local(e);
      return { hit: shown ? heatmapHit({ x0: 0, y0: 0, side: this._side }, shown.ssm, x, y) : undefined, x, y };
    };
    canvas.addEventListener('mousemove', (e) => {
      const { hit, x, y } = hitAt(e);
      this._hover = hit;
      if (hit && this._paintDrag !== undefined) {
        this._paint(hit, this._paintDrag);
      }
      this._showTooltip(hit, x, y);
      this.drawHeatmap();
    });
    canvas.addEventListener('mouseleave', () => {
      this._hover = undefined;
      this._paintDrag = undefined;
      this._tooltip.hidden = true;
      this.drawHeatmap();
    });
    canvas.addEventListener('mousedown', (e) => {
      const { hit } = hitAt(e);
      if (!hit) {
        return;
      }
      if (this._painting()) {
        const on = !isPainted(this._store.state, hit.rowBars.start, hit.colBars.start);
        this._paintDrag = on;
        this._paint(hit, on);
        return;
      }
      this._actions.select(hit.rowBars.start, hit.colBars.start);
    });
    window.addEventListener('mouseup', () => {
      this._paintDrag = undefined;
    });
    canvas.addEventListener('keydown', (e) => this._heatmapKey(e));

    const roll = this.rollCanvas;
    const barAt = (e: MouseEvent): number => (this._rollLayout ? xToBar(this._rollLayout, e.clientX - roll.getBoundingClientRect().left) : -1);
    roll.addEventListener('mousemove', (e) => {
      const bar = barAt(e);
      const next = bar >= 0 ? bar : undefined;
      if (next !== this._hoverBar) {
        this._hoverBar = next;
        this.drawRoll();
      }
    });
    roll.addEventListener('mouseleave', () => {
      this._hoverBar = undefined;
      this.drawRoll();
    });
    roll.addEventListener('click', (e) => {
      const bar = barAt(e);
      if (bar >= 0 && this.piece && bar < this.piece.ssm.bars) {
        const s = this._store.state.selection;
        // Shift-click picks the second bar of the pair.
        this._actions.select(e.shiftKey && s ? s.i : bar, bar);
      }
    });

    const chart = this.chartCanvas;
    chart.addEventListener('mousemove', (e) => {
      const t = chartIntervalAt(this._chartLayout(this.piece?.lt), e.clientX - chart.getBoundingClientRect().left);
      if (t !== this._hoverT) {
        this._hoverT = t;
        this.drawChart();
      }
    });
    chart.addEventListener('mouseleave', () => {
      this._hoverT = undefined;
      this.drawChart();
    });
  }

  private _heatmapKey(e: KeyboardEvent): void {
    const piece = this.piece;
    if (!piece || piece.ssm.bars === 0) {
      return;
    }
    const n = piece.ssm.bars;
    const s = this._store.state.selection ?? { i: 0, j: 0 };
    const moves: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const move = moves[e.key];
    if (move) {
      e.preventDefault();
      this._actions.select(Math.max(0, Math.min(n - 1, s.i + move[0])), Math.max(0, Math.min(n - 1, s.j + move[1])));
    } else if (e.key === ' ' || e.key === 'Enter') {
      e.preventDefault();
      this._actions.playSelection();
    }
  }

  private _showTooltip(hit: HeatmapHit | undefined, x: number, y: number): void {
    if (!hit) {
      this._tooltip.hidden = true;
      return;
    }
    const piece = this.piece;
    const newFrom = this.displayedSsm()?.newFrom;
    const label = (span: { start: number; end: number }): string => (newFrom !== undefined && span.start >= newFrom ? `new ${span.start - newFrom + 1}` : barsText(span));
    const painted = this._painting();
    this._tooltip.textContent = `Bars ${label(hit.rowBars)} × ${label(hit.colBars)} · ${painted ? 'template' : 'similarity'} ${hit.value.toFixed(2)}`;
    if (!painted && piece && piece.ssm.size < piece.ssm.bars) {
      this._tooltip.textContent += ' (block mean)';
    }
    this._tooltip.hidden = false;
    this._tooltip.style.left = `${Math.max(0, Math.min(x + 14, this._side - 180))}px`;
    this._tooltip.style.top = `${y + 14}px`;
  }

  private _paint(hit: HeatmapHit, on: boolean): void {
    const before = this._store.state;
    this._store.update((s) => togglePainted(s, hit.rowBars.start, hit.colBars.start, on));
    if (this._store.state !== before) {
      this.drawHeatmap();
    }
  }
}
