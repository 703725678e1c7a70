// Decoding with the JS-held KV cache and the TypeScript plan through onnxruntime:
// - against the full-sequence PyTorch forward recorded in the tiny ONNX fixtures;
// - one token at a time equals one whole-prefix step (same logits), across cache growth.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readModelEntry, validateCard } from '../../../src/engine/card';
import { Decoder } from '../../../src/engine/decoder';
import { layerPlansOf } from '../../../src/engine/generate';
import { offsetRelatedBars } from '../../../src/engine/plan';
import type { LayerPlan } from '../../../src/engine/plan';
import { openModel } from '../../../src/engine/worker';
import type { OpenedModel } from '../../../src/engine/worker';
import { readAbc } from '../../../src/music/abc/reader';
import { barSsm } from '../../../src/structure/ssm';
import { encodeScore } from '../../../src/tokens/encode';
import { HEADER_BAR } from '../../../src/tokens/vocab';
import { REEL_ABC, fixtureModelsDir, loadTensors, maxDiff, repoRoot } from './helpers';

const opened: OpenedModel[] = [];
after(async () => {
  for (const m of opened) {
    await m.session.release();
  }
});

describe('decoder against the PyTorch full forward (tiny ONNX fixtures)', () => {
  for (const variant of ['a', 'b']) {
    test(`tiny-${variant}`, async () => {
      const dir = join(repoRoot(), 'test/fixtures/onnx', `tiny-${variant}`);
      const card = validateCard(JSON.parse(readFileSync(join(dir, 'card.json'), 'utf8')), 'card.json');
      const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { steps: number; windows: (number | null)[]; offsets: number[] };
      const t = loadTensors(join(dir, 'steps.json'));
      const m = await openModel(join(dir, 'model.onnx'), card, { executionProvider: 'cpu', threads: 1 });
      opened.push(m);
      const layers: LayerPlan[] = card.plan.layers.map((l, k) => ({ plan: l.plan, window: meta.windows[k] }));
      // The fixture tune's template, rebuilt from the recorded SING rows (see plan.test.ts).
      const ids: number[] = [];
      const bars: number[] = [];
      const pos: number[] = [];
      const chunks: number[] = [];
      const expected: Float32Array[] = [];
      for (let s = 0; s < meta.steps; s++) {
        const tk = t.get(`step${s}.tokens`)?.data as Int32Array;
        ids.push(...tk);
        bars.push(...(t.get(`step${s}.bar`)?.data as Int32Array));
        pos.push(...(t.get(`step${s}.pos`)?.data as Int32Array));
        chunks.push(tk.length);
        expected.push(t.get(`step${s}.expected_logits`)?.data as Float32Array);
      }
      const nb = Math.max(...bars.filter((b) => b !== HEADER_BAR)) + 1;
      const tdata = new Float32Array(nb * nb);
      if (m.model.shape.sing) {
        let past = 0;
        for (let s = 0; s < meta.steps; s++) {
          const idx = t.get(`step${s}.ssm_idx`)?.data as Int32Array;
          const row = t.get(`step${s}.ssm_row`)?.data as Float32Array;
          const width = idx.length + chunks[s];
          for (let r = 0; r < chunks[s]; r++) {
            for (let col = 0; col < width; col++) {
              const j = col < idx.length ? idx[col] : past + col - idx.length;
              const b = bars[past + r];
              if (b !== HEADER_BAR && bars[j] !== HEADER_BAR && bars[j] < b) {
                tdata[b * nb + bars[j]] = row[r * width + col];
              }
            }
          }
          past += chunks[s];
        }
      }
      const dec = new Decoder(m.model, {
        plan: { layers, related: offsetRelatedBars(meta.offsets), sing: m.model.shape.sing, template: { size: nb, data: tdata } },
        capacity: 4,
      });
      let a = 0;
      let worst = 0;
      for (let s = 0; s < meta.steps; s++) {
        const n = chunks[s];
        const logits = await dec.append(ids.slice(a, a + n), bars.slice(a, a + n), pos.slice(a, a + n));
        worst = Math.max(worst, maxDiff(logits, expected[s]));
        a += n;
      }
      assert.ok(worst < 1e-4, `max abs logit difference ${worst}`);
      assert.ok(dec.cache.capacity >= ids.length && dec.cache.capacity <= 128, 'the cache grew by doubling');
    });
  }
});

describe('KV-cache decode equals full-prefix recompute', () => {
  test('tiny-folk on an encoded tune, with the template head and windows', async () => {
    const entry = await readModelEntry(join(fixtureModelsDir(), 'tiny-folk'));
    const m = await openModel(entry.onnxPath, entry.card, { executionProvider: 'cpu', threads: 1 });
    opened.push(m);
    const score = readAbc(REEL_ABC).tunes[0].score;
    const seq = encodeScore(score);
    const plan = {
      layers: layerPlansOf(entry.card, ['full', 24]),
      related: offsetRelatedBars([1, 2, 4]),
      sing: true,
      template: barSsm(score),
    };
    const full = new Decoder(m.model, { plan, chunk: 10000 });
    const all = await full.append(seq.ids, seq.bar, seq.pos);
    const steps = new Decoder(m.model, { plan, capacity: 8 });
    const v = m.model.shape.vocabSize;
    let worst = 0;
    for (let i = 0; i < seq.ids.length; i++) {
      const row = await steps.appendOne(seq.ids[i], seq.bar[i], seq.pos[i]);
      worst = Math.max(worst, maxDiff(row, all.subarray(i * v, (i + 1) * v)));
    }
    assert.ok(worst < 1e-4, `max abs logit difference ${worst}`);
    // The comparison can fail: a different plan gives different logits.
    const other = new Decoder(m.model, { plan: { ...plan, related: offsetRelatedBars([]) }, chunk: 10000 });
    const diff = maxDiff(await other.append(seq.ids, seq.bar, seq.pos), all);
    assert.ok(diff > 1e-3, `another plan should change the logits (diff ${diff})`);
  });
});

describe("the bundled model's 'rows-1' graph (plan rows kept in slots across steps)", () => {
  test('folk-tsrope: one token at a time equals one whole-prefix step, and a direct session equals onnxruntime-common', async () => {
    const entry = await readModelEntry(join(repoRoot(), 'models/folk-tsrope'));
    const direct = await openModel(entry.onnxPath, entry.card, { executionProvider: 'cpu', threads: 1 });
    const common = await openModel(entry.onnxPath, entry.card, { executionProvider: 'cpu', threads: 1, direct: false });
    opened.push(direct, common);
    assert.ok(direct.model.rowsGraph, 'the bundled model takes the plan rows');
    const score = readAbc(REEL_ABC).tunes[0].score;
    const seq = encodeScore(score);
    const plan = { layers: layerPlansOf(entry.card, []), related: offsetRelatedBars(entry.card.plan.relatedOffsets), sing: true, template: barSsm(score) };
    const whole = await new Decoder(direct.model, { plan, chunk: 10000 }).append(seq.ids, seq.bar, seq.pos);
    const v = direct.model.shape.vocabSize;
    const one = new Decoder(direct.model, { plan, capacity: 8 });
    const viaCommon = new Decoder(common.model, { plan, capacity: 8 });
    let worst = 0;
    let directVsCommon = 0;
    for (let i = 0; i < seq.ids.length; i++) {
      const row = await one.appendOne(seq.ids[i], seq.bar[i], seq.pos[i]);
      worst = Math.max(worst, maxDiff(row, whole.subarray(i * v, (i + 1) * v)));
      directVsCommon = Math.max(directVsCommon, maxDiff(row, await viaCommon.appendOne(seq.ids[i], seq.bar[i], seq.pos[i])));
    }
    assert.ok(worst < 1e-4, `max abs logit difference ${worst}`);
    assert.equal(directVsCommon, 0, 'the same graph and feeds through either session give the same logits');
    const views = direct.model.rowViews(one.cache);
    // Within a bar a step copies only its new row; at a bar line the related bars move and the rows are laid out afresh.
    assert.ok(views !== undefined && views.stats.kept > 3 * views.stats.copied, `rows mostly stay in their slots (kept ${views?.stats.kept}, copied ${views?.stats.copied})`);
  });
});
