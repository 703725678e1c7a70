/// <reference types="mocha" />
// Runs inside VS Code's extension host (mocha, tdd interface), started by test/integration/runTests.mjs.
// The workspace is test/fixtures/integration; its files are tunes written for these tests.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { openAt as openUriAt, fixture as repoFixture, refrain, waitFor } from './helpers';

/** A file of the test workspace (test/fixtures/integration). */
function fixture(name: string): vscode.Uri {
  return repoFixture('integration', name);
}

/** Opens a workspace file with the cursor at the first occurrence of `at` (else the start). */
function openAt(name: string, at?: string): Promise<vscode.TextEditor> {
  return openUriAt(fixture(name), at);
}

const REPORT_SCHEME = 'refrain-report';




function reportDocuments(): vscode.TextDocument[] {
  return vscode.workspace.textDocuments.filter((d) => d.uri.scheme === REPORT_SCHEME);
}


/** Runs `body` with `window.showErrorMessage` recording its messages instead of showing them. */
async function capturingErrors(body: () => Promise<void>): Promise<string[]> {
  const shown: string[] = [];
  const window = vscode.window as { showErrorMessage: unknown };
  const original = window.showErrorMessage;
  window.showErrorMessage = (message: string): Thenable<undefined> => {
    shown.push(message);
    return Promise.resolve(undefined);
  };
  try {
    await body();
  } finally {
    window.showErrorMessage = original;
  }
  return shown;
}

/** The heatmap rows under the report's `bar self-similarity (...), N x N` line. */
function heatmapOf(text: string): { size: number; rows: string[] } {
  const lines = text.split('\n');
  const head = lines.findIndex((l) => /^bar self-similarity \(\w+\), \d+ x \d+/.test(l));
  assert.ok(head >= 0, `no heatmap header in the report:\n${text}`);
  const match = /, (\d+) x (\d+)/.exec(lines[head]);
  assert.ok(match);
  const size = Math.min(Number(match[1]), 48);
  const rows = lines.slice(head + 1, head + 1 + size).map((l) => l.replace(/^ {2}/, ''));
  return { size, rows };
}

suite('Refrain in VS Code', () => {
  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('activates when an ABC file opens', async () => {
    const ext = refrain();
    assert.equal(ext.isActive, false, 'Refrain must not activate before an ABC file or a command needs it');
    const editor = await openAt('twoTunes.abc');
    assert.equal(editor.document.languageId, 'abc');
    await waitFor('Refrain to activate', () => ext.isActive);
  });

  test('registers every command that package.json contributes', async () => {
    const contributed = (refrain().packageJSON as { contributes: { commands: { command: string }[] } }).contributes.commands.map((c) => c.command);
    assert.ok(contributed.length > 0);
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.filter((id) => !registered.has(id));
    assert.deepEqual(missing, [], `contributed but not registered: ${missing.join(', ')}`);
  });

  test('refrain.showLog runs', async () => {
    await vscode.commands.executeCommand('refrain.showLog');
  });

  test('refrain.analyze opens a report of the tune under the cursor, with bars and a heatmap', async () => {
    await openAt('twoTunes.abc', 'T:Slow Tide');
    const errors = await capturingErrors(async () => {
      await vscode.commands.executeCommand('refrain.analyze');
    });
    assert.deepEqual(errors, []);
    const report = await waitFor('a refrain-report document', () => reportDocuments().find((d) => d.uri.path.startsWith('/twoTunes.abc')));
    const text = report.getText();
    assert.match(text, /\(tune 2 of 2\)/);
    assert.match(text, /Slow Tide/);
    assert.match(text, /^bars: 8 performed \(8 written\)/m);
    assert.match(text, /meter: 3\/4/);
    const { size, rows } = heatmapOf(text);
    assert.equal(size, 8);
    assert.equal(rows.length, 8);
    for (const [i, row] of rows.entries()) {
      assert.equal(row.length, 8, `heatmap row ${i} is "${row}"`);
      assert.equal(row[i], '@', `bar ${i + 1} must be fully similar to itself`);
    }
    // Bars 1 and 5 are the same notes (`G B d`): the darkest shade, both ways.
    assert.equal(rows[0][4], '@');
    assert.equal(rows[4][0], '@');
    assert.ok(
      vscode.window.visibleTextEditors.some((e) => e.document === report),
      'the report is shown in an editor',
    );
  });

  test('refrain.analyze shows an error, not a crash, for an ABC file with no tune', async () => {
    await openAt('noTune.abc');
    const before = reportDocuments().length;
    const errors = await capturingErrors(async () => {
      await vscode.commands.executeCommand('refrain.analyze');
    });
    assert.equal(errors.length, 1, `expected one error message, got ${JSON.stringify(errors)}`);
    assert.ok(errors[0].length > 0);
    assert.ok(!/\bat .+:\d+:\d+/.test(errors[0]), `the message must not be a stack trace: ${errors[0]}`);
    assert.equal(reportDocuments().filter((d) => d.uri.path.startsWith('/noTune.abc')).length, 0);
    assert.ok(reportDocuments().length >= before);
    assert.ok(refrain().isActive, 'Refrain is still active');
  });

  test('refrain.analyze shows an error, not a crash, for a file that is not MIDI', async () => {
    const errors = await capturingErrors(async () => {
      await vscode.commands.executeCommand('refrain.analyze', fixture('notMidi.mid'));
    });
    assert.equal(errors.length, 1, `expected one error message, got ${JSON.stringify(errors)}`);
    assert.equal(reportDocuments().filter((d) => d.uri.path.startsWith('/notMidi.mid')).length, 0);
  });

  test('refrain.analyze still works after those errors', async () => {
    await openAt('twoTunes.abc', 'T:Lantern Reel');
    const errors = await capturingErrors(async () => {
      await vscode.commands.executeCommand('refrain.analyze');
    });
    assert.deepEqual(errors, []);
    const report = await waitFor('the report of tune 1', () =>
      reportDocuments().find((d) => d.uri.path.startsWith('/twoTunes.abc') && d.getText().includes('(tune 1 of 2)')),
    );
    assert.match(report.getText(), /Lantern Reel/);
    assert.match(report.getText(), /^bars: \d+ performed \(8 written\)/m);
  });
});
