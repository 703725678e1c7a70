// What the integration suites share: the extension and its files, polling, the views' status, and
// the tiny test model as the generation model.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';

/** A short reel of our own that the generation suites continue. */
export const REEL = `X:1
T:Integration Reel
M:4/4
L:1/8
K:G
|:GABc dBGB|cBAG FGAF|GABc dBGB|cAFA G4:|
`;

/** Refrain's extension id. */
export const EXTENSION_ID = 'refrain.refrain';

/** The loaded extension. */
export function refrain(): vscode.Extension<unknown> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not loaded`);
  return ext;
}

/** A file of the repository (the extension's folder). */
export function repoFile(...parts: string[]): vscode.Uri {
  return vscode.Uri.joinPath(refrain().extensionUri, ...parts);
}

/** A file under test/fixtures. */
export function fixture(...parts: string[]): vscode.Uri {
  return repoFile('test', 'fixtures', ...parts);
}

/**
 * Resolves once `check` gives a value other than undefined/false; fails after `ms` with `what`
 * and, when given, what `state` says then.
 */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, ms = 20000, state?: () => Promise<unknown>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${ms} ms waiting for ${what}${state ? `; ${JSON.stringify(await state())}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What a view reports through `refrain.internal.viewStatus`. */
export interface ViewStatus {
  ready: boolean;
  readyCount: number;
  rendered?: { key: string; revision: number; bars: number; ssmSize: number; candidates: number };
  pieceKey?: string;
  noPiece?: string;
}

/** The views' status, and whether a generation is running. */
export interface ViewsStatus {
  generating: boolean;
  panel?: ViewStatus;
  midiEditor?: ViewStatus;
}

/** The views' status (the MIDI editor of `midiUri`, else of the active tab). */
export async function viewStatus(midiUri?: vscode.Uri): Promise<ViewsStatus> {
  return (await vscode.commands.executeCommand<ViewsStatus>('refrain.internal.viewStatus', midiUri?.toString())) ?? { generating: false };
}

/** The settings {@link useTinyModel} changes. */
const TINY_MODEL_KEYS = ['modelPath', 'model', 'generation.candidates', 'generation.seed', 'inline.enabled'];

/**
 * Generates with the tiny test model of test/fixtures/engine/models (random weights over the real
 * vocabulary: not musical, but every path is the real one), one candidate, seed 7, no ghost text.
 */
export async function useTinyModel(): Promise<void> {
  const c = vscode.workspace.getConfiguration('refrain');
  await c.update('modelPath', fixture('engine', 'models').fsPath, vscode.ConfigurationTarget.Global);
  await c.update('model', 'tiny-folk', vscode.ConfigurationTarget.Global);
  await c.update('generation.candidates', 1, vscode.ConfigurationTarget.Global);
  await c.update('generation.seed', 7, vscode.ConfigurationTarget.Global);
  await c.update('inline.enabled', false, vscode.ConfigurationTarget.Global);
}

/** Puts back what {@link useTinyModel} changed. */
export async function restoreSettings(): Promise<void> {
  const c = vscode.workspace.getConfiguration('refrain');
  for (const key of TINY_MODEL_KEYS) {
    await c.update(key, undefined, vscode.ConfigurationTarget.Global);
  }
}

/** Opens a document with the cursor at the first occurrence of `at` (else the start). */
export async function openAt(uri: vscode.Uri, at?: string, column = vscode.ViewColumn.One): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument(uri);
  return showAt(doc, at, column);
}

/** Shows a document with the cursor at the first occurrence of `at` (else the start). */
export async function showAt(doc: vscode.TextDocument, at?: string, column = vscode.ViewColumn.One): Promise<vscode.TextEditor> {
  const editor = await vscode.window.showTextDocument(doc, { viewColumn: column, preview: false });
  if (at !== undefined) {
    const offset = doc.getText().indexOf(at);
    assert.ok(offset >= 0, `"${at}" is not in ${doc.uri.path}`);
    const pos = doc.positionAt(offset);
    editor.selection = new vscode.Selection(pos, pos);
  }
  return editor;
}
