// Candidates decoded side by side in one model step (src/engine/batch.ts):
// - a lane's logits in a batch equal its logits decoded alone (tiny ONNX fixtures, several
//   lanes of different lengths, single-token and multi-token steps mixed);
// - through `generate` with the bundled real model: candidate k of a request with seed s has
//   the same tokens as a one-candidate request with seed s + k (continue and infill).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BatchDecoder } from '../../../src/engine/batch';
import { readModelEntry, validateCard } from '../../../src/engine/card';
import { Decoder } from '../../../src/engine/decoder';
import type { StepModel } from '../../../src/engine/decoder';
import { generate, layerPlansOf } from '../../../src/engine/generate';
import { offsetRelatedBars, singStepPlan, TokenLayout } from '../../../src/engine/plan';
import type { StepPlanOptions } from '../../../src/engine/plan';
import type { GenerateRequest } from '../../../src/engine/types';
import { openModel } from '../../../src/engine/worker';
import type { OpenedModel } from '../../../src/engine/worker';
import { readAbc } from '../../../src/music/abc/reader';
import { encodeScore } from '../../../src/tokens/encode';
import { REEL_ABC, loadTensors, maxDiff, repoRoot } from './helpers';
import { RandomModel } from './standInModel';

const opened: OpenedModel[] = [];
after(async () => {
  for (const m of opened) {
    await m.session.release();
  }
});

describe('batched decoding: a lane in a batch equals the lane alone', () => {
  for (const variant of ['a', 'b']) {
    test(`tiny-${variant}: three lanes forked from a shared prompt`, async () => {
      const dir = join(repoRoot(), 'test/fixtures/onnx', `tiny-${variant}`);
      const card = validateCard(JSON.parse(readFileSync(join(dir, 'card.json'), 'utf8')), 'card.json');
      const m = await openModel(join(dir, 'model.onnx'), card, { executionProvider: 'cpu', threads: 1 });
      opened.push(m);
      // The fixture's recorded sequence (its own vocabulary): a 40-token prompt, then lanes that
      // continue it, continue it with other tokens (same bars), and continue it again.
      const t = loadTensors(join(dir, 'steps.json'));
      const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { steps: number };
      const reel = { ids: [] as number[], bar: [] as number[], pos: [] as number[] };
      for (let k = 0; k < meta.steps; k++) {
        reel.ids.push(...(t.get(`step${k}.tokens`)?.data as Int32Array));
        reel.bar.push(...(t.get(`step${k}.bar`)?.data as Int32Array));
        reel.pos.push(...(t.get(`step${k}.pos`)?.data as Int32Array));
      }
      const nb = Math.max(...reel.bar.filter((x) => x !== 0xffff)) + 1;
      const template = { size: nb, data: new Float32Array(nb * nb).map((_, i) => ((i % (nb + 1)) === 0 ? 1 : (i * 7) % 5 === 0 ? 0.6 : 0.1)) };
      const plan: StepPlanOptions = {
        layers: layerPlansOf(card, [], 4),
        related: offsetRelatedBars([1, 2, 4]),
        sing: m.model.shape.sing,
        template,
      };
      const p = 40;
      const rest = { ids: reel.ids.slice(p), bar: reel.bar.slice(p), pos: reel.pos.slice(p) };
      const other = { ids: [...rest.ids].reverse(), bar: rest.bar, pos: rest.pos };
      const conts = [rest, other, rest];
      // Alone: a Decoder per continuation, one token a step after the shared prompt.
      const alone: Float32Array[][] = [];
      for (const c of conts) {
        const d = new Decoder(m.model, { plan, capacity: 64 });
        await d.append(reel.ids.slice(0, p), reel.bar.slice(0, p), reel.pos.slice(0, p));
        const rows: Float32Array[] = [];
        for (let i = 0; i < Math.min(40, c.ids.length); i++) {
          rows.push(Float32Array.from(await d.appendOne(c.ids[i], c.bar[i], c.pos[i])));
        }
        alone.push(rows);
      }
      // Batched: lane 0 prefills, three forks step together; lane 2 starts 5 steps late and
      // then catches up with a 5-token step, so single- and multi-token parts share steps.
      const b = new BatchDecoder(m.model, { plan, capacity: 64 });
      await b.append(0, reel.ids.slice(0, p), reel.bar.slice(0, p), reel.pos.slice(0, p));
      const lanes = [b.fork(0), b.fork(0), b.fork(0)];
      const got: Float32Array[][] = [[], [], []];
      const v = m.model.shape.vocabSize;
      for (let step = 0; step < 36; step++) {
        const appends = [];
        const who: { k: number; count: number }[] = [];
        for (let k = 0; k < 3; k++) {
          const at = b.length(lanes[k]) - p;
          if (k === 2 && step < 5) {
            continue;
          }
          const count = k === 2 && step === 5 ? 6 : 1;
          if (at + count > Math.min(40, conts[k].ids.length)) {
            continue;
          }
          const c = conts[k];
          appends.push({ lane: lanes[k], ids: c.ids.slice(at, at + count), bars: c.bar.slice(at, at + count), pos: c.pos.slice(at, at + count) });
          who.push({ k, count });
        }
        const outs = await b.step(appends);
        who.forEach(({ k, count }, i) => {
          for (let r = 0; r < count; r++) {
            got[k].push(Float32Array.from(outs[i].subarray(r * v, (r + 1) * v)));
          }
        });
      }
      for (let k = 0; k < 3; k++) {
        assert.ok(got[k].length >= 30, `lane ${k} decoded ${got[k].length} tokens`);
        for (let i = 0; i < got[k].length; i++) {
          const d = maxDiff(got[k][i], alone[k][i]);
          assert.ok(d < 2e-4, `lane ${k} token ${i}: logits differ by ${d}`);
        }
      }
      assert.equal(b.cache.capacity >= b.rowsUsed, true);
    });
  }

  test('the SING horizon drops summaries of bars too far back, and changes nothing within it', () => {
    const s = encodeScore(readAbc(REEL_ABC).tunes[0].score);
    const layout = new TokenLayout();
    for (let i = 0; i < s.ids.length; i++) {
      layout.push(s.ids[i], s.bar[i], s.pos[i]);
    }
    const last = s.ids.length - 1;
    const all = singStepPlan(layout, last, 1, undefined, null);
    const wide = singStepPlan(layout, last, 1, undefined, 64);
    assert.deepEqual(wide, all);
    const near = singStepPlan(layout, last, 1, undefined, 2);
    const bar = layout.barAt(last);
    assert.ok(near.idx.length > 0 && near.idx.length < all.idx.length);
    for (let j = 0; j < near.idx.length; j++) {
      if (near.mask[j] === 1) {
        assert.ok(layout.barAt(near.idx[j]) >= bar - 2);
      }
    }
  });
});

function reelRequest(over: Partial<GenerateRequest> = {}): GenerateRequest {
  return {
    model: 'folk-tsrope',
    prompt: readAbc(REEL_ABC).tunes[0].score,
    task: { kind: 'continue', bars: 4 },
    controls: { relatedOffsets: [1, 2, 4, 8, 12, 16, 24, 32], scales: [] },
    sampling: { temperature: 1, topP: 0.95, seed: 41 },
    candidates: 1,
    target: 'abc-folk',
    ...over,
  };
}

describe('batched candidates through generate', () => {
  test('stand-in model: candidate k of a batch is the one-candidate request with seed + k', async () => {
    const entry = await readModelEntry(join(repoRoot(), 'test/fixtures/engine/models/tiny-folk'));
    const ctx = { model: new RandomModel(true) as StepModel, card: entry.card, cardPath: 'card.json', refrainVocab: true };
    const batch = await generate(ctx, reelRequest({ candidates: 5, task: { kind: 'continue', bars: 6 } }));
    for (let k = 0; k < 5; k++) {
      const [one] = await generate(ctx, reelRequest({ candidates: 1, task: { kind: 'continue', bars: 6 }, sampling: { temperature: 1, topP: 0.95, seed: 41 + k } }));
      assert.deepEqual(batch[k].score.notes, one.score.notes, `candidate ${k}`);
      assert.equal(batch[k].seed, one.seed);
    }
  });

  test('folk-tsrope: candidate k with seed s has the tokens of seed s + k decoded alone (continue and infill)', async () => {
    const entry = await readModelEntry(join(repoRoot(), 'models/folk-tsrope'));
    const m = await openModel(entry.onnxPath, entry.card, { executionProvider: 'cpu', threads: 1 });
    opened.push(m);
    let steps = 0;
    const counting: StepModel = {
      shape: m.model.shape,
      run: (inputs) => {
        steps++;
        return m.model.run(inputs);
      },
    };
    const ctx = { model: counting, card: entry.card, cardPath: entry.dir, refrainVocab: entry.refrainVocab };
    steps = 0;
    const batch = await generate(ctx, reelRequest({ candidates: 4 }));
    const batchSteps = steps;
    let aloneSteps = 0;
    for (let k = 0; k < 4; k++) {
      steps = 0;
      const [one] = await generate(ctx, reelRequest({ sampling: { temperature: 1, topP: 0.95, seed: 41 + k } }));
      aloneSteps += steps;
      assert.equal(one.tokens, batch[k].tokens, `candidate ${k}: token count`);
      assert.deepEqual(batch[k].score.notes, one.score.notes, `candidate ${k}: notes`);
      assert.ok(Math.abs(batch[k].logLikelihood - one.logLikelihood) < 1e-3, `candidate ${k}: log-likelihood ${batch[k].logLikelihood} vs ${one.logLikelihood}`);
    }
    assert.ok(batchSteps < aloneSteps / 2, `4 candidates in ${batchSteps} steps, alone ${aloneSteps}`);
    // Infill: a pool of 4 spans rescored side by side; each span as a one-sample request.
    const infill = { kind: 'infill' as const, fromBar: 3, toBar: 5 };
    const pooled = await generate(ctx, reelRequest({ task: infill, candidates: 4, infillSamples: 4 }));
    for (const c of pooled) {
      const [one] = await generate(ctx, reelRequest({ task: infill, candidates: 1, infillSamples: 1, sampling: { temperature: 1, topP: 0.95, seed: c.seed } }));
      assert.deepEqual(c.score.notes, one.score.notes, `infill seed ${c.seed}: notes`);
      const a = c.metrics.suffixLogLikelihood ?? Number.NaN;
      const b = one.metrics.suffixLogLikelihood ?? Number.NaN;
      assert.ok(Math.abs(a - b) < 1e-3, `infill seed ${c.seed}: suffix log-likelihood ${a} vs ${b}`);
    }
  });
});
