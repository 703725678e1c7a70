// Runs Refrain's integration tests in a real VS Code, offline: @vscode/test-electron's runTests with
// scripts/code-server-launcher.mjs standing in for the `code` executable (code-server + headless
// Chromium; install them once with `npm run setup:test-tools`). Build first: `node esbuild.mjs`.
//
//   node test/integration/runTests.mjs        (npm run test:integration builds, then runs this)
//
// The workspace opened is test/fixtures/integration. Exit code: 0 when every test passed.
import { runTests } from '@vscode/test-electron';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const launcher = join(repoRoot, 'scripts', 'code-server-launcher.mjs');
const workspace = join(repoRoot, 'test', 'fixtures', 'integration');

async function main() {
  if (!existsSync(join(repoRoot, 'dist', 'extension.js'))) {
    console.error('dist/extension.js is missing: run `node esbuild.mjs` first');
    return 2;
  }
  const started = Date.now();
  try {
    await runTests({
      // runTests spawns `<executable> <launchArgs...> <its flags...>`: Node running the launcher
      // script, so the launcher need not carry an executable bit.
      vscodeExecutablePath: process.execPath,
      launchArgs: [launcher, workspace, '--disable-extensions'],
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: join(repoRoot, 'test', 'integration', 'index.cjs'),
      // No --user-data-dir/--extensions-dir under .vscode-test: the launcher makes a fresh profile.
      reuseMachineInstall: true,
    });
    console.log(`integration run passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return 0;
  } catch (e) {
    const code = e && typeof e === 'object' && 'code' in e && typeof e.code === 'number' ? e.code : 1;
    console.error(`integration run failed (exit ${code}) after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return code;
  }
}

process.exitCode = await main();
