// The `--extensionTestsPath` entry of the package tests: runs mocha (tdd: suite/test) over the bundled
// test files in $REFRAIN_PACKAGE_TEST_DIR, which test/package/runPackageTests.mjs writes (with
// package-test.json, the VSIX to install and the models to try). Plain CommonJS: no build step.
'use strict';

const { readdirSync } = require('node:fs');
const { join } = require('node:path');

/** Called by VS Code in the extension host once the workbench is up; the run fails when this rejects. */
exports.run = function run() {
  const dir = process.env.REFRAIN_PACKAGE_TEST_DIR;
  if (!dir) {
    return Promise.reject(new Error('REFRAIN_PACKAGE_TEST_DIR is not set: run `npm run test:package`'));
  }
  // mocha 12 is an ES module: require() returns its namespace, the class is the default export.
  const loaded = require('mocha');
  const Mocha = loaded.default ?? loaded;
  const mocha = new Mocha({ ui: 'tdd', reporter: 'spec', color: false, timeout: 120000 });
  const files = readdirSync(dir).filter((name) => name.endsWith('.test.js')).sort();
  if (files.length === 0) {
    return Promise.reject(new Error(`no *.test.js in ${dir}`));
  }
  for (const name of files) {
    mocha.addFile(join(dir, name));
  }
  return new Promise((resolvePromise, reject) => {
    try {
      const runner = mocha.run((failures) => {
        const s = runner.stats ?? {};
        console.log(`package tests: ${s.passes ?? 0} passed, ${s.failures ?? failures} failed, ${s.pending ?? 0} pending`);
        if (failures > 0) {
          reject(new Error(`${failures} package test(s) failed`));
        } else {
          resolvePromise();
        }
      });
    } catch (e) {
      reject(e);
    }
  });
};
