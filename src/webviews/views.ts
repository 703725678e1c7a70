import * as vscode from 'vscode';
import { MidiEditorProvider } from './midi/midiEditor';
import type { Logger } from '../platform/logger';
import { Disposable, MutableDisposable } from '../platform/disposable';
import type { GenerationService } from '../generation/service';
import { StructurePanel } from './panel/structurePanel';
import type { ParseHost } from '../host/parseHost';
import type { ViewStatus } from './shared/viewStatus';

/** The id of the command that reports the views' state (integration tests; not in the palette). */
export const VIEW_STATUS_COMMAND = 'refrain.internal.viewStatus';

/**
 * The id of the command that hands the structure panel a message as if its webview had posted
 * it, and resolves with the answer (integration tests drive generation with it; not in the palette).
 */
export const PANEL_REQUEST_COMMAND = 'refrain.internal.panelRequest';

/** What {@link RefrainViews.status} reports. */
export interface ViewsStatus {
  /** Whether a generation run is going (from any front). */
  readonly generating: boolean;
  readonly panel?: ViewStatus;
  /** The MIDI editor of the given URI, or else of the active tab. */
  readonly midiEditor?: ViewStatus;
}

/**
 * Refrain's webviews: the structure panel (at most one, held in a `MutableDisposable`) and the
 * MIDI custom editor. Built in `activate`; nothing runs until a view opens.
 */
export class RefrainViews extends Disposable {
  private readonly _panel = this._register(new MutableDisposable<StructurePanel>());
  /** The MIDI editor provider (the panel reads open MIDI documents through it). */
  readonly midi: MidiEditorProvider;

  constructor(
    private readonly _extensionUri: vscode.Uri,
    private readonly _generation: GenerationService,
    private readonly _parser: ParseHost,
    private readonly _log: Logger,
  ) {
    super();
    this.midi = this._register(new MidiEditorProvider(_extensionUri, _generation, _parser, _log.child('midi')));
    this._register(this.midi.register());
    this._register(vscode.commands.registerCommand(VIEW_STATUS_COMMAND, (uri?: unknown) => this.status(typeof uri === 'string' ? uri : undefined)));
    this._register(vscode.commands.registerCommand(PANEL_REQUEST_COMMAND, (message: unknown) => this._panel.value?.request(message)));
  }

  /** Opens the structure panel beside the editor, or brings it forward. */
  showPanel(): StructurePanel {
    const open = this._panel.value;
    if (open && !open.isDisposed) {
      open.reveal();
      return open;
    }
    const panel = new StructurePanel(this._extensionUri, this._generation, this.midi, this._parser, this._log.child('panel'));
    const closed = panel.onDidDispose(() => {
      closed.dispose();
      if (this._panel.value === panel) {
        this._panel.value = undefined;
      }
    });
    this._panel.value = panel;
    return panel;
  }

  /** Plays the active MIDI editor's piece, else the panel's (opening the panel if needed). */
  play(): void {
    const editor = this.midi.activeView();
    if (editor) {
      editor.playback('play');
      return;
    }
    this.showPanel().playback('play');
  }

  /** Stops playback in the active MIDI editor and in the panel. */
  stop(): void {
    this.midi.activeView()?.playback('stop');
    this._panel.value?.playback('stop');
  }

  /** The views' state, for tests and diagnostics. */
  status(midiUri?: string): ViewsStatus {
    const panel = this._panel.value;
    const midi = midiUri !== undefined ? this.midi.viewFor(midiUri) : this.midi.activeView();
    return {
      generating: this._generation.isRunning,
      ...(panel && !panel.isDisposed ? { panel: { ...panel.status } } : {}),
      ...(midi ? { midiEditor: { ...midi.status } } : {}),
    };
  }
}
