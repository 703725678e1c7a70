#!/usr/bin/env node
// Tests the packaged extension, offline (`npm run test:package`; code-server and Chromium come from
// `npm run setup:test-tools`):
//   1. checks the packaging helpers (node --test test/package/packageChecks.test.mjs);
//   2. packages a VSIX for this machine (scripts/package.mjs) into a temporary folder;
//   3. installs it with `code-server --install-extension X.vsix --extensions-dir D` into a fresh folder
//      and checks the installed tree;
//   4. runs test/package/installed.test.ts in code-server (scripts/code-server-launcher.mjs), with
//      test/package/runner as the development extension: the suite installs the same VSIX into the
//      session's own fresh extensions folder and drives that installed Refrain through vscode.commands.
// Prints the VSIX size, pass/fail counts and the time of each step. Exit code 0 when all passed.
//
// Environment: REFRAIN_PACKAGE_KEEP=1 keeps the temporary folder; the launcher's REFRAIN_* variables apply.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { hostTarget, packageVsix } from '../../scripts/package.mjs';
import { formatBytes } from '../../scripts/vsixEntries.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..');
const toolsDir = process.env.REFRAIN_TOOLS_DIR ?? join(repoRoot, '.tools');
const codeServerBin = process.env.REFRAIN_CODE_SERVER ?? join(toolsDir, 'code-server', 'node_modules', '.bin', 'code-server');

function say(message) {
  process.stdout.write(`[test:package] ${message}\n`);
}

function seconds(since) {
  return (Date.now() - since) / 1000;
}

/** Runs a command, copying its output through; resolves with its exit code and the output text. */
function runTee(command, args, options) {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    for (const [stream, sink] of [
      [child.stdout, process.stdout],
      [child.stderr, process.stderr],
    ]) {
      stream.on('data', (d) => {
        text += d;
        sink.write(d);
      });
    }
    child.on('close', (code, signal) => resolvePromise({ code: code ?? (signal ? 128 : 1), text }));
  });
}

/** Installs the VSIX with code-server's command line into a fresh folder; returns problems found. */
function cliInstall(vsix, work, target) {
  const ext = join(work, 'cli-extensions');
  const env = {
    ...process.env,
    EXTENSIONS_GALLERY: '{}',
    XDG_DATA_HOME: join(work, 'cli-xdg', 'data'),
    XDG_CONFIG_HOME: join(work, 'cli-xdg', 'config'),
    XDG_CACHE_HOME: join(work, 'cli-xdg', 'cache'),
  };
  const args = ['--install-extension', vsix, '--extensions-dir', ext, '--user-data-dir', join(work, 'cli-user-data')];
  const result = spawnSync(codeServerBin, args, { env, encoding: 'utf8' });
  if (result.status !== 0) {
    return [`code-server --install-extension exited ${result.status ?? result.signal}:\n${result.stdout}${result.stderr}`];
  }
  const installed = readdirSync(ext).filter((name) => name.startsWith('refrain.refrain-'));
  if (installed.length !== 1) {
    return [`expected one refrain.refrain-* folder in ${ext}, found: ${readdirSync(ext).join(', ')}`];
  }
  const root = join(ext, installed[0]);
  const [os, arch] = target.split('-');
  const problems = [];
  for (const rel of ['package.json', 'dist/extension.js', 'dist/engineWorker.js', `node_modules/onnxruntime-node/bin/napi-v6/${os}/${arch}/onnxruntime_binding.node`]) {
    if (!existsSync(join(root, rel))) {
      problems.push(`${installed[0]}/${rel} is missing`);
    }
  }
  const modules = readdirSync(join(root, 'node_modules')).sort().join(',');
  if (modules !== 'onnxruntime-common,onnxruntime-node') {
    problems.push(`${installed[0]}/node_modules holds ${modules}`);
  }
  say(`code-server --install-extension: ${installed[0]} in a fresh --extensions-dir${problems.length ? '' : ', layout as packaged'}`);
  return problems;
}

async function main() {
  const started = Date.now();
  const times = {};
  if (!existsSync(codeServerBin)) {
    say(`code-server not found at ${codeServerBin}: run \`npm run setup:test-tools\` first`);
    return 2;
  }

  let t = Date.now();
  const checks = spawnSync(process.execPath, ['--test', '--test-reporter=spec', join(here, 'packageChecks.test.mjs')], { stdio: 'inherit' });
  times.checks = seconds(t);
  if (checks.status !== 0) {
    say('the packaging helper checks failed');
    return 1;
  }

  const work = mkdtempSync(join(tmpdir(), 'refrain-test-package-'));
  try {
    const target = hostTarget();
    t = Date.now();
    const packaged = packageVsix({ target, out: join(work, `refrain-${target}.vsix`) });
    times.package = seconds(t);
    const vsixBytes = statSync(packaged.vsix).size;

    t = Date.now();
    const installProblems = cliInstall(packaged.vsix, work, target);
    times.cliInstall = seconds(t);
    if (installProblems.length > 0) {
      say(`installed tree problems:\n  ${installProblems.join('\n  ')}`);
    }

    const testsDir = join(work, 'tests');
    await esbuild.build({
      entryPoints: [join(here, 'installed.test.ts')],
      outfile: join(testsDir, 'installed.test.js'),
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      sourcemap: 'inline',
      external: ['vscode'],
      logLevel: 'warning',
    });
    writeFileSync(
      join(testsDir, 'package-test.json'),
      `${JSON.stringify(
        {
          vsix: packaged.vsix,
          target,
          repoRoot,
          fixtureModels: join(repoRoot, 'test', 'fixtures', 'engine', 'models'),
          bundledModels: packaged.models,
        },
        null,
        2,
      )}\n`,
    );
    const workspace = join(work, 'workspace');
    mkdirSync(workspace, { recursive: true });

    t = Date.now();
    const launcher = join(repoRoot, 'scripts', 'code-server-launcher.mjs');
    const run = await runTee(
      process.execPath,
      [launcher, workspace, `--extensionDevelopmentPath=${join(here, 'runner')}`, `--extensionTestsPath=${join(here, 'runner', 'index.cjs')}`],
      { env: { ...process.env, REFRAIN_PACKAGE_TEST_DIR: testsDir } },
    );
    times.tests = seconds(t);
    const counts = /package tests: (\d+) passed, (\d+) failed, (\d+) pending/.exec(run.text);

    say('---- summary ----');
    say(`VSIX: ${formatBytes(vsixBytes)} (${vsixBytes} bytes), ${packaged.entries.length} files, target ${target}, ${packaged.models.length} bundled model(s)`);
    say(`packaging helper checks: ${times.checks.toFixed(1)} s`);
    say(`package (production build + stage + vsce): ${times.package.toFixed(1)} s`);
    say(`code-server --install-extension: ${installProblems.length === 0 ? 'ok' : 'FAILED'} in ${times.cliInstall.toFixed(1)} s`);
    if (counts) {
      say(`installed-extension tests: ${counts[1]} passed, ${counts[2]} failed, ${counts[3]} skipped in ${times.tests.toFixed(1)} s (launcher exit ${run.code})`);
    } else {
      say(`installed-extension tests did not report (launcher exit ${run.code}) after ${times.tests.toFixed(1)} s`);
    }
    say(`total: ${seconds(started).toFixed(1)} s`);
    const passed = installProblems.length === 0 && run.code === 0 && counts !== null && counts[2] === '0';
    return passed ? 0 : 1;
  } finally {
    if (process.env.REFRAIN_PACKAGE_KEEP === '1') {
      say(`kept ${work}`);
    } else {
      rmSync(work, { recursive: true, force: true });
    }
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    say(`failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exitCode = 1;
  },
);
