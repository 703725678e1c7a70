// The mode lock for chord symbols: a tune in D major gets no C or F chords unless its prompt has them.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readModelEntry } from '../../../src/engine/card';
import { allowedChords, promptChordIndices } from '../../../src/engine/constraints';
import { generate } from '../../../src/engine/generate';
import type { GenerateRequest } from '../../../src/engine/types';
import { readAbc } from '../../../src/music/abc/reader';
import { modeScale, finalPitchClass } from '../../../src/structure/compliance';
import { parseChordSymbol } from '../../../src/tokens/chords';
import { fixtureModelsDir } from './helpers';
import { RandomModel } from './standInModel';

const D_MAJOR_WITH_CHORDS = `X:1
T:Chord Lock
M:4/4
L:1/8
K:D
"D"DFAd "G"BdAF|"A"EFGA "D"FDD2|"D"DFAd "G"BdAF|"A7"EFGE "D"D4|
`;

function index(name: string): number {
  const v = parseChordSymbol(name);
  assert.ok(v, name);
  return v.root < 0 ? 144 : v.root * 12 + v.quality;
}

function scaleOf(abcKey: string): boolean[] {
  const score = readAbc(`X:1\nM:4/4\nL:1/8\nK:${abcKey}\nD|\n`).tunes[0].score;
  const key = score.keys[0].key;
  const s = modeScale(key);
  return Array.from({ length: 12 }, (_, pc) => s.has(pc));
}

describe('chord symbols under the mode lock', () => {
  test('D major: diatonic chords and the dominant; no C, F or B flat', () => {
    const ok = allowedChords(scaleOf('D'), 2);
    for (const name of ['D', 'G', 'A', 'A7', 'Em', 'Bm', 'F#m', 'Gmaj7', 'N.C.']) {
      assert.ok(ok[index(name)], `${name} allowed`);
    }
    for (const name of ['C', 'F', 'Bb', 'Gm', 'D7', 'Fm']) {
      assert.ok(!ok[index(name)], `${name} refused`);
    }
  });

  test('A dorian borrows E and E7 (the dominant) but not F or C#m', () => {
    const pcs = scaleOf('Ador');
    const ok = allowedChords(pcs, 9);
    for (const name of ['Am', 'G', 'D', 'Em', 'C', 'E', 'E7']) {
      assert.ok(ok[index(name)], `${name} allowed`);
    }
    for (const name of ['F', 'C#m', 'Bb', 'Dm']) {
      assert.ok(!ok[index(name)], `${name} refused`);
    }
  });

  test("the prompt's own chords stay allowed", () => {
    const ok = allowedChords(scaleOf('D'), 2, [index('C')]);
    assert.ok(ok[index('C')]);
    assert.ok(!ok[index('F')]);
  });

  test('generated chords in a D major tune stay in the allowed set (stand-in model, many seeds)', async () => {
    const prompt = readAbc(D_MAJOR_WITH_CHORDS).tunes[0].score;
    const entry = await readModelEntry(join(fixtureModelsDir(), 'tiny-folk'));
    const key = prompt.keys[prompt.keys.length - 1].key;
    const scale = modeScale(key);
    const ok = allowedChords(
      Array.from({ length: 12 }, (_, pc) => scale.has(pc)),
      finalPitchClass(key),
      promptChordIndices(prompt),
    );
    let written = 0;
    for (const seed of [1, 2, 3, 4]) {
      const req: GenerateRequest = {
        model: 'x',
        prompt,
        task: { kind: 'continue', bars: 8 },
        controls: { relatedOffsets: [1, 2, 4], scales: [] },
        sampling: { temperature: 2, seed },
        candidates: 2,
        target: 'abc-folk',
      };
      const out = await generate({ model: new RandomModel(), card: entry.card, cardPath: 'card.json', refrainVocab: true }, req);
      for (const c of out) {
        for (const ch of c.score.chords.filter((x) => x.tick >= prompt.length)) {
          written++;
          assert.ok(ok[index(ch.name)], `chord ${ch.name} (seed ${seed}) is outside D major`);
        }
      }
    }
    assert.ok(written > 0, 'the stand-in model wrote some chords');
  });
});
