// Shared helpers of the engine tests (bundled into each test file).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../fixtures';

export { repoRoot };

/** A tensor as stored by models/train/tensorio.py. */
export interface TensorJson {
  type: 'float32' | 'int32' | 'int64';
  dims: number[];
  b64: string;
}

/** Reads a tensorio JSON file into typed arrays. */
export function loadTensors(path: string): Map<string, { dims: number[]; data: Float32Array | Int32Array }> {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, TensorJson>;
  const out = new Map<string, { dims: number[]; data: Float32Array | Int32Array }>();
  for (const [name, t] of Object.entries(raw)) {
    const buf = Buffer.from(t.b64, 'base64');
    const bytes = new Uint8Array(buf.byteLength);
    bytes.set(buf);
    if (t.type === 'int64') {
      throw new Error(`${name}: int64 not expected`);
    }
    out.set(name, { dims: t.dims, data: t.type === 'float32' ? new Float32Array(bytes.buffer) : new Int32Array(bytes.buffer) });
  }
  return out;
}

/** The built worker script (npm run build writes it). */
export function workerPath(): string {
  const p = join(repoRoot(), 'dist/engineWorker.js');
  if (!existsSync(p)) {
    throw new Error(`${p} is missing: run \`node esbuild.mjs\` first.`);
  }
  return p;
}

/** The folder of the engine's fixture models. */
export function fixtureModelsDir(): string {
  return join(repoRoot(), 'test/fixtures/engine/models');
}

/** A small hand-written tune (our own), 8 bars of 6/8 in D major. */
export const JIG_ABC = `X:1
T:Test Jig
M:6/8
L:1/8
Q:3/8=110
K:D
|:A|dfd cec|dfa agf|ede cAc|ede gfe|
dfd cec|dfa afd|ede cAG|FDD D2:|
`;

/** A small hand-written reel (our own), 8 bars of 4/4 in G major. */
export const REEL_ABC = `X:2
T:Test Reel
M:4/4
L:1/8
K:G
GABc dedB|cBAG FGAF|GABc dedB|cAFA G4|
gfge dBGB|cBAG FGAF|gfge dBGB|cAFA G4|
`;

/** Largest absolute difference of two equally long arrays (Infinity where either is NaN). */
export function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    worst = Number.isNaN(d) ? Infinity : Math.max(worst, d);
  }
  return worst;
}
