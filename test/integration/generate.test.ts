/// <reference types="mocha" />
// Generation commands end to end inside VS Code, with the tiny test model (see helpers.ts
// `useTinyModel`): every path from command to document is the real one.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { readAbc } from '../../src/music/abc/reader';
import { REEL, restoreSettings, useTinyModel } from './helpers';

const TUNE = REEL;

async function settle(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

async function openTune(): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument({ language: 'abc', content: TUNE });
  const editor = await vscode.window.showTextDocument(doc);
  const end = doc.positionAt(TUNE.indexOf('G4:|'));
  editor.selection = new vscode.Selection(end, end);
  return editor;
}

suite('Refrain generation', function () {
  this.timeout(60000);

  suiteSetup(useTinyModel);
  suiteTeardown(restoreSettings);

  test('Continue Tune inserts valid ABC with the new bars, and one Undo removes all of it', async () => {
    const editor = await openTune();
    const before = editor.document.getText();
    const barsBefore = readAbc(before).tunes[0].score.bars.length;
    await vscode.commands.executeCommand('refrain.continueTune', { bars: 4 });
    const after = editor.document.getText();
    assert.notEqual(after, before, 'the document did not change');
    const tune = readAbc(after).tunes[0];
    assert.ok(tune, 'the edited file no longer reads as ABC');
    assert.equal(tune.score.bars.length, barsBefore + 4);
    assert.ok(after.startsWith(before.slice(0, before.indexOf('G4:|'))), 'text before the insertion changed');
    await vscode.commands.executeCommand('undo');
    assert.equal(editor.document.getText(), before, 'one Undo should restore the file byte for byte');
  });

  test('the same seed gives the same continuation', async () => {
    const editor = await openTune();
    await vscode.commands.executeCommand('refrain.continueTune', { bars: 2 });
    const first = editor.document.getText();
    await vscode.commands.executeCommand('undo');
    await vscode.commands.executeCommand('refrain.continueTune', { bars: 2 });
    assert.equal(editor.document.getText(), first);
  });

  test('Cancel during generation leaves the document byte-identical', async () => {
    const editor = await openTune();
    const before = editor.document.getText();
    const version = editor.document.version;
    await vscode.workspace.getConfiguration('refrain').update('generation.candidates', 8, vscode.ConfigurationTarget.Global);
    try {
      const run = vscode.commands.executeCommand('refrain.continueTune', { bars: 64 });
      await settle(150);
      await vscode.commands.executeCommand('refrain.cancelGeneration');
      await run;
      assert.equal(editor.document.getText(), before);
      assert.equal(editor.document.version, version, 'a cancelled run must not apply any edit');
    } finally {
      await vscode.workspace.getConfiguration('refrain').update('generation.candidates', 1, vscode.ConfigurationTarget.Global);
    }
  });

  test('Regenerate Selected Bars replaces exactly the selected bars in one undo step', async () => {
    const doc = await vscode.workspace.openTextDocument({ language: 'abc', content: 'X:1\nT:Infill\nM:4/4\nL:1/8\nK:D\nDEFG ABcd|e2d2 c2B2|ABcd efge|d8|]\n' });
    const editor = await vscode.window.showTextDocument(doc);
    const before = doc.getText();
    const start = doc.positionAt(before.indexOf('e2d2'));
    editor.selection = new vscode.Selection(start, start);
    await vscode.commands.executeCommand('refrain.regenerateBars', { candidate: 1 });
    const after = doc.getText();
    const a = readAbc(before).tunes[0].score;
    const b = readAbc(after).tunes[0].score;
    assert.equal(b.bars.length, a.bars.length);
    const notesOf = (s: typeof a, bar: number): string =>
      JSON.stringify(s.notes.filter((n) => n.onset >= s.bars[bar].start && n.onset < s.bars[bar].start + s.bars[bar].duration).map((n) => [n.pitch, n.onset, n.duration]));
    for (const bar of [0, 2, 3]) {
      assert.equal(notesOf(b, bar), notesOf(a, bar), `bar ${bar + 1} must not change`);
    }
    await vscode.commands.executeCommand('undo');
    assert.equal(doc.getText(), before);
  });

  test('Regenerate Selected Bars inside a repeat regenerates every pass alike, in one undo step', async () => {
    const text = 'X:1\nT:Passes\nM:4/4\nL:1/8\nK:G\n|:GABc dedB|cBAG FGAF|GABc dedB|cAFA G4:|\n';
    const doc = await vscode.workspace.openTextDocument({ language: 'abc', content: text });
    const editor = await vscode.window.showTextDocument(doc);
    const at = doc.positionAt(text.indexOf('cBAG'));
    editor.selection = new vscode.Selection(at, at);
    // Scripted (a candidate given): no confirmation; the written bar is replaced once.
    await vscode.commands.executeCommand('refrain.regenerateBars', { candidate: 1 });
    const b = readAbc(doc.getText()).tunes[0].score;
    assert.equal(b.bars.length, 8);
    const notesOf = (bar: number): string =>
      JSON.stringify(b.notes.filter((n) => n.onset >= b.bars[bar].start && n.onset < b.bars[bar].start + b.bars[bar].duration).map((n) => [n.pitch, n.onset - b.bars[bar].start, n.duration]));
    assert.equal(notesOf(1), notesOf(5), 'both passes of the bar play the same new notes');
    assert.equal((doc.getText().match(/\|/g) ?? []).length, (text.match(/\|/g) ?? []).length, 'the repeat is kept as written');
    await vscode.commands.executeCommand('undo');
    assert.equal(doc.getText(), text);
  });

  test('an unknown model gives a clear error and leaves the file alone', async () => {
    const editor = await openTune();
    const before = editor.document.getText();
    const shown: string[] = [];
    const original = vscode.window.showErrorMessage;
    (vscode.window as { showErrorMessage: unknown }).showErrorMessage = (message: string) => {
      shown.push(message);
      return Promise.resolve(undefined);
    };
    await vscode.workspace.getConfiguration('refrain').update('model', 'no-such-model', vscode.ConfigurationTarget.Global);
    try {
      await vscode.commands.executeCommand('refrain.continueTune', { bars: 2 });
    } finally {
      (vscode.window as { showErrorMessage: unknown }).showErrorMessage = original;
      await vscode.workspace.getConfiguration('refrain').update('model', 'tiny-folk', vscode.ConfigurationTarget.Global);
    }
    assert.equal(editor.document.getText(), before);
    assert.equal(shown.length, 1);
    assert.match(shown[0], /no-such-model/);
    assert.match(shown[0], /tiny-folk/, 'the message lists the installed models');
  });
});
