// Feeds of a 'rows-1' decode step (src/engine/ortStep.ts) through a recording stand-in session:
// the template head's summary values (`ssm_v`) are reused from step to step only while the
// summary rows and their cache contents are unchanged.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { readModelEntry } from '../../../src/engine/card';
import { KvCache } from '../../../src/engine/kvCache';
import { OrtStepModel } from '../../../src/engine/ortStep';
import type { StepSession } from '../../../src/engine/ortStep';
import type { StepPlan } from '../../../src/engine/plan';
import { repoRoot } from './helpers';

/** Records every run's feeds; answers zero logits (and leaves given outputs as they are). */
class Recorder implements StepSession {
  readonly inputNames: string[];
  readonly outputNames: string[];
  readonly feeds: Record<string, ort.Tensor>[] = [];
  constructor(layers: number, private readonly _vocab: number) {
    this.inputNames = ['tokens', 'bar', 'pos', 'tpos', 'ssm_v', 'ssm_row', 'ssm_mask'];
    this.outputNames = ['logits'];
    for (let l = 0; l < layers; l++) {
      this.inputNames.push(`rows_k_${l}`, `rows_v_${l}`, `bias_${l}`);
      this.outputNames.push(`new_k_${l}`, `new_v_${l}`);
    }
  }
  run(feeds: Record<string, ort.Tensor>): Record<string, ort.OnnxValue> {
    this.feeds.push(feeds);
    const s = feeds.tokens.dims[0];
    return { logits: new ort.Tensor('float32', new Float32Array(s * this._vocab), [s, this._vocab]) };
  }
  release(): Promise<void> {
    return Promise.resolve();
  }
}

describe('OrtStepModel feeds', () => {
  test("the template head's summary values are reused while their rows are unchanged, and refreshed when a row is rewritten or the rows change", async () => {
    const entry = await readModelEntry(join(repoRoot(), 'models/folk-tsrope'));
    const { layers, heads, headDim } = entry.card.model;
    const vocab = entry.card.vocab?.size ?? 0;
    const session = new Recorder(layers, vocab);
    const model = new OrtStepModel(session, entry.card, 'model.onnx', ort.Tensor);
    const singLayer = Math.max(0, entry.card.plan.layers.findIndex((l) => l.sing === true));
    const cache = new KvCache(layers, heads, headDim, 64);
    const rs = cache.rowSize;
    for (let l = 0; l < layers; l++) {
      cache.write(l, 0, Float32Array.from({ length: 16 * rs }, (_, i) => i * 0.001 + l), Float32Array.from({ length: 16 * rs }, (_, i) => -i * 0.001 - l));
    }
    const step = async (idx: number[], tpos: number): Promise<ort.Tensor> => {
      const m = idx.length;
      const plan: StepPlan = {
        layers: Array.from({ length: layers }, () => ({ kidx: Int32Array.from([0, 1, 2]), bias: new Float32Array(4) })),
        sing: { idx: Int32Array.from(idx), row: new Float32Array(m + 1), mask: new Float32Array(m + 1) },
      };
      const one = Int32Array.from([1]);
      await model.run({ tokens: one, bar: Int32Array.from([0]), pos: Int32Array.from([0]), tpos: Int32Array.from([tpos]), cache, plan, row: tpos });
      return session.feeds[session.feeds.length - 1].ssm_v;
    };
    const expect = (idx: number[]): number[] => {
      const values = cache.values(singLayer);
      const out: number[] = [];
      for (const r of idx) {
        out.push(...values.subarray(r * rs + (heads - 1) * headDim, r * rs + heads * headDim));
      }
      return out;
    };
    const a = await step([3, 7], 16);
    assert.deepEqual(Array.from(a.data as Float32Array), expect([3, 7]));
    assert.deepEqual(a.dims, [2, headDim]);
    const b = await step([3, 7], 17);
    assert.equal(b, a, 'unchanged rows: the same tensor');
    // Row 7 rewritten (as a reused cache is by the next request): fresh values.
    cache.write(singLayer, 7, new Float32Array(rs).fill(0.5), new Float32Array(rs).fill(-0.5));
    const c = await step([3, 7], 18);
    assert.notEqual(c, a);
    assert.deepEqual(Array.from(c.data as Float32Array), expect([3, 7]));
    assert.equal((c.data as Float32Array)[headDim], -0.5);
    // Other rows (a bar line): fresh values.
    const d = await step([3, 7, 11], 19);
    assert.notEqual(d, c);
    assert.deepEqual(Array.from(d.data as Float32Array), expect([3, 7, 11]));
  });
});
