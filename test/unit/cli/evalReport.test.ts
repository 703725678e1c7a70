// `refrain eval --report`: the bootstrap and pooling helpers on numbers worked out by hand, the
// configuration list, and one small end-to-end run on the fixture model (corpus and shards
// written here) that writes the JSON, the Markdown report and, where matplotlib is at hand, the figures.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli/main';
import { reportConfigs } from '../../../src/cli/evalReportConfigs';
import { verdict } from '../../../src/cli/evalReportMarkdown';
import { bootstrapWeights, percentileInterval, pooledLt, weightedMean } from '../../../src/cli/evalReportStats';
import type { CliContext } from '../../../src/cli/usage';
import { fixtureModelsDir, workerPath } from '../engine/helpers';

process.env.REFRAIN_ENGINE_WORKER = workerPath();

const near = (a: number, b: number, eps = 1e-9): void => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

describe('report helpers', () => {
  test('bootstrapWeights: each resample draws n units; the same seed gives the same draws', () => {
    const a = bootstrapWeights(7, 5, 3);
    const b = bootstrapWeights(7, 5, 3);
    assert.equal(a.length, 5);
    for (let r = 0; r < 5; r++) {
      assert.equal(a[r].reduce((s, x) => s + x, 0), 7);
      assert.deepEqual(Array.from(a[r]), Array.from(b[r]));
    }
    assert.notDeepEqual(Array.from(bootstrapWeights(7, 1, 4)[0]), Array.from(a[0]));
  });

  test('percentileInterval: nearest-rank 2.5% and 97.5% of the finite draws', () => {
    const draws = Array.from({ length: 201 }, (_, i) => i);
    assert.deepEqual(percentileInterval([...draws, Number.NaN]), [5, 195]);
    assert.ok(percentileInterval([]).every((x) => Number.isNaN(x)));
  });

  test('weightedMean skips NaN values and zero weights', () => {
    near(weightedMean([1, 2, 3], undefined), 2);
    near(weightedMean([1, Number.NaN, 3], [1, 5, 3]), (1 + 9) / 4);
    near(weightedMean([1, 2], [0, 2]), 2);
    assert.ok(Number.isNaN(weightedMean([Number.NaN], undefined)));
  });

  test('pooledLt sums pair sums and counts over weighted pieces', () => {
    const s1 = new Float64Array(41);
    const c1 = new Float64Array(41);
    const s2 = new Float64Array(41);
    const c2 = new Float64Array(41);
    s1[1] = 3; // 3 pairs at t = 1 with similarity 1
    c1[1] = 3;
    s2[1] = 0; // 1 pair at t = 1 with similarity 0
    c2[1] = 1;
    const lt = pooledLt([s1, s2, null], [c1, c2, null]);
    near(lt[1], 0.75);
    assert.ok(Number.isNaN(lt[2]));
    near(pooledLt([s1, s2], [c1, c2], [0, 2])[1], 0);
  });

  test('verdict: better or worse only where the interval excludes 0, by each metric\'s direction', () => {
    const text = verdict({
      id: 'no-positions',
      template: 'own',
      against: 'base',
      metrics: {
        followsFormPercent: { value: -40, ci95: [-45, -35], excludesZero: true, better: 'higher' },
        templateDistance: { value: -0.01, ci95: [-0.02, -0.001], excludesZero: true, better: 'lower' },
        seX100: { value: 0.5, ci95: [-1, 2], excludesZero: false, better: 'lower' },
      },
    });
    assert.equal(text, '**no-positions** [own] vs base: better: template distance -0.0100; worse: follows the form -40.0; no measurable difference: SE x100.');
  });

  test('configurations: one baseline per group, each compared configuration names an existing baseline', () => {
    const cs = reportConfigs(['folk-rope', 'folk-nope']);
    const ids = new Set(cs.map((c) => c.id));
    assert.equal(ids.size, cs.length);
    for (const c of cs) {
      if (c.baseline) {
        assert.ok(ids.has(c.baseline), c.id);
      }
    }
    const byId = new Map(cs.map((c) => [c.id, c]));
    assert.deepEqual(byId.get('related-recent8')?.controls.relatedOffsets, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(byId.get('related-none')?.controls.relatedOffsets, []);
    assert.equal(byId.get('no-head')?.controls.templateHead, false);
    assert.equal(byId.get('no-positions')?.controls.templatePositions, false);
    assert.deepEqual(byId.get('no-positions-related')?.controls, { templatePositions: false, templateRelated: false });
    assert.equal(byId.get('horizon-all')?.controls.summaryHorizon, 0);
    assert.equal(byId.get('pair-dense')?.baseline, 'pair-structured');
    assert.equal(byId.get('pe-folk-nope')?.baseline, 'pe-folk-rope');
  });
});

/** A 32-bar reel written for this test (A A B B, 8 bars each, in D). */
const PART_A = 'DFAF dFAF|GBdB gBdB|AFDF AFDF|EGBG EGce|DFAF dFAF|GBdB gBdB|Adcd eAce|dfed d4|';
const PART_B = 'fefg afdf|gfga bgeg|fefg afdf|ecAc e2dc|fefg afdf|gfga bgeg|afge fdec|d2f2 d4|';
const PART_C = 'A2FA DAFA|B2GB DBGB|A2FA DAFA|GFEF G2FE|A2FA DAFA|B2GB DBGB|AGFE DEFG|A2d2 d4|';

function capture(): CliContext & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (s) => stdout.push(s), err: (s) => stderr.push(s), progress: () => undefined };
}

describe('refrain eval --report', () => {
  test('runs the template group on the fixture model, skips missing models with a line, writes JSON and Markdown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'refrain-evalreport-'));
    try {
      const corpus = join(dir, 'corpus');
      mkdirSync(join(corpus, 'folk-abc'), { recursive: true });
      const tune = (x: number, title: string, a: string, b: string): string => `X:${x}\nT:${title}\nM:4/4\nL:1/8\nK:D\n|${a}\n${a}\n${b}\n${b}]\n`;
      writeFileSync(join(corpus, 'folk-abc', 't.abc'), [tune(1, 'Report Fixture One', PART_A, PART_B), tune(2, 'Report Fixture Two', PART_C, PART_B), tune(3, 'Report Fixture Three', PART_B, PART_C)].join('\n'));
      const shards = join(dir, 'shards');
      mkdirSync(shards);
      const sources = ['folk-abc/t.abc#0', 'folk-abc/t.abc#1', 'folk-abc/t.abc#2'];
      writeFileSync(join(shards, 'test.pieces.json'), JSON.stringify(sources.map((source) => ({ source, tokenOffset: 0, tokenCount: 0, bars: 32, ssmOffset: 0 }))));
      writeFileSync(join(shards, 'meta.json'), JSON.stringify({ sources: ['folk-abc'], seed: 1 }));
      const models = join(dir, 'models');
      mkdirSync(join(models, 'tiny-folk'), { recursive: true });
      for (const f of ['model.onnx', 'card.json']) {
        copyFileSync(join(fixtureModelsDir(), 'tiny-folk', f), join(models, 'tiny-folk', f));
      }
      const json = join(dir, 'report.json');
      const doc = join(dir, 'docs', 'EVALUATION.md');
      const figures = join(dir, 'fig');
      const plots = existsSync('/usr/bin/python3') && existsSync('scripts/eval-report/plots.py');
      const ctx = capture();
      const args = ['eval', '--report', '--model-dirs', models, '--model', 'tiny-folk', '--pair', 'tiny-folk,no-such-dense', '--pe', 'no-such-pe'];
      args.push('--only', 'template', '--templates', 'own;A8 A8 B8 B8', '--pieces', '3', '--ppl-pieces', '0', '--jobs', '2', '--seed', '3');
      args.push('--shards', shards, '--corpus', corpus, '--json', json, '--doc', doc, '--figures', figures, ...(plots ? [] : ['--no-plots']));
      const code = await main(args, ctx);
      const err = ctx.stderr.join('\n');
      assert.equal(code, 0, err);
      assert.match(err, /skipped: model no-such-dense \(dense\): not found/);
      assert.match(err, /skipped: model no-such-pe/);
      const r = JSON.parse(readFileSync(json, 'utf8')) as {
        pieces: number;
        results: { key: string; pieces: number; lt: (number | null)[]; distribution: { overall: { mean: { oa: number } } } }[];
        real: { key: string; se: number }[];
        differences: { key: string; against: string; pieces: number; metrics: Record<string, { value: number; ci95?: number[] }> }[];
        models: { id: string; present: boolean }[];
      };
      assert.equal(r.pieces, 3);
      const keys = r.results.map((x) => x.key).sort();
      for (const id of ['base', 'no-head', 'no-positions', 'no-head-positions', 'no-template', 'pair-structured']) {
        for (const t of ['own', 'A8 A8 B8 B8']) {
          assert.ok(keys.includes(`${id}@${t}`), `${id}@${t} in ${keys.join(', ')}`);
        }
      }
      for (const x of r.results) {
        assert.equal(x.pieces, 3);
        assert.equal(x.lt.length, 40);
      }
      assert.deepEqual(
        r.real.map((x) => x.key).sort(),
        ['real@A8 A8 B8 B8', 'real@own'],
      );
      const d = r.differences.find((x) => x.key === 'no-template@own');
      assert.ok(d, 'no-template is compared with base');
      assert.equal(d.against, 'base');
      assert.equal(d.pieces, 3);
      assert.ok(d.metrics.followsFormPercent.ci95?.length === 2);
      assert.deepEqual(
        r.models.map((m) => [m.id, m.present]),
        [
          ['tiny-folk', true],
          ['tiny-folk', true],
          ['no-such-dense', false],
          ['no-such-pe', false],
        ],
      );
      const md = readFileSync(doc, 'utf8');
      assert.match(md, /^# Evaluation report/);
      assert.match(md, /Command: `node bin\/refrain.js eval --report/);
      assert.match(md, /skipped: not found/);
      assert.match(md, /### Template head \(SING\) and template-derived positions/);
      assert.doesNotMatch(md, /DFAF|fefg|A2FA/, 'no corpus bars in the report');
      if (plots) {
        for (const png of ['lt-curves.png', 'ssm-examples-own.png', 'ablation-bars.png']) {
          assert.ok(existsSync(join(figures, png)), png);
          assert.match(md, new RegExp(`\\(\\.\\./fig/${png.replace('.', '\\.')}\\)`));
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
