import * as vscode from 'vscode';
import type { Logger } from '../../platform/logger';
import { Disposable } from '../../platform/disposable';
import type { CommandMessage } from '../../protocol/messages';
import type { GenerationSource } from '../../generation/request';
import { VIEW_INSERT, insertCandidate } from '../../generation/insert';
import type { GenerationService } from '../../generation/service';
import type { BarFeature } from '../../structure/ssm';
import { GenerationSession } from '../shared/generationSession';
import { renderViewHtml, webviewOptions } from '../shared/html';
import { VIEW_SECTIONS, readConfig } from '../../generation/config';
import { configPayload, pieceView } from '../shared/payloads';
import { sessionHost } from '../shared/sessionHost';
import type { ParseHost } from '../../host/parseHost';
import { MusicInputError } from '../../music/score';
import type { ViewStatus } from '../shared/viewStatus';
import { WebviewChannel } from '../shared/webviewChannel';
import { MidiDocument } from './midiDocument';

/** The view type of Refrain's MIDI editor (package.json `customEditors`). */
export const MIDI_EDITOR_VIEW_TYPE = 'refrain.midiEditor';

/** One open MIDI editor: its webview channel, its generation session, and what it shows. */
class MidiEditorView extends Disposable {
  private readonly _channel: WebviewChannel;
  private readonly _session: GenerationSession;
  private _revision = 0;
  private _timer: ReturnType<typeof setTimeout> | undefined;
  readonly status: ViewStatus = { ready: false, readyCount: 0 };

  constructor(
    readonly document: MidiDocument,
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    generation: GenerationService,
    parser: ParseHost,
    private readonly _log: Logger,
  ) {
    super();
    panel.webview.options = webviewOptions(extensionUri);
    const name = document.uri.path.split('/').pop() ?? 'MIDI';
    this._session = this._register(
      new GenerationSession(
        generation,
        sessionHost(parser, () => this._channel, {
          current: () => this._current(),
          insert: (candidate) => insertCandidate(candidate, { kind: 'score', replace: (next, label) => this.document.applyEdit(next, label) }, VIEW_INSERT),
        }),
        _log,
        'midi',
      ),
    );
    this._channel = this._register(new WebviewChannel(panel.webview, this._session.handlers(), (m) => this._onCommand(m), _log));
    this._register(
      panel.onDidChangeViewState((e) => {
        if (!e.webviewPanel.visible) {
          this._channel.markNotReady();
          this.status.ready = false;
        }
      }),
    );
    this._register(document.onDidChangeContent(() => this._schedule()));
    this._register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (VIEW_SECTIONS.some((s) => e.affectsConfiguration(s))) {
          this._channel.notify('config', configPayload(readConfig()));
          this._publish();
        }
      }),
    );
    this._register({ dispose: () => this._timer !== undefined && clearTimeout(this._timer) });
    this._channel.notify('config', configPayload(readConfig()));
    this._publish();
    panel.webview.html = renderViewHtml(panel.webview, extensionUri, 'midi', name);
  }

  private _current(): { source: GenerationSource; feature: BarFeature } | undefined {
    const score = this.document.score;
    if (!score) {
      return undefined;
    }
    return {
      source: { format: 'midi', uri: this.document.uri.toString(), version: this.document.version, tuneIndex: 0, score },
      feature: readConfig().feature,
    };
  }

  private _schedule(): void {
    if (this._timer !== undefined) {
      return;
    }
    this._timer = setTimeout(() => {
      this._timer = undefined;
      this._publish();
    }, 50);
  }

  private _publish(): void {
    if (this.isDisposed) {
      return;
    }
    // Candidates made from an older version of the file are marked stale (Insert refuses them).
    this._session.pieceChanged(this._current()?.source);
    const score = this.document.score;
    if (!score) {
      const reason = this.document.error ?? 'This MIDI file could not be read.';
      this.status.noPiece = reason;
      this._channel.notify('noPiece', { reason, isError: true });
      return;
    }
    const config = readConfig();
    const name = this.document.uri.path.split('/').pop() ?? 'MIDI';
    try {
      const started = Date.now();
      const view = pieceView(score, {
        key: `midi:${this.document.uri.toString()}`,
        revision: ++this._revision,
        format: 'midi',
        name,
        tuneIndex: 0,
        tuneCount: 1,
        feature: config.feature,
        selectable: false,
      });
      this.status.pieceKey = view.key;
      this.status.noPiece = undefined;
      this._channel.notify('piece', view);
      this._log.debug(`${name}: ${score.bars.length} bars analysed in ${Date.now() - started} ms`);
    } catch (e) {
      this._log.error(`analysing ${name} failed`, e);
      this._channel.notify('noPiece', { reason: e instanceof Error ? e.message : String(e), isError: true });
    }
  }

  private _onCommand(message: CommandMessage): void {
    if (message.method === 'ready') {
      this.status.ready = true;
      this.status.readyCount++;
    } else if (message.method === 'rendered') {
      this.status.rendered = message.params;
    }
  }

  /** Starts or stops playback in the editor. */
  playback(action: 'play' | 'stop'): void {
    this._channel.notify('playback', { action });
  }
}

/**
 * The custom editor for `*.mid` / `*.midi`: piano roll per track with bar lines, the bar SSM,
 * and the generate / insert flow. Each insertion is one undo step; save writes MIDI with
 * `writeMidi`; save-as, revert and hot-exit backups work as for text files.
 */
export class MidiEditorProvider extends Disposable implements vscode.CustomEditorProvider<MidiDocument> {
  private readonly _onDidChangeCustomDocument = this._register(new vscode.EventEmitter<vscode.CustomDocumentEditEvent<MidiDocument>>());
  readonly onDidChangeCustomDocument = this._onDidChangeCustomDocument.event;
  private readonly _onDidChangeDocument = this._register(new vscode.EventEmitter<MidiDocument>());
  /** Fires when an open MIDI document's score changes (the structure panel follows it). */
  readonly onDidChangeDocument = this._onDidChangeDocument.event;
  private readonly _documents = new Map<string, MidiDocument>();
  private readonly _views = new Set<MidiEditorView>();

  constructor(
    private readonly _extensionUri: vscode.Uri,
    private readonly _generation: GenerationService,
    private readonly _parser: ParseHost,
    private readonly _log: Logger,
  ) {
    super();
    this._register({
      dispose: () => {
        for (const v of this._views) {
          v.dispose();
        }
        this._views.clear();
      },
    });
  }

  /** Registers the provider with VS Code. */
  register(): vscode.Disposable {
    return vscode.window.registerCustomEditorProvider(MIDI_EDITOR_VIEW_TYPE, this, {
      supportsMultipleEditorsPerDocument: false,
    });
  }

  /** The open document for a URI, if any. */
  documentFor(uri: vscode.Uri | string): MidiDocument | undefined {
    return this._documents.get(uri.toString());
  }

  /** The editor view shown in the active tab, if it is one of ours. */
  activeView(): { playback(action: 'play' | 'stop'): void; status: ViewStatus; document: MidiDocument } | undefined {
    for (const v of this._views) {
      if (v.panel.active) {
        return v;
      }
    }
    return undefined;
  }

  /** The editor view of a document, if one is open. */
  viewFor(uri: vscode.Uri | string): { status: ViewStatus } | undefined {
    for (const v of this._views) {
      if (v.document.uri.toString() === uri.toString()) {
        return v;
      }
    }
    return undefined;
  }

  async openCustomDocument(uri: vscode.Uri, openContext: vscode.CustomDocumentOpenContext): Promise<MidiDocument> {
    const document = await MidiDocument.open(uri, openContext.backupId, this._log, async (bytes) => {
      // Read in the parse worker; the name only tells it the format.
      const piece = (await this._parser.pieces('document.mid', bytes)).pieces[0];
      if (!piece) {
        throw new MusicInputError('midi-no-notes', 'The MIDI file has no piece Refrain can read.');
      }
      return piece.score;
    });
    const key = uri.toString();
    this._documents.set(key, document);
    const subs = [
      document.onDidEdit((e) => this._onDidChangeCustomDocument.fire(e)),
      document.onDidChangeContent(() => this._onDidChangeDocument.fire(document)),
    ];
    const closing = document.onWillDispose(() => {
      closing.dispose();
      for (const s of subs) {
        s.dispose();
      }
      if (this._documents.get(key) === document) {
        this._documents.delete(key);
      }
    });
    if (document.error) {
      this._log.info(`${uri.path.split('/').pop()}: ${document.error}`);
    }
    return document;
  }

  async resolveCustomEditor(document: MidiDocument, panel: vscode.WebviewPanel): Promise<void> {
    const view = new MidiEditorView(document, panel, this._extensionUri, this._generation, this._parser, this._log.child('editor'));
    this._views.add(view);
    const closed = panel.onDidDispose(() => {
      closed.dispose();
      this._views.delete(view);
      view.dispose();
    });
  }

  saveCustomDocument(document: MidiDocument, cancellation: vscode.CancellationToken): Thenable<void> {
    return document.save(cancellation);
  }

  saveCustomDocumentAs(document: MidiDocument, destination: vscode.Uri, cancellation: vscode.CancellationToken): Thenable<void> {
    return document.saveAs(destination, cancellation);
  }

  revertCustomDocument(document: MidiDocument, cancellation: vscode.CancellationToken): Thenable<void> {
    return document.revert(cancellation);
  }

  backupCustomDocument(document: MidiDocument, context: vscode.CustomDocumentBackupContext, cancellation: vscode.CancellationToken): Thenable<vscode.CustomDocumentBackup> {
    return document.backup(context.destination, cancellation);
  }
}
