import * as vscode from 'vscode';
import type { Services } from './services';
import { RefrainError } from '../platform/errors';

/** The bundled example tune the walkthrough starts from (shipped in the VSIX, see scripts/package.mjs). */
export const EXAMPLE_TUNE = 'examples/refrain-tunes.abc';

/**
 * Context keys that complete walkthrough steps which no command marks: a candidate generated
 * and inserted from the panel or the MIDI editor (`onContext:` completion events).
 */
export const WALKTHROUGH_CONTEXT = {
  generated: 'refrain.walkthrough.generated',
  inserted: 'refrain.walkthrough.inserted',
} as const;

/** Marks a walkthrough step done (a context key the step's completion event waits for). */
export function markWalkthrough(key: (typeof WALKTHROUGH_CONTEXT)[keyof typeof WALKTHROUGH_CONTEXT]): void {
  void vscode.commands.executeCommand('setContext', key, true);
}

/**
 * `refrain.openExample`: the bundled example tunes in a new, untitled ABC editor (a copy: the
 * writer can generate and insert into it without touching the extension's files), the cursor
 * at the end of the first tune, where a continuation goes.
 */
export function createOpenExample(services: Services): () => Promise<void> {
  return async () => {
    const uri = vscode.Uri.joinPath(services.context.extensionUri, ...EXAMPLE_TUNE.split('/'));
    let text: string;
    try {
      text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    } catch (e) {
      services.log.child('walkthrough').error(`${uri.toString()} could not be read`, e);
      throw new RefrainError('not-found', 'The example tune is missing from this installation of Refrain.', 'show-logs');
    }
    const doc = await vscode.workspace.openTextDocument({ language: 'abc', content: text });
    const editor = await vscode.window.showTextDocument(doc, { preview: false });
    // The end of the first tune (its last non-blank line before the first blank line after a K: line).
    const lines = text.split('\n');
    const key = lines.findIndex((l) => l.startsWith('K:'));
    let end = key;
    for (let i = key + 1; i >= 1 && i < lines.length && lines[i].trim() !== ''; i++) {
      end = i;
    }
    if (end >= 0) {
      const at = new vscode.Position(end, lines[end].length);
      editor.selection = new vscode.Selection(at, at);
      editor.revealRange(new vscode.Range(at, at), vscode.TextEditorRevealType.InCenter);
    }
  };
}

/** The walkthrough's id as `workbench.action.openWalkthrough` takes it: `publisher.name#id`. */
export const WALKTHROUGH_ID = 'refrain.refrain#refrain.gettingStarted';

/** `refrain.getStarted`: opens the walkthrough (also listed on the Welcome page). */
export async function openWalkthrough(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH_ID, false);
}

/**
 * Wraps a command that may insert into the active ABC editor (Continue Tune, Generate From
 * Form): when the document changed while it ran, the walkthrough's insert step is marked done.
 */
export function markInsertWhenEdited<A extends unknown[]>(handler: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const doc = vscode.window.activeTextEditor?.document;
    const version = doc?.version;
    await handler(...args);
    if (doc && !doc.isClosed && doc.version !== version) {
      markWalkthrough(WALKTHROUGH_CONTEXT.inserted);
    }
  };
}
