import * as vscode from 'vscode';
import { readMidi } from '../../music/midi/reader';
import { writeMidi } from '../../music/midi/writer';
import { rewriteSmf } from '../../music/midi/preserve';
import type { Score } from '../../music/score';
import { MusicInputError } from '../../music/score';
import type { Logger } from '../../platform/logger';
import { Disposable } from '../../platform/disposable';

/** Parses a MIDI file's bytes into a Score (throws `MusicInputError`). */
export type MidiParse = (bytes: Uint8Array) => Promise<Score>;

/** One recorded change of a MIDI document: the whole score before and after. */
export interface MidiEdit {
  readonly label: string;
  readonly before: Score;
  readonly after: Score;
}

/** Explains why bytes are not a readable MIDI file, in words for the user. */
function describeReadError(error: unknown): string {
  if (error instanceof MusicInputError) {
    return error.message;
  }
  return `Refrain could not read this MIDI file: ${error instanceof Error ? error.message : String(error)}`;
}

/**
 * A MIDI file opened in Refrain's custom editor: its bytes, the Score read from them (or why
 * they could not be read), and the edits made since (each one undo step). Saving writes the file's
 * own events with the edits applied (see `rewriteSmf`); a document that could not be read saves its
 * bytes unchanged.
 */
export class MidiDocument extends Disposable implements vscode.CustomDocument {
  private _bytes: Uint8Array;
  /** The score as read from `_bytes`; edits are written back as their difference from it. */
  private _loaded: Score | undefined;
  private _score: Score | undefined;
  private _error: string | undefined;
  private _version = 0;
  private readonly _onDidChangeContent = this._register(new vscode.EventEmitter<void>());
  /** Fires when the score changes (edit, undo, redo, revert). */
  readonly onDidChangeContent = this._onDidChangeContent.event;
  private readonly _onDidEdit = this._register(new vscode.EventEmitter<vscode.CustomDocumentEditEvent<MidiDocument>>());
  /** Fires for each undoable edit (the provider forwards it to VS Code). */
  readonly onDidEdit = this._onDidEdit.event;
  private readonly _onWillDispose = this._register(new vscode.EventEmitter<void>());
  /** Fires once, just before the document is disposed. */
  readonly onWillDispose = this._onWillDispose.event;

  /**
   * Opens a document from its file, or from a backup when VS Code restores one. `read` parses the
   * bytes (the parse worker, off the extension host's thread); default `readMidi` here.
   */
  static async open(uri: vscode.Uri, backupId: string | undefined, log: Logger, read: MidiParse = async (b) => readMidi(b)): Promise<MidiDocument> {
    const from = typeof backupId === 'string' ? vscode.Uri.parse(backupId) : uri;
    let bytes: Uint8Array;
    try {
      bytes = await vscode.workspace.fs.readFile(from);
    } catch (e) {
      log.warn(`cannot read ${from.toString()}: ${e instanceof Error ? e.message : String(e)}`);
      const doc = new MidiDocument(uri, new Uint8Array(0), read);
      doc._score = undefined;
      doc._error = `The file could not be read: ${e instanceof Error ? e.message : String(e)}`;
      return doc;
    }
    const doc = new MidiDocument(uri, bytes, read);
    await doc._load(bytes);
    return doc;
  }

  private constructor(
    readonly uri: vscode.Uri,
    bytes: Uint8Array,
    private readonly _read: MidiParse,
  ) {
    super();
    this._bytes = bytes;
  }

  private async _load(bytes: Uint8Array): Promise<void> {
    this._bytes = bytes;
    try {
      this._score = await this._read(bytes);
      this._loaded = this._score;
      this._error = undefined;
    } catch (e) {
      this._score = undefined;
      this._loaded = undefined;
      this._error = describeReadError(e);
    }
  }

  /** The score, or undefined when the file could not be read (see {@link error}). */
  get score(): Score | undefined {
    return this._score;
  }

  /** Why the file could not be read, or undefined. */
  get error(): string | undefined {
    return this._error;
  }

  /** Increases with every change of the score (edit, undo, redo, revert). */
  get version(): number {
    return this._version;
  }

  /**
   * Replaces the score as one undoable edit labelled `label` (e.g. "Insert 8 generated bars").
   * Throws when the document has no score (an unreadable file cannot be edited).
   */
  applyEdit(next: Score, label: string): void {
    const before = this._score;
    if (!before) {
      throw new MusicInputError('midi-not-editable', 'This MIDI file could not be read, so it cannot be edited.');
    }
    const edit: MidiEdit = { label, before, after: next };
    this._setScore(next);
    this._onDidEdit.fire({
      document: this,
      label,
      undo: () => this._setScore(edit.before),
      redo: () => this._setScore(edit.after),
    });
  }

  private _setScore(score: Score): void {
    this._score = score;
    this._version++;
    this._onDidChangeContent.fire();
  }

  /**
   * The bytes a save writes: the file as read, with only the edits made since (inserted bars)
   * added, so every other event (controllers, pitch bends, exact timings...) stays as it was.
   * Unchanged or unreadable: the original bytes.
   */
  contentBytes(): Uint8Array {
    if (!this._score || this._score === this._loaded) {
      return this._bytes;
    }
    if (!this._loaded) {
      return writeMidi(this._score);
    }
    return rewriteSmf(this._bytes, this._loaded, this._score);
  }

  /** Saves to the document's own file. */
  async save(cancellation: vscode.CancellationToken): Promise<void> {
    await this.saveAs(this.uri, cancellation);
  }

  /** Writes the current content to `target`. */
  async saveAs(target: vscode.Uri, cancellation: vscode.CancellationToken): Promise<void> {
    const bytes = this.contentBytes();
    if (cancellation.isCancellationRequested) {
      return;
    }
    await vscode.workspace.fs.writeFile(target, bytes);
  }

  /** Drops unsaved changes: reads the file again. */
  async revert(_cancellation: vscode.CancellationToken): Promise<void> {
    const bytes = await vscode.workspace.fs.readFile(this.uri);
    await this._load(bytes);
    this._version++;
    this._onDidChangeContent.fire();
  }

  /** Writes a backup that {@link open} can restore from. */
  async backup(destination: vscode.Uri, cancellation: vscode.CancellationToken): Promise<vscode.CustomDocumentBackup> {
    await this.saveAs(destination, cancellation);
    return {
      id: destination.toString(),
      delete: async () => {
        try {
          await vscode.workspace.fs.delete(destination);
        } catch {
          // Already gone.
        }
      },
    };
  }

  override dispose(): void {
    if (!this.isDisposed) {
      this._onWillDispose.fire();
    }
    super.dispose();
  }
}
