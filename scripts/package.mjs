#!/usr/bin/env node
// Packages Refrain as a platform-specific VSIX (one per OS/architecture: onnxruntime-node ships
// native binaries, see FACTS.md / STYLE.md B2).
//
//   node scripts/package.mjs [--target linux-x64] [--out FILE.vsix] [--keep-stage]
//   npm run package -- --target win32-x64
//
// Targets: the `<os>-<arch>` folders that node_modules/onnxruntime-node/bin/napi-v6 holds
// (1.30.0: linux-x64, linux-arm64, darwin-arm64, win32-x64, win32-arm64). Default: linux-x64.
//
// Everything happens in a temporary folder; the source tree (dist/ included) is left untouched:
//   1. the production bundles are built (`node esbuild.mjs --production`) in a copy of src/, webview/, media/;
//   2. a staging folder gets the manifest, README, LICENSE (if any), dist bundles (not the CLI), media/,
//      models/<id>/ (every folder but models/train), and node_modules/onnxruntime-node + onnxruntime-common
//      pruned to the target's binaries (no other OS/arch, no CUDA/TensorRT providers, no sources or maps);
//      the staged manifest lists onnxruntime-node as the only dependency, since esbuild bundles the rest;
//   3. the bundles are checked to require nothing but Node built-ins, `vscode` and onnxruntime-node, and,
//      when the target is this machine's, the staged worker bundle is loaded to prove onnxruntime resolves;
//   4. `vsce package --target T` (from @vscode/vsce) writes the VSIX; its entries are checked and summarised.
//
// Exit code 0 when the VSIX was written and passed its checks.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { GPU_PROVIDER_LIB, checkVsixEntries, formatBytes, printSummary, readZipEntries } from './vsixEntries.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Bare module names the bundles may still require at run time. */
const ALLOWED_EXTERNALS = new Set(['vscode', 'onnxruntime-node']);

function say(message) {
  process.stdout.write(`[package] ${message}\n`);
}

function fail(message) {
  const error = new Error(message);
  error.name = 'PackageError';
  throw error;
}

function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

function writeJson(file, value) {
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Targets this checkout can package: the OS/arch folders of onnxruntime-node's prebuilt binaries. */
export function supportedTargets(root = repoRoot) {
  const binRoot = join(root, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
  if (!existsSync(binRoot)) {
    return [];
  }
  const targets = [];
  for (const os of readdirSync(binRoot).sort()) {
    for (const arch of readdirSync(join(binRoot, os)).sort()) {
      if (existsSync(join(binRoot, os, arch, 'onnxruntime_binding.node'))) {
        targets.push(`${os}-${arch}`);
      }
    }
  }
  return targets;
}

/** The target of this machine (`process.platform`-`process.arch`), the one a local test can run. */
export function hostTarget() {
  return `${process.platform}-${process.arch}`;
}

function parseArgs(argv) {
  const options = { target: 'linux-x64', out: undefined, keepStage: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const value = () => {
      const v = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (v === undefined || v === '') {
        fail(`${name} needs a value`);
      }
      return v;
    };
    if (name === '--target') {
      options.target = value();
    } else if (name === '--out') {
      options.out = resolve(value());
    } else if (name === '--keep-stage') {
      options.keepStage = true;
    } else if (name === '--help' || name === '-h') {
      options.help = true;
    } else {
      fail(`unknown argument ${arg} (usage: package.mjs [--target T] [--out FILE.vsix] [--keep-stage])`);
    }
  }
  return options;
}

/** Files under `dir` (relative paths with `/`), depth first, sorted. */
function listFiles(dir, base = dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      out.push(...listFiles(p, base));
    } else {
      out.push(relative(base, p).split(sep).join('/'));
    }
  }
  return out;
}

function copyFile(from, to) {
  mkdirSync(dirname(to), { recursive: true });
  cpSync(from, to);
}

function timed(label, body) {
  const started = Date.now();
  const result = body();
  say(`${label}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

/** Builds the production bundles in a copy of the sources; returns the folder holding dist/. */
function buildProduction(stageRoot) {
  const buildDir = join(stageRoot, 'build');
  mkdirSync(buildDir, { recursive: true });
  for (const entry of ['src', 'webview', 'media']) {
    if (existsSync(join(repoRoot, entry))) {
      cpSync(join(repoRoot, entry), join(buildDir, entry), { recursive: true });
    }
  }
  for (const file of ['esbuild.mjs', 'tsconfig.json', 'package.json']) {
    copyFile(join(repoRoot, file), join(buildDir, file));
  }
  // Packages resolve from the checkout's node_modules; nothing is written there.
  symlinkSync(join(repoRoot, 'node_modules'), join(buildDir, 'node_modules'), 'dir');
  const result = spawnSync(process.execPath, ['esbuild.mjs', '--production'], { cwd: buildDir, stdio: 'inherit' });
  if (result.status !== 0) {
    fail(`the production build failed (node esbuild.mjs --production exited ${result.status ?? result.signal})`);
  }
  return buildDir;
}

/**
 * The model folders that ship: every folder of models/ but train/ (and hidden or cache folders),
 * except models whose card says `"ship": false` (comparison baselines kept for evaluation).
 */
export function modelIds(root = repoRoot) {
  const dir = join(root, 'models');
  if (!existsSync(dir)) {
    return [];
  }
  const ships = (name) => {
    try {
      return JSON.parse(readFileSync(join(dir, name, 'card.json'), 'utf8')).ship !== false;
    } catch {
      return true; // a folder without a readable card is reported by the checks below
    }
  };
  return readdirSync(dir)
    .filter((name) => name !== 'train' && !name.startsWith('.') && !name.startsWith('_'))
    .filter((name) => statSync(join(dir, name)).isDirectory())
    .filter(ships)
    .sort();
}

function isJunk(rel) {
  return rel.split('/').some((part) => part.startsWith('.') || part === '__pycache__') || rel.endsWith('.pyc');
}

/** Copies onnxruntime-node and onnxruntime-common, pruned to what runs on `os`/`arch`. */
function stageOnnxRuntime(stageDir, os, arch) {
  const srcModules = join(repoRoot, 'node_modules');
  const dstModules = join(stageDir, 'node_modules');
  const ortSrc = join(srcModules, 'onnxruntime-node');
  const ortDst = join(dstModules, 'onnxruntime-node');
  const ortManifest = readJson(join(ortSrc, 'package.json'));
  const commonSpec = ortManifest.dependencies?.['onnxruntime-common'];
  // Its other dependencies (adm-zip, global-agent) serve only the postinstall download, which is not shipped.
  const shippedManifest = { ...ortManifest, dependencies: commonSpec ? { 'onnxruntime-common': commonSpec } : {} };
  delete shippedManifest.scripts;
  delete shippedManifest.devDependencies;
  mkdirSync(ortDst, { recursive: true });
  writeJson(join(ortDst, 'package.json'), shippedManifest);
  for (const rel of listFiles(ortSrc)) {
    const keepJs = rel.startsWith('dist/') && rel.endsWith('.js');
    const keepDoc = /^(README|LICENSE|ThirdPartyNotices)[^/]*$/i.test(rel);
    if (keepJs || keepDoc) {
      copyFile(join(ortSrc, rel), join(ortDst, rel));
    }
  }
  const binRel = `bin/napi-v6/${os}/${arch}`;
  const binSrc = join(ortSrc, ...binRel.split('/'));
  const dropped = [];
  for (const name of readdirSync(binSrc).sort()) {
    if (GPU_PROVIDER_LIB.test(name)) {
      dropped.push(name);
      continue;
    }
    // macOS: the binding links @rpath/libonnxruntime.1.dylib; the versioned name is a byte-identical
    // copy (a symlink in the upstream archive), 44 MB that nothing loads.
    const versioned = /^libonnxruntime\.\d+\.\d+\.\d+\.dylib$/.exec(name);
    const linked = join(binSrc, 'libonnxruntime.1.dylib');
    if (versioned && existsSync(linked) && statSync(linked).size === statSync(join(binSrc, name)).size) {
      dropped.push(name);
      continue;
    }
    copyFile(join(binSrc, name), join(ortDst, ...binRel.split('/'), name));
  }
  if (dropped.length > 0) {
    say(`onnxruntime-node ${binRel}: left out ${dropped.join(', ')}`);
  }

  const commonSrc = join(srcModules, 'onnxruntime-common');
  const commonDst = join(dstModules, 'onnxruntime-common');
  for (const rel of listFiles(commonSrc)) {
    const keepDist = rel.startsWith('dist/') && (rel.endsWith('.js') || rel.endsWith('/package.json'));
    const keepTop = rel === 'package.json' || /^(README|LICENSE|ThirdPartyNotices)[^/]*$/i.test(rel);
    if (keepDist || keepTop) {
      copyFile(join(commonSrc, rel), join(commonDst, rel));
    }
  }
  const commonVersion = readJson(join(commonSrc, 'package.json')).version;
  return { ortVersion: ortManifest.version, commonVersion };
}

/** Fills the staging folder vsce packages. Returns what it staged, for the checks. */
function stage(stageRoot, buildDir, os, arch) {
  const stageDir = join(stageRoot, 'extension');
  mkdirSync(stageDir, { recursive: true });

  const manifest = readJson(join(repoRoot, 'package.json'));
  const ort = stageOnnxRuntime(stageDir, os, arch);
  // esbuild bundles every other dependency; `vsce` collects node_modules from this list (npm list --production).
  manifest.dependencies = { 'onnxruntime-node': ort.ortVersion };
  writeJson(join(stageDir, 'package.json'), manifest);

  if (!existsSync(join(repoRoot, 'README.md'))) {
    fail('README.md is missing');
  }
  const docs = readdirSync(repoRoot).filter((name) => /^(README|CHANGELOG|LICENSE|LICENCE)(\.(md|txt))?$/i.test(name));
  for (const name of docs) {
    copyFile(join(repoRoot, name), join(stageDir, name));
  }
  const license = docs.find((name) => /^LICEN[CS]E/i.test(name));

  const bundles = [];
  for (const rel of listFiles(join(buildDir, 'dist'))) {
    // The command-line bundle runs from a clone (bin/refrain.js), not from the extension.
    if (rel.endsWith('.map') || rel === 'cli.js') {
      continue;
    }
    copyFile(join(buildDir, 'dist', rel), join(stageDir, 'dist', rel));
    bundles.push(`dist/${rel}`);
  }
  if (existsSync(join(repoRoot, 'media'))) {
    cpSync(join(repoRoot, 'media'), join(stageDir, 'media'), { recursive: true });
  }
  // The example tune the walkthrough opens (Refrain: Open Example Tune).
  copyFile(join(repoRoot, 'examples', 'refrain-tunes.abc'), join(stageDir, 'examples', 'refrain-tunes.abc'));
  const models = modelIds();
  for (const id of models) {
    const from = join(repoRoot, 'models', id);
    const files = listFiles(from).filter((rel) => !isJunk(rel));
    for (const rel of files) {
      copyFile(join(from, rel), join(stageDir, 'models', id, rel));
    }
    for (const needed of ['model.onnx', 'card.json']) {
      if (!files.includes(needed)) {
        say(`warning: models/${id} has no ${needed}`);
      }
    }
  }
  copyFile(join(repoRoot, '.vscodeignore'), join(stageDir, '.vscodeignore'));
  return { stageDir, manifest, bundles, models, license, ort };
}

/** Bare module names a bundle requires (`require("x")`), other than Node built-ins. */
export function bareRequires(code) {
  const builtins = new Set(builtinModules);
  const found = new Set();
  for (const m of code.matchAll(/\brequire\(\s*["'`]([^"'`]+)["'`]\s*\)/g)) {
    const name = m[1];
    if (name.startsWith('.') || name.startsWith('/') || name.startsWith('node:')) {
      continue;
    }
    const pkg = name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : name.split('/')[0];
    if (!builtins.has(pkg)) {
      found.add(pkg);
    }
  }
  return [...found].sort();
}

function checkBundles(stageDir, bundles) {
  for (const needed of ['dist/extension.js', 'dist/engineWorker.js', 'dist/parseWorker.js']) {
    if (!bundles.includes(needed)) {
      fail(`${needed} was not built`);
    }
  }
  if (existsSync(join(repoRoot, 'webview', 'main.ts')) && !bundles.includes('dist/webview.js')) {
    fail('dist/webview.js was not built');
  }
  for (const rel of bundles.filter((b) => b.endsWith('.js'))) {
    const extra = bareRequires(readFileSync(join(stageDir, rel), 'utf8')).filter((name) => !ALLOWED_EXTERNALS.has(name));
    if (extra.length > 0) {
      fail(`${rel} requires ${extra.join(', ')} at run time: bundle it (esbuild.mjs) or ship it`);
    }
  }
  say(`bundles (${bundles.join(', ')}) need only Node built-ins, vscode and onnxruntime-node`);
}

/** Loads the staged worker bundle (and so onnxruntime-node from the staged node_modules) in a clean Node. */
function smokeLoad(stageDir) {
  const script = [
    `const ort = require(${JSON.stringify(join(stageDir, 'node_modules', 'onnxruntime-node'))});`,
    `require(${JSON.stringify(join(stageDir, 'dist', 'engineWorker.js'))});`,
    "if (typeof ort.InferenceSession?.create !== 'function') { throw new Error('no InferenceSession'); }",
    "process.stdout.write(ort.env.versions?.node ?? 'loaded');",
  ].join('\n');
  const env = { ...process.env, ORT_DISABLE_TELEMETRY: '1' };
  delete env.NODE_PATH;
  const result = spawnSync(process.execPath, ['-e', script], { cwd: stageDir, env, encoding: 'utf8' });
  if (result.status !== 0) {
    fail(`the staged worker bundle does not load:\n${result.stderr}`);
  }
  say(`staged dist/engineWorker.js loads onnxruntime-node ${result.stdout.trim()} from the staged node_modules`);
}

function runVsce(stageDir, target, out, hasLicense) {
  const vsce = join(repoRoot, 'node_modules', '@vscode', 'vsce', 'vsce');
  if (!existsSync(vsce)) {
    fail('@vscode/vsce is not installed: run `npm ci`');
  }
  const args = [vsce, 'package', '--target', target, '--out', out, '--allow-missing-repository'];
  if (!hasLicense) {
    // package.json says MIT; vsce would otherwise stop to ask about the missing LICENSE file.
    args.push('--skip-license');
  }
  const version = execFileSync(process.execPath, [vsce, '--version'], { encoding: 'utf8' }).trim();
  say(`vsce ${version}: ${['vsce', ...args.slice(1)].join(' ')}`);
  const result = spawnSync(process.execPath, args, { cwd: stageDir, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, npm_config_loglevel: 'error' } });
  if (result.status !== 0) {
    fail(`vsce package failed (exit ${result.status ?? result.signal})`);
  }
}

/**
 * Builds, stages and packages a VSIX for `target`; returns its path, entries and timings.
 * Throws (a PackageError) when a step fails or the VSIX does not pass its checks.
 */
export function packageVsix({ target = 'linux-x64', out, keepStage = false } = {}) {
  const started = Date.now();
  const targets = supportedTargets();
  if (!targets.includes(target)) {
    fail(`target ${target} is not supported: onnxruntime-node ships binaries for ${targets.join(', ') || 'nothing (is node_modules installed?)'}`);
  }
  const [os, arch] = target.split('-');
  const manifest = readJson(join(repoRoot, 'package.json'));
  const vsix = out ?? join(repoRoot, `${manifest.name}-${target}-${manifest.version}.vsix`);
  const stageRoot = mkdtempSync(join(tmpdir(), 'refrain-package-'));
  try {
    const buildDir = timed('production build', () => buildProduction(stageRoot));
    const staged = timed('staging', () => stage(stageRoot, buildDir, os, arch));
    say(`staged ${staged.bundles.length} bundles, media, ${staged.models.length} model(s)${staged.models.length ? ` (${staged.models.join(', ')})` : ''}, onnxruntime-node ${staged.ort.ortVersion} + onnxruntime-common ${staged.ort.commonVersion} for ${target}`);
    if (!staged.license) {
      say('note: no LICENSE file in the repository (package.json says MIT); packaged with --skip-license');
    }
    checkBundles(staged.stageDir, staged.bundles);
    if (target === hostTarget()) {
      smokeLoad(staged.stageDir);
    }
    mkdirSync(dirname(vsix), { recursive: true });
    rmSync(vsix, { force: true });
    timed('vsce package', () => runVsce(staged.stageDir, target, vsix, Boolean(staged.license)));
    const entries = readZipEntries(vsix);
    const problems = checkVsixEntries(entries, target, staged.models);
    printSummary(vsix, entries);
    if (problems.length > 0) {
      fail(`the VSIX fails its checks:\n  ${problems.join('\n  ')}`);
    }
    const seconds = (Date.now() - started) / 1000;
    say(`wrote ${vsix} (${formatBytes(statSync(vsix).size)}) in ${seconds.toFixed(1)} s`);
    return { vsix, entries, seconds, models: staged.models };
  } finally {
    if (keepStage) {
      say(`staging kept in ${stageRoot}`);
    } else {
      rmSync(stageRoot, { recursive: true, force: true });
    }
  }
}

function main() {
  try {
    const options = parseArgs(process.argv.slice(2));
    if (options.help) {
      say(`usage: node scripts/package.mjs [--target T] [--out FILE.vsix] [--keep-stage]; targets: ${supportedTargets().join(', ')}`);
      return 0;
    }
    packageVsix(options);
    return 0;
  } catch (e) {
    say(e instanceof Error && e.name === 'PackageError' ? `error: ${e.message}` : `failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return 1;
  }
}

if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  process.exitCode = main();
}
