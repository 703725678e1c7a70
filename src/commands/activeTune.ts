import * as vscode from 'vscode';
import { readAbc } from '../music/abc/reader';
import type { AbcTune } from '../music/abc/reader';
import { MusicInputError } from '../music/score';
import type { Score } from '../music/score';

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
    throw new MusicInputError('no-abc-editor', 'Open an ABC (.abc) file and put the cursor in a tune first.');
  }
  return editor;
}

/** Reads the editor's text and picks the tune containing `offset` (default: the cursor). */
export function tuneAt(editor: vscode.TextEditor, offset?: number): ActiveTune {
  const document = editor.document;
  const text = document.getText();
  const result = readAbc(text);
  const at = offset ?? document.offsetAt(editor.selection.active);
  const tune = pickTune(result.tunes, at);
  if (!tune) {
    const skipped = result.skipped.find((s) => s.reason);
    throw new MusicInputError('no-readable-piece', `Refrain could not read a tune here${skipped ? `: ${skipped.reason}` : '.'}`);
  }
  return { editor, document, text, version: document.version, tune, tuneCount: result.tunes.length + result.skipped.length };
}

/** The tune whose text range contains `offset`; else the last tune starting before it; else the first. */
export function pickTune<T extends { readonly score: Score }>(tunes: readonly T[], offset: number): T | undefined {
  let before: T | undefined;
  for (const t of tunes) {
    const src = t.score.source;
    if (src && offset >= src.start && offset <= src.end) {
      return t;
    }
    if (src && src.start <= offset) {
      before = t;
    }
  }
  return before ?? tunes[0];
}
