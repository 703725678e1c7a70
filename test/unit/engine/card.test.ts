// The model catalog: folder scan order, duplicate ids, a model folder given directly, the
// corpus L_t sidecar, and card errors that name the file.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelInfoOf, pickModel, scanModels } from '../../../src/engine/card';
import { DEFAULT_MODEL } from '../../../src/engine/limits';
import { EngineError } from '../../../src/engine/errors';
import { fixtureModelsDir } from './helpers';

function withModels(names: string[], fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'refrain-card-'));
  for (const n of names) {
    cpSync(join(fixtureModelsDir(), 'tiny-folk'), join(dir, n), { recursive: true });
  }
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

function setCard(dir: string, change: (c: Record<string, unknown>) => void): void {
  const p = join(dir, 'card.json');
  const c = JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
  change(c);
  writeFileSync(p, JSON.stringify(c));
}

describe('model catalog', () => {
  test('the preferred default model (folk-tsrope) first, then by id; a repeated id goes by its folder name', async () => {
    await withModels(['b', 'a', DEFAULT_MODEL, 'z'], async (dir) => {
      setCard(join(dir, DEFAULT_MODEL), (c) => {
        c.id = DEFAULT_MODEL;
      });
      setCard(join(dir, 'b'), (c) => {
        c.id = 'beta';
      });
      const scan = await scanModels([dir, join(dir, 'missing')]);
      // a and z carry the card id tiny-folk: a keeps it, z is known as "z".
      assert.deepEqual(scan.models.map((m) => m.id), [DEFAULT_MODEL, 'beta', 'tiny-folk', 'z']);
      assert.equal(pickModel(scan, undefined).id, DEFAULT_MODEL);
      assert.equal(pickModel(scan, 'b').id, 'beta', 'a folder name finds its model too');
    });
  });

  test('a directory that is itself a model folder', async () => {
    const scan = await scanModels([join(fixtureModelsDir(), 'tiny-folk')]);
    assert.deepEqual(scan.models.map((m) => m.id), ['tiny-folk']);
  });

  test('corpus L_t from a corpus-stats sidecar when the card has none', async () => {
    await withModels(['m'], async (dir) => {
      setCard(join(dir, 'm'), (c) => {
        delete c.corpusLt;
      });
      assert.equal(modelInfoOf(pickModel(await scanModels([dir]), 'm')).hasCorpusCurve, false);
      writeFileSync(join(dir, 'm', 'corpus-lt.json'), JSON.stringify({ feature: 'jaccard', skipEmpty: true, lt: { '1': 0.3, '2': 0.25, '3': null } }));
      const e = pickModel(await scanModels([dir]), 'm');
      assert.deepEqual(e.card.corpusLt?.values, [1, 0.3, 0.25, null]);
      assert.equal(modelInfoOf(e).hasCorpusCurve, true);
    });
  });

  test('broken cards are reported with their file, and picking them gives that error', async () => {
    await withModels(['bad', 'good'], async (dir) => {
      setCard(join(dir, 'bad'), (c) => {
        c.format = 'something-else';
      });
      const scan = await scanModels([dir]);
      assert.deepEqual(scan.models.map((m) => m.id), ['tiny-folk']);
      assert.equal(scan.broken.length, 1);
      assert.ok(scan.broken[0].error.message.startsWith(join(dir, 'bad', 'card.json')));
      assert.throws(() => pickModel(scan, 'bad'), (e: Error) => e instanceof EngineError && e.code === 'model-card');
      assert.throws(() => pickModel({ models: [], broken: [] }, undefined), /No usable model/);
    });
  });
});
