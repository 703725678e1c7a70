// Builds every bundle of Refrain:
//   dist/extension.js     extension host (node, cjs; vscode external)
//   dist/engineWorker.js  inference worker (node, cjs; onnxruntime-node external, shipped in node_modules)
//   dist/parseWorker.js   reads user text (ABC, MIDI) off the extension host's thread, with a time limit
//   dist/webview.js       structure panel / MIDI editor UI (browser, iife)
//   dist/cli.js           the `refrain` command line
//   out/test/**.test.js   unit tests (node), one bundle per test file, run by node's test runner
// Flags: --production (minify, no sourcemaps), --watch.
import * as esbuild from 'esbuild';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** Prints errors in the `file:line:col: error: text` form VS Code's esbuild problem matcher reads. */
const problemMatcher = {
  name: 'problem-matcher',
  setup(build) {
    build.onStart(() => {
      if (watch) {
        console.log('[watch] build started');
      }
    });
    build.onEnd((result) => {
      for (const { text, location } of result.errors) {
        console.error(`✘ [ERROR] ${text}`);
        if (location) {
          console.error(`    ${location.file}:${location.line}:${location.column}:`);
        }
      }
      if (watch) {
        console.log('[watch] build finished');
      }
    });
  },
};

function listTests(dir) {
  if (!existsSync(dir)) {
    return [];
  }
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      out.push(...listTests(p));
    } else if (name.endsWith('.test.ts')) {
      out.push(p);
    }
  }
  return out;
}

const nodeCommon = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  plugins: [problemMatcher],
};

const optionalEntry = (path) => (existsSync(path) ? [path] : []);

const configs = [
  {
    ...nodeCommon,
    entryPoints: ['src/extension.ts'],
    outfile: 'dist/extension.js',
    external: ['vscode', 'onnxruntime-node'],
  },
  {
    ...nodeCommon,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    external: ['onnxruntime-node'],
  },
  ...optionalEntry('src/engine/worker.ts').map((entry) => ({
    ...nodeCommon,
    entryPoints: [entry],
    outfile: 'dist/engineWorker.js',
    external: ['onnxruntime-node'],
  })),
  ...optionalEntry('src/host/parseWorker.ts').map((entry) => ({
    ...nodeCommon,
    entryPoints: [entry],
    outfile: 'dist/parseWorker.js',
  })),
  ...optionalEntry('webview/main.ts').map((entry) => ({
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    sourcemap: !production,
    minify: production,
    logLevel: 'warning',
    plugins: [problemMatcher],
    entryPoints: [entry],
    outfile: 'dist/webview.js',
  })),
];

if (!production) {
  const tests = [...listTests('test/unit'), ...listTests('test/integration')];
  if (tests.length > 0) {
    configs.push({
      ...nodeCommon,
      entryPoints: tests,
      outdir: 'out/test',
      outbase: 'test',
      external: ['vscode', 'onnxruntime-node'],
    });
  }
  rmSync('out/test', { recursive: true, force: true });
}

async function main() {
  const contexts = await Promise.all(configs.map((c) => esbuild.context(c)));
  if (watch) {
    await Promise.all(contexts.map((c) => c.watch()));
    return;
  }
  try {
    await Promise.all(contexts.map((c) => c.rebuild()));
  } finally {
    await Promise.all(contexts.map((c) => c.dispose()));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
