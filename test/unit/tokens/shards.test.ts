import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Midi } from '@tonejs/midi';
import { isCancellationError } from '../../../src/platform/cancellation';
import { decodeTokens } from '../../../src/tokens/decode';
import { findGrammarError } from '../../../src/tokens/grammar';
import { SPLITS, contentKey, splitOf } from '../../../src/tokens/pieceSplit';
import { buildShards } from '../../../src/tokens/shards';
import type { PieceEntry } from '../../../src/tokens/shardWriter';
import { BOS_ID, EOS_ID, HEADER_BAR, NO_POS, SUM_ID, VOCAB, VOCAB_SIZE } from '../../../src/tokens/vocab';
import { fixturePath } from '../fixtures';

const FIXTURES = fixturePath('tokens');

let root = '';

/**
 * A two-track song of our own, laid out like a POP909 folder: its MIDI starts 0.05 s before
 * the first beat and claims 2/4; the beat file has a one-beat pickup, then 4/4 bars.
 */
function writeSong(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const midi = new Midi();
  midi.header.setTempo(120);
  midi.header.timeSignatures.push({ ticks: 0, timeSignature: [2, 4] });
  const ppq = midi.header.ppq;
  const first = Math.round(ppq / 10); // 0.05 s at 120 bpm
  const down = first + ppq;
  const melody = midi.addTrack();
  melody.name = 'MELODY';
  melody.addNote({ midi: 62, ticks: first, durationTicks: ppq, velocity: 0.8 });
  const line = [64, 62, 60, 62, 64, 64, 64, 62, 62, 62, 64, 67, 67];
  line.forEach((pitch, k) => melody.addNote({ midi: pitch, ticks: down + k * ppq + 3, durationTicks: ppq - 5, velocity: 0.8 }));
  melody.addNote({ midi: 60, ticks: down + 13 * ppq, durationTicks: 3 * ppq, velocity: 0.8 });
  const piano = midi.addTrack();
  piano.name = 'PIANO';
  piano.channel = 1;
  for (let bar = 0; bar < 4; bar++) {
    for (const pitch of bar % 2 === 0 ? [48, 52, 55] : [45, 48, 52]) {
      piano.addNote({ midi: pitch, ticks: down + bar * 4 * ppq, durationTicks: 4 * ppq, velocity: 0.5 });
    }
  }
  writeFileSync(join(dir, '001.mid'), midi.toArray());
  const beats = Array.from({ length: 17 }, (_, k) => `${0.05 + 0.5 * k} ${k % 2 === 1 ? 1 : 0}.0 ${k % 4 === 1 ? 1 : 0}.0`);
  writeFileSync(join(dir, 'beat_midi.txt'), `${beats.join('\n')}\n`);
  // 120 bpm: a bar of 4/4 lasts 2 s.
  writeFileSync(join(dir, 'chord_midi.txt'), '0.55\t2.55\tC:maj\n2.55\t4.55\tA:min7\n4.55\t6.55\tA:min7\n6.55\t8.55\tN\n');
  writeFileSync(join(dir, 'key_audio.txt'), '0.0\t9.0\tD:min\n');
}

function readMeta(dir: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Record<string, unknown>;
}

before(() => {
  root = mkdtempSync(join(tmpdir(), 'refrain-shards-'));
  cpSync(join(FIXTURES, 'folk'), join(root, 'folk'), { recursive: true });
  writeSong(join(root, 'pop', '001'));
  writeFileSync(join(root, 'pop', 'broken.mid'), 'this is not a MIDI file');
});

after(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('buildShards', () => {
  test('writes the shard files with consistent sizes, offsets and contents', async () => {
    const out = join(root, 'out-a');
    const progress: number[] = [];
    const summary = await buildShards({
      corpusRoot: root,
      folders: ['folk', 'pop'],
      outDir: out,
      splits: { valid: 0.3, test: 0.3 },
      onProgress: (done, total) => progress.push(done / total),
    });
    assert.equal(summary.files, 4);
    assert.deepEqual(progress, [0.25, 0.5, 0.75, 1]);
    assert.equal(summary.pieces, 3);
    // One empty ABC tune, one tune in 13/8 (no meter token), one file that is not MIDI.
    assert.deepEqual(summary.skipped, { 'abc-no-notes': 1, 'midi-not-midi': 1, 'tokens-meter-unsupported': 1 });
    assert.ok(summary.vocabUsed > 30 && summary.vocabUsed < VOCAB_SIZE);

    const meta = readMeta(out);
    assert.equal(meta.format, 1);
    assert.deepEqual(meta.vocab, VOCAB);
    assert.deepEqual(meta.specials, { pad: 0, bos: 1, eos: 2, bar: 3, summary: 4 });
    assert.equal(meta.grid, 12);
    assert.deepEqual(meta.sources, ['folk', 'pop']);
    assert.deepEqual(meta.skipped, summary.skipped);

    const sources: string[] = [];
    for (const split of SPLITS) {
      const pieces = JSON.parse(readFileSync(join(out, `${split}.pieces.json`), 'utf8')) as PieceEntry[];
      const ids = new Uint16Array(new Uint8Array(readFileSync(join(out, `${split}.ids.u16`))).buffer);
      const bar = new Uint16Array(new Uint8Array(readFileSync(join(out, `${split}.bar.u16`))).buffer);
      const pos = new Uint8Array(readFileSync(join(out, `${split}.pos.u8`)));
      const ssm = new Float32Array(new Uint8Array(readFileSync(join(out, `${split}.ssm.f32`))).buffer);
      const tokens = pieces.reduce((a, p) => a + p.tokenCount, 0);
      assert.equal(statSync(join(out, `${split}.ids.u16`)).size, 2 * tokens);
      assert.equal(bar.length, tokens);
      assert.equal(pos.length, tokens);
      assert.equal(ssm.length, pieces.reduce((a, p) => a + p.bars * p.bars, 0));
      assert.deepEqual((meta.splits as Record<string, unknown>)[split], summary.splits[split]);
      assert.equal(summary.splits[split].tokens, tokens);
      let tokenOffset = 0;
      let ssmOffset = 0;
      for (const p of pieces) {
        sources.push(p.source);
        assert.equal(p.tokenOffset, tokenOffset);
        assert.equal(p.ssmOffset, ssmOffset);
        const pid = ids.subarray(p.tokenOffset, p.tokenOffset + p.tokenCount);
        // Split by the music (its opening melody), falling back to the source id.
        assert.equal(splitOf(contentKey(decodeTokens({ ids: pid })) ?? p.source, 1, { valid: 0.3, test: 0.3 }), split);
        const pbar = bar.subarray(p.tokenOffset, p.tokenOffset + p.tokenCount);
        const ppos = pos.subarray(p.tokenOffset, p.tokenOffset + p.tokenCount);
        assert.equal(pid[0], BOS_ID);
        assert.equal(pbar[0], HEADER_BAR);
        assert.equal(pid[pid.length - 1], EOS_ID);
        assert.equal(findGrammarError(pid), undefined);
        const sums = [...pid.keys()].filter((i) => pid[i] === SUM_ID);
        assert.equal(sums.length, p.bars);
        sums.forEach((i, b) => {
          assert.equal(pbar[i], b);
          assert.equal(ppos[i], NO_POS);
        });
        const m = ssm.subarray(p.ssmOffset, p.ssmOffset + p.bars * p.bars);
        for (let i = 0; i < p.bars; i++) {
          assert.equal(m[i * p.bars + i], 1);
          for (let j = 0; j < p.bars; j++) {
            assert.equal(m[i * p.bars + j], m[j * p.bars + i]);
          }
        }
        if (p.source === 'pop/001/001.mid#0') {
          const song = decodeTokens({ ids: pid });
          assert.deepEqual(
            song.tracks.map((t) => t.name),
            ['Melody', 'Piano'],
          );
          // Re-barred from the beat file: a one-beat pickup, then 4/4 bars from the first downbeat.
          assert.deepEqual(
            song.bars.map((b) => [b.start, b.duration, `${b.meter.num}/${b.meter.den}`]),
            [
              [0, 480, '4/4'],
              [480, 1920, '4/4'],
              [2400, 1920, '4/4'],
              [4320, 1920, '4/4'],
              [6240, 1920, '4/4'],
            ],
          );
          assert.deepEqual(
            song.notes.filter((n) => n.track === 0).slice(0, 3).map((n) => [n.onset, n.duration]),
            [
              [0, 480],
              [480, 480],
              [960, 480],
            ],
          );
          assert.deepEqual(
            song.chords.map((c) => [c.tick, c.name]),
            [
              [480, 'C'],
              [2400, 'Am7'],
              [6240, 'N.C.'],
            ],
          );
          assert.deepEqual(song.keys, [{ tick: 0, key: { tonic: 'D', mode: 'minor', fifths: -1 } }]);
        }
        tokenOffset += p.tokenCount;
        ssmOffset += p.bars * p.bars;
      }
    }
    assert.deepEqual(sources.sort(), ['folk/reels.abc#0', 'folk/waltz.abc#0', 'pop/001/001.mid#0']);
    assert.deepEqual(
      readdirSync(out).filter((f) => f.endsWith('.partial')),
      [],
    );
  });

  test('is deterministic: two builds give byte-identical files', async () => {
    const a = join(root, 'det-a');
    const b = join(root, 'det-b');
    await buildShards({ corpusRoot: root, folders: ['pop', 'folk'], outDir: a, seed: 7 });
    await buildShards({ corpusRoot: root, folders: ['folk', 'pop'], outDir: b, seed: 7 });
    const files = readdirSync(a).sort();
    assert.deepEqual(readdirSync(b).sort(), files);
    assert.equal(files.length, 1 + 3 * 5);
    for (const f of files) {
      if (f === 'meta.json') {
        // Only the listed source folders differ (their order as given).
        const ma = readMeta(a);
        const mb = readMeta(b);
        delete ma.sources;
        delete mb.sources;
        assert.deepEqual(ma, mb);
      } else {
        assert.ok(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f);
      }
    }
  });

  test('maxPieces stops early; a cancelled build throws and leaves no partial files', async () => {
    const one = await buildShards({ corpusRoot: root, folders: ['folk'], outDir: join(root, 'one'), maxPieces: 1 });
    assert.equal(one.pieces, 1);
    const controller = new AbortController();
    const out = join(root, 'cancelled');
    await assert.rejects(
      buildShards({
        corpusRoot: root,
        folders: ['folk', 'pop'],
        outDir: out,
        signal: controller.signal,
        onProgress: () => controller.abort(),
      }),
      (e: unknown) => isCancellationError(e),
    );
    assert.ok(existsSync(out));
    assert.deepEqual(readdirSync(out), []);
  });

  test('bad options are refused', async () => {
    await assert.rejects(
      buildShards({ corpusRoot: root, folders: [], outDir: join(root, 'x') }),
      (e: unknown) => e instanceof Error && /at least one corpus folder/.test(e.message),
    );
    await assert.rejects(
      buildShards({ corpusRoot: root, folders: ['folk'], outDir: join(root, 'x'), splits: { valid: 0.6, test: 0.5 } }),
      (e: unknown) => e instanceof Error && /fractions/.test(e.message),
    );
    await assert.rejects(
      buildShards({ corpusRoot: root, folders: ['nowhere'], outDir: join(root, 'x') }),
      (e: unknown) => e instanceof Error && /Cannot read the corpus folder/.test(e.message),
    );
  });
});

describe('splitOf', () => {
  test('is a fixed function of seed and source, close to the asked fractions', () => {
    const f = { valid: 0.05, test: 0.05 };
    const n = 20000;
    const counts = { train: 0, valid: 0, test: 0 };
    let moved = 0;
    for (let i = 0; i < n; i++) {
      const s = `folk/book${i % 7}.abc#${i}`;
      const split = splitOf(s, 1, f);
      assert.equal(splitOf(s, 1, f), split);
      counts[split]++;
      if (splitOf(s, 2, f) !== split) {
        moved++;
      }
    }
    assert.ok(Math.abs(counts.valid / n - 0.05) < 0.006, `valid ${counts.valid}`);
    assert.ok(Math.abs(counts.test / n - 0.05) < 0.006, `test ${counts.test}`);
    assert.ok(moved > n * 0.1, 'another seed gives another split');
    // Pinned values: the split of a source must never change silently between versions.
    assert.deepEqual(
      ['a#0', 'b#0', 'c#0', 'folk-abc/nottingham/jigs.abc#12'].map((s) => splitOf(s, 1, { valid: 0.3, test: 0.3 })),
      PINNED,
    );
  });
});

const PINNED = ['test', 'train', 'test', 'valid'];

describe('contentKey', () => {
  test('the same melody transposed or in another collection has the same key; another melody does not', () => {
    const tune = (shift: number, pitches: number[]): Parameters<typeof contentKey>[0] => ({
      meta: {},
      notes: pitches.map((p, i) => ({ pitch: p + shift, onset: i * 240, duration: 240, velocity: 80, track: 0, voice: 0 })),
      bars: [],
      writtenBars: [],
      tracks: [{ name: 'Melody', channel: 0, program: 0, isDrum: false }],
      tempos: [],
      meters: [],
      keys: [],
      chords: [],
      length: pitches.length * 240,
    });
    const melody = [62, 64, 66, 67, 69, 71, 73, 74, 73, 71, 69, 67];
    const key = contentKey(tune(0, melody));
    assert.ok(key);
    assert.equal(contentKey(tune(-2, melody)), key);
    assert.notEqual(contentKey(tune(0, [...melody].reverse())), key);
    assert.equal(contentKey(tune(0, melody.slice(0, 5))), undefined, 'too short to fingerprint');
  });
});
