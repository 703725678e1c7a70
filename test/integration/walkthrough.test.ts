/// <reference types="mocha" />
// Export commands and the walkthrough, inside VS Code (mocha, tdd). Runs after extension.test.ts
// (bundles run in name order), which checks that Refrain activates only when needed. The save
// dialog and the quick pick are stubbed: a test cannot click them.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { readAbc } from '../../src/music/abc/reader';
import { readMidi } from '../../src/music/midi/reader';
import type { Score } from '../../src/music/score';
import { fixture, refrain, repoFile } from './helpers';




type Window = Record<'showSaveDialog' | 'showQuickPick' | 'showErrorMessage' | 'showInformationMessage', unknown>;

/**
 * Runs `body` with the save dialog answering `save`, the quick pick choosing the item `pick`
 * selects, and error / information messages recorded instead of shown.
 */
async function stubbed(
  options: { save?: vscode.Uri; pick?: (items: readonly vscode.QuickPickItem[]) => vscode.QuickPickItem | undefined },
  body: () => Thenable<unknown>,
): Promise<{ errors: string[]; infos: string[]; picks: string[] }> {
  const window = vscode.window as unknown as Window;
  const keys = ['showSaveDialog', 'showQuickPick', 'showErrorMessage', 'showInformationMessage'] as const;
  const saved = keys.map((k) => [k, window[k]] as const);
  const errors: string[] = [];
  const infos: string[] = [];
  const picks: string[] = [];
  window.showSaveDialog = () => Promise.resolve(options.save);
  window.showQuickPick = async (items: readonly vscode.QuickPickItem[] | Thenable<readonly vscode.QuickPickItem[]>) => {
    const list = await items;
    picks.push(...list.map((i) => `${i.label} | ${i.description ?? ''} | ${i.detail ?? ''}`));
    return options.pick?.(list);
  };
  window.showErrorMessage = (m: string) => {
    errors.push(m);
    return Promise.resolve(undefined);
  };
  window.showInformationMessage = (m: string) => {
    infos.push(m);
    return Promise.resolve(undefined);
  };
  try {
    await body();
  } finally {
    for (const [k, v] of saved) {
      window[k] = v;
    }
  }
  return { errors, infos, picks };
}

function rows(score: Score, track: number): string[] {
  return score.notes
    .filter((n) => n.track === track)
    .sort((a, b) => a.onset - b.onset || a.pitch - b.pitch)
    .map((n) => `${n.pitch}@${n.onset}+${n.duration}`);
}

suite('Export and walkthrough', () => {
  let dir = '';

  suiteSetup(() => {
    dir = mkdtempSync(join(tmpdir(), 'refrain-export-it-'));
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    rmSync(dir, { recursive: true, force: true });
  });

  test('Export Tune to MIDI writes the tune under the cursor where the save dialog says', async () => {
    const uri = fixture('integration', 'twoTunes.abc');
    const doc = await vscode.workspace.openTextDocument(uri);
    const editor = await vscode.window.showTextDocument(doc, { preview: false });
    const text = doc.getText();
    const second = text.indexOf('X:', text.indexOf('X:') + 1);
    assert.ok(second > 0, 'twoTunes.abc has a second tune');
    const at = doc.positionAt(second + 3);
    editor.selection = new vscode.Selection(at, at);
    const target = vscode.Uri.file(join(dir, 'second.mid'));
    const r = await stubbed({ save: target }, () => vscode.commands.executeCommand('refrain.exportTuneToMidi'));
    assert.deepEqual(r.errors, []);
    assert.ok(existsSync(target.fsPath), 'no MIDI file written');
    const tune = readAbc(text).tunes[1];
    const back = readMidi(new Uint8Array(readFileSync(target.fsPath)), { quantize: 0 });
    assert.deepEqual(rows(back, 0), rows(tune.score, 0));
    assert.match(r.infos[0] ?? '', /^Exported .* to second\.mid/);
  });

  test('a cancelled save dialog writes nothing and shows no error', async () => {
    const r = await stubbed({ save: undefined }, () => vscode.commands.executeCommand('refrain.exportTuneToMidi'));
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.infos, []);
  });

  test('Export Track to ABC lists the tracks, writes the chosen melody and opens it', async () => {
    const midi = fixture('midi', 'harbour-lights.mid');
    const target = vscode.Uri.file(join(dir, 'flute.abc'));
    const r = await stubbed({ save: target, pick: (items) => items.find((i) => i.label.includes('Flute')) }, () =>
      vscode.commands.executeCommand('refrain.exportTrackToAbc', midi),
    );
    assert.deepEqual(r.errors, []);
    assert.equal(r.picks.length, 3, r.picks.join('\n'));
    assert.ok(r.picks.some((p) => p.includes('Drums') && p.includes('drum track')), r.picks.join('\n'));
    const abc = readFileSync(target.fsPath, 'utf8');
    const original = readMidi(new Uint8Array(readFileSync(midi.fsPath)));
    assert.deepEqual(rows(readAbc(abc).tunes[0].score, 0), rows(original, 0));
    assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, target.fsPath, 'the new ABC file is opened');
  });

  test('a track that cannot be a melody is refused by name and reason', async () => {
    const midi = fixture('midi', 'harbour-lights.mid');
    const target = vscode.Uri.file(join(dir, 'drums.abc'));
    const r = await stubbed({ save: target, pick: (items) => items.find((i) => i.label.includes('Drums')) }, () =>
      vscode.commands.executeCommand('refrain.exportTrackToAbc', midi),
    );
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0], /Track 3 \("Drums"\) cannot be exported as ABC: it is a drum track/);
    assert.ok(!existsSync(target.fsPath));
  });

  test('the walkthrough has five steps, each with a completion event and a page that exists; Open Example Tune opens the example', async () => {
    const pkg = refrain().packageJSON as { contributes: { walkthroughs: { steps: { id: string; completionEvents: string[]; media: { markdown: string } }[] }[] } };
    const steps = pkg.contributes.walkthroughs[0].steps;
    assert.deepEqual(steps.map((s) => s.id), ['openExample', 'showPanel', 'generate', 'insert', 'play']);
    for (const s of steps) {
      assert.ok(s.completionEvents.length > 0, s.id);
      assert.ok(existsSync(repoFile(...s.media.markdown.split('/')).fsPath), s.media.markdown);
    }
    await vscode.commands.executeCommand('refrain.openExample');
    const editor = vscode.window.activeTextEditor;
    assert.ok(editor);
    assert.equal(editor.document.languageId, 'abc');
    assert.equal(editor.document.isUntitled, true);
    assert.match(editor.document.getText(), /T:The Lamplighter's Reel/);
    const line = editor.document.lineAt(editor.selection.active.line).text;
    assert.match(line, /d2\|\]$/, `the cursor is at the end of the first tune: ${line}`);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });
});
