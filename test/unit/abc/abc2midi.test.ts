/**
 * Differential test of the ABC reader against abc2midi over the project's own ABC fixtures: every
 * tune reads the same notes per voice (pitch, onset, duration). Skipped, with a note, when abc2midi
 * is not installed (`apt-get install -y abcmidi`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { splitTunes } from '../../../src/music/abc/reader';
import { compareReadings, diffTune, hasAbc2midi } from './abc2midiDiff';

function repoRoot(): string {
  const candidates = [resolve(__dirname, '../../../..'), process.cwd()];
  const root = candidates.find((d) => existsSync(join(d, 'test/fixtures/abc')));
  assert.ok(root, 'repository root not found');
  return root;
}

function fixtureFiles(root: string): string[] {
  const dirs = ['examples', 'test/fixtures/abc', 'test/fixtures/splice', 'test/fixtures/integration'];
  return dirs.flatMap((d) =>
    readdirSync(join(root, d))
      .filter((n) => n.endsWith('.abc'))
      .sort()
      .map((n) => join(root, d, n)),
  );
}

const available = hasAbc2midi();

/**
 * Fixture tunes on which abc2midi is known to be wrong, with the class of disagreement expected
 * (see docs/abc2midi-differences.md).
 */
const KNOWN: Readonly<Record<string, string>> = {
  // `K:D exp ^f _b` keeps only F sharp and B flat; abc2midi adds them to D major's signature.
  'test/fixtures/abc/session.abc X:6': 'pitch',
};

test('every fixture tune reads like abc2midi reads it, voice by voice', { skip: available ? false : 'abc2midi is not installed' }, () => {
  const root = repoRoot();
  const dir = mkdtempSync(join(tmpdir(), 'refrain-diff-'));
  const failures: string[] = [];
  let count = 0;
  try {
    for (const file of fixtureFiles(root)) {
      const text = readFileSync(file, 'utf8');
      for (const r of splitTunes(text)) {
        const tuneText = text.slice(r.start, r.end);
        if (!/^K:/m.test(tuneText)) {
          continue;
        }
        count++;
        const v = diffTune(tuneText, dir);
        const id = `${file.slice(root.length + 1)} X:${r.reference ?? '?'}`;
        const known = KNOWN[id];
        if (v.agree ? known !== undefined : known !== v.kind) {
          failures.push(`${id}: ${v.agree ? `agrees, but ${known} was expected` : `${v.kind}: ${v.detail}`}`);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(count >= 20, `only ${count} fixture tunes found`);
  assert.deepEqual(failures, []);
});

test('the comparison finds a moved, a changed and a missing note', () => {
  const row = (pitch: number, onset: number, dur = 240): { pitch: number; onset: number; dur: number } => ({ pitch, onset, dur });
  const base = [[row(60, 0), row(62, 240)]];
  assert.deepEqual(compareReadings(base, [[row(60, 1, 239), row(62, 241, 239)]]), { agree: true });
  assert.equal(compareReadings(base, [[row(60, 0), row(62, 480)]]).agree ? '' : 'onset', 'onset');
  const pitch = compareReadings(base, [[row(60, 0), row(64, 240)]]);
  assert.ok(!pitch.agree && pitch.kind === 'pitch');
  const missing = compareReadings(base, [[row(60, 0)]]);
  assert.ok(!missing.agree && missing.kind === 'note-count');
  const voices = compareReadings(base, [...base, ...base]);
  assert.ok(!voices.agree && voices.kind === 'voice-count');
});
