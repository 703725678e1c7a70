// Starting and stopping what the browser tests (test/e2e/run.mjs) and the integration tests'
// launcher (scripts/code-server-launcher.mjs) drive: code-server (VS Code in a Node server) and a
// headless Debian Chromium through playwright-core. Each runs in its own process group, so that
// stopping it also stops its children (extension host, file watcher, renderers); `stopGroup` sweeps
// a group until nothing of it is left, whatever state the run ended in. `superviseRun` runs a
// whole run under a time limit and stops everything on a timeout, a signal or an orphaned run.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

/** Loopback only: nothing here listens beyond this machine. */
export const HOST = '127.0.0.1';

/** Chromium flags for a quiet, offline, GPU-less headless run (FACTS.md, "VS Code for tests"). */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
  // A loaded machine must not make the workbench's timers crawl in a page it thinks is hidden.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

/** Resolves after `ms` milliseconds. */
export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** A free TCP port on the loopback interface. */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** Keeps the last `limit` non-empty lines written to a stream, to explain a failed start. */
function lineTail(limit) {
  const lines = [];
  return {
    push(chunk) {
      for (const line of String(chunk).split('\n')) {
        if (line.trim() !== '') {
          lines.push(line);
          if (lines.length > limit) {
            lines.shift();
          }
        }
      }
    },
    text() {
      return lines.join('\n');
    },
  };
}

/** The running processes of process group `pgid` (zombies excluded). Reads Linux /proc. */
function groupMembers(pgid) {
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    let stat;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // Gone meanwhile.
    }
    // "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z') {
      found.push(Number(entry));
    }
  }
  return found;
}

function signalGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // No such group any more.
  }
}

/**
 * Stops process group `pgid`: SIGTERM, up to `graceMs` for it to go, then SIGKILL until no
 * member is left. Throws when members survive SIGKILL for 5 s.
 */
export async function stopGroup(pgid, graceMs = 3000) {
  if (groupMembers(pgid).length === 0) {
    return;
  }
  signalGroup(pgid, 'SIGTERM');
  for (let waited = 0; waited < graceMs && groupMembers(pgid).length > 0; waited += 100) {
    await sleep(100);
  }
  for (let i = 0; i < 50; i++) {
    if (groupMembers(pgid).length === 0) {
      return;
    }
    signalGroup(pgid, 'SIGKILL');
    await sleep(100);
  }
  throw new Error(`processes ${groupMembers(pgid).join(', ')} of group ${pgid} survive SIGKILL`);
}

/** The user settings every run starts from: an offline, quiet workbench that asks nothing. */
export const QUIET_SETTINGS = {
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.editor.enablePreview': false,
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
  'git.autoRepositoryDetection': false,
  'npm.autoDetect': 'off',
  'chat.commandCenter.enabled': false,
  'typescript.tsserver.experimental.enableProjectDiagnostics': false,
};

/**
 * Writes the settings of a profile made by {@link startCodeServer}: `user` into the user
 * settings, `machine` into the remote machine's settings. The workbench is a remote window of
 * code-server, so a setting of `"scope": "machine"` (like `refrain.modelPath`) counts only in the
 * latter: VS Code drops machine settings from the user file once it knows the window is remote.
 */
export function writeSettings(profileDir, user, machine = {}) {
  for (const [folder, values] of [['User', user], ['Machine', machine]]) {
    const dir = join(profileDir, 'user-data', folder);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'settings.json'), `${JSON.stringify(values, null, 2)}\n`);
  }
}

/**
 * Starts code-server on a free loopback port with a private profile under `profileDir` (and the
 * settings of {@link writeSettings}) and
 * resolves once it answers HTTP: `{ port, child, output, startMs }`. Retries on another port
 * twice (each failed attempt explained through `say`). `onChild` hears of each process as soon as
 * it is spawned (so a timeout can still stop it).
 */
export async function startCodeServer({ binary, profileDir, settings, machineSettings, onChild, verbose = false, say = (m) => process.stdout.write(`[e2e] ${m}\n`) }) {
  const userDataDir = join(profileDir, 'user-data');
  const extensionsDir = join(profileDir, 'extensions');
  mkdirSync(extensionsDir, { recursive: true });
  writeSettings(profileDir, settings, machineSettings);
  const configPath = join(profileDir, 'config.yaml');
  writeFileSync(configPath, 'auth: none\ncert: false\n');
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const output = lineTail(80);
    const child = spawn(
      binary,
      [
        '--bind-addr', `${HOST}:${port}`,
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
          XDG_DATA_HOME: join(profileDir, 'xdg-data'),
          XDG_CONFIG_HOME: join(profileDir, 'xdg-config'),
          XDG_CACHE_HOME: join(profileDir, 'xdg-cache'),
        },
      },
    );
    onChild?.(child);
    for (const stream of [child.stdout, child.stderr]) {
      stream.on('data', (d) => {
        output.push(d);
        if (verbose) {
          process.stderr.write(`[code-server] ${d}`);
        }
      });
    }
    const started = Date.now();
    while (Date.now() - started < 90_000 && child.exitCode === null && child.signalCode === null) {
      try {
        const res = await fetch(`http://${HOST}:${port}/healthz`);
        if (res.ok) {
          return { port, child, output, startMs: Date.now() - started };
        }
      } catch {
        // Not listening yet.
      }
      await sleep(250);
    }
    say(`code-server did not start (attempt ${attempt}); its last output:\n${output.text()}`);
    await stopGroup(child.pid, 1000);
  }
  throw new Error('code-server did not start');
}

/**
 * Launches headless Chromium as a browser server (so its process, and its group, are known) and
 * connects to it: `{ server, browser }`. Its caches and crash reports stay in `profileDir`.
 */
export async function launchBrowser({ executablePath, profileDir, onServer }) {
  const { chromium } = require('playwright-core');
  const server = await chromium.launchServer({
    executablePath,
    headless: true,
    // The runner's own handlers stop everything in order; playwright's would exit first.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    env: {
      ...process.env,
      XDG_CONFIG_HOME: join(profileDir, 'xdg-config'),
      XDG_CACHE_HOME: join(profileDir, 'xdg-cache'),
    },
    args: CHROMIUM_ARGS,
  });
  onServer?.(server);
  const browser = await chromium.connect(server.wsEndpoint());
  return { server, browser };
}

/** A cleanup step runner: runs `body`, and says (does not throw) what failed, so the next step still runs. */
export function cleanupStep(say) {
  return async (what, body) => {
    try {
      await body();
    } catch (e) {
      say(`cleanup: ${what}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
}

/**
 * Stops what a run started, each step on its own (a failing step is said and the next still
 * runs): the browser connection, Chromium and code-server with their whole process groups.
 * `held` is `{ browser, browserServer, codeServer }`, any of them undefined.
 */
export async function stopProcesses(held, say) {
  const attempt = cleanupStep(say);
  if (held.browser) {
    await attempt('closing the browser', () => Promise.race([held.browser.close(), sleep(3000)]));
  }
  const chromiumPid = held.browserServer?.process()?.pid;
  if (held.browserServer) {
    await attempt('closing Chromium', () => Promise.race([held.browserServer.close(), sleep(5000)]));
  }
  if (chromiumPid) {
    await attempt('stopping Chromium', () => stopGroup(chromiumPid, 1000));
  }
  if (held.codeServer?.pid) {
    await attempt('stopping code-server', () => stopGroup(held.codeServer.pid, 5000));
  }
}

/**
 * Runs `run()` (resolving to an exit code) and exits with its code after `cleanup()`. A run past
 * `limitMs` (set by the environment variable `limitName`), a SIGINT / SIGTERM / SIGHUP, or the
 * death of the process that started this one stops everything (`cleanup`) and exits: `failedCode`,
 * or 130 / 143 for SIGINT / other signals. A run that throws exits `failedCode`, said unless
 * `stopping()` (an error while stopping is expected).
 */
export async function superviseRun({ run, cleanup, say, limitMs, limitName, failedCode, stopping = () => false }) {
  const started = Date.now();
  // If whoever reads our output is gone, writes fail with EPIPE: that must not kill us before cleanup.
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
  const stopAndExit = (why, code) => {
    say(why);
    void cleanup().finally(() => process.exit(code));
  };
  const timer = setTimeout(() => stopAndExit(`timed out after ${limitMs / 1000} s (${limitName}): stopping code-server and Chromium`, failedCode), limitMs);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => stopAndExit(`${signal}: stopping code-server and Chromium`, signal === 'SIGINT' ? 130 : 143));
  }
  // If whoever started us is gone (a cancelled CI job), nobody else would stop the processes.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) {
      stopAndExit('the process that started the run is gone: stopping code-server and Chromium', failedCode);
    }
  }, 1000).unref();
  let code = failedCode;
  try {
    code = await run();
  } catch (e) {
    if (!stopping()) {
      say(`failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
    code = failedCode;
  } finally {
    await cleanup();
    clearTimeout(timer);
  }
  say(`exit ${code} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  process.exit(code);
}
