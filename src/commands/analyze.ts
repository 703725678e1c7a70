import * as vscode from 'vscode';
import { formatOfPath } from '../music/load';
import type { LoadedPiece } from '../music/load';
import { MusicInputError } from '../music/score';
import { readConfig } from '../generation/config';
import { analyzeScore, formatReport } from '../structure/pieceReport';
import type { ReportDocuments } from '../host/reportDocuments';
import type { Services } from './services';
import { readTuneAt } from './activeTune';
import { RefrainError } from '../platform/errors';

/**
 * `refrain.analyze`: the structure report of the tune under the cursor (ABC) or of a MIDI file,
 * opened as a read-only document beside the editor.
 */
export function createAnalyzeCommand(services: Services, reports: ReportDocuments): (uri?: vscode.Uri) => Promise<void> {
  return async (uri?: vscode.Uri) => {
    const target = resolveTarget(uri);
    if (!target) {
      throw new RefrainError('no-piece', 'Open an ABC (.abc) or MIDI (.mid) file to analyze its structure.');
    }
    const { bytes, offset, name } = await readTarget(target);
    const { piece, count } = await readPiece(services, target.path, bytes, offset);
    const feature = readConfig().feature;
    const started = Date.now();
    const report = analyzeScore(piece.score, { feature, reference: piece.reference, title: piece.title });
    services.log.child('analyze').info(`${name}: ${report.bars} bars in ${Date.now() - started} ms`);
    const lines = [`${name}${count > 1 ? ` (tune ${piece.index + 1} of ${count})` : ''}`, '', ...formatReport(report)];
    const doc = await reports.show(`${name}.structure.txt`, lines.join('\n'));
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: true });
  };
}

interface Target {
  uri: vscode.Uri;
  path: string;
  editor?: vscode.TextEditor;
}

function resolveTarget(uri: vscode.Uri | undefined): Target | undefined {
  const editor = vscode.window.activeTextEditor;
  if (uri && formatOfPath(uri.path)) {
    return { uri, path: uri.path, editor: editor?.document.uri.toString() === uri.toString() ? editor : undefined };
  }
  if (editor && (editor.document.languageId === 'abc' || formatOfPath(editor.document.uri.path))) {
    const path = formatOfPath(editor.document.uri.path) ? editor.document.uri.path : `${editor.document.uri.path}.abc`;
    return { uri: editor.document.uri, path, editor };
  }
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  const tabUri = input && typeof input === 'object' && 'uri' in input ? (input as { uri: unknown }).uri : undefined;
  if (tabUri instanceof vscode.Uri && formatOfPath(tabUri.path)) {
    return { uri: tabUri, path: tabUri.path };
  }
  return undefined;
}

async function readTarget(target: Target): Promise<{ bytes: Uint8Array; offset?: number; name: string }> {
  const name = target.uri.path.split('/').pop() ?? 'untitled';
  if (target.editor) {
    const doc = target.editor.document;
    return { bytes: new TextEncoder().encode(doc.getText()), offset: doc.offsetAt(target.editor.selection.active), name };
  }
  return { bytes: await vscode.workspace.fs.readFile(target.uri), name };
}

/**
 * The piece to analyze, read in the parse worker: the ABC tune under the cursor (only that tune
 * is parsed), else the first readable one; a MIDI file's one piece.
 */
async function readPiece(services: Services, path: string, bytes: Uint8Array, offset: number | undefined): Promise<{ piece: LoadedPiece; count: number }> {
  if (formatOfPath(path) === 'abc' && offset !== undefined) {
    const { tune: t, count } = await readTuneAt(services.parser, new TextDecoder().decode(bytes), offset);
    return { piece: { score: t.score, index: t.index, reference: t.reference, title: t.title }, count };
  }
  const result = await services.parser.pieces(path, bytes);
  if (result.pieces.length === 0) {
    const why = result.skipped[0]?.reason;
    throw new MusicInputError('no-readable-piece', `Refrain could not read any tune in this file${why ? `: ${why}` : '.'}`);
  }
  return { piece: result.pieces[0], count: result.pieces.length + result.skipped.length };
}
