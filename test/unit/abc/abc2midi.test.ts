/**
 * Differential test of the ABC reader against abc2midi over the project's own ABC fixtures: every
 * tune reads the same notes per voice (pitch, onset, duration). Skipped, with a note, when abc2midi
 * is not installed (`apt-get install -y abcmidi`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KNOWN_DIFFERENCES, compareReadings, diffTune, fixtureTunes, hasAbc2midi, repoRoot } from './abc2midiDiff';

const available = hasAbc2midi();

test('every fixture tune reads like abc2midi reads it, voice by voice', { skip: available ? false : 'abc2midi is not installed' }, () => {
  const root = repoRoot(__dirname);
  const dir = mkdtempSync(join(tmpdir(), 'refrain-diff-'));
  const failures: string[] = [];
  let count = 0;
  try {
    for (const { id, text } of fixtureTunes(root)) {
      count++;
      const v = diffTune(text, dir);
      const known = KNOWN_DIFFERENCES[id];
      if (v.agree ? known !== undefined : known !== v.kind) {
        failures.push(`${id}: ${v.agree ? `agrees, but ${known} was expected` : `${v.kind}: ${v.detail}`}`);
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
