import * as vscode from 'vscode';
import type { MidiEditorProvider } from '../midi/midiEditor';
import type { Logger } from '../../platform/logger';
import { Disposable } from '../../platform/disposable';
import type { CommandMessage, HostToWebviewMessage } from '../../protocol/messages';
import { sessionHost } from '../shared/sessionHost';
import type { ParseHost } from '../../host/parseHost';
import type { GenerationService } from '../../generation/service';
import { VIEW_INSERT, insertCandidate } from '../../generation/insert';
import { GenerationSession } from '../shared/generationSession';
import { renderViewHtml, webviewOptions } from '../shared/html';
import { VIEW_SECTIONS, readConfig } from '../../generation/config';
import { configPayload } from '../shared/payloads';
import { PieceTracker } from './pieceTracker';
import type { TrackedState } from './pieceTracker';
import type { ViewStatus } from '../shared/viewStatus';
import { WebviewChannel } from '../shared/webviewChannel';

/** The view type of the structure panel. */
export const STRUCTURE_PANEL_VIEW_TYPE = 'refrain.structurePanel';

/**
 * The structure panel: a webview beside the editor showing the active piece's piano roll, bar
 * SSM, L_t curve and notation, with the generation controls. It follows the active ABC tune
 * while it is open (a MIDI file has its own MIDI editor); closing it stops all its work.
 */
export class StructurePanel extends Disposable {
  private readonly _panel: vscode.WebviewPanel;
  private readonly _channel: WebviewChannel;
  private readonly _tracker: PieceTracker;
  private readonly _session: GenerationSession;
  private readonly _onDidDispose = this._register(new vscode.EventEmitter<void>());
  /** Fires when the panel closes. */
  readonly onDidDispose = this._onDidDispose.event;
  readonly status: ViewStatus = { ready: false, readyCount: 0 };

  constructor(
    extensionUri: vscode.Uri,
    generation: GenerationService,
    midi: MidiEditorProvider,
    parser: ParseHost,
    private readonly _log: Logger,
  ) {
    super();
    this._panel = vscode.window.createWebviewPanel(
      STRUCTURE_PANEL_VIEW_TYPE,
      'Refrain Structure',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      webviewOptions(extensionUri),
    );
    this._register({ dispose: () => this._panel.dispose() });
    this._tracker = this._register(new PieceTracker(parser, _log.child('tracker')));
    this._session = this._register(
      new GenerationSession(
        generation,
        sessionHost(parser, () => this._channel, {
          current: () => {
            const piece = this._tracker.piece;
            return piece ? { source: piece.source, feature: piece.feature } : undefined;
          },
          insert: (candidate) => {
            const doc = candidate.source.format === 'midi' ? midi.documentFor(candidate.source.uri) : undefined;
            return insertCandidate(candidate, doc ? { kind: 'score', replace: (next, label) => doc.applyEdit(next, label) } : { kind: 'text' }, VIEW_INSERT);
          },
        }),
        _log,
        'panel',
      ),
    );
    this._channel = this._register(new WebviewChannel(this._panel.webview, this._session.handlers(), (m) => this._onCommand(m), _log));
    this._register(
      this._panel.onDidChangeViewState((e) => {
        if (!e.webviewPanel.visible) {
          this._channel.markNotReady();
          this.status.ready = false;
        }
      }),
    );
    this._register(this._panel.onDidDispose(() => this.dispose()));
    this._register(this._tracker.onDidChange((state) => this._show(state)));
    this._register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (VIEW_SECTIONS.some((s) => e.affectsConfiguration(s))) {
          this._channel.notify('config', configPayload(readConfig()));
          this._tracker.refresh();
        }
      }),
    );
    this._channel.notify('config', configPayload(readConfig()));
    this._panel.webview.html = renderViewHtml(this._panel.webview, extensionUri, 'panel', 'Refrain Structure');
    this._tracker.start();
  }

  /** Brings the panel to the front without taking focus from the editor. */
  reveal(): void {
    this._panel.reveal(undefined, true);
  }

  /** Resolves once the webview has loaded and said `ready`. */
  whenReady(): Promise<void> {
    return this._channel.whenReady();
  }

  /** Handles a message as if the webview had posted it, resolving with the answer (integration tests). */
  request(message: unknown): Promise<HostToWebviewMessage | undefined> {
    return this._channel.handle(message);
  }

  /** Starts or stops playback in the panel. */
  playback(action: 'play' | 'stop'): void {
    this._channel.notify('playback', { action });
  }

  private _show(state: TrackedState): void {
    // Candidates made from an older text are marked stale before the new piece is shown.
    this._session.pieceChanged(state.kind === 'piece' ? state.piece.source : undefined);
    if (state.kind === 'piece') {
      this.status.pieceKey = state.piece.view.key;
      this.status.noPiece = undefined;
      this._channel.notify('piece', state.piece.view);
    } else {
      this.status.noPiece = state.reason;
      this._channel.notify('noPiece', { reason: state.reason, isError: state.isError });
    }
  }

  private _onCommand(message: CommandMessage): void {
    switch (message.method) {
      case 'ready':
        this.status.ready = true;
        this.status.readyCount++;
        break;
      case 'rendered':
        this.status.rendered = message.params;
        break;
      case 'selectBars':
        void this._selectBars(message.params.i, message.params.j);
        break;
      default:
        break;
    }
  }

  /** Selects bars i and j (performed order) of the ABC tune in its editor, via their written source ranges. */
  private async _selectBars(i: number, j: number): Promise<void> {
    const piece = this._tracker.piece;
    if (!piece?.document || piece.source.format !== 'abc') {
      return;
    }
    const score = piece.source.score;
    const ranges: vscode.Range[] = [];
    for (const bar of i === j ? [i] : [i, j]) {
      const written = score.bars[bar]?.written;
      const source = written !== undefined ? score.writtenBars[written]?.source : undefined;
      if (!source) {
        continue;
      }
      const doc = piece.document;
      if (doc.isClosed || doc.version !== piece.source.version) {
        // The text moved on since the analysis: the offsets may be off, so do nothing.
        return;
      }
      ranges.push(new vscode.Range(doc.positionAt(source.start), doc.positionAt(source.end)));
    }
    if (ranges.length === 0) {
      return;
    }
    const doc = piece.document;
    const visible = vscode.window.visibleTextEditors.find((e) => e.document === doc);
    const editor = visible ?? (await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, preserveFocus: false }));
    editor.selections = ranges.map((r) => new vscode.Selection(r.start, r.end));
    editor.revealRange(ranges[0], vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    this._log.debug(`selected bars ${i + 1} and ${j + 1}`);
  }

  override dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._onDidDispose.fire();
    super.dispose();
  }
}
