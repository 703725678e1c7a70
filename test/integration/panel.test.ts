/// <reference types="mocha" />
// Refrain's webviews in a real VS Code (code-server + Chromium; see runTests.mjs): the structure
// panel and the MIDI editor open, their pages load under the CSP, say `ready`, receive the piece
// and draw it (the page reports what it drew with a `rendered` command, which the host records
// and `refrain.internal.viewStatus` returns).
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { fixture, openAt, refrain, viewStatus as status, waitFor } from './helpers';

suite('Refrain views', () => {
  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('refrain.showPanel opens the structure panel; it gets ready and draws the tune under the cursor', async () => {
    await openAt(fixture('integration', 'twoTunes.abc'), 'T:Slow Tide');
    await vscode.commands.executeCommand('refrain.showPanel');
    const panel = await waitFor('the panel to draw tune 2', async () => {
      const s = (await status()).panel;
      return s?.ready && s.rendered?.key.endsWith('twoTunes.abc#1') ? s : undefined;
    });
    assert.equal(panel.readyCount, 1);
    assert.equal(panel.rendered?.bars, 8);
    assert.equal(panel.rendered?.ssmSize, 8);
    assert.equal(panel.noPiece, undefined);
  });

  test('the panel follows the cursor to the other tune of the file', async () => {
    const editor = vscode.window.visibleTextEditors.find((e) => e.document.uri.path.endsWith('twoTunes.abc'));
    assert.ok(editor, 'the ABC editor is still visible');
    const pos = editor.document.positionAt(editor.document.getText().indexOf('T:Lantern Reel'));
    editor.selection = new vscode.Selection(pos, pos);
    const panel = await waitFor('the panel to draw tune 1', async () => {
      const s = (await status()).panel;
      return s?.rendered?.key.endsWith('twoTunes.abc#0') ? s : undefined;
    });
    // Tune 1 repeats both of its parts: 16 bars performed.
    assert.equal(panel.rendered?.bars, 16);
  });

  test('the panel follows edits to the tune', async () => {
    const editor = vscode.window.visibleTextEditors.find((e) => e.document.uri.path.endsWith('twoTunes.abc'));
    assert.ok(editor);
    const before = (await status()).panel?.rendered?.revision ?? 0;
    const end = editor.document.getText().indexOf('D4:|') + 'D4:|'.length;
    const ok = await editor.edit((b) => b.insert(editor.document.positionAt(end), '\nA4 B4|c8|'));
    assert.ok(ok);
    try {
      const panel = await waitFor('a redraw after the edit', async () => {
        const s = (await status()).panel;
        return s?.rendered && s.rendered.revision > before && s.rendered.key.endsWith('#0') ? s : undefined;
      });
      assert.equal(panel.rendered?.bars, 18);
    } finally {
      // Back to the file on disk, so closing the editor later asks nothing.
      await vscode.window.showTextDocument(editor.document, { viewColumn: vscode.ViewColumn.One, preserveFocus: false });
      await vscode.commands.executeCommand('workbench.action.files.revert');
    }
    assert.equal(editor.document.isDirty, false);
  });

  test('a hidden panel reloads and gets its state replayed when shown again', async () => {
    // The revert of the previous test has been drawn: tune 1 with its 16 bars again.
    const before = await waitFor('the reverted tune', async () => {
      const s = (await status()).panel;
      return s?.rendered?.bars === 16 && s.rendered.key.endsWith('#0') ? s : undefined;
    });
    assert.ok(before.rendered);
    // Cover the panel with another editor in its column, then bring it back.
    const cover = await vscode.workspace.openTextDocument(fixture('onnx', 'tiny-a', 'card.json'));
    await vscode.window.showTextDocument(cover, { viewColumn: vscode.ViewColumn.Two, preview: false });
    await waitFor('the panel to be hidden', async () => ((await status()).panel?.ready === false ? true : undefined));
    await vscode.commands.executeCommand('refrain.showPanel');
    const after = await waitFor('the panel to be ready again and redraw', async () => {
      const s = (await status()).panel;
      return s?.ready && s.readyCount > (before.readyCount ?? 0) && s.rendered ? s : undefined;
    });
    assert.equal(after.rendered?.key, before.rendered.key);
    assert.equal(after.rendered?.bars, before.rendered.bars);
  });

  test('an ABC file without a tune shows a reason in the panel, not a crash', async () => {
    const doc = await vscode.workspace.openTextDocument(fixture('integration', 'noTune.abc'));
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, preview: false });
    const panel = await waitFor('a no-piece reason', async () => {
      const s = (await status()).panel;
      return s?.noPiece ? s : undefined;
    });
    assert.ok(panel.noPiece && panel.noPiece.length > 0);
    assert.ok(!/\bat .+:\d+:\d+/.test(panel.noPiece), `not a stack trace: ${panel.noPiece}`);
  });

  test('Play and Stop run without errors', async () => {
    await vscode.commands.executeCommand('refrain.play');
    await vscode.commands.executeCommand('refrain.stop');
  });

  test('a MIDI file opens in the Refrain MIDI editor, which draws it', async () => {
    const uri = fixture('midi', 'harbour-lights.mid');
    await vscode.commands.executeCommand('vscode.openWith', uri, 'refrain.midiEditor', vscode.ViewColumn.One);
    const editor = await waitFor('the MIDI editor to draw', async () => {
      const s = (await status(uri)).midiEditor;
      return s?.ready && s.rendered ? s : undefined;
    });
    assert.ok((editor.rendered?.bars ?? 0) > 0);
    assert.equal(editor.rendered?.key, `midi:${uri.toString()}`);
    // One view per file: the panel does not show the MIDI file (its MIDI editor does); with no ABC
    // tune on show it says where to look, otherwise the ABC tune stays.
    await vscode.commands.executeCommand('refrain.showPanel');
    const panel = await waitFor('the panel to answer for the MIDI file', async () => {
      const s = (await status()).panel;
      return s?.ready && (s.noPiece !== undefined || s.pieceKey !== undefined) ? s : undefined;
    });
    assert.notEqual(panel.pieceKey, `midi:${uri.toString()}`);
    if (panel.noPiece !== undefined && panel.pieceKey === undefined) {
      assert.match(panel.noPiece, /MIDI editor/);
    }
  });

  test('a file that is not MIDI opens in the MIDI editor with an error, not a crash', async () => {
    const uri = fixture('integration', 'notMidi.mid');
    await vscode.commands.executeCommand('vscode.openWith', uri, 'refrain.midiEditor', vscode.ViewColumn.One);
    const editor = await waitFor('the MIDI editor to report the error', async () => {
      const s = (await status(uri)).midiEditor;
      return s?.ready && s.noPiece ? s : undefined;
    });
    assert.ok(editor.noPiece && !/\bat .+:\d+:\d+/.test(editor.noPiece));
    assert.ok(refrain().isActive);
  });
});
