import * as vscode from 'vscode';
import { splitTunes } from '../../music/abc/reader';
import type { Score } from '../../music/score';
import { MusicInputError } from '../../music/score';
import type { Logger } from '../../platform/logger';
import { Disposable } from '../../platform/disposable';
import type { PieceView } from '../../protocol/messages';
import type { BarFeature } from '../../structure/ssm';
import type { ParseHost } from '../../host/parseHost';
import { MIDI_EDITOR_VIEW_TYPE } from '../midi/midiEditor';
import type { GenerationSource } from '../../generation/request';
import { readConfig } from '../../generation/config';
import { pieceView } from '../shared/payloads';

/** The piece the structure panel shows. */
export interface TrackedPiece {
  readonly source: GenerationSource;
  readonly view: PieceView;
  readonly feature: BarFeature;
  /** The ABC document (for selecting bars); undefined for MIDI. */
  readonly document?: vscode.TextDocument;
}

/** What the tracker has: a piece, or why there is none. */
export type TrackedState = { readonly kind: 'piece'; readonly piece: TrackedPiece } | { readonly kind: 'none'; readonly reason: string; readonly isError: boolean };

type Target = { readonly kind: 'abc'; readonly uri: vscode.Uri };

/** The message shown when no ABC editor has been active yet. */
export const NO_MUSIC_EDITOR = 'Open an ABC tune to see its structure and notation here.';

/** The message shown for a MIDI file: one view per file, and a MIDI file's view is its editor. */
export const MIDI_IN_EDITOR =
  'This panel follows ABC tunes. A MIDI file has its own Refrain MIDI editor, with the piano roll, structure and generation: use it there.';

function isAbcDocument(doc: vscode.TextDocument): boolean {
  return doc.languageId === 'abc' || doc.uri.path.toLowerCase().endsWith('.abc');
}

/** Index of the tune whose range holds `offset`; else the last tune starting before it; else 0. */
export function tuneIndexAt(ranges: readonly { start: number; end: number }[], offset: number): number {
  let best = 0;
  for (let k = 0; k < ranges.length; k++) {
    if (offset >= ranges[k].start && offset <= ranges[k].end) {
      return k;
    }
    if (ranges[k].start <= offset) {
      best = k;
    }
  }
  return best;
}

/**
 * Follows the active ABC editor for the structure panel: the tune under the cursor. A MIDI file is
 * not followed: its Refrain MIDI editor shows the same views (one view per file); with no ABC tune
 * on show the panel says so. Recomputes after edits at most once per
 * `refrain.panel.updateDelay` (always from the newest text), at once when the cursor moves to
 * another tune or another editor becomes active. Another kind of editor becoming active leaves
 * the last piece on show.
 */
export class PieceTracker extends Disposable {
  private _target: Target | undefined;
  private readonly _cursor = new Map<string, number>();
  private _state: TrackedState = { kind: 'none', reason: NO_MUSIC_EDITOR, isError: false };
  private _timer: ReturnType<typeof setTimeout> | undefined;
  private _revision = 0;
  private _computed: { key: string; version: number; feature: BarFeature } | undefined;
  private readonly _onDidChange = this._register(new vscode.EventEmitter<TrackedState>());
  /** Fires with each new state. */
  readonly onDidChange = this._onDidChange.event;

  constructor(
    private readonly _parser: ParseHost,
    private readonly _log: Logger,
  ) {
    super();
    this._register({ dispose: () => this._clearTimer() });
    this._register(vscode.window.onDidChangeActiveTextEditor((e) => e && this._followEditor(e)));
    this._register(vscode.window.tabGroups.onDidChangeTabs(() => this._followTab()));
    this._register(vscode.window.tabGroups.onDidChangeTabGroups(() => this._followTab()));
    this._register(
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (this._target?.kind === 'abc' && e.textEditor.document.uri.toString() === this._target.uri.toString()) {
          this._cursor.set(this._target.uri.toString(), e.textEditor.document.offsetAt(e.selections[0].active));
          this._schedule(100);
        }
      }),
    );
    this._register(
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (this._target?.kind === 'abc' && e.document.uri.toString() === this._target.uri.toString() && e.contentChanges.length > 0) {
          this._schedule(readConfig().updateDelayMs);
        }
      }),
    );
    this._register(
      vscode.workspace.onDidCloseTextDocument((doc) => {
        if (this._target?.kind === 'abc' && doc.uri.toString() === this._target.uri.toString()) {
          this._target = undefined;
          this._set({ kind: 'none', reason: 'The ABC document was closed. ' + NO_MUSIC_EDITOR, isError: false });
        }
      }),
    );
  }

  /** The current state. */
  get state(): TrackedState {
    return this._state;
  }

  /** The piece on show, or undefined. */
  get piece(): TrackedPiece | undefined {
    return this._state.kind === 'piece' ? this._state.piece : undefined;
  }

  /** Picks the target from the active editor or tab, and computes at once. */
  start(): void {
    const editor = vscode.window.activeTextEditor;
    if (editor && isAbcDocument(editor.document)) {
      this._followEditor(editor);
      return;
    }
    if (!this._followTab()) {
      // No music editor is active: fall back on a visible ABC editor, if any.
      const visible = vscode.window.visibleTextEditors.find((e) => isAbcDocument(e.document));
      if (visible) {
        this._followEditor(visible);
      } else {
        this._set(this._state);
      }
    }
  }

  /** Recomputes now, even when nothing changed (settings changed). */
  refresh(): void {
    this._computed = undefined;
    this._schedule(0);
  }

  private _followEditor(editor: vscode.TextEditor): void {
    if (!isAbcDocument(editor.document)) {
      return;
    }
    this._target = { kind: 'abc', uri: editor.document.uri };
    this._cursor.set(editor.document.uri.toString(), editor.document.offsetAt(editor.selection.active));
    this._schedule(0);
  }

  private _followTab(): boolean {
    const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    if (input instanceof vscode.TabInputCustom && input.viewType === MIDI_EDITOR_VIEW_TYPE) {
      // One view per file: the MIDI editor is the place for a MIDI file. An ABC tune on show stays.
      if (this._state.kind !== 'piece') {
        this._set({ kind: 'none', reason: MIDI_IN_EDITOR, isError: false });
      }
      return true;
    }
    return false;
  }

  private _clearTimer(): void {
    if (this._timer !== undefined) {
      clearTimeout(this._timer);
      this._timer = undefined;
    }
  }

  /** Trailing throttle: one computation per `delay`, reading the newest state when it runs. */
  private _schedule(delay: number): void {
    if (this.isDisposed) {
      return;
    }
    if (this._timer !== undefined) {
      if (delay > 0) {
        return;
      }
      this._clearTimer();
    }
    this._timer = setTimeout(() => {
      this._timer = undefined;
      void this._compute();
    }, delay);
  }

  private _set(state: TrackedState): void {
    this._state = state;
    this._onDidChange.fire(state);
  }

  private async _compute(): Promise<void> {
    const target = this._target;
    if (!target || this.isDisposed) {
      return;
    }
    const feature = readConfig().feature;
    try {
      await this._computeAbc(target, feature);
    } catch (e) {
      if (this._target !== target) {
        return;
      }
      this._computed = undefined;
      if (e instanceof MusicInputError) {
        this._set({ kind: 'none', reason: e.message, isError: true });
      } else {
        this._log.error('analysing the piece failed', e);
        this._set({ kind: 'none', reason: `Refrain could not analyse this piece: ${e instanceof Error ? e.message : String(e)}`, isError: true });
      }
    }
  }

  private async _computeAbc(target: Target, feature: BarFeature): Promise<void> {
    const uri = target.uri;
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (!doc) {
      return;
    }
    const text = doc.getText();
    const ranges = splitTunes(text);
    if (ranges.length === 0) {
      throw new MusicInputError('abc-no-tunes', 'No ABC tune here yet: a tune starts with an X: line and needs a K: line.');
    }
    const index = tuneIndexAt(ranges, this._cursor.get(uri.toString()) ?? 0);
    const key = `abc:${uri.toString()}#${index}`;
    if (this._computed && this._computed.key === key && this._computed.version === doc.version && this._computed.feature === feature) {
      return;
    }
    const started = Date.now();
    const version = doc.version;
    // Only this tune is parsed, in the parse worker (with a time limit), never on this thread.
    const result = await this._parser.tuneByIndex(text, index);
    if (this._target !== target || doc.version !== version) {
      return; // A newer text or target: its own analysis is scheduled.
    }
    const tune = result.tune;
    if (!tune) {
      const why = result.skipped?.reason ?? 'it could not be read';
      throw new MusicInputError('abc-unreadable', `Tune ${index + 1} cannot be shown: ${why}`);
    }
    this._publish(tune.score, {
      key,
      version,
      feature,
      format: 'abc',
      uri,
      tuneIndex: index,
      tuneCount: ranges.length,
      title: tune.title,
      document: doc,
      text,
    });
    this._log.debug(`tune ${index + 1}: ${tune.score.bars.length} bars in ${Date.now() - started} ms`);
  }

  private _publish(
    score: Score,
    info: {
      key: string;
      version: number;
      feature: BarFeature;
      format: 'abc' | 'midi';
      uri: vscode.Uri;
      tuneIndex: number;
      tuneCount: number;
      title: string | undefined;
      document?: vscode.TextDocument;
      text?: string;
    },
  ): void {
    const view = pieceView(score, {
      key: info.key,
      revision: ++this._revision,
      format: info.format,
      name: info.uri.path.split('/').pop() ?? 'untitled',
      tuneIndex: info.tuneIndex,
      tuneCount: info.tuneCount,
      feature: info.feature,
      selectable: info.format === 'abc',
      ...(info.title !== undefined ? { title: info.title } : {}),
      ...(info.text !== undefined ? { text: info.text } : {}),
    });
    this._computed = { key: info.key, version: info.version, feature: info.feature };
    const source: GenerationSource = {
      format: info.format,
      uri: info.uri.toString(),
      version: info.version,
      tuneIndex: info.tuneIndex,
      score,
      ...(info.text !== undefined ? { text: info.text } : {}),
    };
    this._set({ kind: 'piece', piece: { source, view, feature: info.feature, ...(info.document ? { document: info.document } : {}) } });
  }
}
