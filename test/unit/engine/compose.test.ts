// `refrain compose` on the fixture model: writes parseable ABC / MIDI files, reports per
// candidate, lists models for an unknown id, and leaves no file behind when interrupted.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli/main';
import type { CliContext } from '../../../src/cli/usage';
import { readAbc } from '../../../src/music/abc/reader';
import { readMidi } from '../../../src/music/midi/reader';
import { REEL_ABC, fixtureModelsDir, repoRoot, workerPath } from './helpers';

function capture(signal?: AbortSignal): CliContext & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (s) => stdout.push(s), err: (s) => stderr.push(s), progress: () => undefined, signal };
}

function workdir(): string {
  const d = mkdtempSync(join(tmpdir(), 'refrain-compose-'));
  writeFileSync(join(d, 'reel.abc'), REEL_ABC);
  return d;
}

process.env.REFRAIN_ENGINE_WORKER = workerPath();

describe('refrain compose', () => {
  test('continues a tune into ABC files, one per candidate', async () => {
    const d = workdir();
    try {
      const ctx = capture();
      const out = join(d, 'out.abc');
      const code = await main(
        ['compose', join(d, 'reel.abc'), '--models', fixtureModelsDir(), '--bars', '4', '--candidates', '2', '--seed', '7', '--related', '1,2,4', '--scales', 'full,24', '-o', out],
        ctx,
      );
      assert.equal(code, 0, ctx.stderr.join('\n'));
      for (const f of [out, join(d, 'out-2.abc')]) {
        const tunes = readAbc(readFileSync(f, 'utf8')).tunes;
        assert.equal(tunes.length, 1);
        assert.equal(tunes[0].score.bars.length, 12);
      }
      const table = ctx.stdout.join('\n');
      assert.match(table, /9-12/);
      assert.match(table, /tiny-folk/);
      assert.deepEqual(readdirSync(d).sort(), ['out-2.abc', 'out.abc', 'reel.abc']);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  test('infill and form into MIDI, JSON report', async () => {
    const d = workdir();
    try {
      const ctx = capture();
      const out = join(d, 'out.mid');
      const code = await main(['compose', join(d, 'reel.abc'), '--models', fixtureModelsDir(), '--infill', '3-4', '--form', 'A4 A4', '--json', '-o', out], ctx);
      assert.equal(code, 0, ctx.stderr.join('\n'));
      const score = readMidi(new Uint8Array(readFileSync(out)));
      assert.ok(score.notes.length > 0);
      const rep = JSON.parse(ctx.stdout.join('')) as { candidates: { bars: { from: number; to: number }; templateDistance?: number }[] };
      assert.deepEqual(rep.candidates[0].bars, { from: 3, to: 4 });
      assert.equal(typeof rep.candidates[0].templateDistance, 'number');
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  test('an unknown model lists the available ones and writes nothing', async () => {
    const d = workdir();
    try {
      const ctx = capture();
      const code = await main(['compose', join(d, 'reel.abc'), '--models', fixtureModelsDir(), '--model', 'folk-nope', '-o', join(d, 'o.abc')], ctx);
      assert.equal(code, 1);
      assert.match(ctx.stderr.join('\n'), /Unknown model 'folk-nope'\. Available: tiny-folk/);
      assert.deepEqual(readdirSync(d), ['reel.abc']);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  test('an aborted run leaves no output file', async () => {
    const d = workdir();
    try {
      const ac = new AbortController();
      const ctx = capture(ac.signal);
      const origErr = ctx.err;
      ctx.err = (s) => {
        origErr(s);
        if (s.includes('composing')) {
          setTimeout(() => ac.abort(), 20);
        }
      };
      const code = await main(['compose', join(d, 'reel.abc'), '--models', fixtureModelsDir(), '--bars', '512', '--candidates', '16', '-o', join(d, 'o.abc')], ctx);
      assert.equal(code, 130);
      assert.deepEqual(readdirSync(d), ['reel.abc']);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  test('Ctrl-C on the real command leaves no output file', async () => {
    const d = workdir();
    try {
      const bin = join(repoRoot(), 'bin', 'refrain.js');
      const child = spawn(process.execPath, [bin, 'compose', join(d, 'reel.abc'), '--models', fixtureModelsDir(), '--bars', '512', '--candidates', '16', '-o', join(d, 'o.abc')], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      let sent = false;
      const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.stderr.on('data', (b: Buffer) => {
        err += b.toString();
        if (!sent && err.includes('composing')) {
          sent = true;
          child.kill('SIGINT');
        }
      });
      const code = await exit;
      assert.equal(code, 130, err);
      assert.ok(!existsSync(join(d, 'o.abc')));
      assert.deepEqual(readdirSync(d), ['reel.abc']);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
