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
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format } from 'node:util';

const require = createRequire(import.meta.url);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const toolsDir = process.env.REFRAIN_TOOLS_DIR ?? join(repoRoot, '.tools');
const codeServerBin = process.env.REFRAIN_CODE_SERVER ?? join(toolsDir, 'code-server', 'node_modules', '.bin', 'code-server');
const chromiumBin = process.env.REFRAIN_CHROMIUM ?? '/usr/bin/chromium';
const timeoutS = Number(process.env.REFRAIN_TEST_TIMEOUT_S ?? '600');
const timeoutMs = (Number.isFinite(timeoutS) && timeoutS > 0 ? timeoutS : 600) * 1000;
const verbose = process.env.REFRAIN_TEST_VERBOSE === '1';
const host = '127.0.0.1';

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

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Keeps the last lines of a stream so a failed start can show why without flooding every run. */
function tailKeeper(limit) {
  const lines = [];
  return {
    push(chunk) {
      for (const line of chunk.toString().split('\n')) {
        if (line.trim() === '') {
          continue;
        }
        lines.push(line);
        if (lines.length > limit) {
          lines.shift();
        }
      }
    },
    text() {
      return lines.join('\n');
    },
  };
}

const state = { codeServer: undefined, browserServer: undefined, browser: undefined, profileDir: undefined, cleaning: undefined };

function killGroup(child, signal) {
  if (!child || child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
  }
}

function waitExit(child, ms) {
  if (!child || child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve(true);
  }
  return Promise.race([new Promise((r) => child.once('exit', () => r(true))), sleep(ms).then(() => false)]);
}

/** Pids of the group's processes that are still running (zombies only wait to be reaped). Linux /proc. */
function liveInGroup(pgid) {
  const live = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) {
      continue;
    }
    let stat;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') {
      live.push(Number(name));
    }
  }
  return live;
}

/** SIGKILLs a process group until none of its processes is left running. */
async function sweepGroup(pgid) {
  for (let i = 0; i < 30; i++) {
    if (liveInGroup(pgid).length === 0) {
      return;
    }
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      return;
    }
    await sleep(100);
  }
  throw new Error(`processes ${liveInGroup(pgid).join(', ')} of group ${pgid} survive SIGKILL`);
}

/** Runs one cleanup step; a failure in one step must not keep the others from running. */
async function step(what, body) {
  try {
    await body();
  } catch (e) {
    say(`cleanup: ${what}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Stops Chromium and code-server (their whole process groups) and removes the profile. Idempotent. */
function cleanup() {
  state.cleaning ??= (async () => {
    const { browser, browserServer, codeServer } = state;
    if (browser) {
      await step('closing the browser connection', () => Promise.race([browser.close(), sleep(3000)]));
    }
    if (browserServer) {
      const proc = browserServer.process();
      await step('closing Chromium', () => Promise.race([browserServer.close(), sleep(5000)]));
      if (!(await waitExit(proc, 100))) {
        await step('killing Chromium', () => browserServer.kill());
      }
      if (proc?.pid) {
        await step('sweeping the Chromium process group', () => sweepGroup(proc.pid));
      }
    }
    if (codeServer) {
      killGroup(codeServer, 'SIGTERM');
      if (!(await waitExit(codeServer, 5000))) {
        killGroup(codeServer, 'SIGKILL');
        await waitExit(codeServer, 2000);
      }
      // Its extension host and file watcher share its process group, and a dying server may
      // respawn the watcher: sweep the group until it is empty.
      await step('sweeping the code-server process group', () => sweepGroup(codeServer.pid));
    }
    if (state.profileDir) {
      await step('removing the profile', () => rmSync(state.profileDir, { recursive: true, force: true }));
    }
  })();
  return state.cleaning;
}

/** Starts code-server on a free loopback port and resolves once it answers HTTP. */
async function startCodeServer(profileDir) {
  const userDataDir = join(profileDir, 'user-data');
  const extensionsDir = join(profileDir, 'extensions');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  // Quiet, offline workbench: nothing to fetch, nothing shown at startup, no git scanning.
  const settings = {
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'security.workspace.trust.enabled': false,
    'git.enabled': false,
    'git.autoRepositoryDetection': false,
    'npm.autoDetect': 'off',
    'typescript.tsserver.experimental.enableProjectDiagnostics': false,
  };
  writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  const configPath = join(profileDir, 'config.yaml');
  writeFileSync(configPath, 'auth: none\ncert: false\n');

  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const log = tailKeeper(60);
    const child = spawn(
      codeServerBin,
      [
        '--bind-addr', `${host}:${port}`,
        '--auth', 'none',
        '--disable-telemetry',
        '--disable-update-check',
        '--disable-workspace-trust',
        '--disable-getting-started-override',
        '--ignore-last-opened',
        '--user-data-dir', userDataDir,
        '--extensions-dir', extensionsDir,
        '--config', configPath,
      ],
      {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          EXTENSIONS_GALLERY: '{}',
          // code-server keeps logs and a heartbeat under the XDG dirs: keep them in the profile.
          XDG_DATA_HOME: join(profileDir, 'xdg-data'),
          XDG_CONFIG_HOME: join(profileDir, 'xdg-config'),
          XDG_CACHE_HOME: join(profileDir, 'xdg-cache'),
        },
      },
    );
    state.codeServer = child;
    for (const stream of [child.stdout, child.stderr]) {
      stream.on('data', (d) => {
        log.push(d);
        if (verbose) {
          process.stderr.write(`[code-server] ${d}`);
        }
      });
    }
    const started = Date.now();
    while (Date.now() - started < 60_000) {
      if (child.exitCode !== null || child.signalCode !== null) {
        break;
      }
      try {
        const res = await fetch(`http://${host}:${port}/healthz`);
        if (res.ok) {
          say(`code-server listening on ${host}:${port} after ${Date.now() - started} ms`);
          return { port, log, child };
        }
      } catch {
        // Not listening yet.
      }
      await sleep(200);
    }
    say(`code-server did not start (attempt ${attempt}); its last output:\n${log.text()}`);
    killGroup(child, 'SIGKILL');
    await waitExit(child, 2000);
  }
  throw new Error('code-server did not start');
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
  const { chromium } = require('playwright-core');

  state.profileDir = mkdtempSync(join(tmpdir(), 'refrain-code-server-'));
  const { port, log, child } = await startCodeServer(state.profileDir);

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
    settle({ code: SETUP_FAILED, why: `code-server exited early (${code ?? signal}); its last output:\n${log.text()}` });
  });

  // A browser server rather than launch(): it hands out the Chromium process, to kill if need be.
  state.browserServer = await chromium.launchServer({
    executablePath: chromiumBin,
    headless: true,
    // Our own handlers stop code-server too; playwright's would exit before that is done.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    // Chromium's crash reports and caches go to the XDG dirs: keep them in the profile, not in $HOME.
    env: {
      ...process.env,
      XDG_CONFIG_HOME: join(state.profileDir, 'xdg-config'),
      XDG_CACHE_HOME: join(state.profileDir, 'xdg-cache'),
    },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  state.browser = await chromium.connect(state.browserServer.wsEndpoint());
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

async function main() {
  const started = Date.now();
  // If whoever reads our output is gone, writes fail with EPIPE: that must not kill us before cleanup.
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
  const timer = setTimeout(() => {
    say(`timed out after ${timeoutMs / 1000} s (REFRAIN_TEST_TIMEOUT_S); stopping code-server and Chromium`);
    void cleanup().finally(() => process.exit(SETUP_FAILED));
  }, timeoutMs);
  // When the runner that started us dies (CI cancels it), nobody would stop us: watch for that.
  const parent = process.ppid;
  const orphanCheck = setInterval(() => {
    if (process.ppid !== parent) {
      say('the runner that started the launcher is gone: stopping code-server and Chromium');
      void cleanup().finally(() => process.exit(SETUP_FAILED));
    }
  }, 1000);
  orphanCheck.unref();
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      say(`${signal}: stopping code-server and Chromium`);
      void cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
  let code = SETUP_FAILED;
  try {
    code = await run(process.argv.slice(2));
  } catch (e) {
    if (state.cleaning === undefined) {
      say(`failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
    code = SETUP_FAILED;
  } finally {
    await cleanup();
    clearTimeout(timer);
  }
  say(`exit ${code} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  process.exit(code);
}

void main();
