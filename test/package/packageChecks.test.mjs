// Checks of the pure helpers of scripts/package.mjs (no build, no VSIX): what counts as a bundled
// dependency, what a VSIX may hold, which model folders ship, and the zip directory reader.
//   node --test test/package/packageChecks.test.mjs      (the first step of npm run test:package)
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { bareRequires, modelIds } from '../../scripts/package.mjs';
import { checkVsixEntries, readZipEntries, summarizeEntries } from '../../scripts/vsixEntries.mjs';

const BIN = 'extension/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/';

/** The entries of a VSIX that passes every check for linux-x64, with one model. */
function goodEntries() {
  return [
    '[Content_Types].xml',
    'extension.vsixmanifest',
    'extension/package.json',
    'extension/readme.md',
    'extension/dist/extension.js',
    'extension/dist/engineWorker.js',
    'extension/dist/parseWorker.js',
    'extension/dist/webview.js',
    'extension/media/refrain.css',
    'extension/models/folk-rope/model.onnx',
    'extension/models/folk-rope/card.json',
    'extension/models/folk-rope/MODEL_CARD.md',
    'extension/node_modules/onnxruntime-node/package.json',
    'extension/node_modules/onnxruntime-node/dist/index.js',
    `${BIN}onnxruntime_binding.node`,
    `${BIN}libonnxruntime.so.1`,
    'extension/node_modules/onnxruntime-common/package.json',
    'extension/node_modules/onnxruntime-common/dist/cjs/index.js',
  ].map((name) => ({ name, size: 10, compressedSize: 5 }));
}

function withEntry(name) {
  return [...goodEntries(), { name, size: 1, compressedSize: 1 }];
}

describe('bareRequires', () => {
  test('lists bare packages but not built-ins, node: modules or relative paths', () => {
    const code = 'require("vscode");require("node:fs");require("path");require("./x");require(\'abcjs\');require("@tonejs/midi/dist/Midi")';
    assert.deepEqual(bareRequires(code), ['@tonejs/midi', 'abcjs', 'vscode']);
  });

  test('finds nothing in a fully bundled file', () => {
    assert.deepEqual(bareRequires('var a=require("node:worker_threads"),b=require("crypto");'), []);
  });
});

describe('checkVsixEntries', () => {
  test('accepts a VSIX with only the shipped files', () => {
    assert.deepEqual(checkVsixEntries(goodEntries(), 'linux-x64', ['folk-rope']), []);
  });

  test('rejects binaries of another platform', () => {
    const problems = checkVsixEntries(withEntry('extension/node_modules/onnxruntime-node/bin/napi-v6/win32/x64/onnxruntime.dll'), 'linux-x64');
    assert.equal(problems.length, 1);
    assert.match(problems[0], /native file outside/);
  });

  test('rejects CUDA and TensorRT provider libraries even in the right folder', () => {
    const problems = checkVsixEntries(withEntry(`${BIN}libonnxruntime_providers_cuda.so`), 'linux-x64');
    assert.match(problems.join('\n'), /CUDA\/TensorRT/);
  });

  test('rejects other packages in node_modules, scoped ones included', () => {
    for (const name of ['extension/node_modules/abcjs/dist/abcjs.js', 'extension/node_modules/@tonejs/midi/package.json']) {
      assert.match(checkVsixEntries(withEntry(name), 'linux-x64').join('\n'), /only onnxruntime-node and onnxruntime-common/);
    }
  });

  test('rejects sources, tests, training code and source maps', () => {
    for (const name of ['extension/src/extension.ts', 'extension/test/unit/a.test.ts', 'extension/models/train/export.py', 'extension/dist/extension.js.map']) {
      assert.equal(checkVsixEntries(withEntry(name), 'linux-x64').length, 1, name);
    }
  });

  test('reports a missing model, binding or bundle', () => {
    const entries = goodEntries().filter((e) => !e.name.endsWith('engineWorker.js') && !e.name.endsWith('.node'));
    const problems = checkVsixEntries(entries, 'linux-x64', ['folk-rope', 'other']);
    assert.deepEqual(problems.sort(), [
      `missing ${BIN}onnxruntime_binding.node`,
      'missing extension/dist/engineWorker.js',
      'missing extension/models/other/card.json',
      'missing extension/models/other/model.onnx',
    ].sort());
  });

  test('checks the binary folder of the target it is given', () => {
    assert.match(checkVsixEntries(goodEntries(), 'darwin-arm64').join('\n'), /darwin\/arm64\/onnxruntime_binding\.node/);
  });
});

describe('summarizeEntries', () => {
  test('groups node_modules and models by package and by model', () => {
    const rows = summarizeEntries(goodEntries());
    const byGroup = new Map(rows.map((r) => [r.group, r]));
    assert.equal(byGroup.get('extension/node_modules/onnxruntime-node').files, 4);
    assert.equal(byGroup.get('extension/models/folk-rope').files, 3);
    assert.equal(byGroup.get('extension/dist/').size, 40);
    assert.equal(rows.reduce((n, r) => n + r.files, 0), goodEntries().length);
  });
});

describe('modelIds', () => {
  test('ships every model folder but train/, hidden folders and files', () => {
    const root = mkdtempSync(join(tmpdir(), 'refrain-model-ids-'));
    try {
      for (const dir of ['train', 'folk-rope', 'b-model', '.cache', '_scratch']) {
        mkdirSync(join(root, 'models', dir), { recursive: true });
      }
      writeFileSync(join(root, 'models', 'README.md'), 'models\n');
      assert.deepEqual(modelIds(root), ['b-model', 'folk-rope']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('leaves out a model whose card says "ship": false (a comparison baseline)', () => {
    const root = mkdtempSync(join(tmpdir(), 'refrain-model-ids-'));
    try {
      for (const [dir, card] of [['folk-a', { id: 'folk-a' }], ['folk-dense', { id: 'folk-dense', ship: false }]]) {
        mkdirSync(join(root, 'models', dir), { recursive: true });
        writeFileSync(join(root, 'models', dir, 'card.json'), JSON.stringify(card));
      }
      assert.deepEqual(modelIds(root), ['folk-a']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('is empty without a models folder', () => {
    assert.deepEqual(modelIds(join(tmpdir(), 'refrain-no-such-root')), []);
  });
});

/** A zip with stored (uncompressed) entries, enough for the central-directory reader. */
function storedZip(files) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const [name, text] of files) {
    const nameBuf = Buffer.from(name, 'utf8');
    const data = Buffer.from(text, 'utf8');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBuf.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBuf, data);
    centrals.push(central, nameBuf);
    offset += 30 + nameBuf.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(files.length, 8);
  eocd.writeUInt16LE(files.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

describe('readZipEntries', () => {
  test('lists names and sizes from the central directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'refrain-zip-'));
    try {
      const file = join(dir, 'a.vsix');
      writeFileSync(file, storedZip([['extension/package.json', '{}'], ['extension/dist/é.js', 'x=1;']]));
      assert.deepEqual(readZipEntries(file), [
        { name: 'extension/package.json', size: 2, compressedSize: 2 },
        { name: 'extension/dist/é.js', size: 4, compressedSize: 4 },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('rejects a file that is not a zip', () => {
    const dir = mkdtempSync(join(tmpdir(), 'refrain-zip-'));
    try {
      const file = join(dir, 'not.vsix');
      writeFileSync(file, Buffer.alloc(100, 7));
      assert.throws(() => readZipEntries(file), /not a zip file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
