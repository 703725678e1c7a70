// `refrain compose BOOK.abc -o BOOK.abc` splices into the book in place, keeping every other tune
// byte for byte, or refuses and leaves the file as it was; a MIDI file keeps every event (issue 10).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli/main';
import type { CliContext } from '../../../src/cli/usage';
import { readAbc, splitTunes } from '../../../src/music/abc/reader';
import { readMidi } from '../../../src/music/midi/reader';
import { parseRawSmf } from '../../../src/music/midi/rawSmf';
import type { RawSmf } from '../../../src/music/midi/rawSmf';
import { JIG_ABC, REEL_ABC, fixtureModelsDir, repoRoot, workerPath } from './helpers';

function capture(): CliContext & { stderr: string[] } {
  const stderr: string[] = [];
  return { stderr, out: () => undefined, err: (s) => stderr.push(s), progress: () => undefined };
}

const BOOK = `% A book of three tunes\n\n${JIG_ABC}\n${REEL_ABC.replace('X:2', 'X:5')}\nX:9\nT:Third\nM:3/4\nL:1/8\nK:A\nA2 c2 e2|a6|]\n`;

process.env.REFRAIN_ENGINE_WORKER = workerPath();

function tuneTexts(text: string): string[] {
  return splitTunes(text).map((r) => text.slice(r.start, r.end));
}

describe('refrain compose in place', () => {
  test('continuing tune X:5 of a book changes only that tune', async () => {
    const d = mkdtempSync(join(tmpdir(), 'refrain-inplace-'));
    try {
      const book = join(d, 'book.abc');
      writeFileSync(book, BOOK);
      const ctx = capture();
      const code = await main(['compose', book, '--tune', '5', '--models', fixtureModelsDir(), '--bars', '4', '--seed', '3', '-o', book], ctx);
      assert.equal(code, 0, ctx.stderr.join('\n'));
      const after = readFileSync(book, 'utf8');
      const [t1, t2, t3] = tuneTexts(BOOK);
      const [a1, a2, a3] = tuneTexts(after);
      assert.equal(a1, t1);
      assert.equal(a3, t3);
      assert.ok(a2.startsWith(t2.slice(0, t2.indexOf('cAFA G4|\n'))), a2);
      assert.ok(after.startsWith(BOOK.slice(0, BOOK.indexOf('X:5'))));
      assert.ok(after.endsWith(BOOK.slice(BOOK.indexOf('X:9'))));
      const tunes = readAbc(after).tunes;
      assert.equal(tunes.length, 3);
      assert.equal(tunes[1].score.bars.length, 12);
      assert.deepEqual(readdirSync(d), ['book.abc']);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  test('a form written over its input is refused, the file unchanged', async () => {
    const d = mkdtempSync(join(tmpdir(), 'refrain-inplace-'));
    try {
      const book = join(d, 'book.abc');
      writeFileSync(book, BOOK);
      const ctx = capture();
      const code = await main(['compose', book, '--models', fixtureModelsDir(), '--form', 'A4 A4', '-o', book], ctx);
      assert.equal(code, 2);
      assert.match(ctx.stderr.join('\n'), /is the input file.*--form writes a new piece.*-o .*book-2\.abc/);
      assert.equal(readFileSync(book, 'utf8'), BOOK);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  test('a MIDI continuation written over its input keeps every original event, event by event', async () => {
    const d = mkdtempSync(join(tmpdir(), 'refrain-inplace-'));
    try {
      const song = join(d, 'song.mid');
      const original = readFileSync(join(repoRoot(), 'test/fixtures/midi/harbour-lights.mid'));
      writeFileSync(song, original);
      const ctx = capture();
      const code = await main(['compose', song, '--models', fixtureModelsDir(), '--bars', '3', '--seed', '5', '-o', song], ctx);
      assert.equal(code, 0, ctx.stderr.join('\n'));
      const before = parseRawSmf(new Uint8Array(original));
      const after = parseRawSmf(new Uint8Array(readFileSync(song)));
      const base = readMidi(new Uint8Array(original));
      const newStart = Math.round((base.length * before.ppq) / 480);
      const rows = (f: RawSmf, c: number): string[] => (f.chunks[c].events ?? []).map((e) => `${e.tick}:${Buffer.from(e.bytes).toString('hex')}`);
      for (let c = 0; c < before.chunks.length; c++) {
        const b = rows(before, c);
        const a = rows(after, c);
        assert.deepEqual(a.slice(0, b.length), b, `track ${c}: original events changed`);
        assert.ok(a.slice(b.length).every((r) => Number(r.split(':')[0]) >= newStart), `track ${c}: a new event before the new bars`);
      }
      const reread = readMidi(new Uint8Array(readFileSync(song)));
      assert.equal(reread.bars.length, base.bars.length + 3);
      assert.deepEqual(reread.meters, base.meters);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
