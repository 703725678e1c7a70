/// <reference types="mocha" />
// Runs in code-server's extension host, loaded by the test-runner extension in test/package/runner
// (a development extension with no code of its own). It installs the VSIX that
// `npm run test:package` built into the session's fresh extensions folder through the workbench's own
// install command, then drives that INSTALLED Refrain through vscode.commands: the repository is
// not a development extension in this session, so nothing here can run the checkout's code.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as vscode from 'vscode';
import { readAbc } from '../../src/music/abc/reader';

/** What runPackageTests.mjs writes next to the bundled tests. */
interface PackageTestConfig {
  vsix: string;
  target: string;
  repoRoot: string;
  fixtureModels: string;
  bundledModels: string[];
}

const EXTENSION_ID = 'refrain.refrain';
/** Longest one Continue Tune (2 bars, 1 candidate) may take, the first model load included. */
const COMMAND_TIMEOUT_MS = 90000;

const TUNE = `X:1
T:Packaged Jig
M:6/8
L:1/8
K:D
DFA dAF|GBd gdB|AFD EFG|FDD D3|
`;

function readConfig(): PackageTestConfig {
  const dir = process.env.REFRAIN_PACKAGE_TEST_DIR;
  if (!dir) {
    throw new Error('REFRAIN_PACKAGE_TEST_DIR is not set: run `npm run test:package`');
  }
  return JSON.parse(readFileSync(join(dir, 'package-test.json'), 'utf8')) as PackageTestConfig;
}

const config = readConfig();

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith('/'));
}

/** Resolves with the extension once the extension host knows it, or rejects after `ms`. */
function waitForExtension(id: string, ms: number): Promise<vscode.Extension<unknown>> {
  return new Promise((resolvePromise, reject) => {
    const found = vscode.extensions.getExtension(id);
    if (found) {
      resolvePromise(found);
      return;
    }
    const timer = setTimeout(() => {
      listener.dispose();
      reject(new Error(`${id} did not appear in the extension host within ${ms} ms of its installation`));
    }, ms);
    const listener = vscode.extensions.onDidChange(() => {
      const ext = vscode.extensions.getExtension(id);
      if (ext) {
        clearTimeout(timer);
        listener.dispose();
        resolvePromise(ext);
      }
    });
  });
}

async function setRefrain(values: Record<string, unknown>): Promise<void> {
  const c = vscode.workspace.getConfiguration('refrain');
  for (const [key, value] of Object.entries(values)) {
    await c.update(key, value, vscode.ConfigurationTarget.Global);
  }
}

/** Opens the tune, puts the cursor after its last bar, runs Continue Tune for 2 bars, checks the result. */
async function continueTwoBars(): Promise<void> {
  const doc = await vscode.workspace.openTextDocument({ language: 'abc', content: TUNE });
  const editor = await vscode.window.showTextDocument(doc);
  const end = doc.positionAt(TUNE.trimEnd().length);
  editor.selection = new vscode.Selection(end, end);
  const before = doc.getText();
  const barsBefore = readAbc(before).tunes[0].score.bars.length;
  // A failed run waits on its error notification (which nobody dismisses here): give up after a while.
  const outcome = await Promise.race([
    vscode.commands.executeCommand('refrain.continueTune', { bars: 2 }).then(() => 'done'),
    new Promise<string>((r) => setTimeout(() => r('timeout'), COMMAND_TIMEOUT_MS)),
  ]);
  assert.equal(outcome, 'done', `Continue Tune did not finish within ${COMMAND_TIMEOUT_MS / 1000} s: an error notification is probably waiting (see "Refrain: Show Log")`);
  const after = doc.getText();
  assert.notEqual(after, before, 'Continue Tune did not change the document (see "Refrain: Show Log")');
  const tune = readAbc(after).tunes[0];
  assert.ok(tune, `the continued document no longer reads as ABC:\n${after}`);
  assert.equal(tune.score.bars.length, barsBefore + 2, `expected ${barsBefore + 2} bars in:\n${after}`);
  await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
}

suite('Refrain installed from the VSIX', function () {
  this.timeout(180000);
  let ext: vscode.Extension<unknown>;

  suiteSetup(async () => {
    assert.equal(vscode.extensions.getExtension(EXTENSION_ID), undefined, 'Refrain must not be loaded before the VSIX is installed');
    await vscode.commands.executeCommand('workbench.extensions.installExtension', vscode.Uri.file(config.vsix), { donotSync: true });
    ext = await waitForExtension(EXTENSION_ID, 60000);
    await setRefrain({ 'generation.candidates': 1, 'generation.seed': 7, 'inline.enabled': false });
  });

  suiteTeardown(async () => {
    await setRefrain({ model: undefined, modelPath: undefined, 'generation.candidates': undefined, 'generation.seed': undefined, 'inline.enabled': undefined });
  });

  test('runs from the installed folder, which holds only the shipped files', () => {
    const root = ext.extensionPath;
    console.log(`      Refrain ${String(ext.packageJSON.version)} runs from ${root}`);
    assert.ok(!isInside(root, config.repoRoot), `Refrain runs from ${root}, inside the repository`);
    assert.match(root.split('/').pop() ?? '', /^refrain\.refrain-\d+\.\d+\.\d+/);
    for (const rel of ['dist/extension.js', 'dist/engineWorker.js', 'package.json']) {
      assert.ok(existsSync(join(root, rel)), `${rel} is missing from ${root}`);
    }
    for (const absent of ['src', 'test', 'webview', 'out']) {
      assert.ok(!existsSync(join(root, absent)), `${absent}/ must not be installed`);
    }
    assert.deepEqual(readdirSync(join(root, 'node_modules')).sort(), ['onnxruntime-common', 'onnxruntime-node']);
    const [os, arch] = config.target.split('-');
    const napi = join(root, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
    assert.deepEqual(readdirSync(napi), [os]);
    assert.deepEqual(readdirSync(join(napi, os)), [arch]);
  });

  test('Continue Tune adds 2 bars with the tiny fixture model (refrain.modelPath)', async () => {
    await setRefrain({ modelPath: config.fixtureModels, model: 'tiny-folk' });
    await continueTwoBars();
    assert.ok(ext.isActive, 'running the command activated Refrain');
  });

  if (config.bundledModels.length === 0) {
    test('Continue Tune with a model bundled in the VSIX', function () {
      // models/<id>/ is empty in this checkout: nothing bundled to try.
      this.skip();
    });
  }
  for (const id of config.bundledModels) {
    test(`Continue Tune adds 2 bars with the bundled model ${id}`, async () => {
      assert.ok(existsSync(join(ext.extensionPath, 'models', id, 'model.onnx')), `models/${id}/model.onnx is not installed`);
      await setRefrain({ modelPath: undefined, model: id });
      await continueTwoBars();
    });
  }
});
