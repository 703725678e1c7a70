// The messages issue 10 found vague now say what is wrong and what to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAbc } from '../../../src/music/abc/reader';
import { readMidi } from '../../../src/music/midi/reader';
import { MusicInputError } from '../../../src/music/score';
import { pickModel, scanModels } from '../../../src/engine/card';

function skipReason(text: string): string {
  const r = readAbc(text);
  assert.equal(r.tunes.length, 0);
  return r.skipped[0].reason;
}

test('M:2 asks for a fraction', () => {
  const why = skipReason('X:1\nM:2\nK:C\nCD|\n');
  assert.doesNotMatch(why, /undefined/);
  assert.match(why, /M:2 .*no denominator.*M:2\/4/);
});

test('a huge Z rest or note length names the element and the limit', () => {
  assert.match(skipReason('X:1\nK:C\nZ99999999|\n'), /multi-bar rest "Z99999999" at character 8 asks for 99,999,999 bars.*up to 1000/);
  assert.match(skipReason('X:1\nK:C\nC99999999|\n'), /note "C99999999" at character 8 lasts 12,499,999\.875 whole notes/);
});

test('an abcjs internal error is explained, not leaked alone', () => {
  const why = skipReason('T:\nK:\nV:1\nV:m\n|\n|\nT:');
  assert.match(why, /^The ABC parser \(abcjs\) failed on this tune/);
  assert.match(why, /check that its header ends with a K: line/);
});

test('a MIDI file one byte over the limit gives both sizes in bytes', () => {
  const bytes = new Uint8Array(10 * 1024 * 1024 + 1);
  assert.throws(
    () => readMidi(bytes),
    (e: unknown) => e instanceof MusicInputError && /10,485,761 bytes; .*up to 10,485,760 bytes \(10\.0 MB\)/.test(e.message),
  );
});

test('a model folder without card.json is named, with the missing file', async () => {
  const d = mkdtempSync(join(tmpdir(), 'refrain-card-'));
  try {
    mkdirSync(join(d, 'folk-x'));
    writeFileSync(join(d, 'folk-x', 'model.onnx'), 'x');
    mkdirSync(join(d, 'notes'));
    const scan = await scanModels([d]);
    assert.throws(() => pickModel(scan, 'folk-x'), /folk-x has model\.onnx but no card\.json/);
    assert.throws(() => pickModel(scan, 'other'), /Unknown model 'other'/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('a MIDI file with more notes than an ABC tune may have is refused, quickly', () => {
  const notes = 200_001;
  const body = new Uint8Array(4 + notes * 6 + 4);
  body.set([0x00, 0x90, 60, 100]);
  let at = 4;
  for (let i = 0; i < notes; i++) {
    const p = 40 + (i % 40);
    if (i > 0) {
      body.set([0x00, p, 100], at);
      at += 3;
    }
    body.set([0x01, p, 0], at);
    at += 3;
  }
  body.set([0x00, 0xff, 0x2f, 0x00], at);
  at += 4;
  const len = at;
  const file = new Uint8Array(22 + len);
  file.set([0x4d, 0x54, 0x68, 0x64, 0, 0, 0, 6, 0, 0, 0, 1, 0x01, 0xe0, 0x4d, 0x54, 0x72, 0x6b, (len >>> 24) & 255, (len >>> 16) & 255, (len >>> 8) & 255, len & 255]);
  file.set(body.subarray(0, len), 22);
  const t0 = performance.now();
  assert.throws(() => readMidi(file), (e: unknown) => e instanceof MusicInputError && e.code === 'midi-too-many-notes' && /more than 200,000 notes/.test(e.message));
  assert.ok(performance.now() - t0 < 2000);
});
