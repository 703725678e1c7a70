// The decode benchmark's lane steps (src/engine/benchDecode.ts): lanes forked from one prefix,
// one token each per step, against a lone lane over the same tokens.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { benchLaneSteps } from '../../../src/engine/benchDecode';
import { readModelEntry } from '../../../src/engine/card';
import { readAbc } from '../../../src/music/abc/reader';
import { encodeScore } from '../../../src/tokens/encode';
import { REEL_ABC, fixtureModelsDir } from './helpers';
import { RandomModel } from './standInModel';

describe('benchLaneSteps', () => {
  test('times lanes that each write rows of their own, and counts the union of their keys', async () => {
    const entry = await readModelEntry(join(fixtureModelsDir(), 'tiny-folk'));
    const enc = encodeScore(readAbc(REEL_ABC).tunes[0].score);
    const model = new RandomModel();
    const spec = {
      ids: Array.from(enc.ids),
      bar: Array.from(enc.bar),
      pos: Array.from(enc.pos),
      contexts: [40],
      decodeTokens: 12,
      plans: ['structured' as const],
      offsets: [1, 2, 4],
      chunk: 256,
      budgetMs: 0,
    };
    const r = await benchLaneSteps(model, entry.card, spec, 4, () => undefined);
    assert.equal(r.context, 40);
    assert.equal(r.lanes, 4);
    assert.equal(r.steps, 12);
    assert.ok(r.oneMsPerStep > 0 && r.lanesMsPerStep > 0 && Number.isFinite(r.ratio));
    // A lone lane sees its prefix rows and its own new ones; side by side, the lanes share the
    // prefix rows and each adds its own: the union grows by three lanes' new rows.
    assert.ok(r.oneKeysPerStep > 0);
    assert.ok(r.lanesKeysPerStep > r.oneKeysPerStep + 3, `${r.lanesKeysPerStep} vs ${r.oneKeysPerStep}`);
    assert.ok(r.lanesKeysPerStep < 4 * r.oneKeysPerStep);
    // Three rounds of (prefill + 12 steps) for each of the two runs; prefill is one step of 40 tokens.
    assert.equal(model.steps, 3 * 2 * (1 + 12));
  });

  test('refuses a sequence too short for its context and steps', async () => {
    const entry = await readModelEntry(join(fixtureModelsDir(), 'tiny-folk'));
    const spec = { ids: [1, 2, 3], bar: [0, 0, 0], pos: [0, 0, 0], contexts: [2], decodeTokens: 4, plans: ['structured' as const], offsets: [1], chunk: 256, budgetMs: 0 };
    await assert.rejects(benchLaneSteps(new RandomModel(), entry.card, spec, 4, () => undefined), /fewer than 2 \+ 4/);
  });
});
