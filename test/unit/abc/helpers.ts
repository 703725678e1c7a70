/** Shared helpers of the ABC tests: fixture loading and compact note rows. */
import assert from 'node:assert/strict';
import type { AbcTune } from '../../../src/music/abc/reader';
import { readAbc } from '../../../src/music/abc/reader';
import type { Note, Score } from '../../../src/music/score';
import { fixtureText } from '../fixtures';

/** Text of a file in `test/fixtures/abc`. */
export function fixture(name: string): string {
  return fixtureText('abc', name);
}

/** `pitch@onset/duration` for each note, in score order. */
export function rows(notes: readonly Note[]): string[] {
  return notes.map((n) => `${n.pitch}@${n.onset}/${n.duration}`);
}

/** `track:pitch@onset/duration`, sorted, for comparing scores. */
export function keyRows(score: Score): string[] {
  return score.notes
    .map((n) => `${n.track}:${n.pitch}@${n.onset}/${n.duration}`)
    .sort();
}

/** Reads ABC text that must hold exactly one readable tune and returns it. */
export function readOne(text: string): AbcTune {
  const r = readAbc(text);
  assert.equal(r.skipped.length, 0, `skipped: ${JSON.stringify(r.skipped)}`);
  assert.equal(r.tunes.length, 1);
  return r.tunes[0];
}

/** A minimal tune around a body. */
export function tune(body: string, header = 'M:4/4\nL:1/8\nK:C'): string {
  return `X:1\nT:Test\n${header}\n${body}\n`;
}

/** Pitches of a tune's notes in order. */
export function pitches(text: string): number[] {
  return readOne(text).score.notes.map((n) => n.pitch);
}
