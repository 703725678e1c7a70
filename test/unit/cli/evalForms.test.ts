// `refrain eval --forms` and the pinned test split: the split hash definition, the refusal of
// shards whose split differs from the model card's, the warning when the card records none,
// and one small end-to-end run on the fixture model with a corpus and shards written here.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli/main';
import type { CliContext } from '../../../src/cli/usage';
import { cardTestSplitHash, checkTestSplit, splitHashOf, testSplitHash } from '../../../src/tokens/splitHash';
import { fixtureModelsDir, workerPath } from '../engine/helpers';

process.env.REFRAIN_ENGINE_WORKER = workerPath();

/** A 32-bar reel written for this test: A A B B, each part 8 bars, ending on D (K:D). */
const PART_A = 'DFAF dFAF|GBdB gBdB|AFDF AFDF|EGBG EGce|DFAF dFAF|GBdB gBdB|Adcd eAce|dfed d4|';
const PART_B = 'fefg afdf|gfga bgeg|fefg afdf|ecAc e2dc|fefg afdf|gfga bgeg|afge fdec|d2f2 d4|';
const CORPUS_ABC = `X:1
T:Eval Fixture Reel
M:4/4
L:1/8
K:D
|${PART_A}
${PART_A}
${PART_B}
${PART_B}]

X:2
T:Eval Fixture Short
M:4/4
L:1/8
K:G
|GABc dedB|cBAG FGAF|GABc dedB|cAFA G4|]
`;
/** The test split of the fixture shards: the short tune first (it has too few bars), then the reel. */
const SOURCES = ['folk-abc/t.abc#1', 'folk-abc/t.abc#0'];
/** sha256 of SOURCES joined with "\n", computed independently (Python hashlib). */
const SOURCES_HASH = '522ac869ebfc9f8f880ab829af1678db36de7b630f3eb1de85e00b3cdb59cf12';

function capture(): CliContext & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (s) => stdout.push(s), err: (s) => stderr.push(s), progress: () => undefined };
}

/** A work folder with corpus/, shards/ and models/tiny-folk whose card gets `split` merged in. */
function workdir(cardExtra: Record<string, unknown>): { dir: string; corpus: string; shards: string; models: string } {
  const dir = mkdtempSync(join(tmpdir(), 'refrain-evalforms-'));
  const corpus = join(dir, 'corpus');
  mkdirSync(join(corpus, 'folk-abc'), { recursive: true });
  writeFileSync(join(corpus, 'folk-abc', 't.abc'), CORPUS_ABC);
  const shards = join(dir, 'shards');
  mkdirSync(shards);
  writeFileSync(
    join(shards, 'test.pieces.json'),
    JSON.stringify(SOURCES.map((source, k) => ({ source, tokenOffset: 0, tokenCount: 0, bars: k === 0 ? 4 : 32, ssmOffset: 0 }))),
  );
  writeFileSync(join(shards, 'meta.json'), JSON.stringify({ sources: ['folk-abc'], seed: 1 }));
  const models = join(dir, 'models');
  const src = join(fixtureModelsDir(), 'tiny-folk');
  mkdirSync(join(models, 'tiny-folk'), { recursive: true });
  copyFileSync(join(src, 'model.onnx'), join(models, 'tiny-folk', 'model.onnx'));
  const card = JSON.parse(readFileSync(join(src, 'card.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(models, 'tiny-folk', 'card.json'), JSON.stringify({ ...card, ...cardExtra }));
  return { dir, corpus, shards, models };
}

describe('test split hash', () => {
  test('is sha256 hex of the test sources joined with newlines, in file order', () => {
    const w = workdir({});
    try {
      assert.equal(testSplitHash(w.shards), SOURCES_HASH);
      assert.equal(splitHashOf(SOURCES), SOURCES_HASH);
      assert.notEqual(splitHashOf([...SOURCES].reverse()), SOURCES_HASH, 'order matters');
    } finally {
      rmSync(w.dir, { recursive: true, force: true });
    }
  });

  test('the card hash is read from training.split first, then split', () => {
    assert.equal(cardTestSplitHash({ training: { split: { testHash: 'aa' } }, split: { testHash: 'bb' } }), 'aa');
    assert.equal(cardTestSplitHash({ split: { testHash: 'bb' } }), 'bb');
    assert.equal(cardTestSplitHash({ training: {} }), undefined);
    assert.equal(cardTestSplitHash(undefined), undefined);
  });

  test('checkTestSplit: match, mismatch, unrecorded', () => {
    const w = workdir({});
    try {
      assert.deepEqual(checkTestSplit({ split: { testHash: SOURCES_HASH } }, w.shards), { status: 'match', hash: SOURCES_HASH });
      assert.equal(checkTestSplit({ split: { testHash: 'f'.repeat(64) } }, w.shards).status, 'mismatch');
      assert.equal(checkTestSplit({}, w.shards).status, 'unrecorded');
    } finally {
      rmSync(w.dir, { recursive: true, force: true });
    }
  });
});

describe('refrain eval --forms', () => {
  test('refuses shards whose test split differs from the card, naming both hashes', async () => {
    const other = 'f'.repeat(64);
    const w = workdir({ training: { split: { testHash: other, train: 1, valid: 1, test: 2 } } });
    try {
      for (const args of [
        ['eval', '--forms', '--models', w.models, '--shards', w.shards, '--corpus', w.corpus, '--pieces', '1'],
        ['eval', '--models', w.models, '--shards', w.shards, '--corpus', w.corpus, '--pieces', '1'],
      ]) {
        const ctx = capture();
        const code = await main(args, ctx);
        const err = ctx.stderr.join('\n');
        assert.equal(code, 2, err);
        assert.match(err, new RegExp(SOURCES_HASH));
        assert.match(err, new RegExp(other));
        assert.match(err, /corpus build --folders folk-abc/);
        assert.deepEqual(ctx.stdout, []);
      }
    } finally {
      rmSync(w.dir, { recursive: true, force: true });
    }
  });

  test('warns when the card records no split, then measures every configuration and the real tunes', async () => {
    const w = workdir({});
    try {
      const ctx = capture();
      const out = join(w.dir, 'eval.json');
      const code = await main(
        ['eval', '--forms', '--models', w.models, '--shards', w.shards, '--corpus', w.corpus, '--pieces', '3', '--seed', '5', '-o', out],
        ctx,
      );
      const err = ctx.stderr.join('\n');
      assert.equal(code, 0, err);
      assert.match(err, /records no split; test pieces may have been training pieces/);
      assert.match(err, /only 1 test pieces qualify/);
      const r = JSON.parse(readFileSync(out, 'utf8')) as {
        pieces: number;
        splitHash: string;
        pieceSources: string[];
        configurations: { form: string; pieces: number; pairsOf: string; completePercent: number; followsFormPercent: number }[];
        real: {
          repeatFidelity: number;
          contrast: number;
          tonicEndingPercent: number;
          followsSame: { pairs: number; kept: number };
          se: number;
          seInterval95: number[];
        };
      };
      assert.equal(r.pieces, 1);
      assert.equal(r.splitHash, SOURCES_HASH);
      assert.deepEqual(r.pieceSources, ['folk-abc/t.abc#0']);
      assert.deepEqual(
        r.configurations.map((c) => [c.form, c.pairsOf]),
        [
          ['A8 A8 B8 B8', 'A8 A8 B8 B8'],
          ['A8 B8 C8 D8', 'A8 A8 B8 B8'],
          ['A8 A8 B8 A8', 'A8 A8 B8 A8'],
          ['own', 'A8 A8 B8 B8'],
          ['none', 'A8 A8 B8 B8'],
        ],
      );
      for (const c of r.configurations) {
        assert.equal(c.pieces, 1);
        assert.equal(c.completePercent, 100);
        assert.ok(c.followsFormPercent >= 0 && c.followsFormPercent <= 100);
      }
      // The real reel is an exact A A B B: fidelity 1, it ends on its tonic, it follows A8 A8 B8 B8.
      assert.equal(r.real.repeatFidelity, 1);
      assert.ok(r.real.contrast < 0.5);
      assert.equal(r.real.tonicEndingPercent, 100);
      assert.deepEqual(r.real.followsSame, { pairs: 16, kept: 16, percent: 100 });
      assert.ok(Number.isFinite(r.real.se) && r.real.seInterval95.every((v) => Number.isFinite(v)));
      assert.match(ctx.stdout.join('\n'), /real tunes/);
    } finally {
      rmSync(w.dir, { recursive: true, force: true });
    }
  });

  test('rejects a --forms entry that is not a form', async () => {
    const w = workdir({});
    try {
      const ctx = capture();
      const code = await main(['eval', '--forms', 'A8 A-3;own', '--models', w.models, '--shards', w.shards, '--corpus', w.corpus], ctx);
      assert.equal(code, 2);
      assert.match(ctx.stderr.join('\n'), /is not a form/);
    } finally {
      rmSync(w.dir, { recursive: true, force: true });
    }
  });
});
