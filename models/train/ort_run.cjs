// Development helper: runs an ONNX model with onnxruntime-node on tensors from a JSON file
// (format of models/train/tensorio.py) and writes the outputs in the same format.
// Usage: node models/train/ort_run.cjs MODEL.onnx IN.json OUT.json
// IN.json may also be {"steps": [feeds, ...]} to run several feeds on one session.
// REFRAIN_ORT_PATH overrides where onnxruntime-node is loaded from (tensorio.run_ort copies
// this file to a temporary folder, outside the repository's package scope, and sets it).
'use strict';
process.env.ORT_DISABLE_TELEMETRY = '1';
const fs = require('node:fs');
const path = require('node:path');
const ort = require(process.env.REFRAIN_ORT_PATH ?? path.resolve(__dirname, '../../node_modules/onnxruntime-node'));

const CTORS = { float32: Float32Array, int32: Int32Array, int64: BigInt64Array };

function toTensor(t) {
  const buf = Buffer.from(t.b64, 'base64');
  const Ctor = CTORS[t.type];
  const data = new Ctor(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  return new ort.Tensor(t.type, data, t.dims);
}

function fromTensor(t) {
  const data = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return { type: t.type, dims: Array.from(t.dims), b64: data.toString('base64') };
}

async function main() {
  const [modelPath, inPath, outPath] = process.argv.slice(2);
  const session = await ort.InferenceSession.create(modelPath, { executionProviders: ['cpu'] });
  const input = JSON.parse(fs.readFileSync(inPath, 'utf8'));
  const steps = input.steps ?? [input];
  // {"decode": {layers, capacity, heads, headDim, singLayer}, "steps": [...]}: keep the KV cache
  // here, as the engine does (new rows written at tpos; fed whole each step, or its plan rows
  // gathered for a 'rows-1' graph).
  const dec = input.decode;
  const caches = [];
  if (dec) {
    for (let l = 0; l < dec.layers; l++) {
      caches.push([new Float32Array(dec.capacity * dec.heads * dec.headDim), new Float32Array(dec.capacity * dec.heads * dec.headDim)]);
    }
  }
  const results = [];
  for (const step of steps) {
    const feeds = {};
    for (const [k, v] of Object.entries(step)) {
      feeds[k] = toTensor(v);
    }
    if (dec && session.inputNames.includes('rows_k_0')) {
      // Graph 'rows-1': the plan's rows (kidx_l) gathered here, as the engine does, and the template
      // head's summary values (ssm_idx rows of the template layer, last head).
      const row = dec.heads * dec.headDim;
      const gather = (buf, idx, from, width) => {
        const out = new Float32Array(idx.length * width);
        idx.forEach((r, j) => out.set(buf.subarray(r * row + from, r * row + from + width), j * width));
        return out;
      };
      for (let l = 0; l < dec.layers; l++) {
        const kidx = feeds[`kidx_${l}`].data;
        delete feeds[`kidx_${l}`];
        feeds[`rows_k_${l}`] = new ort.Tensor('float32', gather(caches[l][0], kidx, 0, row), [kidx.length, dec.heads, dec.headDim]);
        feeds[`rows_v_${l}`] = new ort.Tensor('float32', gather(caches[l][1], kidx, 0, row), [kidx.length, dec.heads, dec.headDim]);
      }
      if (feeds.ssm_idx) {
        const idx = feeds.ssm_idx.data;
        delete feeds.ssm_idx;
        const vals = gather(caches[dec.singLayer][1], idx, (dec.heads - 1) * dec.headDim, dec.headDim);
        feeds.ssm_v = new ort.Tensor('float32', vals, [idx.length, dec.headDim]);
      }
    } else if (dec) {
      for (let l = 0; l < dec.layers; l++) {
        feeds[`past_k_${l}`] = new ort.Tensor('float32', caches[l][0], [dec.capacity, dec.heads, dec.headDim]);
        feeds[`past_v_${l}`] = new ort.Tensor('float32', caches[l][1], [dec.capacity, dec.heads, dec.headDim]);
      }
    }
    const out = await session.run(feeds);
    if (dec) {
      const row = dec.heads * dec.headDim;
      const first = feeds.tpos.data[0];
      for (let l = 0; l < dec.layers; l++) {
        caches[l][0].set(out[`new_k_${l}`].data, first * row);
        caches[l][1].set(out[`new_v_${l}`].data, first * row);
      }
    }
    const enc = {};
    for (const [k, v] of Object.entries(out)) {
      enc[k] = fromTensor(v);
    }
    results.push(enc);
  }
  fs.writeFileSync(outPath, JSON.stringify(input.steps ? { steps: results } : results[0]));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
