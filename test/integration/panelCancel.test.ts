/// <reference types="mocha" />
// "Refrain: Cancel Generation" stops a run started from the structure panel: the panel's generate
// request (handed to the panel as if its page had posted it, through
// `refrain.internal.panelRequest`) is answered `cancelled`, soon, and nothing is left running. Uses
// the tiny test model (helpers.ts `useTinyModel`).
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { REEL, restoreSettings, showAt, useTinyModel, viewStatus, waitFor } from './helpers';
import type { ViewsStatus } from './helpers';

const TUNE = REEL;

interface Response {
  kind: 'response';
  id: number;
  result?: unknown;
  error?: { code: string; message: string; action?: string };
}

/** Waits until the views' status satisfies `check`. */
function until(what: string, check: (s: ViewsStatus) => boolean, ms = 30000): Promise<ViewsStatus> {
  return waitFor(what, async () => {
    const s = await viewStatus();
    return check(s) ? s : undefined;
  }, ms, viewStatus);
}

/** A generate request as the panel's page posts it: many long candidates, so the run is still going when cancelled. */
function generateRequest(id: number): unknown {
  return {
    kind: 'request',
    id,
    method: 'generate',
    params: { bars: 256, candidates: 8, temperature: 1, topP: 0.95, seed: 3, relatedOffsets: [1, 2, 4], layerWindows: [], variation: 0.25, modelId: '', template: { kind: 'piece' } },
  };
}

suite('Refrain: Cancel Generation and the structure panel', function () {
  this.timeout(120000);

  suiteSetup(useTinyModel);

  suiteTeardown(async () => {
    await restoreSettings();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('Cancel Generation stops a generation started in the panel', async () => {
    const doc = await vscode.workspace.openTextDocument({ language: 'abc', content: TUNE });
    await showAt(doc, 'GABc');
    await vscode.commands.executeCommand('refrain.showPanel');
    await until('the panel to show the tune', (s) => s.panel?.pieceKey !== undefined);

    const answer = vscode.commands.executeCommand<Response | undefined>('refrain.internal.panelRequest', generateRequest(9001));
    await until('the panel run to start', (s) => s.generating);
    const cancelledAt = Date.now();
    await vscode.commands.executeCommand('refrain.cancelGeneration');
    const response = await answer;
    const took = Date.now() - cancelledAt;

    assert.ok(response, 'the panel answered the request');
    assert.equal(response.result, undefined, 'no candidates: the run was stopped');
    assert.equal(response.error?.code, 'cancelled', JSON.stringify(response.error));
    assert.ok(took < 20000, `stopped ${took} ms after Cancel Generation`);
    assert.equal((await viewStatus()).generating, false, 'nothing is left running');
    assert.equal(doc.getText(), TUNE, 'the tune is unchanged');
  });

  test('with nothing running, Cancel Generation does nothing', async () => {
    await until('no run', (s) => !s.generating);
    await vscode.commands.executeCommand('refrain.cancelGeneration');
    assert.equal((await viewStatus()).generating, false);
  });
});
