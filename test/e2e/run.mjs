// Browser tests of Refrain's webviews: a real VS Code (code-server) with the extension under
// development, driven like a user by a headless Debian Chromium through playwright-core. The checks
// themselves are in webviews.e2e.mjs; this file sets up the scratch workspace and settings, starts
// and always stops the processes, runs the checks in order and prints `N passed, N failed`.
//
//   npm run test:e2e        (installs the tools if needed, builds, then runs this)
//   node test/e2e/run.mjs   (after `npm run setup:test-tools` and `node esbuild.mjs`)
//
// Screenshots go to .cache/e2e-shots/ (git-ignored); the path is printed.
// Exit code: 0 all passed, 1 some check failed, 2 the run could not start or timed out.
//
// Environment:
//   REFRAIN_E2E_TIMEOUT_S   whole-run limit in seconds (default 600)
//   REFRAIN_E2E_CHECK_S     limit of one check in seconds (default 240)
//   REFRAIN_E2E_WAIT_MS     default deadline of one wait (default 60000)
//   REFRAIN_E2E_SHOTS       screenshot folder (default <repo>/.cache/e2e-shots)
//   REFRAIN_E2E_VERBOSE=1   print code-server's output and every console message of the page
//   REFRAIN_E2E_DOCS=1      also keep the panel screenshots (1280x800, bundled model) in docs/screenshots/
//   REFRAIN_E2E_ONLY        run only the checks whose names match this regular expression (case-insensitive),
//                           with the checks they need; e.g. REFRAIN_E2E_ONLY='regenerate|playing'
//   REFRAIN_CODE_SERVER, REFRAIN_TOOLS_DIR, REFRAIN_CHROMIUM   as for the integration tests
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOST, QUIET_SETTINGS, cleanupStep, launchBrowser, startCodeServer, stopProcesses, superviseRun } from './lib/processes.mjs';
import { selectColorTheme, waitForWorkbench } from './lib/workbench.mjs';
import { CHECKS, EXAMPLES, FIXTURES, GENERATION } from './webviews.e2e.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..');
const toolsDir = process.env.REFRAIN_TOOLS_DIR ?? join(repoRoot, '.tools');
const codeServerBin = process.env.REFRAIN_CODE_SERVER ?? join(toolsDir, 'code-server', 'node_modules', '.bin', 'code-server');
const chromiumBin = process.env.REFRAIN_CHROMIUM ?? '/usr/bin/chromium';
const shotsDir = resolve(process.env.REFRAIN_E2E_SHOTS ?? join(repoRoot, '.cache', 'e2e-shots'));
const verbose = process.env.REFRAIN_E2E_VERBOSE === '1';
/** REFRAIN_E2E_DOCS=1: the screenshots meant for the documentation are copied to docs/screenshots/. */
const docsShots = process.env.REFRAIN_E2E_DOCS === '1';
const docsDir = join(repoRoot, 'docs', 'screenshots');
/** REFRAIN_E2E_ONLY: a pattern of check names to run (with what they need); all checks when unset. */
const only = process.env.REFRAIN_E2E_ONLY ? new RegExp(process.env.REFRAIN_E2E_ONLY, 'i') : undefined;

function seconds(name, fallback) {
  const v = Number(process.env[name] ?? fallback);
  return (Number.isFinite(v) && v > 0 ? v : fallback) * 1000;
}
const runLimitMs = seconds('REFRAIN_E2E_TIMEOUT_S', 600);
const checkLimitMs = seconds('REFRAIN_E2E_CHECK_S', 240);

/** Exit code when the run could not start, or was stopped. */
const SETUP_FAILED = 2;

function say(message) {
  process.stdout.write(`[e2e] ${message}\n`);
}

/** Everything cleanup must stop or remove; filled in as the run starts things. */
const held = { codeServer: undefined, browserServer: undefined, browser: undefined, profileDir: undefined, stopping: undefined };

/** Closes Chromium and code-server (their whole process groups) and removes the profile. Idempotent. */
function cleanup() {
  held.stopping ??= (async () => {
    await stopProcesses(held, say);
    if (held.profileDir) {
      const attempt = cleanupStep(say);
      await attempt('keeping the logs', () => keepLogs(held.profileDir));
      await attempt('removing the profile', () => rmSync(held.profileDir, { recursive: true, force: true }));
    }
  })();
  return held.stopping;
}

/** The extension's log files of the run (its "Refrain" output channels), as paths. */
function extensionLogs(profileDir) {
  const logs = join(profileDir, 'user-data', 'logs');
  if (!existsSync(logs)) {
    return [];
  }
  return readdirSync(logs, { recursive: true })
    .map(String)
    .filter((name) => /refrain/i.test(basename(name)) && name.endsWith('.log'))
    .map((name) => join(logs, name));
}

/** Copies the extension's log files next to the screenshots, for whoever reads a failure. */
function keepLogs(profileDir) {
  const files = extensionLogs(profileDir);
  if (files.length > 0) {
    mkdirSync(join(shotsDir, 'logs'), { recursive: true });
  }
  for (const file of files) {
    cpSync(file, join(shotsDir, 'logs', basename(file)));
  }
}

/** The user settings of the run: quiet workbench, the tiny test model, fixed generation settings. */
function runSettings() {
  return {
    ...QUIET_SETTINGS,
    // No 'workbench.colorTheme': code-server's browser workbench starts light whatever the file
    // says; the run picks its themes through the palette (selectColorTheme) instead.
    // The editor text reaches the disk by itself, where the checks read it back.
    'files.autoSave': 'afterDelay',
    'files.autoSaveDelay': 200,
    'editor.minimap.enabled': false,
    'editor.inlineSuggest.enabled': true,
    'refrain.model': 'tiny-folk',
    'refrain.generation.candidates': GENERATION.candidates,
    'refrain.generation.bars': GENERATION.bars,
    'refrain.generation.seed': GENERATION.seed,
    // Older names of the panel's starting values (read by builds before they moved to refrain.generation).
    'refrain.panel.candidates': GENERATION.candidates,
    'refrain.panel.bars': GENERATION.bars,
    'refrain.inline.enabled': true,
    'refrain.inline.bars': 1,
    'refrain.inline.debounceMs': 200,
    // The first proposal loads the model in the worker: allow for a slow, busy machine.
    'refrain.inline.timeBudgetMs': 30000,
  };
}

/** A scratch workspace: the fixtures are copied, never edited in place. */
function makeWorkspace(profileDir) {
  const ws = join(profileDir, 'workspace');
  mkdirSync(ws, { recursive: true });
  for (const name of Object.values(FIXTURES)) {
    cpSync(join(here, 'fixtures', name), join(ws, name));
  }
  cpSync(join(repoRoot, 'test', 'fixtures', 'midi', 'harbour-lights.mid'), join(ws, 'harbour-lights.mid'));
  // The bundled example tunes, unmodified, as a new user opens them.
  cpSync(join(repoRoot, 'examples', EXAMPLES), join(ws, EXAMPLES));
  return ws;
}

function preflight() {
  const missing = [];
  if (!existsSync(codeServerBin)) {
    missing.push(`code-server (${codeServerBin}): run \`npm run setup:test-tools\``);
  }
  if (!existsSync(chromiumBin)) {
    missing.push(`Chromium (${chromiumBin}): run \`npm run setup:test-tools\``);
  }
  for (const f of ['extension.js', 'engineWorker.js', 'webview.js', 'cli.js']) {
    if (!existsSync(join(repoRoot, 'dist', f))) {
      missing.push(`dist/${f}: run \`node esbuild.mjs\``);
    }
  }
  return missing;
}

/** Runs `body` with a time limit; the limit rejects, the body is left to finish on its own. */
function withLimit(ms, what, body) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
  });
  return Promise.race([body(), limit]).finally(() => clearTimeout(timer));
}

/** The checks to run: all, or those REFRAIN_E2E_ONLY names and every check they need, in their order. */
function selectedChecks() {
  if (!only) {
    return CHECKS;
  }
  const wanted = new Set();
  const want = (name) => {
    if (wanted.has(name)) {
      return;
    }
    wanted.add(name);
    for (const n of CHECKS.find((c) => c.name === name)?.needs ?? []) {
      want(n);
    }
  };
  for (const c of CHECKS) {
    if (only.test(c.name)) {
      want(c.name);
    }
  }
  return CHECKS.filter((c) => wanted.has(c.name));
}

async function runChecks(ctx) {
  const outcome = new Map();
  let passed = 0;
  let failed = 0;
  const checks = selectedChecks();
  if (only) {
    say(`REFRAIN_E2E_ONLY=${only.source}: ${checks.length} of ${CHECKS.length} checks`);
  }
  for (const c of checks) {
    const blocked = (c.needs ?? []).filter((n) => outcome.get(n) !== true);
    const started = Date.now();
    let error;
    if (blocked.length > 0) {
      error = new Error(`not run: it needs "${blocked.join('", "')}"`);
    } else {
      try {
        await withLimit(checkLimitMs, 'the check', () => c.run(ctx));
      } catch (e) {
        error = e instanceof Error ? e : new Error(String(e));
      }
    }
    const took = ((Date.now() - started) / 1000).toFixed(1);
    outcome.set(c.name, !error);
    if (error) {
      failed++;
      say(`FAIL ${c.name} (${took} s)\n       ${error.message.replace(/\n/g, '\n       ')}`);
      await ctx.shot(`failed-${CHECKS.indexOf(c) + 1}`).catch(() => undefined);
    } else {
      passed++;
      say(`ok   ${c.name} (${took} s)`);
    }
  }
  return { passed, failed };
}

async function run() {
  const missing = preflight();
  if (missing.length > 0) {
    say(`cannot run:\n  ${missing.join('\n  ')}`);
    return SETUP_FAILED;
  }
  rmSync(shotsDir, { recursive: true, force: true });
  mkdirSync(shotsDir, { recursive: true });
  say(`screenshots: ${shotsDir}`);

  held.profileDir = mkdtempSync(join(tmpdir(), 'refrain-e2e-'));
  const workspace = makeWorkspace(held.profileDir);
  const server = await startCodeServer({
    binary: codeServerBin,
    profileDir: held.profileDir,
    settings: runSettings(),
    // Machine-scoped: read from the remote machine's settings (see writeSettings).
    machineSettings: { 'refrain.modelPath': join(repoRoot, 'test', 'fixtures', 'engine', 'models') },
    verbose,
    onChild: (child) => {
      held.codeServer = child;
    },
  });
  say(`code-server on ${HOST}:${server.port} (listening after ${server.startMs} ms)`);
  const { browser } = await launchBrowser({
    executablePath: chromiumBin,
    profileDir: held.profileDir,
    onServer: (s) => {
      held.browserServer = s;
    },
  });
  held.browser = browser;

  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  const webviewConsole = [];
  page.on('console', (m) => {
    const url = m.location()?.url ?? '';
    // The webview's own pages are served from the webview origin (".../webview/..." or a vscode-cdn host).
    if (/webview|vscode-cdn|vscode-resource/.test(url)) {
      webviewConsole.push({ type: m.type(), text: m.text(), url });
    }
    if (verbose) {
      process.stderr.write(`[page:${m.type()}] ${m.text()} (${url})\n`);
    }
  });
  page.on('pageerror', (e) => process.stderr.write(`[page error] ${e.message}\n`));

  const remote = (p) => `vscode-remote://${HOST}:${server.port}${p}`;
  const query = new URLSearchParams({ folder: workspace, payload: JSON.stringify([['extensionDevelopmentPath', remote(repoRoot)]]) });
  await page.goto(`http://${HOST}:${server.port}/?${query}`, { waitUntil: 'domcontentloaded', timeout: 90_000 });
  await waitForWorkbench(page);
  await selectColorTheme(page, 'Default Dark Modern', 'vs-dark');
  say('workbench loaded, dark theme');

  const ctx = {
    page,
    repoRoot,
    workspace,
    webviewConsole,
    /** The text of the extension's log so far. */
    extensionLog: () => extensionLogs(held.profileDir).map((f) => readFileSync(f, 'utf8')).join('\n'),
    log: (message) => say(`  ${message}`),
    /**
     * Saves a screenshot of the whole window; with a view frame, first lets its drawing settle.
     * With `{ docs: true }` and REFRAIN_E2E_DOCS=1 it is also kept in docs/screenshots/.
     */
    async shot(name, frame, options = {}) {
      if (frame) {
        await frame.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))).catch(() => undefined);
      }
      const file = join(shotsDir, `${name}.png`);
      await page.screenshot({ path: file, timeout: 30_000 });
      say(`  screenshot ${file}`);
      if (options.docs && docsShots) {
        mkdirSync(docsDir, { recursive: true });
        cpSync(file, join(docsDir, `${name}.png`));
        say(`  kept in ${join(docsDir, `${name}.png`)}`);
      }
    },
  };
  const { passed, failed } = await runChecks(ctx);
  say(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

void superviseRun({ run, cleanup, say, limitMs: runLimitMs, limitName: 'REFRAIN_E2E_TIMEOUT_S', failedCode: SETUP_FAILED });
