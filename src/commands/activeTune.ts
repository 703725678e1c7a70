import * as vscode from 'vscode';
import type { AbcTune } from '../music/abc/reader';
import type { GenerationSource } from '../generation/request';
import { RefrainError } from '../platform/errors';
import { MusicInputError } from '../music/score';
import type { TuneAtResult } from '../music/select';

/** The ABC tune under the cursor of an editor, with the text and version it was read from. */
export interface ActiveTune {
  readonly editor: vscode.TextEditor;
  readonly document: vscode.TextDocument;
  readonly text: string;
  readonly version: number;
  readonly tune: AbcTune;
  /** Tunes in the file (read and skipped). */
  readonly tuneCount: number;
}

/** The active ABC editor, or a clear error asking for one. */
export function activeAbcEditor(): vscode.TextEditor {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== 'abc') {
    throw new RefrainError('no-piece', 'Open an ABC (.abc) file and put the cursor in a tune first.');
  }
  return editor;
}

/** What {@link tuneAt} needs: reading the tune at an offset off the extension host's thread. */
export interface TuneReader {
  tuneAt(text: string, offset: number): Promise<TuneAtResult>;
}

/**
 * Reads the tune containing `offset` (default: the cursor) in the parse worker: only that tune is
 * parsed, off the extension host's thread, with a time limit.
 */
export async function tuneAt(reader: TuneReader, editor: vscode.TextEditor, offset?: number): Promise<ActiveTune> {
  const document = editor.document;
  const text = document.getText();
  const version = document.version;
  const { tune, count } = await readTuneAt(reader, text, offset ?? document.offsetAt(editor.selection.active));
  return { editor, document, text, version, tune, tuneCount: count };
}

/** The tune of `text` containing `offset`, read in the parse worker; a clear error when it cannot be read. */
export async function readTuneAt(reader: TuneReader, text: string, offset: number): Promise<{ tune: AbcTune; count: number }> {
  const result = await reader.tuneAt(text, offset);
  if (!result.tune) {
    const why = result.skipped?.reason;
    throw new MusicInputError('no-readable-piece', `Refrain could not read the tune here${why ? `: ${why}` : '.'}`);
  }
  return { tune: result.tune, count: result.count };
}

/** The tune as the source of a generation. */
export function sourceOf(active: ActiveTune): GenerationSource {
  return { format: 'abc', uri: active.document.uri.toString(), version: active.version, tuneIndex: active.tune.index, score: active.tune.score, text: active.text };
}
