import * as vscode from 'vscode';
import { formatOfPath } from '../../music/load';
import { RefrainError } from '../../platform/errors';

/** Reads a music file named by a URI string (for templates taken from another file). */
export async function readMusicFile(uri: string): Promise<{ bytes: Uint8Array; path: string; name: string }> {
  let parsed: vscode.Uri;
  try {
    parsed = vscode.Uri.parse(uri, true);
  } catch {
    throw new RefrainError('bad-argument', `"${uri}" is not a file address.`);
  }
  const name = parsed.path.split('/').pop() ?? parsed.path;
  if (!formatOfPath(parsed.path)) {
    throw new RefrainError('bad-argument', `${name} is not an ABC or MIDI file: pick a .abc, .mid or .midi file.`);
  }
  // An open, possibly unsaved, ABC document wins over the file on disk.
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === parsed.toString());
  if (open) {
    return { bytes: new TextEncoder().encode(open.getText()), path: parsed.path, name };
  }
  try {
    return { bytes: await vscode.workspace.fs.readFile(parsed), path: parsed.path, name };
  } catch (e) {
    throw new RefrainError('not-found', `${name} could not be read: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Asks the user for an ABC or MIDI file; undefined when they cancel. */
export async function pickMusicFile(): Promise<{ uri: string; name: string } | undefined> {
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    openLabel: 'Use as Template',
    filters: { 'Music (ABC, MIDI)': ['abc', 'mid', 'midi'] },
  });
  const uri = picked?.[0];
  if (!uri) {
    return undefined;
  }
  return { uri: uri.toString(), name: uri.path.split('/').pop() ?? uri.path };
}
