import * as vscode from 'vscode';
import type { Score } from '../music/score';
import type { TextEdit } from '../music/splice';
import { RefrainError } from '../platform/errors';
import { planAbcEdit, planScoreEdit } from './edits';
import type { GenerationCandidate } from './request';

/** Where a candidate goes: its ABC text document, or a score document (the MIDI editor's) that records an undoable edit. */
export type InsertTarget = { readonly kind: 'text' } | { readonly kind: 'score'; replace(next: Score, label: string): void };

/** What to tell the user when the insert cannot happen. */
export interface InsertWording {
  /** What is inserted ("continuation", "new bars"), for the refusal. */
  readonly what: string;
  /** Why nothing was inserted when the document changed since the candidate was made. */
  readonly stale: string;
}

/** What a view's Insert says when the document moved on since its candidates were made. */
export const VIEW_INSERT: InsertWording = { what: 'candidate', stale: 'The tune changed since these candidates were made, so nothing was inserted: generate again.' };

/**
 * Inserts a candidate into its document as one edit (one undo step), only if the document is
 * still the version the candidate was made from: the one path by which every front writes.
 * Resolves with a short confirmation.
 */
export async function insertCandidate(candidate: GenerationCandidate, target: InsertTarget, wording: InsertWording): Promise<string> {
  const source = candidate.source;
  const bars = candidate.newBars.to - candidate.newBars.from;
  if (target.kind === 'score') {
    target.replace(planScoreEdit(source.score, candidate.score, candidate.newBars), `Refrain: insert ${bars} bars`);
    return `Inserted ${bars} bars.`;
  }
  const uri = vscode.Uri.parse(source.uri);
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === source.uri) ?? (await vscode.workspace.openTextDocument(uri));
  if (doc.isClosed || doc.version !== source.version) {
    throw new RefrainError('stale', wording.stale);
  }
  // Planned with the candidate; planned again here only to throw why it could not be (e.g. bars inside a repeat).
  const edit = candidate.abc?.edit ?? planAbcEdit({ text: source.text ?? doc.getText(), score: source.score, task: candidate.task, generated: candidate.score, newBars: candidate.newBars });
  await applyTextEdit(doc, edit, wording.what);
  return `Inserted ${bars} bars${source.score.meta.title ? ` into ${source.score.meta.title}` : ''}.`;
}

/** Applies an edit as one WorkspaceEdit; refused by VS Code (a read-only file): a clear error. */
export async function applyTextEdit(doc: vscode.TextDocument, edit: TextEdit, what: string): Promise<void> {
  const we = new vscode.WorkspaceEdit();
  we.replace(doc.uri, new vscode.Range(doc.positionAt(edit.start), doc.positionAt(edit.end)), edit.newText);
  if (!(await vscode.workspace.applyEdit(we))) {
    throw new RefrainError('edit-refused', `VS Code refused the edit, so the ${what} was not inserted (is the file read-only?).`);
  }
}
