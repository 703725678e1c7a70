/**
 * The view: the structure panel and the MIDI editor share it. From the top: the piece's title and
 * playback, the musical controls with Generate, the candidates, the tune as sheet music (ABC), the
 * piano roll and heatmap, then the research section (related bars, mask scales, model, L_t). One
 * store holds the UI state (kept across reloads with `getState/setState`); the components render
 * from it. It talks to the host only through the protocol client.
 */

import { PROTOCOL_VERSION, assertNever } from '../src/protocol/messages';
import type { CandidateView, NotificationMessage, PieceView, ViewKind } from '../src/protocol/messages';
import { CandidateList, MINI_ROLL_HEIGHT } from './candidates';
import { ComposeControls } from './composeControls';
import { ResearchControls } from './researchControls';
import { button, h } from './dom';
import './elements';
import { GenerationRunner } from './generation';
import { createRollLayout } from './layout';
import { NotationView } from './notation';
import { barAtTick } from './notationMap';
import { ticksToWholeNotes } from './noteTimeline';
import { Player } from './player';
import type { PlayTarget } from './player';
import { RpcClient, RpcError } from './rpc';
import { barSpan, planPlayback } from './schedule';
import type { PlaySegment } from './schedule';
import { applyConfig, restoreState, templateChoice } from './state';
import { Store } from './store';
import { StructureViews } from './structureViews';
import { readTheme } from './theme';
import type { Theme } from './theme';

/** What `acquireVsCodeApi()` returns. */
export interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

/** The whole view. */
export class App {
  private readonly _store: Store;
  private readonly _rpc: RpcClient;
  private _theme: Theme;
  private _piece: PieceView | undefined;
  private _problem: { reason: string; isError: boolean } | undefined;
  private _previewController: AbortController | undefined;
  private _previewTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly _player: Player;
  private readonly _compose: ComposeControls;
  private readonly _research: ResearchControls;
  private readonly _views: StructureViews;
  private readonly _notation: NotationView;
  private readonly _candidates: CandidateList;
  private readonly _generation: GenerationRunner;
  private readonly _title = h('h1', { className: 'title' });
  private readonly _subtitle = h('span', { className: 'subtitle' });
  private readonly _banner = h('div', { className: 'banner', attrs: { role: 'status', 'aria-live': 'polite' }, hidden: true });
  private readonly _tuneSection = h('section', { className: 'tune', attrs: { 'aria-label': 'The tune as sheet music' } });
  private readonly _main = h('main', { className: 'layout' });

  constructor(
    private readonly _root: HTMLElement,
    private readonly _kind: ViewKind,
    api: VsCodeApi,
  ) {
    this._store = new Store(restoreState(api.getState()), (s) => api.setState(s));
    this._theme = readTheme();
    this._rpc = new RpcClient((m) => api.postMessage(m));
    this._rpc.onNotification((m) => this._onNotification(m));
    this._player = new Player(() => this._theme, (text, isError) => this._compose.setStatus(text, isError));
    this._compose = new ComposeControls(this._store, {
      generate: () => void this._generation.generate(),
      cancel: () => this._generation.cancel(),
      pickFile: () => void this._pickFile(),
      clearPainting: () => {
        this._store.update((s) => ({ ...s, painted: [] }));
        this._views.drawHeatmap();
      },
      templateChanged: () => {
        this._drawAll();
        this._schedulePreview();
      },
    });
    this._views = new StructureViews(this._store, {
      select: (i, j) => this._select(i, j),
      playSelection: () => void this._playSelection(),
      theme: () => this._theme,
      model: () => this._research?.selectedModel,
    });
    this._research = new ResearchControls(
      this._store,
      { structureChanged: () => this._views.drawChart(), status: (text) => this._compose.setStatus(text) },
      [this._views.chartElement],
    );
    this._notation = new NotationView((bar) => this._select(bar, bar));
    this._candidates = new CandidateList(
      {
        insert: (c, b) => void this._generation.insert(c, b),
        play: (c, overlay) => void this._playCandidate(c, overlay),
      },
      _kind === 'midi' ? 'midi' : 'abc',
    );
    this._generation = new GenerationRunner({
      store: this._store,
      rpc: this._rpc,
      compose: this._compose,
      research: this._research,
      candidates: this._candidates,
      piece: () => this._piece,
      theme: () => this._theme,
      rendered: () => this._sendRendered(),
    });
    this._store.subscribe((s, prev) => {
      if (s.bars !== prev.bars && s.templateKind === 'painted') {
        this._drawAll();
      }
    });
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
    }).observe(this._main);
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

  private _build(): void {
    this._root.replaceChildren();
    const playBars = button('Play bars', () => void this._playSelection(), true, 'Play the selected bars (click the notation, the heatmap or the roll to select)');
    const header = h(
      'header',
      { className: 'header' },
      h('div', { className: 'heading' }, this._title, this._subtitle),
      h(
        'div',
        { className: 'actions' },
        button('Play', () => void this._playPiece(), false, 'Play the piece (Refrain: Play)'),
        playBars,
        button('Stop', () => this._player.stop(), true, 'Stop playback (Refrain: Stop Playback)'),
      ),
    );
    this._tuneSection.append(h('h2', {}, 'The tune'), this._notation.element);
    this._tuneSection.hidden = this._kind === 'midi';
    this._main.append(
      this._compose.element,
      this._views.previewElement,
      h('h2', { className: 'candidates-title' }, 'Candidates'),
      this._candidates.element,
      this._tuneSection,
      this._views.element,
      this._research.element,
    );
    this._root.append(header, this._banner, this._main);
    this._renderHeader();
    this._generation.render();
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
          this._views.piece = undefined;
        }
        this._renderHeader();
        this._drawAll();
        break;
      case 'progress':
        this._generation.progress(message.params);
        break;
      case 'config': {
        const before = this._store.state;
        this._store.update((s) => applyConfig(s, message.params));
        if (this._store.state !== before) {
          this._compose.renderValues();
          this._research.render();
        }
        break;
      }
      case 'playback':
        if (message.params.action === 'play') {
          void this._playPiece();
        } else {
          this._player.stop();
        }
        break;
      case 'generation':
        this._generation.hostRun(message.params);
        break;
      case 'candidates':
        this._candidates.render(message.params.candidates, message.params.stale, this._theme);
        this._generation.render();
        break;
      default:
        assertNever(message, 'notification');
    }
  }

  private _showPiece(piece: PieceView): void {
    const changed = piece.key !== this._store.state.pieceKey;
    this._piece = piece;
    this._views.piece = piece;
    this._problem = undefined;
    if (changed) {
      this._store.update((s) => ({ ...s, pieceKey: piece.key, selection: undefined, painted: [] }));
      // Candidates belong to the piece they continue: never offer another piece's for Insert.
      if (this._candidates.candidates.length > 0) {
        this._candidates.render([], undefined);
        this._compose.setStatus('');
        this._generation.render();
      }
      if (this._player.playing?.overlay === this._views.rollOverlay) {
        this._player.stop();
      }
    }
    this._renderHeader();
    this._research.renderSuggestion(piece.topIntervals);
    this._drawAll();
    if (this._store.state.templateKind !== 'painted') {
      this._schedulePreview();
    }
    this._sendRendered();
  }

  private _sendRendered(): void {
    const p = this._piece;
    if (p) {
      this._rpc.command('rendered', { key: p.key, revision: p.revision, bars: p.ssm.bars, ssmSize: p.ssm.size, candidates: this._candidates.candidates.length });
    }
  }

  private async _loadModels(): Promise<void> {
    try {
      const { models } = await this._rpc.request('listModels', {});
      this._research.setModels(models);
    } catch (e) {
      this._research.setModels([], e instanceof RpcError ? e.message : String(e));
    }
  }

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

  private _drawAll(): void {
    const width = Math.floor(this._main.clientWidth);
    this._views.drawAll(width);
    this._candidates.draw(this._theme);
    if (this._kind === 'panel' && width > 0) {
      this._notation.show(this._piece?.notation, Math.min(width, 1100));
      this._highlightNotation();
    }
    this._compose.renderTemplate(this._views.canPaint() || !this._piece);
  }

  private _highlightNotation(): void {
    const s = this._store.state.selection;
    this._notation.highlight(s ? [...new Set([s.i, s.j])] : []);
  }

  // ---------------------------------------------------------------------------------------------
  // Selection and templates

  private _select(i: number, j: number): void {
    this._store.update((s) => ({ ...s, selection: { i, j } }));
    this._views.drawRoll();
    this._views.drawHeatmap();
    this._highlightNotation();
    if (this._piece?.selectable) {
      this._rpc.command('selectBars', { i, j });
    }
    this._compose.setStatus(i === j ? `Bar ${i + 1} selected.` : `Bars ${i + 1} and ${j + 1} selected.`);
  }

  private async _pickFile(): Promise<void> {
    try {
      const picked = await this._rpc.request('pickTemplateFile', {});
      if (picked.uri !== undefined) {
        this._store.update((s) => ({ ...s, templateFile: { uri: picked.uri, name: picked.name } }));
        this._compose.setTemplateInfo(undefined);
        this._schedulePreview();
      }
    } catch (e) {
      this._compose.setStatus(e instanceof Error ? e.message : String(e), true);
    }
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
    const state = this._store.state;
    const choice = templateChoice(state, undefined);
    if ((state.templateKind !== 'form' && state.templateKind !== 'file') || choice.kind === 'none' || (choice.kind === 'form' && choice.form.trim() === '')) {
      this._views.preview = undefined;
      this._views.drawPreview();
      return;
    }
    // Newest wins: a preview in flight is abandoned when another starts.
    this._previewController?.abort();
    const controller = new AbortController();
    this._previewController = controller;
    try {
      const result = await this._rpc.request('previewTemplate', { template: choice, bars: state.bars }, { signal: controller.signal });
      this._views.preview = { ssm: result.ssm, label: result.label };
      this._compose.setTemplateInfo(`The form to follow: ${result.label}`);
      this._compose.setFormInvalid(false);
    } catch (e) {
      if (e instanceof RpcError && e.code === 'cancelled') {
        return;
      }
      this._views.preview = undefined;
      this._compose.setTemplateInfo(e instanceof Error ? e.message : String(e));
      if (state.templateKind === 'form') {
        this._compose.setFormInvalid(true);
      }
    }
    this._views.drawPreview();
  }

  // ---------------------------------------------------------------------------------------------
  // Playback

  private _pieceTarget(segments: readonly PlaySegment[]): PlayTarget | undefined {
    const piece = this._piece;
    if (!piece) {
      return undefined;
    }
    return {
      roll: piece.roll,
      plan: planPlayback(piece.roll, segments),
      overlay: this._views.rollOverlay,
      layout: () => this._views.rollLayout,
      // The bar playing, and the note playing in it, are marked in the notation as the playhead moves.
      onTick: (tick) => {
        const bar = tick !== undefined ? barAtTick(piece.roll.barStarts, tick) : -1;
        this._notation.playing(bar, bar >= 0 && tick !== undefined ? ticksToWholeNotes(tick - piece.roll.barStarts[bar], piece.roll.ticksPerQuarter) : undefined);
      },
    };
  }

  private async _playPiece(): Promise<void> {
    const piece = this._piece;
    if (!piece) {
      this._compose.setStatus('No piece to play.');
      return;
    }
    const bars = piece.roll.barStarts;
    const target = this._pieceTarget([{ from: bars[0], to: bars[bars.length - 1] }]);
    if (target) {
      await this._player.start(target);
    }
  }

  private async _playSelection(): Promise<void> {
    const piece = this._piece;
    const s = this._store.state.selection;
    if (!piece || !s) {
      this._compose.setStatus('Select bars first: click the notation, the heatmap (bars i and j) or the piano roll.');
      return;
    }
    const segments = s.i === s.j ? [barSpan(piece.roll.barStarts, s.i, s.i)] : [barSpan(piece.roll.barStarts, s.i, s.i), barSpan(piece.roll.barStarts, s.j, s.j)];
    const target = this._pieceTarget(segments);
    if (target) {
      await this._player.start(target);
    }
  }

  private async _playCandidate(c: CandidateView, overlay: HTMLCanvasElement | undefined): Promise<void> {
    const bars = c.roll.barStarts;
    const from = Math.max(0, (c.roll.firstNewBar ?? 0) - 1);
    const plan = planPlayback(c.roll, [{ from: bars[from], to: bars[bars.length - 1] }]);
    const width = overlay ? this._candidates.rollWidth(overlay) : 0;
    await this._player.start({
      roll: c.roll,
      plan,
      ...(overlay ? { overlay } : {}),
      layout: () => (overlay ? createRollLayout(c.roll, width, MINI_ROLL_HEIGHT) : undefined),
      // The card's notation holds the new bars only: its clock starts at the first new bar.
      onTick: (tick) => this._candidates.playing(c, tick),
    });
  }
}
