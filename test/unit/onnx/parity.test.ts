// Parity of the exported ONNX graphs (run by onnxruntime-node) with the PyTorch modules they
// were exported from. Fixtures are written by `/usr/bin/python3 models/train/export.py
// --fixtures test/fixtures/onnx`: each `refrain.attn` function in a one-op model, and two tiny
// decode-step models whose expected logits come from the full-sequence PyTorch forward.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as OrtModule from 'onnxruntime-node';
import { fixturePath } from '../fixtures';

process.env.ORT_DISABLE_TELEMETRY = '1';
// Required after the line above so that onnxruntime-node never writes its telemetry database.
const ort = require('onnxruntime-node') as typeof OrtModule;

const TOLERANCE = 1e-4;

/** A tensor as stored by models/train/tensorio.py. */
interface TensorJson {
  type: 'float32' | 'int32' | 'int64';
  dims: number[];
  b64: string;
}

type TensorData = Float32Array | Int32Array | BigInt64Array;

function fixtureDir(): string {
  return fixturePath('onnx');
}

const DIR = fixtureDir();

function decodeData(t: TensorJson): TensorData {
  const buf = Buffer.from(t.b64, 'base64');
  const bytes = new Uint8Array(buf.byteLength);
  bytes.set(buf);
  if (t.type === 'float32') {
    return new Float32Array(bytes.buffer);
  }
  if (t.type === 'int32') {
    return new Int32Array(bytes.buffer);
  }
  return new BigInt64Array(bytes.buffer);
}

function loadTensors(path: string): Map<string, { json: TensorJson; data: TensorData }> {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, TensorJson>;
  const out = new Map<string, { json: TensorJson; data: TensorData }>();
  for (const [name, json] of Object.entries(raw)) {
    out.set(name, { json, data: decodeData(json) });
  }
  return out;
}

function toOrt(json: TensorJson, data: TensorData): OrtModule.Tensor {
  return new ort.Tensor(json.type, data, json.dims);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'length mismatch');
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= worst)) {
      worst = Number.isNaN(d) ? Infinity : d;
    }
  }
  return worst;
}

function floatData(t: OrtModule.Tensor): Float32Array {
  assert.equal(t.type, 'float32');
  return t.data as Float32Array;
}

describe('refrain.attn functions match their PyTorch twins', () => {
  for (const op of ['StructRotary', 'StructuredAttention', 'StructuredAttentionRows', 'SsmAttention']) {
    test(op, async () => {
      const session = await ort.InferenceSession.create(join(DIR, `op${op}.onnx`), { executionProviders: ['cpu'] });
      try {
        const tensors = loadTensors(join(DIR, `op${op}.json`));
        const feeds: Record<string, OrtModule.Tensor> = {};
        for (const [name, t] of tensors) {
          if (name.startsWith('in.')) {
            feeds[name.slice(3)] = toOrt(t.json, t.data);
          }
        }
        const expected = tensors.get('out.y');
        assert.ok(expected, 'fixture lacks out.y');
        const out = await session.run(feeds);
        assert.deepEqual(Array.from(out.y.dims), expected.json.dims);
        const diff = maxAbsDiff(floatData(out.y), expected.data as Float32Array);
        assert.ok(diff < TOLERANCE, `${op}: max abs diff ${diff}`);
      } finally {
        await session.release();
      }
    });
  }
});

interface DecodeMeta {
  steps: number;
  tokens: number;
  layers: number;
  heads: number;
  headDim: number;
}

interface CardIo {
  io: { inputs: { name: string }[]; outputs: { name: string }[] };
  plan: { layers: { sing?: boolean }[] };
}

/** Rows `idx` of a cache buffer (rows of `row` floats), columns `from .. from + width` of each. */
function gatherRows(buf: Float32Array, idx: Int32Array, row: number, from: number, width: number): Float32Array {
  const out = new Float32Array(idx.length * width);
  idx.forEach((r, j) => out.set(buf.subarray(r * row + from, r * row + from + width), j * width));
  return out;
}

/**
 * Runs every decode step of a tiny model the way the engine does: the KV cache lives in
 * JS-owned Float32Arrays of a fixed capacity; the new K/V rows are written at rows tpos. A
 * 'rows-1' graph gets each layer's plan rows (`kidx_l` of the fixture) gathered from the cache,
 * and the template head's summary values; earlier graphs get the whole cache. Returns the worst logit difference against the full PyTorch forward.
 * `mutate` may alter a step's feeds (to check that the test can fail).
 */
async function runDecode(
  variant: string,
  mutate?: (step: number, feeds: Record<string, OrtModule.Tensor>) => void,
): Promise<number> {
  const dir = join(DIR, `tiny-${variant}`);
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as DecodeMeta;
  const card = JSON.parse(readFileSync(join(dir, 'card.json'), 'utf8')) as CardIo;
  const tensors = loadTensors(join(dir, 'steps.json'));
  const session = await ort.InferenceSession.create(join(dir, 'model.onnx'), { executionProviders: ['cpu'] });
  try {
    assert.deepEqual([...session.inputNames].sort(), card.io.inputs.map((i) => i.name).sort());
    assert.deepEqual([...session.outputNames].sort(), card.io.outputs.map((o) => o.name).sort());
    const capacity = meta.tokens + 5;
    const row = meta.heads * meta.headDim;
    const caches = new Map<string, Float32Array>();
    for (let l = 0; l < meta.layers; l++) {
      caches.set(`k_${l}`, new Float32Array(capacity * row));
      caches.set(`v_${l}`, new Float32Array(capacity * row));
    }
    let worst = 0;
    for (let s = 0; s < meta.steps; s++) {
      const prefix = `step${s}.`;
      const feeds: Record<string, OrtModule.Tensor> = {};
      let expected: Float32Array | undefined;
      for (const [name, t] of tensors) {
        if (!name.startsWith(prefix)) {
          continue;
        }
        const key = name.slice(prefix.length);
        if (key === 'expected_logits') {
          expected = t.data as Float32Array;
        } else {
          feeds[key] = toOrt(t.json, t.data);
        }
      }
      assert.ok(expected, `step ${s} has no expected logits`);
      const rowsGraph = session.inputNames.includes('rows_k_0');
      for (let l = 0; l < meta.layers; l++) {
        const k = caches.get(`k_${l}`) as Float32Array;
        const v = caches.get(`v_${l}`) as Float32Array;
        if (rowsGraph) {
          const kidx = feeds[`kidx_${l}`].data as Int32Array;
          delete feeds[`kidx_${l}`];
          feeds[`rows_k_${l}`] = new ort.Tensor('float32', gatherRows(k, kidx, row, 0, row), [kidx.length, meta.heads, meta.headDim]);
          feeds[`rows_v_${l}`] = new ort.Tensor('float32', gatherRows(v, kidx, row, 0, row), [kidx.length, meta.heads, meta.headDim]);
        } else {
          feeds[`past_k_${l}`] = new ort.Tensor('float32', k, [capacity, meta.heads, meta.headDim]);
          feeds[`past_v_${l}`] = new ort.Tensor('float32', v, [capacity, meta.heads, meta.headDim]);
        }
      }
      if (rowsGraph && feeds.ssm_idx) {
        const idx = feeds.ssm_idx.data as Int32Array;
        delete feeds.ssm_idx;
        const singLayer = card.plan.layers.findIndex((x) => x.sing === true);
        const vals = gatherRows(caches.get(`v_${singLayer}`) as Float32Array, idx, row, (meta.heads - 1) * meta.headDim, meta.headDim);
        feeds.ssm_v = new ort.Tensor('float32', vals, [idx.length, meta.headDim]);
      }
      mutate?.(s, feeds);
      const out = await session.run(feeds);
      const first = (feeds.tpos.data as Int32Array)[0];
      for (let l = 0; l < meta.layers; l++) {
        (caches.get(`k_${l}`) as Float32Array).set(floatData(out[`new_k_${l}`]), first * row);
        (caches.get(`v_${l}`) as Float32Array).set(floatData(out[`new_v_${l}`]), first * row);
      }
      worst = Math.max(worst, maxAbsDiff(floatData(out.logits), expected));
    }
    return worst;
  } finally {
    await session.release();
  }
}

describe('decode step with an external KV cache matches the full PyTorch forward', () => {
  test('tiny-a: Museformer fine/coarse + window + SING head, srope', async () => {
    const diff = await runDecode('a');
    assert.ok(diff < TOLERANCE, `max abs diff ${diff}`);
  });

  test('tiny-b: dense + window, F-StrIPE features', async () => {
    const diff = await runDecode('b');
    assert.ok(diff < TOLERANCE, `max abs diff ${diff}`);
  });

  test('the comparison can fail: letting every cached key through changes the logits', async () => {
    const diff = await runDecode('a', (_step, feeds) => {
      for (const name of Object.keys(feeds)) {
        if (name.startsWith('bias_')) {
          const b = feeds[name];
          feeds[name] = new ort.Tensor('float32', new Float32Array((b.data as Float32Array).length), b.dims);
        }
      }
    });
    assert.ok(diff > 1e-3, `a wrong plan should change the logits, max abs diff only ${diff}`);
  });
});
