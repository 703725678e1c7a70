import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadPieces } from '../../../src/music/load';
import { MusicInputError } from '../../../src/music/score';

function repoFile(rel: string): Buffer {
  let dir = __dirname;
  while (!existsSync(join(dir, rel))) {
    const up = dirname(dir);
    assert.notEqual(up, dir, `${rel} not found`);
    dir = up;
  }
  return readFileSync(join(dir, rel));
}

test('truncated, corrupted and random ABC and MIDI bytes give a specific error or a counted skip, never a crash', () => {
  let seed = 12345;
  const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const sources = [repoFile('examples/refrain-tunes.abc'), repoFile('test/fixtures/midi/harbour-lights.mid')];
  const seen = { read: 0, inputErrors: 0, skipped: 0 };
  for (let i = 0; i < 600; i++) {
    const isAbc = i % 2 === 0;
    const src = sources[isAbc ? 0 : 1];
    const mode = i % 6;
    let buf: Buffer;
    if (mode < 2) {
      buf = src.subarray(0, Math.floor(rnd() * src.length));
    } else if (mode < 4) {
      buf = Buffer.from(src);
      for (let k = 0; k < 1 + rnd() * 20; k++) {
        buf[Math.floor(rnd() * buf.length)] = Math.floor(rnd() * 256);
      }
    } else {
      buf = Buffer.alloc(Math.floor(rnd() * 4096));
      for (let k = 0; k < buf.length; k++) {
        buf[k] = Math.floor(rnd() * 256);
      }
    }
    try {
      const r = loadPieces(isAbc ? 'fuzz.abc' : 'fuzz.mid', buf);
      seen.read++;
      seen.skipped += r.skipped.length;
      for (const s of r.skipped) {
        assert.ok(s.code && s.reason, 'every skip has a code and a reason');
      }
    } catch (e) {
      assert.ok(e instanceof MusicInputError, `case ${i}: ${e instanceof Error ? e.stack : String(e)}`);
      assert.ok(e.message.length > 10, 'the error says what is wrong');
      seen.inputErrors++;
    }
  }
  // Both outcomes occur, so the cases really exercise the error paths.
  assert.ok(seen.read > 50 && seen.inputErrors > 50, JSON.stringify(seen));
});
