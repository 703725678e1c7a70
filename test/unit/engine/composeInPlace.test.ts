// `refrain compose BOOK.abc -o BOOK.abc` splices into the book in place, keeping every other tune
// byte for byte, or refuses and leaves the file as it was (issue 10).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli/main';
import type { CliContext } from '../../../src/cli/usage';
import { readAbc, splitTunes } from '../../../src/music/abc/reader';
import { JIG_ABC, REEL_ABC, fixtureModelsDir, workerPath } from './helpers';

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

  test('a form or a MIDI input written over itself is refused, the file unchanged', async () => {
    const d = mkdtempSync(join(tmpdir(), 'refrain-inplace-'));
    try {
      const book = join(d, 'book.abc');
      writeFileSync(book, BOOK);
      const ctx = capture();
      const code = await main(['compose', book, '--models', fixtureModelsDir(), '--form', 'A4 A4', '-o', book], ctx);
      assert.equal(code, 2);
      assert.match(ctx.stderr.join('\n'), /is the input file.*--form writes a new piece.*-o .*book-2\.abc/);
      assert.equal(readFileSync(book, 'utf8'), BOOK);
      const mid = join(d, 'song.mid');
      writeFileSync(mid, Buffer.from('MThd'));
      const ctx2 = capture();
      assert.equal(await main(['compose', mid, '--models', fixtureModelsDir(), '-o', mid], ctx2), 2);
      assert.match(ctx2.stderr.join('\n'), /does not overwrite a MIDI file/);
      assert.equal(readFileSync(mid, 'latin1'), 'MThd');
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
