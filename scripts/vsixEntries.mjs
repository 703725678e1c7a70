// What a VSIX holds (scripts/package.mjs, test/package/): its zip entries, a size summary per
// top-level group, and the checks its entries must pass for a target (required files, nothing
// that must not ship, native files only for the target).
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';

/** Provider libraries that only a CUDA install (`ONNXRUNTIME_NODE_INSTALL=cuda12`) adds: never shipped. */
export const GPU_PROVIDER_LIB = /providers_(cuda|tensorrt)/i;
/** Native files: each must sit in the target's onnxruntime-node binary folder. */
const NATIVE_FILE = /\.(node|dll|dylib|so)(\.\d+)*$/i;
/** The only packages the VSIX may carry in node_modules. */
const SHIPPED_PACKAGES = ['onnxruntime-node', 'onnxruntime-common'];

/** Human-readable byte count (MiB above 1 MiB). */
export function formatBytes(bytes) {
  if (bytes >= 1024 * 1024) {
    return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  }
  if (bytes >= 1024) {
    return `${(bytes / 1024).toFixed(1)} KiB`;
  }
  return `${bytes} B`;
}


/**
 * The entries of a zip file (name, uncompressed and compressed size), read from its central
 * directory. Enough for a VSIX (no zip64: fewer than 65,535 entries and under 4 GiB).
 */
export function readZipEntries(file) {
  const buf = readFileSync(file);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    throw new Error(`${file} is not a zip file (no end of central directory)`);
  }
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const entries = [];
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) {
      throw new Error(`${file}: bad central directory entry ${i}`);
    }
    const compressedSize = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLength = buf.readUInt16LE(p + 28);
    const extraLength = buf.readUInt16LE(p + 30);
    const commentLength = buf.readUInt16LE(p + 32);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLength);
    entries.push({ name, size, compressedSize });
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** The group an entry is summarised under: `extension/<top>`, or `extension/<top>/<next>` for node_modules and models. */
function groupOf(name) {
  const parts = name.split('/');
  if (parts[0] !== 'extension' || parts.length < 2) {
    return name;
  }
  if ((parts[1] === 'node_modules' || parts[1] === 'models') && parts.length > 3) {
    return parts.slice(0, 3).join('/');
  }
  return parts.length > 2 ? `${parts.slice(0, 2).join('/')}/` : name;
}

/** Rows of files, bytes and compressed bytes per top-level group of a VSIX. */
export function summarizeEntries(entries) {
  const groups = new Map();
  for (const e of entries) {
    const key = groupOf(e.name);
    const g = groups.get(key) ?? { group: key, files: 0, size: 0, compressedSize: 0 };
    g.files += 1;
    g.size += e.size;
    g.compressedSize += e.compressedSize;
    groups.set(key, g);
  }
  return [...groups.values()].sort((a, b) => a.group.localeCompare(b.group));
}

/**
 * What is wrong with a VSIX's entries for `target` (empty when nothing): required files, no sources,
 * tests or training code, no node_modules but onnxruntime's, native files only for the target,
 * no GPU provider libraries, every expected model present.
 */
export function checkVsixEntries(entries, target, expectedModels = []) {
  const [os, arch] = target.split('-');
  const names = new Set(entries.map((e) => e.name));
  const problems = [];
  const required = ['extension.vsixmanifest', '[Content_Types].xml', 'extension/package.json', 'extension/dist/extension.js', 'extension/dist/engineWorker.js', 'extension/dist/parseWorker.js'];
  const binDir = `extension/node_modules/onnxruntime-node/bin/napi-v6/${os}/${arch}/`;
  required.push(`${binDir}onnxruntime_binding.node`, 'extension/node_modules/onnxruntime-node/dist/index.js', 'extension/node_modules/onnxruntime-common/dist/cjs/index.js');
  for (const id of expectedModels) {
    required.push(`extension/models/${id}/model.onnx`, `extension/models/${id}/card.json`);
  }
  for (const r of required) {
    if (!names.has(r)) {
      problems.push(`missing ${r}`);
    }
  }
  if (![...names].some((n) => /^extension\/readme\.md$/i.test(n))) {
    problems.push('missing extension/readme.md');
  }
  const forbidden = ['extension/src/', 'extension/test/', 'extension/webview/', 'extension/out/', 'extension/scripts/', 'extension/models/train/', 'extension/.tools/', 'extension/.cache/', 'extension/bench/'];
  for (const { name } of entries) {
    const bad = forbidden.find((f) => name.startsWith(f));
    if (bad) {
      problems.push(`${name}: ${bad} must not ship`);
    } else if (name.endsWith('.map') || (name.endsWith('.ts') && !name.endsWith('.d.ts'))) {
      problems.push(`${name}: sources and source maps must not ship`);
    }
    const nm = /^extension\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(name);
    if (nm && !SHIPPED_PACKAGES.includes(nm[1])) {
      problems.push(`${name}: only ${SHIPPED_PACKAGES.join(' and ')} may ship in node_modules`);
    }
    if (NATIVE_FILE.test(name) && !name.startsWith(binDir)) {
      problems.push(`${name}: a native file outside ${binDir}`);
    }
    if (GPU_PROVIDER_LIB.test(name)) {
      problems.push(`${name}: CUDA/TensorRT provider libraries must not ship`);
    }
  }
  return problems;
}

/** Prints the summary table of a VSIX. */
export function printSummary(file, entries, log = (m) => process.stdout.write(`[package] ${m}\n`)) {
  const rows = summarizeEntries(entries);
  const width = Math.max(...rows.map((r) => r.group.length), 5);
  log(`${basename(file)}: ${formatBytes(statSync(file).size)} (${statSync(file).size} bytes), ${entries.length} files`);
  log(`${'entry'.padEnd(width)}  ${'files'.padStart(5)}  ${'unpacked'.padStart(10)}  ${'packed'.padStart(10)}`);
  for (const r of rows) {
    log(`${r.group.padEnd(width)}  ${String(r.files).padStart(5)}  ${formatBytes(r.size).padStart(10)}  ${formatBytes(r.compressedSize).padStart(10)}`);
  }
}
