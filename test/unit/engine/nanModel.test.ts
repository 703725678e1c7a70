// A model whose weights are NaN (and whose card has no sha256 to catch it) stops generation with
// a clear error and writes nothing, instead of writing random bars with exit 0 (issue 10).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli/main';
import type { CliContext } from '../../../src/cli/usage';
import { assertFiniteLogits } from '../../../src/engine/finite';
import { EngineError } from '../../../src/engine/errors';
import { REEL_ABC, fixtureModelsDir, workerPath } from './helpers';

/** Fills the raw data of the ONNX initializer `name` with 0xFF bytes (a NaN float32 each). */
function poison(onnx: Buffer, name: string): void {
  // The initializer is the occurrence of the name followed by its raw_data field (tag 0x4a).
  let at = -1;
  for (let i = onnx.indexOf(name); i >= 0; i = onnx.indexOf(name, i + 1)) {
    if (onnx[i + name.length] === 0x4a) {
      at = i + name.length;
    }
  }
  assert.ok(at > 0, `initializer ${name} not found`);
  let len = 0;
  let shift = 0;
  let p = at + 1;
  for (;;) {
    const b = onnx[p++];
    len += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) {
      break;
    }
  }
  onnx.fill(0xff, p, p + len);
}

test('non-finite scores are refused', () => {
  assert.doesNotThrow(() => assertFiniteLogits(Float32Array.of(-1e30, 0, 3), 'm'));
  for (const bad of [NaN, Infinity, -Infinity]) {
    assert.throws(() => assertFiniteLogits(Float32Array.of(0, bad), 'm.onnx'), (e: unknown) => e instanceof EngineError && e.code === 'model-file' && /m\.onnx.*not numbers/.test(e.message));
  }
});

test('compose with a NaN-weight model fails with a clear message and writes no file', async () => {
  process.env.REFRAIN_ENGINE_WORKER ??= workerPath();
  const d = mkdtempSync(join(tmpdir(), 'refrain-nan-'));
  try {
    const model = join(d, 'models', 'tiny-nan');
    cpSync(join(fixtureModelsDir(), 'tiny-folk'), model, { recursive: true });
    const onnx = readFileSync(join(model, 'model.onnx'));
    poison(onnx, 'emb_1');
    writeFileSync(join(model, 'model.onnx'), onnx);
    const card = JSON.parse(readFileSync(join(model, 'card.json'), 'utf8')) as { id: string; onnx: { sha256?: string } };
    delete card.onnx.sha256;
    card.id = 'tiny-nan';
    writeFileSync(join(model, 'card.json'), JSON.stringify(card));
    writeFileSync(join(d, 'reel.abc'), REEL_ABC);
    const stderr: string[] = [];
    const ctx: CliContext = { out: () => undefined, err: (s) => stderr.push(s), progress: () => undefined };
    const out = join(d, 'out.abc');
    const code = await main(['compose', join(d, 'reel.abc'), '--models', join(d, 'models'), '--bars', '2', '-o', out], ctx);
    assert.equal(code, 1, stderr.join('\n'));
    assert.match(stderr.join('\n'), /model's output scores are not numbers.*nothing was written/);
    assert.ok(!existsSync(out));
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
