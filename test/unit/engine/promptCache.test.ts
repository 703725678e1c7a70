// The prompt cache (src/engine/promptCache.ts): K/V rows of the last prompt reused for the
// unchanged prefix of the next one.
// - a token's signature does not depend on how the prompt is cut into steps, and changes from the
//   first token whose inputs or view change;
// - through `generate` with the bundled model: a prompt that extends the last one by a bar, and
//   a prompt cut back to an earlier one, give the candidates of a fresh prefill (same notes,
//   log-likelihood within float rounding), with most of the prompt's rows reused;
// - one KV cache reused by requests of different sizes (as the worker does) changes no candidate.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readModelEntry } from '../../../src/engine/card';
import type { StepModel } from '../../../src/engine/decoder';
import { generate, layerPlansOf } from '../../../src/engine/generate';
import { TokenLayout, buildStepPlan, offsetRelatedBars } from '../../../src/engine/plan';
import type { StepPlanOptions } from '../../../src/engine/plan';
import { KvCache } from '../../../src/engine/kvCache';
import { PromptCache, signStep } from '../../../src/engine/promptCache';
import { barStructure } from '../../../src/engine/structure';
import { templateSsm } from '../../../src/engine/template';
import type { GenerateRequest } from '../../../src/engine/types';
import { openModel } from '../../../src/engine/worker';
import type { OpenedModel } from '../../../src/engine/worker';
import { readAbc } from '../../../src/music/abc/reader';
import { encodeScore } from '../../../src/tokens/encode';
import { repoRoot } from './helpers';

/** A reel of our own, and the bars a writer types after it. */
const BASE = `X:1
T:Typing Reel
M:4/4
L:1/8
K:D
DFAF dFAF|GBdB GBdB|Aced cAGE|FDEC D4|
fdfa gfed|cBAG FGAF|GBdB AFDF|EDCE D4|`;
const TYPED = [' dfaf gfed|', ' cBAG FGAF|', ' GBdB AFDF|'];

function scoreOf(text: string) {
  return readAbc(`${text}\n`).tunes[0].score;
}

const opened: OpenedModel[] = [];
after(async () => {
  for (const m of opened) {
    await m.session.release();
  }
});

describe('prompt signatures', () => {
  test('do not depend on the step size, and change from the first changed token on', async () => {
    const entry = await readModelEntry(join(repoRoot(), 'models/folk-tsrope'));
    const score = scoreOf(BASE + TYPED.join(''));
    const seq = encodeScore(score);
    const bars = score.bars.length + 2;
    const template = templateSsm({ kind: 'piece' }, score, bars);
    const structure = barStructure(template, bars, false);
    const plan: StepPlanOptions = {
      layers: layerPlansOf(entry.card, []),
      related: (b) => [...offsetRelatedBars([1, 2, 4, 8])(b), ...structure.sameAs(b)],
      sing: true,
      template,
    };
    const sign = (ids: ArrayLike<number>, chunk: number): Uint32Array => {
      const n = ids.length;
      const out = new Uint32Array(2 * n);
      const layout = new TokenLayout();
      for (let a = 0; a < n; a += chunk) {
        const e = Math.min(n, a + chunk);
        for (let i = a; i < e; i++) {
          layout.push(ids[i], seq.bar[i], seq.pos[i]);
        }
        signStep(layout, a, e - a, buildStepPlan(layout, a, e - a, plan), structure, out);
      }
      return out;
    };
    const whole = sign(seq.ids, 256);
    assert.ok(seq.ids.length > 100);
    assert.deepEqual(sign(seq.ids, 1), whole);
    assert.deepEqual(sign(seq.ids, 7), whole);
    assert.deepEqual(sign(seq.ids, 64), whole);
    // One token changed: the tokens before it keep their signatures, it and (through their view of it) later ones do not.
    const at = 80;
    const other = Int32Array.from(seq.ids);
    other[at] = other[at] === seq.ids[at + 1] ? seq.ids[at + 2] : seq.ids[at + 1];
    const changed = sign(other, 256);
    assert.deepEqual(changed.subarray(0, 2 * at), whole.subarray(0, 2 * at));
    assert.notDeepEqual(changed.subarray(2 * at, 2 * at + 2), whole.subarray(2 * at, 2 * at + 2));
  });
});

describe('prompt cache through generate', () => {
  test('folk-tsrope: reused rows give the candidates of a fresh prefill', async () => {
    const entry = await readModelEntry(join(repoRoot(), 'models/folk-tsrope'));
    const m = await openModel(entry.onnxPath, entry.card, { executionProvider: 'cpu', threads: 1 });
    opened.push(m);
    let tokens = 0;
    const counting: StepModel = {
      shape: m.model.shape,
      run: (inputs) => {
        tokens += inputs.tokens.length;
        return m.model.run(inputs);
      },
    };
    const request = (text: string, seed: number): GenerateRequest => ({
      model: entry.id,
      prompt: scoreOf(text),
      task: { kind: 'continue', bars: 1, openEnded: true },
      controls: { relatedOffsets: [1, 2, 4, 8, 12, 16, 24, 32], scales: [], template: { kind: 'piece' } },
      sampling: { temperature: 1, topP: 0.95, seed },
      candidates: 2,
      target: 'abc-folk',
    });
    const cache = new PromptCache();
    const fresh = { model: counting, card: entry.card, cardPath: entry.dir, refrainVocab: entry.refrainVocab };
    const cached = { ...fresh, promptCache: cache };
    // The writer types three bars, then goes back to the first (a prefix of what is cached).
    const texts = [BASE, BASE + TYPED[0], BASE + TYPED.slice(0, 2).join(''), BASE + TYPED.join(''), BASE + TYPED[0]];
    let freshTokens = 0;
    let cachedTokens = 0;
    for (let i = 0; i < texts.length; i++) {
      tokens = 0;
      const a = await generate(fresh, request(texts[i], 11 + i));
      freshTokens += tokens;
      tokens = 0;
      const b = await generate(cached, request(texts[i], 11 + i));
      cachedTokens += tokens;
      assert.equal(a.length, b.length);
      for (let k = 0; k < a.length; k++) {
        assert.deepEqual(b[k].score.notes, a[k].score.notes, `prompt ${i} candidate ${k}: notes`);
        assert.ok(Math.abs(a[k].logLikelihood - b[k].logLikelihood) < 1e-3, `prompt ${i} candidate ${k}: log-likelihood ${b[k].logLikelihood} vs ${a[k].logLikelihood}`);
      }
    }
    // The first prompt is prefilled in full either way; after it, only the new bars (and the last token) run.
    const prompt0 = encodeScore(scoreOf(BASE)).ids.length;
    assert.ok(freshTokens - cachedTokens > 3 * prompt0, `model tokens: ${cachedTokens} with the cache, ${freshTokens} without`);
  });

  test('folk-tsrope: one KV cache reused by requests of 1, 4 and 1 candidates (the worker\'s) gives their candidates', async () => {
    const entry = await readModelEntry(join(repoRoot(), 'models/folk-tsrope'));
    const m = await openModel(entry.onnxPath, entry.card, { executionProvider: 'cpu', threads: 1 });
    opened.push(m);
    const request = (candidates: number, bars: number, seed: number): GenerateRequest => ({
      model: entry.id,
      prompt: scoreOf(BASE + TYPED[0]),
      task: { kind: 'continue', bars },
      controls: { relatedOffsets: [1, 2, 4, 8, 12, 16, 24, 32], scales: [] },
      sampling: { temperature: 1, topP: 0.95, seed },
      candidates,
      target: 'abc-folk',
    });
    const fresh = { model: m.model, card: entry.card, cardPath: entry.dir, refrainVocab: entry.refrainVocab };
    const shared = { ...fresh, promptCache: new PromptCache(), kvCache: new KvCache(m.model.shape.layers, m.model.shape.heads, m.model.shape.headDim, 256) };
    for (const [candidates, bars, seed] of [[1, 2, 5], [4, 3, 6], [1, 1, 7], [2, 2, 5]]) {
      const a = await generate(fresh, request(candidates, bars, seed));
      const b = await generate(shared, request(candidates, bars, seed));
      for (let k = 0; k < a.length; k++) {
        assert.deepEqual(b[k].score.notes, a[k].score.notes, `${candidates} candidate(s), seed ${seed}, candidate ${k}`);
      }
    }
  });
});
