// Entry point that VS Code loads in its extension host (`--extensionTestsPath`): runs mocha (tdd
// interface: suite/test) over the integration test bundles that `node esbuild.mjs` writes to
// out/test/integration. Plain CommonJS so it needs no build step of its own.
'use strict';

const { existsSync, readdirSync, statSync } = require('node:fs');
const { join, resolve } = require('node:path');

const bundles = resolve(__dirname, '..', '..', 'out', 'test', 'integration');

function listBundles(dir) {
  const found = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      found.push(...listBundles(p));
    } else if (name.endsWith('.test.js')) {
      found.push(p);
    }
  }
  return found;
}

/** Called by VS Code once the workbench is up; the run fails when this rejects. */
exports.run = function run() {
  // mocha 12 is an ES module: require() hands back its namespace, the class is the default export.
  const loaded = require('mocha');
  const Mocha = loaded.default ?? loaded;
  const mocha = new Mocha({
    ui: 'tdd',
    reporter: 'spec',
    color: false,
    timeout: Number(process.env.REFRAIN_TEST_MOCHA_TIMEOUT_MS || 30000),
  });
  if (process.env.REFRAIN_TEST_GREP) {
    mocha.grep(process.env.REFRAIN_TEST_GREP);
  }
  if (!existsSync(bundles)) {
    return Promise.reject(new Error(`no integration test bundles in ${bundles}: run \`node esbuild.mjs\` first`));
  }
  const files = listBundles(bundles);
  if (files.length === 0) {
    return Promise.reject(new Error(`no *.test.js in ${bundles}`));
  }
  for (const f of files) {
    mocha.addFile(f);
  }
  return new Promise((resolvePromise, reject) => {
    try {
      const runner = mocha.run((failures) => {
        const s = runner.stats ?? {};
        console.log(`integration tests: ${s.passes ?? 0} passed, ${s.failures ?? failures} failed, ${s.pending ?? 0} pending`);
        if (failures > 0) {
          reject(new Error(`${failures} integration test(s) failed`));
        } else {
          resolvePromise();
        }
      });
    } catch (e) {
      reject(e);
    }
  });
};
