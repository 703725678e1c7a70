/**
 * The view: piano roll, SSM heatmap, L_t chart, generation controls and candidates, for both
 * the structure panel and the MIDI editor. It talks to the host only through the protocol
 * client; its UI state survives reloads through `getState/setState`.
 */

import type { VscodeButton } from '@vscode-elements/elements/dist/vscode-button/vscode-button.js';
import type { VscodeCheckbox } from '@vscode-elements/elements/dist/vscode-checkbox/vscode-checkbox.js';
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/vscode-single-select.js';
import type { VscodeTextfield } from '@vscode-elements/elements/dist/vscode-textfield/vscode-textfield.js';
import { MAX_CANDIDATES, MAX_FORM_LENGTH, MAX_GENERATE_BARS, MAX_RELATED_OFFSET, MAX_SSM_SIDE, PROTOCOL_VERSION, assertNever } from '../src/protocol/messages';
import type { CandidateView, ModelChoice, NotificationMessage, PieceView, RollPayload, SsmPayload, TemplateChoice, ViewKind } from '../src/protocol/messages';
import { drawChart, drawHeatmap, drawPlayhead, drawRoll, fitCanvas } from './draw';
import './elements';
import { chartIntervalAt, createRollLayout, extendBarStarts, heatmapHit, tickToX, xToBar } from './layout';
import type { ChartLayout, HeatmapHit, RollLayout } from './layout';
import { RpcClient, RpcError } from './rpc';
import { barSpan, planPlayback, playheadTick } from './schedule';
import type { PlaybackPlan, PlaySegment } from './schedule';
import {
  LAYER_WINDOW_CHOICES,
  addOffsets,
  applyConfig,
  generateParams,
  isPainted,
  paintedMatrix,
  parseIntField,
  parseNumberField,
  restoreState,
  suggestOffsets,
  templateChoice,
  toggleOffset,
  togglePainted,
  withLayers,
} from './state';
import type { UiState } from './state';
import { Synth } from './synth';
import { readTheme } from './theme';
import type { Theme } from './theme';

/** What `acquireVsCodeApi()` returns. */
export interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

/** Creates an element with properties, attributes (`attrs`) and children. */
function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<Record<string, unknown>> & { className?: string; attrs?: Record<string, string> } = {},
  ...children: (Node | string | undefined)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'attrs') {
      for (const [a, v] of Object.entries(value as Record<string, string>)) {
        el.setAttribute(a, v);
      }
    } else if (value !== undefined) {
      (el as unknown as Record<string, unknown>)[key] = value;
    }
  }
  for (const c of children) {
    if (c !== undefined) {
      el.append(c);
    }
  }
  return el;
}

function formatValue(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(3);
}

function barsText(span: { start: number; end: number }): string {
  return span.end - span.start <= 1 ? `${span.start + 1}` : `${span.start + 1}–${span.end}`;
}

const ROLL_HEIGHT = 170;
const CHART_HEIGHT = 130;
const MAX_VIEW_SIDE = 560;

interface PlayTarget {
  readonly roll: RollPayload;
  readonly plan: PlaybackPlan;
  readonly overlay: HTMLCanvasElement;
  layout(): RollLayout | undefined;
}

/** The whole view. */
export class App {
  private _state: UiState;
  private _piece: PieceView | undefined;
  private _problem: { reason: string; isError: boolean } | undefined;
  private _models: readonly ModelChoice[] = [];
  private _candidates: readonly CandidateView[] = [];
  private _generation: { controller?: AbortController; requestId?: number; running: boolean } = { running: false };
  private _preview: { ssm: SsmPayload; label: string; error?: string } | undefined;
  private _previewController: AbortController | undefined;
  private _previewTimer: ReturnType<typeof setTimeout> | undefined;
  private _saveTimer: ReturnType<typeof setTimeout> | undefined;
  private _hover: HeatmapHit | undefined;
  private _hoverBar: number | undefined;
  private _hoverT: number | undefined;
  private _theme: Theme;
  private readonly _synth = new Synth();
  private _playing: PlayTarget | undefined;
  private _frame = 0;
  private _paintDrag: boolean | undefined;
  private _rollLayout: RollLayout | undefined;
  private _side = 0;
  private readonly _rpc: RpcClient;

  // Elements.
  private readonly _title = h('h1', { className: 'title' });
  private readonly _subtitle = h('span', { className: 'subtitle' });
  private readonly _banner = h('div', { className: 'banner', attrs: { role: 'status', 'aria-live': 'polite' }, hidden: true });
  private readonly _views = h('section', { className: 'views' });
  private readonly _rollCanvas = h('canvas', { className: 'roll', tabIndex: 0, attrs: { role: 'img', 'aria-label': 'Piano roll' } });
  private readonly _rollOverlay = h('canvas', { className: 'overlay', attrs: { 'aria-hidden': 'true' } });
  private readonly _ssmCanvas = h('canvas', { className: 'ssm', tabIndex: 0, attrs: { role: 'img', 'aria-label': 'Bar self-similarity matrix' } });
  private readonly _tooltip = h('div', { className: 'tooltip', hidden: true });
  private readonly _chartCanvas = h('canvas', { className: 'chart', attrs: { role: 'img', 'aria-label': 'Similarity by bar interval' } });
  private readonly _chartInfo = h('div', { className: 'chart-info' });
  private readonly _offsetBox = h('div', { className: 'offsets' });
  private readonly _suggestion = h('div', { className: 'hint' });
  private readonly _layerBox = h('div', { className: 'layers' });
  private readonly _peSelect = document.createElement('vscode-single-select') as VscodeSingleSelect;
  private readonly _modelSelect = document.createElement('vscode-single-select') as VscodeSingleSelect;
  private readonly _modelInfo = h('div', { className: 'hint' });
  private readonly _templateSelect = document.createElement('vscode-single-select') as VscodeSingleSelect;
  private readonly _templateDetail = h('div', { className: 'template-detail' });
  private readonly _formField = document.createElement('vscode-textfield') as VscodeTextfield;
  private readonly _templateInfo = h('div', { className: 'hint' });
  private readonly _previewCanvas = h('canvas', { className: 'preview', attrs: { role: 'img', 'aria-label': 'Template preview' } });
  private readonly _fields = new Map<string, VscodeTextfield>();
  private readonly _generateButton = document.createElement('vscode-button') as VscodeButton;
  private readonly _cancelButton = document.createElement('vscode-button') as VscodeButton;
  private readonly _progressRing = document.createElement('vscode-progress-ring');
  private readonly _status = h('div', { className: 'status', attrs: { role: 'status', 'aria-live': 'polite' } });
  private readonly _candidateBox = h('section', { className: 'candidates', attrs: { 'aria-label': 'Candidates' } });
  private readonly _playSelectionButton = document.createElement('vscode-button') as VscodeButton;

  constructor(
    private readonly _root: HTMLElement,
    private readonly _kind: ViewKind,
    private readonly _api: VsCodeApi,
  ) {
    this._state = restoreState(_api.getState());
    this._theme = readTheme();
    this._rpc = new RpcClient((m) => _api.postMessage(m));
    this._rpc.onNotification((m) => this._onNotification(m));
    this._build();
    window.addEventListener('message', (e: MessageEvent) => this._rpc.handle(e.data));
    new MutationObserver(() => {
      this._theme = readTheme();
      this._drawAll();
    }).observe(document.body, { attributes: true, attributeFilter: ['class'] });
    // Redraw on the next frame, not inside the observer callback: drawing can resize, which would
    // loop the observer (Chromium reports that as a benign "ResizeObserver loop" error).
    let resizeFrame = 0;
    new ResizeObserver(() => {
      cancelAnimationFrame(resizeFrame);
      resizeFrame = requestAnimationFrame(() => this._drawAll());
    }).observe(this._views);
    window.addEventListener('error', (e) => {
      if (/ResizeObserver loop/.test(e.message)) {
        return; // Benign: a resize notification was deferred to the next frame.
      }
      this._rpc.command('log', { level: 'error', message: `${e.message} (${e.filename}:${e.lineno})` });
    });
    window.addEventListener('unhandledrejection', (e) => this._rpc.command('log', { level: 'error', message: `unhandled rejection: ${String(e.reason)}` }));
    this._rpc.command('ready', { protocol: PROTOCOL_VERSION, view: _kind });
    void this._loadModels();
  }

  // ---------------------------------------------------------------------------------------------
  // Building the page

  private _button(label: string, onClick: () => void, secondary = false, title?: string): VscodeButton {
    const b = document.createElement('vscode-button') as VscodeButton;
    b.textContent = label;
    b.secondary = secondary;
    if (title) {
      b.title = title;
    }
    b.addEventListener('click', onClick);
    return b;
  }

  private _field(key: string, label: string, value: string, onValue: (text: string) => boolean, width = 'narrow'): HTMLElement {
    const field = document.createElement('vscode-textfield') as VscodeTextfield;
    field.value = value;
    field.id = `field-${key}`;
    field.className = width;
    field.addEventListener('input', () => {
      field.invalid = !onValue(field.value);
    });
    this._fields.set(key, field);
    return h('label', { className: 'field', htmlFor: field.id }, h('span', {}, label), field);
  }

  private _build(): void {
    this._root.replaceChildren();
    const header = h(
      'header',
      { className: 'header' },
      h('div', { className: 'heading' }, this._title, this._subtitle),
      h(
        'div',
        { className: 'actions' },
        this._button('Play', () => void this._playPiece(), false, 'Play the piece (Refrain: Play)'),
        this._playSelectionButton,
        this._button('Stop', () => this._stop(), true, 'Stop playback (Refrain: Stop Playback)'),
      ),
    );
    this._playSelectionButton.textContent = 'Play bars';
    this._playSelectionButton.secondary = true;
    this._playSelectionButton.title = 'Play the selected bars (click the heatmap or the roll to select)';
    this._playSelectionButton.addEventListener('click', () => void this._playSelection());

    const rollWrap = h('div', { className: 'roll-wrap' }, this._rollCanvas, this._rollOverlay);
    const ssmWrap = h('div', { className: 'ssm-wrap' }, this._ssmCanvas, this._tooltip);
    const legend = h(
      'div',
      { className: 'legend' },
      h('span', { className: 'swatch piece' }),
      ' this piece  ',
      h('span', { className: 'swatch corpus' }),
      ' training corpus  ',
      h('span', { className: 'swatch offsets' }),
      ' related offsets on',
    );
    this._views.append(
      h('h2', {}, 'Piano roll'),
      rollWrap,
      h('h2', {}, 'Bar self-similarity'),
      ssmWrap,
      h('h2', {}, 'Similarity by bar interval (L', h('sub', {}, 't'), ')'),
      this._chartCanvas,
      legend,
      this._chartInfo,
    );

    const controls = h('aside', { className: 'controls', attrs: { 'aria-label': 'Generation controls' } });
    controls.append(
      this._section('Structure', [
        h('div', { className: 'label' }, 'Related bars: each new bar attends in full to the bars this many bars back'),
        this._offsetBox,
        h(
          'div',
          { className: 'row' },
          this._button('Use peaks of this piece', () => this._applySuggestion(), true),
          this._field('addOffset', 'Add', '', (t) => t.trim() === '' || parseIntField(t, 1, MAX_RELATED_OFFSET) !== undefined),
          this._button('+', () => this._addOffsetFromField(), true, 'Add this offset'),
        ),
        this._suggestion,
        h('div', { className: 'label' }, 'Attention window per layer (mask scales)'),
        this._layerBox,
      ]),
      this._section('Model', [
        h('label', { className: 'field wide' }, h('span', {}, 'Positional encoding'), this._peSelect),
        h('label', { className: 'field wide' }, h('span', {}, 'Model'), this._modelSelect),
        this._modelInfo,
      ]),
      this._section('Template structure', [this._templateSelect, this._templateDetail, this._templateInfo, this._previewCanvas]),
      this._section('Sampling', [
        h(
          'div',
          { className: 'grid2' },
          this._field('bars', 'Bars', String(this._state.bars), (t) => this._setNumber('bars', parseIntField(t, 1, MAX_GENERATE_BARS))),
          this._field('candidates', 'Candidates', String(this._state.candidates), (t) => this._setNumber('candidates', parseIntField(t, 1, MAX_CANDIDATES))),
          this._field('temperature', 'Temperature', String(this._state.temperature), (t) => this._setNumber('temperature', parseNumberField(t, 0, 5))),
          this._field('topP', 'Top-p', String(this._state.topP), (t) => this._setNumber('topP', parseNumberField(t, 0, 1))),
          this._field('seed', 'Seed', String(this._state.seed), (t) => this._setNumber('seed', parseIntField(t, 0, 0xffffffff))),
          h('div', { className: 'field' }, h('span', {}, ' '), this._button('New seed', () => this._newSeed(), true)),
        ),
      ]),
    );
    this._generateButton.textContent = 'Generate';
    this._generateButton.addEventListener('click', () => void this._generate());
    this._cancelButton.textContent = 'Cancel';
    this._cancelButton.secondary = true;
    this._cancelButton.disabled = true;
    this._cancelButton.addEventListener('click', () => this._cancelGeneration());
    this._progressRing.hidden = true;
    controls.append(h('div', { className: 'generate-row' }, this._generateButton, this._cancelButton, this._progressRing), this._status);

    const main = h('main', { className: 'layout' }, this._views, controls);
    this._root.append(header, this._banner, main, h('h2', { className: 'candidates-title' }, 'Candidates'), this._candidateBox);

    this._setupTemplateControls();
    this._setupPointer();
    this._renderControls();
    this._renderHeader();
    this._renderCandidates();
  }

  private _section(heading: string, children: (Node | string)[]): HTMLElement {
    const c = document.createElement('vscode-collapsible');
    c.heading = heading;
    c.open = true;
    c.append(h('div', { className: 'section-body' }, ...children));
    return c;
  }

  private _setupTemplateControls(): void {
    const options: [TemplateChoice['kind'], string][] = [
      ['piece', 'This piece'],
      ['file', 'Another file…'],
      ['form', 'Form string'],
      ['painted', 'Painted on the heatmap'],
      ['none', 'None'],
    ];
    for (const [value, label] of options) {
      const o = document.createElement('vscode-option');
      o.value = value;
      o.textContent = label;
      this._templateSelect.append(o);
    }
    this._templateSelect.value = this._state.templateKind;
    this._templateSelect.addEventListener('change', () => {
      const kind = this._templateSelect.value as TemplateChoice['kind'];
      this._update({ ...this._state, templateKind: kind });
      this._renderTemplate();
      this._drawAll();
      this._schedulePreview();
    });
    this._formField.value = this._state.form;
    this._formField.placeholder = 'A8 A8 B8 A8, AABA or i4A8B8o2';
    this._formField.maxLength = MAX_FORM_LENGTH;
    this._formField.addEventListener('input', () => {
      this._update({ ...this._state, form: this._formField.value });
      this._schedulePreview();
    });
    this._peSelect.addEventListener('change', () => {
      this._update({ ...this._state, positionalEncoding: this._peSelect.value === '*' ? '' : this._peSelect.value });
      this._renderModels();
    });
    this._modelSelect.addEventListener('change', () => {
      const model = this._models.find((m) => m.id === this._modelSelect.value);
      let next: UiState = { ...this._state, modelId: model?.id ?? '' };
      if (model) {
        next = withLayers(next, model.layers);
      }
      this._update(next);
      this._renderLayers();
      this._renderModelInfo();
      this._drawChart();
    });
  }

  // ---------------------------------------------------------------------------------------------
  // State

  private _update(next: UiState): void {
    this._state = next;
    if (this._saveTimer === undefined) {
      this._saveTimer = setTimeout(() => {
        this._saveTimer = undefined;
        this._api.setState(this._state);
      }, 100);
    }
  }

  private _setNumber(key: 'bars' | 'candidates' | 'temperature' | 'topP' | 'seed', value: number | undefined): boolean {
    if (value === undefined) {
      return false;
    }
    this._update({ ...this._state, [key]: value });
    if (key === 'bars' && this._state.templateKind === 'painted') {
      this._drawAll();
    }
    return true;
  }

  private _newSeed(): void {
    const seed = crypto.getRandomValues(new Uint32Array(1))[0];
    this._update({ ...this._state, seed });
    const field = this._fields.get('seed');
    if (field) {
      field.value = String(seed);
      field.invalid = false;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Host messages

  private _onNotification(message: NotificationMessage): void {
    switch (message.method) {
      case 'piece':
        this._showPiece(message.params);
        break;
      case 'noPiece':
        this._problem = message.params;
        if (!message.params.isError) {
          this._piece = undefined;
        }
        this._renderHeader();
        this._drawAll();
        break;
      case 'progress':
        if (message.params.requestId === this._generation.requestId) {
          const { done, total } = message.params;
          const pct = total > 0 ? ` ${Math.round((100 * done) / total)}%` : '';
          this._setStatus(`Generating…${pct}${message.params.message ? ` ${message.params.message}` : ''}`);
        }
        break;
      case 'config': {
        const next = applyConfig(this._state, message.params);
        if (next !== this._state) {
          this._update(next);
          this._renderControls();
        }
        break;
      }
      case 'playback':
        if (message.params.action === 'play') {
          void this._playPiece();
        } else {
          this._stop();
        }
        break;
      case 'generation':
        // After a reload the view may not know a generation is running: show it, allow cancel.
        if (message.params.running && !this._generation.running) {
          this._generation = { running: true, requestId: message.params.requestId };
          this._setStatus('Generating…');
        } else if (!message.params.running && this._generation.requestId === message.params.requestId && !this._generation.controller) {
          this._generation = { running: false };
        }
        this._renderGenerating();
        break;
      case 'candidates':
        this._candidates = message.params.candidates;
        this._renderCandidates();
        break;
      default:
        assertNever(message, 'notification');
    }
  }

  private _showPiece(piece: PieceView): void {
    const changed = piece.key !== this._state.pieceKey;
    this._piece = piece;
    this._problem = undefined;
    if (changed) {
      this._update({ ...this._state, pieceKey: piece.key, selection: undefined, painted: [] });
      // Candidates belong to the piece they continue: never offer another piece's for Insert.
      if (this._candidates.length > 0) {
        this._candidates = [];
        this._renderCandidates();
        this._setStatus('');
      }
      if (this._playing && this._playing.overlay === this._rollOverlay) {
        this._stop();
      }
    }
    this._renderHeader();
    this._renderSuggestion();
    this._drawAll();
    if (this._state.templateKind !== 'painted') {
      this._schedulePreview();
    }
    this._rpc.command('rendered', {
      key: piece.key,
      revision: piece.revision,
      bars: piece.ssm.bars,
      ssmSize: piece.ssm.size,
      candidates: this._candidates.length,
    });
  }

  private async _loadModels(): Promise<void> {
    try {
      const { models } = await this._rpc.request('listModels', {});
      this._models = models;
    } catch (e) {
      this._models = [];
      this._modelInfo.textContent = e instanceof RpcError ? e.message : String(e);
    }
    this._renderModels();
  }

  // ---------------------------------------------------------------------------------------------
  // Rendering the controls

  private _renderHeader(): void {
    const p = this._piece;
    if (p) {
      this._title.textContent = p.title || p.name;
      const where = p.format === 'abc' ? `${p.name}, tune ${p.tuneIndex + 1} of ${p.tuneCount}` : p.name;
      const extra = p.roll.truncated ? ` · ${p.roll.truncated} notes not shown` : '';
      this._subtitle.textContent = `${where} · ${p.ssm.bars} bars · ${p.meters.join(', ')} · ${p.keys.join(', ')} · ${p.feature}${extra}`;
    } else {
      this._title.textContent = this._kind === 'midi' ? 'MIDI file' : 'Refrain structure';
      this._subtitle.textContent = '';
    }
    const problem = this._problem;
    this._banner.hidden = !problem;
    this._banner.textContent = problem?.reason ?? '';
    this._banner.classList.toggle('error', problem?.isError === true);
    this._root.classList.toggle('stale', !!problem && !!p);
    this._root.classList.toggle('empty', !p);
  }

  private _renderControls(): void {
    this._renderOffsets();
    this._renderLayers();
    this._renderModels();
    this._renderTemplate();
    for (const key of ['bars', 'candidates', 'temperature', 'topP', 'seed'] as const) {
      const field = this._fields.get(key);
      if (field) {
        field.value = String(this._state[key]);
        field.invalid = false;
      }
    }
  }

  private _renderOffsets(): void {
    this._offsetBox.replaceChildren();
    for (const o of this._state.offsetChoices) {
      const box = document.createElement('vscode-checkbox') as VscodeCheckbox;
      box.label = String(o);
      box.checked = this._state.offsets.includes(o);
      box.title = `Attend in full to the bar ${o} bar${o === 1 ? '' : 's'} back`;
      box.addEventListener('change', () => {
        this._update(toggleOffset(this._state, o, box.checked));
        this._drawChart();
      });
      this._offsetBox.append(box);
    }
  }

  private _renderSuggestion(): void {
    const peaks = this._piece?.topIntervals ?? [];
    this._suggestion.textContent = peaks.length > 0
      ? `Peaks of this piece's L_t: ${peaks.slice(0, 5).map((p) => `${p.interval} (${p.value.toFixed(2)})`).join(', ')}`
      : 'This piece has no clear L_t peaks yet.';
  }

  private _applySuggestion(): void {
    const offsets = suggestOffsets(this._piece?.topIntervals ?? []);
    if (offsets.length === 0) {
      this._setStatus('No peaks to suggest for this piece.');
      return;
    }
    this._update(addOffsets(this._state, offsets));
    this._renderOffsets();
    this._drawChart();
    this._setStatus(`Switched on offsets ${offsets.join(', ')} from this piece's L_t peaks.`);
  }

  private _addOffsetFromField(): void {
    const field = this._fields.get('addOffset');
    const value = field ? parseIntField(field.value, 1, MAX_RELATED_OFFSET) : undefined;
    if (value === undefined || !field) {
      if (field) {
        field.invalid = true;
      }
      return;
    }
    field.value = '';
    this._update(addOffsets(this._state, [value]));
    this._renderOffsets();
    this._drawChart();
  }

  private _renderLayers(): void {
    this._layerBox.replaceChildren();
    this._state.layerWindows.forEach((w, layer) => {
      const select = document.createElement('vscode-single-select') as VscodeSingleSelect;
      const choices = LAYER_WINDOW_CHOICES.includes(w) ? LAYER_WINDOW_CHOICES : [...LAYER_WINDOW_CHOICES, w];
      for (const c of choices) {
        const o = document.createElement('vscode-option');
        o.value = String(c);
        o.textContent = c === 0 ? 'all tokens' : `last ${c}`;
        select.append(o);
      }
      select.value = String(w);
      select.addEventListener('change', () => {
        const windows = [...this._state.layerWindows];
        windows[layer] = Number(select.value) || 0;
        this._update({ ...this._state, layerWindows: windows });
      });
      this._layerBox.append(h('label', { className: 'field' }, h('span', {}, `Layer ${layer + 1}`), select));
    });
  }

  private _renderModels(): void {
    const pes = [...new Set(this._models.map((m) => m.positionalEncoding))];
    this._peSelect.replaceChildren();
    const any = document.createElement('vscode-option');
    any.value = '*';
    any.textContent = 'Any';
    this._peSelect.append(any);
    for (const pe of pes) {
      const o = document.createElement('vscode-option');
      o.value = pe;
      o.textContent = pe;
      this._peSelect.append(o);
    }
    this._peSelect.value = pes.includes(this._state.positionalEncoding) ? this._state.positionalEncoding : '*';
    const filter = pes.includes(this._state.positionalEncoding) ? this._state.positionalEncoding : '';
    const models = this._models.filter((m) => !filter || m.positionalEncoding === filter);
    this._modelSelect.replaceChildren();
    if (models.length === 0) {
      const o = document.createElement('vscode-option');
      o.value = '';
      o.textContent = this._models.length === 0 ? 'No model installed' : 'No model with this encoding';
      this._modelSelect.append(o);
      this._modelSelect.value = '';
      this._modelSelect.disabled = true;
      this._peSelect.disabled = this._models.length === 0;
    } else {
      this._modelSelect.disabled = false;
      this._peSelect.disabled = false;
      for (const m of models) {
        const o = document.createElement('vscode-option');
        o.value = m.id;
        o.textContent = `${m.label} (${m.positionalEncoding})`;
        this._modelSelect.append(o);
      }
      const chosen = models.find((m) => m.id === this._state.modelId) ?? models[0];
      this._modelSelect.value = chosen.id;
      if (chosen.id !== this._state.modelId || chosen.layers !== this._state.layerWindows.length) {
        this._update(withLayers({ ...this._state, modelId: chosen.id }, chosen.layers));
        this._renderLayers();
      }
    }
    this._renderModelInfo();
    this._drawChart();
  }

  private _renderModelInfo(): void {
    const model = this._models.find((m) => m.id === this._state.modelId);
    if (this._models.length === 0) {
      this._modelInfo.textContent = 'No generation model is installed; Generate will say so.';
    } else if (model) {
      this._modelInfo.textContent = `${model.layers} layers · ${model.positionalEncoding}${model.description ? ` · ${model.description}` : ''}`;
    }
  }

  private _selectedModel(): ModelChoice | undefined {
    return this._models.find((m) => m.id === this._state.modelId);
  }

  private _renderTemplate(): void {
    this._templateSelect.value = this._state.templateKind;
    this._templateDetail.replaceChildren();
    this._previewCanvas.hidden = true;
    switch (this._state.templateKind) {
      case 'piece':
        this._templateInfo.textContent = 'The new bars follow this piece\'s own self-similarity.';
        break;
      case 'file': {
        const name = this._state.templateFile?.name ?? 'no file chosen';
        this._templateDetail.append(h('div', { className: 'row' }, this._button('Choose file…', () => void this._pickFile(), true), h('span', { className: 'file-name' }, name)));
        this._templateInfo.textContent = this._state.templateFile ? '' : 'Pick an ABC or MIDI file whose structure to follow.';
        this._previewCanvas.hidden = !this._state.templateFile;
        break;
      }
      case 'form':
        this._templateDetail.append(this._formField);
        this._templateInfo.textContent = 'Sections with bar counts: A8 A8 B8 A8, AABA (8 bars each), or POP909 labels like i4A4B8A4o2.';
        this._previewCanvas.hidden = false;
        break;
      case 'painted':
        this._templateDetail.append(this._button('Clear painting', () => this._clearPainting(), true));
        this._templateInfo.textContent = this._canPaint() || !this._piece
          ? 'Click or drag on the heatmap to mark which bars should be alike; the highlighted lines mark where the new bars begin.'
          : `Painting needs the piece and its new bars to fit in ${MAX_SSM_SIDE} bars; this one is too long.`;
        break;
      case 'none':
        this._templateInfo.textContent = 'No target structure: the related-bar offsets alone guide the model.';
        break;
      default:
        assertNever(this._state.templateKind, 'template kind');
    }
    this._drawPreview();
  }

  private async _pickFile(): Promise<void> {
    try {
      const picked = await this._rpc.request('pickTemplateFile', {});
      if (picked.uri !== undefined) {
        this._update({ ...this._state, templateFile: { uri: picked.uri, name: picked.name } });
        this._renderTemplate();
        this._schedulePreview();
      }
    } catch (e) {
      this._setStatus(e instanceof Error ? e.message : String(e), true);
    }
  }

  private _clearPainting(): void {
    this._update({ ...this._state, painted: [] });
    this._drawAll();
  }

  private _schedulePreview(): void {
    if (this._previewTimer !== undefined) {
      clearTimeout(this._previewTimer);
    }
    this._previewTimer = setTimeout(() => {
      this._previewTimer = undefined;
      void this._loadPreview();
    }, 300);
  }

  private async _loadPreview(): Promise<void> {
    const kind = this._state.templateKind;
    if (kind !== 'form' && kind !== 'file') {
      this._preview = undefined;
      return;
    }
    const choice = templateChoice(this._state, undefined);
    if (choice.kind === 'none' || (choice.kind === 'form' && choice.form.trim() === '')) {
      this._preview = undefined;
      this._drawPreview();
      return;
    }
    // Newest wins: a preview in flight is abandoned when another starts.
    this._previewController?.abort();
    const controller = new AbortController();
    this._previewController = controller;
    try {
      const result = await this._rpc.request('previewTemplate', { template: choice, bars: this._state.bars }, { signal: controller.signal });
      this._preview = { ssm: result.ssm, label: result.label };
      this._templateInfo.textContent = `Template: ${result.label}`;
      this._formField.invalid = false;
    } catch (e) {
      if (e instanceof RpcError && e.code === 'cancelled') {
        return;
      }
      this._preview = undefined;
      this._templateInfo.textContent = e instanceof Error ? e.message : String(e);
      if (kind === 'form') {
        this._formField.invalid = true;
      }
    }
    this._drawPreview();
  }

  // ---------------------------------------------------------------------------------------------
  // Drawing

  /** The SSM on the heatmap: the piece's, or in painted mode the painted template over it. */
  private _displayedSsm(): { ssm: SsmPayload; newFrom?: number } | undefined {
    const piece = this._piece;
    if (!piece) {
      return undefined;
    }
    if (this._state.templateKind === 'painted' && this._canPaint()) {
      const size = piece.ssm.bars + this._state.bars;
      return {
        ssm: { bars: size, size, data: paintedMatrix(size, this._state.painted, { bars: piece.ssm.bars, data: piece.ssm.data }) },
        newFrom: piece.ssm.bars,
      };
    }
    return { ssm: piece.ssm };
  }

  private _canPaint(): boolean {
    const p = this._piece;
    return !!p && p.ssm.size === p.ssm.bars && p.ssm.bars + this._state.bars <= MAX_SSM_SIDE;
  }

  /** The roll on screen, extended with empty bars in painted mode so it lines up with the heatmap. */
  private _displayedRoll(): RollPayload | undefined {
    const piece = this._piece;
    if (!piece) {
      return undefined;
    }
    if (this._state.templateKind === 'painted' && this._canPaint()) {
      return { ...piece.roll, barStarts: extendBarStarts(piece.roll.barStarts, this._state.bars, piece.roll.ticksPerQuarter), firstNewBar: piece.ssm.bars };
    }
    return piece.roll;
  }

  private _drawAll(): void {
    const width = Math.floor(this._views.clientWidth);
    this._side = Math.max(120, Math.min(MAX_VIEW_SIDE, width));
    this._drawRoll();
    this._drawHeatmap();
    this._drawChart();
    this._drawPreview();
    this._drawCandidates();
  }

  private _selectedBars(): number[] {
    const s = this._state.selection;
    return s ? [...new Set([s.i, s.j])] : [];
  }

  private _drawRoll(): void {
    const roll = this._displayedRoll();
    const ctx = fitCanvas(this._rollCanvas, this._side, ROLL_HEIGHT);
    fitCanvas(this._rollOverlay, this._side, ROLL_HEIGHT);
    if (!ctx) {
      return;
    }
    if (!roll) {
      this._rollLayout = undefined;
      ctx.fillStyle = this._theme.background;
      ctx.fillRect(0, 0, this._side, ROLL_HEIGHT);
      return;
    }
    this._rollLayout = createRollLayout(roll, this._side, ROLL_HEIGHT);
    drawRoll(ctx, roll, this._rollLayout, this._theme, {
      selected: this._selectedBars(),
      ...(this._hoverBar !== undefined ? { hoverBar: this._hoverBar } : {}),
      ...(roll.firstNewBar !== undefined ? { newFrom: roll.firstNewBar } : {}),
    });
  }

  private _drawHeatmap(): void {
    const shown = this._displayedSsm();
    const ctx = fitCanvas(this._ssmCanvas, this._side, this._side);
    if (!ctx) {
      return;
    }
    if (!shown) {
      ctx.fillStyle = this._theme.background;
      ctx.fillRect(0, 0, this._side, this._side);
      ctx.fillStyle = this._theme.muted;
      ctx.font = '12px var(--vscode-font-family, sans-serif)';
      ctx.fillText('No piece to show.', 12, 24);
      return;
    }
    drawHeatmap(ctx, shown.ssm, this._side, this._theme, {
      ...(this._hover ? { hover: this._hover } : {}),
      ...(this._state.selection ? { selection: this._state.selection } : {}),
      ...(shown.newFrom !== undefined ? { newFrom: shown.newFrom } : {}),
    });
  }

  private _chartLayout(lt: Float32Array | undefined): ChartLayout {
    return { width: this._side, height: CHART_HEIGHT, maxInterval: Math.max(0, (lt?.length ?? 1) - 1), left: 30, right: 8, top: 8, bottom: 18 };
  }

  private _drawChart(): void {
    const lt = this._piece?.lt;
    const ctx = fitCanvas(this._chartCanvas, this._side, CHART_HEIGHT);
    if (!ctx) {
      return;
    }
    const layout = this._chartLayout(lt);
    const corpus = this._selectedModel()?.corpusLt;
    drawChart(ctx, layout, lt ?? new Float32Array(1), this._theme, {
      offsets: this._state.offsets,
      peaks: (this._piece?.topIntervals ?? []).map((p) => p.interval),
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

  private _drawPreview(): void {
    const preview = this._preview;
    const kind = this._state.templateKind;
    if (!preview || preview.ssm.size === 0 || (kind !== 'form' && kind !== 'file')) {
      this._previewCanvas.hidden = true;
      return;
    }
    this._previewCanvas.hidden = false;
    const ctx = fitCanvas(this._previewCanvas, 140, 140);
    if (ctx) {
      drawHeatmap(ctx, preview.ssm, 140, this._theme);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Pointer and keyboard

  private _setupPointer(): void {
    const canvas = this._ssmCanvas;
    const local = (e: MouseEvent): [number, number] => {
      const r = canvas.getBoundingClientRect();
      return [e.clientX - r.left, e.clientY - r.top];
    };
    canvas.addEventListener('mousemove', (e) => {
      const shown = this._displayedSsm();
      const [x, y] = local(e);
      const hit = shown ? heatmapHit({ x0: 0, y0: 0, side: this._side }, shown.ssm, x, y) : undefined;
      this._hover = hit;
      if (hit && this._paintDrag !== undefined) {
        this._paint(hit, this._paintDrag);
      }
      this._showTooltip(hit, x, y);
      this._drawHeatmap();
    });
    canvas.addEventListener('mouseleave', () => {
      this._hover = undefined;
      this._paintDrag = undefined;
      this._tooltip.hidden = true;
      this._drawHeatmap();
    });
    canvas.addEventListener('mousedown', (e) => {
      const shown = this._displayedSsm();
      const [x, y] = local(e);
      const hit = shown ? heatmapHit({ x0: 0, y0: 0, side: this._side }, shown.ssm, x, y) : undefined;
      if (!hit) {
        return;
      }
      if (this._state.templateKind === 'painted' && this._canPaint()) {
        const on = !isPainted(this._state, hit.rowBars.start, hit.colBars.start);
        this._paintDrag = on;
        this._paint(hit, on);
        return;
      }
      this._select(hit.rowBars.start, hit.colBars.start);
    });
    window.addEventListener('mouseup', () => {
      this._paintDrag = undefined;
    });
    canvas.addEventListener('keydown', (e) => this._heatmapKey(e));

    const roll = this._rollCanvas;
    roll.addEventListener('mousemove', (e) => {
      const layout = this._rollLayout;
      const bar = layout ? xToBar(layout, e.clientX - roll.getBoundingClientRect().left) : -1;
      const next = bar >= 0 ? bar : undefined;
      if (next !== this._hoverBar) {
        this._hoverBar = next;
        this._drawRoll();
      }
    });
    roll.addEventListener('mouseleave', () => {
      this._hoverBar = undefined;
      this._drawRoll();
    });
    roll.addEventListener('click', (e) => {
      const layout = this._rollLayout;
      const bar = layout ? xToBar(layout, e.clientX - roll.getBoundingClientRect().left) : -1;
      if (bar >= 0 && this._piece && bar < this._piece.ssm.bars) {
        const s = this._state.selection;
        // Shift-click picks the second bar of the pair.
        this._select(e.shiftKey && s ? s.i : bar, bar);
      }
    });

    const chart = this._chartCanvas;
    chart.addEventListener('mousemove', (e) => {
      const t = chartIntervalAt(this._chartLayout(this._piece?.lt), e.clientX - chart.getBoundingClientRect().left);
      if (t !== this._hoverT) {
        this._hoverT = t;
        this._drawChart();
      }
    });
    chart.addEventListener('mouseleave', () => {
      this._hoverT = undefined;
      this._drawChart();
    });
  }

  private _heatmapKey(e: KeyboardEvent): void {
    const piece = this._piece;
    if (!piece || piece.ssm.bars === 0) {
      return;
    }
    const n = piece.ssm.bars;
    const s = this._state.selection ?? { i: 0, j: 0 };
    const moves: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const move = moves[e.key];
    if (move) {
      e.preventDefault();
      this._select(Math.max(0, Math.min(n - 1, s.i + move[0])), Math.max(0, Math.min(n - 1, s.j + move[1])));
    } else if (e.key === ' ' || e.key === 'Enter') {
      e.preventDefault();
      void this._playSelection();
    }
  }

  private _showTooltip(hit: HeatmapHit | undefined, x: number, y: number): void {
    if (!hit) {
      this._tooltip.hidden = true;
      return;
    }
    const piece = this._piece;
    const newFrom = this._displayedSsm()?.newFrom;
    const label = (span: { start: number; end: number }): string => (newFrom !== undefined && span.start >= newFrom ? `new ${span.start - newFrom + 1}` : barsText(span));
    const painted = this._state.templateKind === 'painted' && this._canPaint();
    this._tooltip.textContent = `Bars ${label(hit.rowBars)} × ${label(hit.colBars)} · ${painted ? 'template' : 'similarity'} ${hit.value.toFixed(2)}`;
    if (!painted && piece && piece.ssm.size < piece.ssm.bars) {
      this._tooltip.textContent += ' (block mean)';
    }
    this._tooltip.hidden = false;
    const left = Math.min(x + 14, this._side - 180);
    this._tooltip.style.left = `${Math.max(0, left)}px`;
    this._tooltip.style.top = `${y + 14}px`;
  }

  private _paint(hit: HeatmapHit, on: boolean): void {
    const next = togglePainted(this._state, hit.rowBars.start, hit.colBars.start, on);
    if (next !== this._state) {
      this._update(next);
      this._drawHeatmap();
    }
  }

  private _select(i: number, j: number): void {
    this._update({ ...this._state, selection: { i, j } });
    this._drawRoll();
    this._drawHeatmap();
    if (this._piece?.selectable) {
      this._rpc.command('selectBars', { i, j });
    }
    this._setStatus(i === j ? `Bar ${i + 1} selected.` : `Bars ${i + 1} and ${j + 1} selected.`);
  }

  // ---------------------------------------------------------------------------------------------
  // Generation

  private _setStatus(text: string, isError = false): void {
    this._status.textContent = text;
    this._status.classList.toggle('error', isError);
  }

  private _renderGenerating(): void {
    const running = this._generation.running;
    this._cancelButton.disabled = !running;
    this._progressRing.hidden = !running;
    this._generateButton.textContent = running ? 'Generate again' : 'Generate';
  }

  private async _generate(): Promise<void> {
    const invalid = [...this._fields.entries()].filter(([k, f]) => k !== 'addOffset' && f.invalid).map(([k]) => k);
    if (invalid.length > 0) {
      this._setStatus(`Fix the highlighted field${invalid.length > 1 ? 's' : ''} first.`, true);
      return;
    }
    if (this._state.templateKind === 'file' && !this._state.templateFile) {
      this._setStatus('Choose a template file first, or pick another template.', true);
      return;
    }
    // Newest wins: a generation in flight is cancelled when a new one starts.
    this._generation.controller?.abort();
    const controller = new AbortController();
    this._generation = { controller, running: true };
    this._renderGenerating();
    this._setStatus('Generating…');
    const piece = this._piece;
    const params = generateParams(this._state, templateChoice(this._state, piece ? { bars: piece.ssm.bars, ssm: piece.ssm } : undefined));
    try {
      const result = await this._rpc.request('generate', params, { signal: controller.signal }, (id) => {
        this._generation.requestId = id;
      });
      if (this._generation.controller !== controller) {
        return;
      }
      this._candidates = result.candidates;
      this._renderCandidates();
      this._setStatus(result.candidates.length > 0 ? `${result.candidates.length} candidate${result.candidates.length > 1 ? 's' : ''} ready.` : 'The model returned no candidate.');
    } catch (e) {
      if (this._generation.controller !== controller) {
        return;
      }
      const code = e instanceof RpcError ? e.code : 'failed';
      this._setStatus(code === 'cancelled' ? 'Generation cancelled.' : e instanceof Error ? e.message : String(e), code !== 'cancelled');
    } finally {
      if (this._generation.controller === controller) {
        this._generation = { running: false };
        this._renderGenerating();
      }
    }
  }

  private _cancelGeneration(): void {
    const { controller, requestId } = this._generation;
    if (controller) {
      controller.abort();
    } else if (requestId !== undefined) {
      // A generation started before this view reloaded: only the host knows it.
      this._rpc.command('cancel', { requestId });
      this._generation = { running: false };
      this._renderGenerating();
      this._setStatus('Generation cancelled.');
    }
  }

  private async _insert(candidate: CandidateView, button: VscodeButton): Promise<void> {
    button.disabled = true;
    try {
      const result = await this._rpc.request('insert', { candidateId: candidate.id });
      this._setStatus(result.message);
    } catch (e) {
      this._setStatus(e instanceof Error ? e.message : String(e), true);
    } finally {
      button.disabled = false;
    }
  }

  private _renderCandidates(): void {
    this._candidateBox.replaceChildren();
    if (this._candidates.length === 0) {
      this._candidateBox.append(h('p', { className: 'hint' }, 'Generated candidates appear here, side by side, with their piano rolls, SSMs and scores.'));
      return;
    }
    for (const c of this._candidates) {
      const roll = h('canvas', { className: 'mini-roll', attrs: { role: 'img', 'aria-label': `${c.label} piano roll` } });
      const overlay = h('canvas', { className: 'overlay' });
      const ssm = h('canvas', { className: 'mini-ssm', attrs: { role: 'img', 'aria-label': `${c.label} self-similarity` } });
      const insert = this._button('Insert', () => void this._insert(c, insert), false, 'Insert the new bars into the piece (one undo step)');
      const play = this._button('Play', () => void this._playCandidate(c, overlay), true);
      const metrics = h('dl', { className: 'metrics' });
      for (const m of c.metrics) {
        metrics.append(h('dt', {}, m.name), h('dd', {}, formatValue(m.value)));
      }
      const card = h(
        'article',
        { className: 'card' },
        h('header', {}, h('strong', {}, c.label), h('span', { className: 'hint' }, ` +${c.newBars} bars`)),
        h('div', { className: 'mini-roll-wrap' }, roll, overlay),
        h('div', { className: 'card-body' }, ssm, metrics),
        h('div', { className: 'card-actions' }, insert, play),
      );
      (card as HTMLElement & { candidate?: CandidateView }).candidate = c;
      this._candidateBox.append(card);
    }
    this._drawCandidates();
    if (this._piece) {
      this._rpc.command('rendered', { key: this._piece.key, revision: this._piece.revision, bars: this._piece.ssm.bars, ssmSize: this._piece.ssm.size, candidates: this._candidates.length });
    }
  }

  private _drawCandidates(): void {
    for (const card of Array.from(this._candidateBox.querySelectorAll('article.card'))) {
      const c = (card as HTMLElement & { candidate?: CandidateView }).candidate;
      const roll = card.querySelector('canvas.mini-roll') as HTMLCanvasElement | null;
      const overlay = card.querySelector('canvas.overlay') as HTMLCanvasElement | null;
      const ssm = card.querySelector('canvas.mini-ssm') as HTMLCanvasElement | null;
      if (!c || !roll || !ssm || !overlay) {
        continue;
      }
      const width = Math.max(120, Math.floor((card as HTMLElement).clientWidth - 16));
      const rctx = fitCanvas(roll, width, 80);
      fitCanvas(overlay, width, 80);
      if (rctx) {
        drawRoll(rctx, c.roll, createRollLayout(c.roll, width, 80), this._theme, { compact: true, ...(c.roll.firstNewBar !== undefined ? { newFrom: c.roll.firstNewBar } : {}) });
      }
      const sctx = fitCanvas(ssm, 96, 96);
      if (sctx) {
        drawHeatmap(sctx, c.ssm, 96, this._theme, c.newBars > 0 ? { newFrom: c.ssm.bars - c.newBars } : {});
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Playback

  private async _start(target: PlayTarget): Promise<void> {
    this._stop();
    if (target.plan.notes.length === 0) {
      this._setStatus('Nothing to play there.');
      return;
    }
    const programs = target.roll.tracks.map((t) => t.program);
    const ok = await this._synth.play(target.plan, programs, () => {
      if (this._playing === target) {
        this._playing = undefined;
        this._clearPlayhead(target);
      }
    });
    if (!ok) {
      this._setStatus('Audio could not start: click Play in the view once to allow sound.', true);
      return;
    }
    this._playing = target;
    const frame = (): void => {
      if (this._playing !== target) {
        return;
      }
      const elapsed = this._synth.elapsed;
      const layout = target.layout();
      const tick = elapsed !== undefined ? playheadTick(target.roll, target.plan, elapsed) : undefined;
      const ctx = target.overlay.getContext('2d');
      if (ctx && layout) {
        const dpr = target.overlay.width / Math.max(1, layout.width);
        ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
        drawPlayhead(ctx, layout.width, layout.height, tick !== undefined ? tickToX(layout, target.roll.barStarts, tick) : undefined, this._theme);
      }
      this._frame = requestAnimationFrame(frame);
    };
    this._frame = requestAnimationFrame(frame);
  }

  private _clearPlayhead(target: PlayTarget): void {
    const ctx = target.overlay.getContext('2d');
    ctx?.clearRect(0, 0, target.overlay.width, target.overlay.height);
  }

  private _stop(): void {
    const playing = this._playing;
    this._playing = undefined;
    cancelAnimationFrame(this._frame);
    this._synth.stop();
    if (playing) {
      this._clearPlayhead(playing);
    }
  }

  private _pieceTarget(segments: readonly PlaySegment[]): PlayTarget | undefined {
    const piece = this._piece;
    if (!piece) {
      return undefined;
    }
    return { roll: piece.roll, plan: planPlayback(piece.roll, segments), overlay: this._rollOverlay, layout: () => this._rollLayout };
  }

  private async _playPiece(): Promise<void> {
    const piece = this._piece;
    if (!piece) {
      this._setStatus('No piece to play.');
      return;
    }
    const bars = piece.roll.barStarts;
    const target = this._pieceTarget([{ from: bars[0], to: bars[bars.length - 1] }]);
    if (target) {
      await this._start(target);
    }
  }

  private async _playSelection(): Promise<void> {
    const piece = this._piece;
    const s = this._state.selection;
    if (!piece || !s) {
      this._setStatus('Select bars first: click the heatmap (bars i and j) or the piano roll.');
      return;
    }
    const segments = s.i === s.j ? [barSpan(piece.roll.barStarts, s.i, s.i)] : [barSpan(piece.roll.barStarts, s.i, s.i), barSpan(piece.roll.barStarts, s.j, s.j)];
    const target = this._pieceTarget(segments);
    if (target) {
      await this._start(target);
    }
  }

  private async _playCandidate(c: CandidateView, overlay: HTMLCanvasElement): Promise<void> {
    const bars = c.roll.barStarts;
    const from = Math.max(0, (c.roll.firstNewBar ?? 0) - 1);
    const plan = planPlayback(c.roll, [{ from: bars[from], to: bars[bars.length - 1] }]);
    const width = overlay.width / Math.max(1, Math.min(3, window.devicePixelRatio || 1));
    await this._start({ roll: c.roll, plan, overlay, layout: () => createRollLayout(c.roll, width, 80) });
  }
}
