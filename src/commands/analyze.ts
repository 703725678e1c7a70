import * as vscode from 'vscode';
import { formatOfPath, loadPieces } from '../music/load';
import type { LoadedPiece, LoadResult } from '../music/load';
import { MusicInputError } from '../music/score';
import type { BarFeature } from '../structure/ssm';
import { analyzeScore, formatReport } from '../structure/pieceReport';
import type { ReportDocuments } from '../providers/reportDocuments';
import type { Services } from '../services';
import { pickTune } from './activeTune';

/**
 * `refrain.analyze`: the structure report of the tune under the cursor (ABC) or of a MIDI file,
 * opened as a read-only document beside the editor.
 */
export function createAnalyzeCommand(services: Services, reports: ReportDocuments): (uri?: vscode.Uri) => Promise<void> {
  return async (uri?: vscode.Uri) => {
    const target = resolveTarget(uri);
    if (!target) {
      throw new MusicInputError('no-music-editor', 'Open an ABC (.abc) or MIDI (.mid) file to analyze its structure.');
    }
    const { bytes, offset, name } = await readTarget(target);
    const result = loadPieces(target.path, bytes);
    const piece = pieceAt(result, offset);
    const feature = vscode.workspace.getConfiguration('refrain').get<BarFeature>('analysis.feature', 'jaccard');
    const started = Date.now();
    const report = analyzeScore(piece.score, { feature, reference: piece.reference, title: piece.title });
    services.log.info(`[analyze] ${name}: ${report.bars} bars in ${Date.now() - started} ms`);
    const lines = [`${name}${result.pieces.length > 1 ? ` (tune ${piece.index + 1} of ${result.pieces.length})` : ''}`, '', ...formatReport(report)];
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

/** The tune whose text contains the cursor, else the first. */
function pieceAt(result: LoadResult, offset: number | undefined): LoadedPiece {
  if (result.pieces.length === 0) {
    const why = result.skipped[0]?.reason;
    throw new MusicInputError('no-readable-piece', `Refrain could not read any tune in this file${why ? `: ${why}` : '.'}`);
  }
  if (offset !== undefined) {
    // Offsets from the editor are UTF-16; the readers use string indices, which are UTF-16 too.
    const hit = pickTune(result.pieces, offset);
    if (hit) {
      return hit;
    }
  }
  return result.pieces[0];
}
