#!/usr/bin/env node
// Stands in for the `code` executable of @vscode/test-electron's `runTests({ vscodeExecutablePath })`
// where no desktop VS Code can be downloaded: runs the extension tests in code-server (a real VS Code
// whose extension host is Node) driven by a headless Debian Chromium through playwright-core.
//
//   node scripts/code-server-launcher.mjs [folder | file.code-workspace | file] \
//     --extensionDevelopmentPath=/abs/ext --extensionTestsPath=/abs/tests/index.cjs [other code flags]
//
// Exits with the tests' exit code; 2 when the run could not start or timed out. Always stops
// code-server and Chromium and removes its temporary profile, whatever happens.
//
// Environment:
//   REFRAIN_CODE_SERVER     code-server executable (default <repo>/.tools/code-server/node_modules/.bin/code-server,
//                           or $REFRAIN_TOOLS_DIR/code-server/... ; install with `npm run setup:test-tools`)
//   REFRAIN_CHROMIUM        browser executable (default /usr/bin/chromium)
//   REFRAIN_TEST_TIMEOUT_S  whole-run limit in seconds (default 600)
//   REFRAIN_TEST_VERBOSE=1  also print code-server's own output and the page's console
//   REFRAIN_TEST_LOG_DIR    when set, the workbench's log files are written there at the end
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format } from 'node:util';
import { HOST as host, QUIET_SETTINGS, cleanupStep, launchBrowser, startCodeServer, stopProcesses, superviseRun } from '../test/e2e/lib/processes.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const toolsDir = process.env.REFRAIN_TOOLS_DIR ?? join(repoRoot, '.tools');
const codeServerBin = process.env.REFRAIN_CODE_SERVER ?? join(toolsDir, 'code-server', 'node_modules', '.bin', 'code-server');
const chromiumBin = process.env.REFRAIN_CHROMIUM ?? '/usr/bin/chromium';
const timeoutS = Number(process.env.REFRAIN_TEST_TIMEOUT_S ?? '600');
const timeoutMs = (Number.isFinite(timeoutS) && timeoutS > 0 ? timeoutS : 600) * 1000;
const verbose = process.env.REFRAIN_TEST_VERBOSE === '1';

/**
 * The workbench's user settings: the quiet, offline ones of the browser tests, with VS Code's own
 * preview editors (the integration tests open documents as a user's workbench would).
 */
const SETTINGS = { ...QUIET_SETTINGS, 'workbench.editor.enablePreview': true };

/** Exit code when the tests could not run at all (distinct from mocha's failure count). */
const SETUP_FAILED = 2;

function say(message) {
  process.stdout.write(`[launcher] ${message}\n`);
}

/** The flags runTests passes, in `--name=value` or `--name value` form; positionals are paths to open. */
function parseArgs(argv) {
  const devPaths = [];
  let testsPath;
  const positionals = [];
  const ignored = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') ? (eq > 0 ? arg.slice(2, eq) : arg.slice(2)) : undefined;
    const takeValue = () => (eq > 0 ? arg.slice(eq + 1) : argv[++i]);
    if (name === 'extensionDevelopmentPath') {
      devPaths.push(resolve(takeValue()));
    } else if (name === 'extensionTestsPath') {
      testsPath = resolve(takeValue());
    } else if (name === 'extensions-dir' || name === 'user-data-dir') {
      // Always a fresh profile here: runTests' default one under .vscode-test would persist.
      ignored.push(`${arg}${eq > 0 ? '' : ` ${argv[++i]}`}`);
    } else if (name !== undefined) {
      ignored.push(arg);
    } else {
      positionals.push(resolve(arg));
    }
  }
  return { devPaths, testsPath, positionals, ignored };
}

/** Everything cleanup must stop or remove; filled in as the run starts things. */
const state = { codeServer: undefined, browserServer: undefined, browser: undefined, profileDir: undefined, cleaning: undefined };

/** Stops Chromium and code-server (their whole process groups) and removes the profile. Idempotent. */
function cleanup() {
  state.cleaning ??= (async () => {
    await stopProcesses(state, say);
    if (state.profileDir) {
      await cleanupStep(say)('removing the profile', () => rmSync(state.profileDir, { recursive: true, force: true }));
    }
  })();
  return state.cleaning;
}

/** The workbench URL: what to open, plus the development extension and tests as remote URIs. */
function pageUrl(port, args) {
  const remote = (p) => `vscode-remote://${host}:${port}${p}`;
  const payload = [];
  for (const p of args.devPaths) {
    payload.push(['extensionDevelopmentPath', remote(p)]);
  }
  payload.push(['extensionTestsPath', remote(args.testsPath)]);
  const query = new URLSearchParams();
  const target = args.positionals[0];
  if (target === undefined) {
    query.set('ew', 'true');
  } else if (statSync(target).isDirectory()) {
    query.set('folder', target);
  } else if (target.endsWith('.code-workspace')) {
    query.set('workspace', target);
  } else {
    query.set('ew', 'true');
    payload.push(['openFile', remote(target)]);
  }
  query.set('payload', JSON.stringify(payload));
  return `http://${host}:${port}/?${query.toString()}`;
}

/** Workbench start-up lines that say nothing about the tests (all shown with REFRAIN_TEST_VERBOSE=1). */
const WORKBENCH_CHATTER = [
  /^Resolv(ing|ed) connection token/,
  /^Creating a socket/,
  /^Ignoring fetching additional builtin extensions/,
  /^Updating additional builtin extensions cache/,
  /^\[Service Worker\]/,
  /^ChatSessionStore:/,
];

/**
 * The workbench passes a console call's arguments as an array, format string first (mocha's
 * reporter writes `console.log('%d passing', n)`): format them the way the console would.
 */
function formatLog(message) {
  const parts = Array.isArray(message) ? message : [message];
  return format(...parts).replace(/\n$/, '');
}

function writeLogs(logs) {
  const dir = process.env.REFRAIN_TEST_LOG_DIR;
  if (!dir || !Array.isArray(logs)) {
    return;
  }
  for (const { relativePath, contents } of logs) {
    const file = join(dir, relativePath);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, contents);
  }
  say(`workbench logs written to ${dir}`);
}

async function run(argv) {
  const args = parseArgs(argv);
  if (args.devPaths.length === 0 || !args.testsPath) {
    say('usage: code-server-launcher [folder] --extensionDevelopmentPath=DIR --extensionTestsPath=FILE');
    return SETUP_FAILED;
  }
  if (!existsSync(codeServerBin)) {
    say(`code-server not found at ${codeServerBin}: run \`npm run setup:test-tools\` (scripts/setup-test-tools.sh) first`);
    return SETUP_FAILED;
  }
  if (!existsSync(chromiumBin)) {
    say(`Chromium not found at ${chromiumBin}: run \`npm run setup:test-tools\` (installs Debian chromium)`);
    return SETUP_FAILED;
  }
  for (const p of [...args.devPaths, args.testsPath, ...args.positionals]) {
    if (!existsSync(p)) {
      say(`no such path: ${p}`);
      return SETUP_FAILED;
    }
  }
  if (args.ignored.length > 0 && verbose) {
    say(`ignoring desktop-only flags: ${args.ignored.join(' ')}`);
  }
  state.profileDir = mkdtempSync(join(tmpdir(), 'refrain-code-server-'));
  const { port, output, child, startMs } = await startCodeServer({
    binary: codeServerBin,
    profileDir: state.profileDir,
    settings: SETTINGS,
    onChild: (c) => {
      state.codeServer = c;
    },
    verbose,
    say,
  });
  say(`code-server listening on ${host}:${port} after ${startMs} ms`);

  let settle;
  const outcome = new Promise((r) => {
    settle = (result) => {
      // Once cleanup has begun (timeout, signal), the browser and server going away is expected.
      if (state.cleaning === undefined) {
        r(result);
      }
    };
  });
  child.once('exit', (code, signal) => {
    settle({ code: SETUP_FAILED, why: `code-server exited early (${code ?? signal}); its last output:\n${output.text()}` });
  });

  // A browser server rather than launch(): it hands out the Chromium process, to kill if need be.
  const { browser } = await launchBrowser({
    executablePath: chromiumBin,
    profileDir: state.profileDir,
    onServer: (s) => {
      state.browserServer = s;
    },
  });
  state.browser = browser;
  state.browser.on('disconnected', () => {
    settle({ code: SETUP_FAILED, why: 'Chromium disconnected before the tests finished' });
  });
  const page = await state.browser.newPage();
  // Both hooks must exist before the workbench loads: it looks them up when the tests start and end.
  await page.exposeFunction('codeAutomationLog', (type, message) => {
    const text = formatLog(message);
    if (verbose || !WORKBENCH_CHATTER.some((re) => re.test(text))) {
      process.stdout.write(type === 'error' || type === 'warn' ? `[${type}] ${text}\n` : `${text}\n`);
    }
  });
  await page.exposeFunction('codeAutomationExit', (code, logs) => {
    try {
      writeLogs(logs);
    } catch (e) {
      say(`could not write the workbench logs: ${e instanceof Error ? e.message : String(e)}`);
    }
    settle({ code: typeof code === 'number' ? code : SETUP_FAILED });
  });
  if (verbose) {
    page.on('console', (m) => process.stderr.write(`[page:${m.type()}] ${m.text()}\n`));
  }
  page.on('pageerror', (e) => process.stderr.write(`[page error] ${e.message}\n`));

  const url = pageUrl(port, args);
  if (verbose) {
    say(`opening ${url}`);
  }
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
  say('workbench loaded; tests running in the extension host');

  const result = await outcome;
  if (result.why) {
    say(result.why);
  }
  return result.code;
}

void superviseRun({
  run: () => run(process.argv.slice(2)),
  cleanup,
  say,
  limitMs: timeoutMs,
  limitName: 'REFRAIN_TEST_TIMEOUT_S',
  failedCode: SETUP_FAILED,
  // Once cleanup has begun (timeout, signal), errors of the browser and server going away are expected.
  stopping: () => state.cleaning !== undefined,
});
