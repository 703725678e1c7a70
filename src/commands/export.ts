import * as vscode from 'vscode';
import { exportableTracks, trackToAbc, tuneToMidi } from '../music/export';
import type { TrackExportInfo } from '../music/export';
import { formatOfPath } from '../music/load';
import { MusicInputError } from '../music/score';
import type { Score } from '../music/score';
import type { Services } from './services';
import { activeAbcEditor, tuneAt } from './activeTune';
import { RefrainError } from '../platform/errors';

/** What Export Track to ABC needs of the MIDI editor: the open document's score (unsaved edits included). */
export interface MidiDocuments {
  documentFor(uri: vscode.Uri | string): { readonly score?: Score; readonly error?: string } | undefined;
}

/** The custom editor that shows MIDI files (its tabs are where Export Track to ABC reads from). */
const MIDI_EDITOR = 'refrain.midiEditor';

/** A file name without its folder and extension. */
function stem(uri: vscode.Uri): string {
  const name = uri.path.split('/').pop() ?? 'untitled';
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}

/** A name safe in a file name: letters, digits, `-` and `_`. */
function slug(text: string): string {
  return text.trim().replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').toLowerCase() || 'track';
}

/** A sibling of `uri` named `name` (a file on disk), else `name` in the first workspace folder. */
function besideOrWorkspace(uri: vscode.Uri, name: string): vscode.Uri | undefined {
  if (uri.scheme !== 'untitled') {
    return vscode.Uri.joinPath(uri, '..', name);
  }
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  return folder ? vscode.Uri.joinPath(folder, name) : undefined;
}

/**
 * Asks where to write (the save dialog, opened on the suggested file next to the source). A
 * cancelled dialog writes nothing and says so in the status bar; it is not an error.
 */
async function askTarget(services: Services, command: string, suggested: vscode.Uri | undefined, filters: Record<string, string[]>): Promise<vscode.Uri | undefined> {
  const target = await vscode.window.showSaveDialog({ ...(suggested ? { defaultUri: suggested } : {}), filters, saveLabel: 'Export' });
  if (!target) {
    services.log.child('export').debug(`${command}: cancelled in the save dialog`);
    vscode.window.setStatusBarMessage('Refrain: export cancelled, nothing was written.', 4000);
  }
  return target;
}

/**
 * `refrain.exportTuneToMidi`: the ABC tune under the cursor as a MIDI file (one track per voice,
 * repeats played), written where the user confirms in the save dialog (default: next to the ABC
 * file, named after it and the tune's `X:`).
 */
export function createExportTuneToMidi(services: Services): () => Promise<void> {
  return async () => {
    const editor = activeAbcEditor();
    const active = await tuneAt(services.parser, editor);
    const { tune, document } = active;
    const bytes = tuneToMidi(tune.score);
    const number = active.tuneCount > 1 ? `-${tune.reference ?? tune.index + 1}` : '';
    const suggested = besideOrWorkspace(document.uri, `${stem(document.uri)}${number}.mid`);
    const target = await askTarget(services, 'exportTuneToMidi', suggested, { MIDI: ['mid', 'midi'] });
    if (!target) {
      return;
    }
    await vscode.workspace.fs.writeFile(target, bytes);
    const name = target.path.split('/').pop() ?? target.toString();
    const title = tune.title ?? tune.score.meta.title ?? 'the tune';
    services.log.child('export').info(`${title} -> ${target.toString()}: ${tune.score.notes.length} notes, ${tune.score.bars.length} bars, ${bytes.length} bytes`);
    void vscode.window.showInformationMessage(`Exported ${title} to ${name}: ${tune.score.bars.length} bars, ${tune.score.notes.length} notes.`);
  };
}

/** The MIDI file a command acts on: the explorer's URI, else the active tab (the MIDI editor or a text editor on a .mid). */
function midiTarget(uri: unknown): vscode.Uri {
  if (uri instanceof vscode.Uri && formatOfPath(uri.path) === 'midi') {
    return uri;
  }
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputCustom && (input.viewType === MIDI_EDITOR || formatOfPath(input.uri.path) === 'midi')) {
    return input.uri;
  }
  if (input instanceof vscode.TabInputText && formatOfPath(input.uri.path) === 'midi') {
    return input.uri;
  }
  throw new RefrainError('no-piece', 'Open a MIDI (.mid) file in the Refrain MIDI editor, or pick one in the explorer, to export a track as ABC.');
}

/** The score of a MIDI file: the open editor's (with unsaved edits), else read from disk in the parse worker. */
async function midiScore(services: Services, documents: MidiDocuments, uri: vscode.Uri): Promise<Score> {
  const open = documents.documentFor(uri);
  if (open?.score) {
    return open.score;
  }
  if (open?.error) {
    throw new MusicInputError('midi-unreadable', `Refrain could not read this MIDI file: ${open.error}`);
  }
  const result = await services.parser.pieces(uri.path, await vscode.workspace.fs.readFile(uri));
  const piece = result.pieces[0];
  if (!piece) {
    const why = result.skipped[0]?.reason;
    throw new MusicInputError('midi-unreadable', `Refrain could not read this MIDI file${why ? `: ${why}` : '.'}`);
  }
  return piece.score;
}

interface TrackItem extends vscode.QuickPickItem {
  readonly info: TrackExportInfo;
}

/**
 * `refrain.exportTrackToAbc`: one monophonic track of a MIDI file (picked from a quick pick
 * that says which tracks are polyphonic or drums, and why) as a new ABC file, opened after it
 * is written.
 */
export function createExportTrackToAbc(services: Services, documents: MidiDocuments): (uri?: unknown) => Promise<void> {
  return async (uri?: unknown) => {
    const source = midiTarget(uri);
    const score = await midiScore(services, documents, source);
    const tracks = exportableTracks(score);
    if (tracks.length === 0) {
      throw new MusicInputError('export-no-track', 'This MIDI file has no track with notes to export.');
    }
    let chosen: TrackExportInfo | undefined;
    if (tracks.length === 1) {
      chosen = tracks[0];
    } else {
      const items: TrackItem[] = tracks.map((t) => ({
        label: `${t.problem ? '$(circle-slash) ' : ''}Track ${t.index + 1}: ${t.name}`,
        description: `${t.notes} notes${t.problem ? '' : ' · one note at a time'}`,
        ...(t.problem ? { detail: `Cannot be exported: ${t.problem}.` } : {}),
        info: t,
      }));
      const picked = await vscode.window.showQuickPick(items, {
        title: 'Refrain: Export Track to ABC',
        placeHolder: 'The track to write as an ABC tune (a melody: one note at a time)',
        matchOnDescription: true,
      });
      if (!picked) {
        services.log.child('export').debug('exportTrackToAbc: cancelled in the track pick');
        vscode.window.setStatusBarMessage('Refrain: export cancelled, nothing was written.', 4000);
        return;
      }
      chosen = picked.info;
    }
    // Throws, naming the track and why, for drums and polyphony.
    const abc = trackToAbc(score, chosen.index, { title: [score.meta.title ?? stem(source), chosen.name].join(' - ') });
    const suggested = besideOrWorkspace(source, `${stem(source)}-${slug(chosen.name)}.abc`);
    const target = await askTarget(services, 'exportTrackToAbc', suggested, { ABC: ['abc'] });
    if (!target) {
      return;
    }
    await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(abc));
    services.log.child('export').info(`track ${chosen.index + 1} (${chosen.name}) of ${source.toString()} -> ${target.toString()}: ${chosen.notes} notes`);
    const doc = await vscode.workspace.openTextDocument(target);
    await vscode.window.showTextDocument(doc, { preview: false });
    const name = target.path.split('/').pop() ?? target.toString();
    void vscode.window.showInformationMessage(`Exported track ${chosen.index + 1} (${chosen.name}) to ${name}: ${chosen.notes} notes.`);
  };
}
