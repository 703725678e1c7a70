// Only the tune that is needed is read: the one under the cursor, or the one --tune names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPiece, readTuneAt, readTuneByIndex } from '../../../src/music/select';
import { MusicInputError } from '../../../src/music/score';

const BOOK = 'X:1\nT:One\nK:C\nCDEF|\n\nX:7\nT:Broken\nK:C\nZ99999999|\n\nX:3\nT:Three\nK:G\nGABc|dcBA|\n';
const bytes = new TextEncoder().encode(BOOK);

test('the tune at an offset is read alone; the others are not read', () => {
  const at = readTuneAt(BOOK, BOOK.indexOf('GABc'));
  assert.equal(at.count, 3);
  assert.equal(at.tune?.title, 'Three');
  assert.equal(at.tune?.score.source?.start, BOOK.indexOf('X:3'));
  assert.equal(at.skipped, undefined, 'the broken tune 7 is not read');
  const broken = readTuneAt(BOOK, BOOK.indexOf('Z9'));
  assert.equal(broken.tune, undefined);
  assert.equal(broken.skipped?.code, 'abc-bad-length');
  assert.equal(readTuneByIndex(BOOK, 0).tune?.title, 'One');
});

test('the same in a Windows (CRLF) file: offsets are the file\'s own', () => {
  const crlf = BOOK.replace(/\n/g, '\r\n');
  const at = readTuneAt(crlf, crlf.indexOf('GABc'));
  assert.equal(at.tune?.title, 'Three');
  assert.equal(at.tune?.score.notes[0].source?.start, crlf.indexOf('GABc'));
});

test('loadPiece picks by X: number, then by position; a broken tune says why', () => {
  assert.equal(loadPiece('b.abc', bytes, 3).title, 'Three');
  assert.equal(loadPiece('b.abc', bytes).title, 'One');
  // No X:2: the second tune by position is X:7, which cannot be read.
  assert.throws(() => loadPiece('b.abc', bytes, 2), (e: unknown) => e instanceof MusicInputError && e.code === 'tune-skipped' && /Tune 2 could not be read: .*Z99999999/.test(e.message));
  assert.throws(() => loadPiece('b.abc', bytes, 9), (e: unknown) => e instanceof MusicInputError && e.code === 'tune-not-found' && /it has 3 tune/.test(e.message));
});
