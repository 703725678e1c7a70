import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli/main';
import { repoRoot } from '../fixtures';


const ROOT = repoRoot();
const EXAMPLE = join(ROOT, 'examples/refrain-tunes.abc');

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, {
    out: (s) => {
      out += `${s}\n`;
    },
    err: (s) => {
      err += `${s}\n`;
    },
    progress: () => undefined,
  });
  return { code, out, err };
}

describe('refrain analyze', () => {
  test('prints the structure report of the example reel', async () => {
    const r = await run(['analyze', EXAMPLE, '--tune', '1']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /The Lamplighter's Reel/);
    assert.match(r.out, /meter: 4\/4/);
    assert.match(r.out, /key: D major/);
    assert.match(r.out, /similarity by bar interval L_t/);
  });

  test('--json gives a symmetric SSM with unit diagonal and the performed bar count', async () => {
    const r = await run(['analyze', EXAMPLE, '--tune', '2', '--json']);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out) as { bars: number; writtenBars: number; ssm: number[][]; keys: string[]; meters: string[]; lt: Record<string, number | null> };
    assert.deepEqual(j.meters, ['6/8']);
    assert.deepEqual(j.keys, ['A dorian']);
    // Two repeated 8-bar parts, each with a pickup: performed bars exceed written bars.
    assert.ok(j.bars > j.writtenBars, `performed ${j.bars} vs written ${j.writtenBars}`);
    assert.equal(j.ssm.length, j.bars);
    for (let i = 0; i < j.bars; i++) {
      assert.equal(j.ssm[i][i], 1);
      for (let k = 0; k < j.bars; k++) {
        assert.equal(j.ssm[i][k], j.ssm[k][i]);
      }
    }
    // The repeats make some bar pairs identical at the part length.
    assert.ok(Object.values(j.lt).some((v) => v !== null && v > 0.5));
  });

  test('selecting a tune that does not exist is a clear error, exit 1', async () => {
    const r = await run(['analyze', EXAMPLE, '--tune', '9']);
    assert.equal(r.code, 1);
    assert.match(r.err, /No tune 9/);
  });

  test('usage errors exit 2 with a message', async () => {
    assert.equal((await run(['analyze'])).code, 2);
    assert.equal((await run(['analyze', EXAMPLE, '--feature', 'loudness'])).code, 2);
    assert.equal((await run(['analyze', EXAMPLE, '--tune', 'x'])).code, 2);
    assert.equal((await run(['frobnicate'])).code, 2);
    assert.equal((await run(['analyze', EXAMPLE, '--bogus'])).code, 2);
  });

  test('a missing file, an unsupported file and a malformed file are errors, not crashes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'refrain-cli-'));
    try {
      assert.equal((await run(['analyze', join(dir, 'nope.abc')])).code, 1);
      writeFileSync(join(dir, 'notes.txt'), 'hello');
      const unsupported = await run(['analyze', join(dir, 'notes.txt')]);
      assert.equal(unsupported.code, 1);
      assert.match(unsupported.err, /unsupported-format/);
      writeFileSync(join(dir, 'bad.mid'), Buffer.from([0x4d, 0x54, 0x68, 0x64, 0, 0, 0]));
      const bad = await run(['analyze', join(dir, 'bad.mid')]);
      assert.equal(bad.code, 1);
      assert.doesNotMatch(bad.err, /internal error/);
      writeFileSync(join(dir, 'empty.abc'), '');
      const empty = await run(['analyze', join(dir, 'empty.abc')]);
      assert.equal(empty.code, 1);
      assert.doesNotMatch(empty.err, /internal error/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('refrain corpus-stats', () => {
  test('counts read and skipped pieces with reasons, and prints L_t', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'refrain-corpus-'));
    try {
      mkdirSync(join(dir, 'sub'));
      writeFileSync(join(dir, 'a.abc'), 'X:1\nT:One\nM:2/4\nL:1/8\nK:G\n|:GABc|dedB|GABc|d2G2:|\n\nX:2\nT:Two\nM:3/4\nL:1/4\nK:C\nCDE|FGA|CDE|FGA|\n');
      writeFileSync(join(dir, 'sub', 'b.mid'), Buffer.from('not a midi file at all'));
      writeFileSync(join(dir, 'ignored.txt'), 'x');
      const r = await run(['corpus-stats', dir, '--json', '--max-interval', '4']);
      assert.equal(r.code, 0, r.err);
      const j = JSON.parse(r.out) as { files: number; piecesRead: number; piecesSkipped: number; skipReasons: Record<string, number>; lt: Record<string, number | null> };
      assert.equal(j.files, 2);
      assert.equal(j.piecesRead, 2);
      assert.equal(j.piecesSkipped, 1);
      assert.equal(Object.values(j.skipReasons).reduce((a, b) => a + b, 0), 1);
      assert.deepEqual(Object.keys(j.lt), ['1', '2', '3', '4']);
      // Tune 2 repeats every 2 bars exactly.
      assert.ok((j.lt['2'] ?? 0) > (j.lt['1'] ?? 0));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
