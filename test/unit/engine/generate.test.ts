// Generation logic without onnxruntime: a stand-in model with seeded random logits drives
// `generate`, and every generated bar must be complete and well-formed for its target.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readModelEntry } from '../../../src/engine/card';
import type { ModelEntry } from '../../../src/engine/card';
import { GenerationConstraints, TokenCoordinates } from '../../../src/engine/constraints';
import type { StepModel } from '../../../src/engine/decoder';
import { generate } from '../../../src/engine/generate';
import type { GenerateContext } from '../../../src/engine/generate';
import { Prng } from '../../../src/engine/sampler';
import { templateRelatedBars, templateSsm, tileSsm } from '../../../src/engine/template';
import type { GenerateRequest } from '../../../src/engine/types';
import { readAbc } from '../../../src/music/abc/reader';
import { barIndexAt } from '../../../src/music/score';
import type { Score } from '../../../src/music/score';
import { isCancellationError, CancellationError } from '../../../src/platform/cancellation';
import { encodeScore } from '../../../src/tokens/encode';
import { TokenGrammar, findGrammarError } from '../../../src/tokens/grammar';
import { REEL_ABC, fixtureModelsDir } from './helpers';
import { RandomModel } from './standInModel';

let entry: ModelEntry | undefined;
async function context(model: StepModel, over: Partial<GenerateContext> = {}): Promise<GenerateContext> {
  entry ??= await readModelEntry(join(fixtureModelsDir(), 'tiny-folk'));
  return { model, card: entry.card, cardPath: 'card.json', refrainVocab: true, ...over };
}

function reel(): Score {
  return readAbc(REEL_ABC).tunes[0].score;
}

function req(prompt: Score, over: Partial<GenerateRequest> = {}): GenerateRequest {
  return {
    model: 'x',
    prompt,
    task: { kind: 'continue', bars: 6 },
    controls: { relatedOffsets: [1, 2, 4], scales: [] },
    sampling: { temperature: 1.2, seed: 11 },
    candidates: 3,
    target: 'abc-folk',
    ...over,
  };
}

function checkBars(score: Score, from: number, to: number, monophonic: boolean): void {
  const notes = score.notes.filter((n) => n.onset >= score.bars[from].start && n.onset < score.bars[to - 1].start + score.bars[to - 1].duration);
  for (const n of notes) {
    const b = score.bars[barIndexAt(score.bars, n.onset)];
    assert.ok(n.onset + n.duration <= b.start + b.duration, `note at ${n.onset} runs past its bar`);
    assert.ok(n.duration > 0);
  }
  if (monophonic) {
    for (let k = 1; k < notes.length; k++) {
      assert.ok(notes[k].onset >= notes[k - 1].onset + notes[k - 1].duration, 'overlapping notes');
    }
  }
  for (let b = from; b < to; b++) {
    assert.equal(score.bars[b].duration, score.bars[from].duration, `bar ${b + 1} length`);
  }
}

describe('generate with a stand-in model', () => {
  test('abc-folk continuation: grammar-valid tokens, whole bars, monophonic, folk durations', async () => {
    const prompt = reel();
    for (const seed of [1, 2, 3]) {
      const out = await generate(await context(new RandomModel()), req(prompt, { sampling: { temperature: 1.5, seed } }));
      assert.equal(out.length, 3);
      for (const c of out) {
        assert.equal(c.score.bars.length, 14);
        checkBars(c.score, 8, 14, true);
        const re = encodeScore(c.score);
        assert.equal(findGrammarError(re.ids), undefined, 're-encoded piece follows the grammar');
        for (const n of c.score.notes.filter((x) => x.onset >= prompt.length)) {
          assert.ok((n.duration / 40) % 3 === 0 || n.duration === 160 || n.duration === 320, `duration ${n.duration}`);
        }
      }
    }
  });

  test('midi target on a two-track piece keeps both tracks and whole bars', async () => {
    const two = readAbc(`X:3\nT:Two\nM:3/4\nL:1/4\nK:C\nV:1\nc d e|g2 e|c3|\nV:2\nC, E, G,|C, G, C|C,3|\n`).tunes[0].score;
    assert.equal(two.tracks.length, 2);
    const out = await generate(await context(new RandomModel()), req(two, { target: 'midi', task: { kind: 'continue', bars: 4 }, candidates: 2 }));
    for (const c of out) {
      assert.equal(c.score.bars.length, 7);
      checkBars(c.score, 3, 7, false);
      assert.ok(c.score.notes.filter((n) => n.onset >= two.length).every((n) => n.track === 0 || n.track === 1));
    }
  });

  test('same seed, same candidates; another seed differs', async () => {
    const a = await generate(await context(new RandomModel()), req(reel(), { sampling: { temperature: 1, seed: 5 } }));
    const b = await generate(await context(new RandomModel()), req(reel(), { sampling: { temperature: 1, seed: 5 } }));
    const c = await generate(await context(new RandomModel()), req(reel(), { sampling: { temperature: 1, seed: 6 } }));
    assert.deepEqual(a.map((x) => x.score.notes), b.map((x) => x.score.notes));
    assert.deepEqual(a.slice(1).map((x) => x.score.notes), c.slice(0, 2).map((x) => x.score.notes), 'candidate c uses seed + c');
    assert.notDeepEqual(a[0].score.notes, c[0].score.notes);
  });

  test('cancellation between steps stops the run with no result', async () => {
    const model = new RandomModel();
    let calls = 0;
    const ctx = await context(model, {
      checkCancelled: () => {
        if (++calls > 40) {
          throw new CancellationError();
        }
      },
    });
    await assert.rejects(generate(ctx, req(reel(), { task: { kind: 'continue', bars: 100 } })), (e: Error) => isCancellationError(e));
    assert.ok(model.steps <= 41);
  });

  test('a model with a foreign vocabulary is refused, naming its card', async () => {
    await assert.rejects(generate(await context(new RandomModel(), { refrainVocab: false, cardPath: '/m/x/card.json' }), req(reel())), /\/m\/x\/card\.json/);
  });
});

describe('constraints and templates', () => {
  test('the constraint mask never dead-ends and forces bar starts', () => {
    const seq = encodeScore(reel());
    const prefix = seq.ids.slice(0, seq.ids.length - 1);
    const cons = new GenerationConstraints(TokenGrammar.fromPrefix(prefix), { target: 'abc-folk', bars: 20, pitchLow: 55, pitchHigh: 80, allowChords: false });
    const rng = new Prng(3);
    const coords = TokenCoordinates.after(prefix);
    let n = 0;
    while (!cons.done) {
      const f = cons.forced();
      const mask = cons.mask();
      const ids = [...mask.keys()].filter((i) => mask[i] === 1);
      assert.ok(ids.length > 0);
      assert.deepEqual(Array.from(cons.maskIds()), ids);
      if (f !== undefined) {
        assert.deepEqual(ids, [f]);
      }
      const id = ids[Math.floor(rng.next() * ids.length)];
      cons.push(id);
      coords.next(id);
      n++;
    }
    assert.equal(cons.barsDone, 20);
    assert.ok(n > 20);
  });

  test('token coordinates match the encoder', () => {
    const seq = encodeScore(reel());
    const t = new TokenCoordinates();
    for (let i = 0; i < seq.ids.length; i++) {
      assert.deepEqual(t.next(seq.ids[i]), { bar: seq.bar[i], pos: seq.pos[i] }, `token ${i}`);
    }
  });

  test('templates: form, tiled piece, matrix checks, related bars from the template', () => {
    const form = templateSsm({ kind: 'form', form: 'A2 B2 A2' }, reel(), 6);
    assert.equal(form.size, 6);
    assert.equal(form.data[4 * 6 + 0], 1);
    const tiled = tileSsm({ size: 2, data: Float32Array.from([1, 0.25, 0.25, 1]) }, 4);
    assert.deepEqual(Array.from(tiled.data), [1, 0.25, 1, 0.25, 0.25, 1, 0.25, 1, 1, 0.25, 1, 0.25, 0.25, 1, 0.25, 1]);
    assert.throws(() => templateSsm({ kind: 'matrix', size: 2, data: [1, 2, 3] }, reel(), 2), /needs 2\^2 values/);
    const rel = templateRelatedBars(form, 1, () => []);
    assert.deepEqual(rel(4), [0]);
    assert.deepEqual(rel(5), [1]);
    assert.deepEqual(rel(9), []);
  });
});
