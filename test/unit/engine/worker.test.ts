// The engine client and its worker, end to end on the tiny fixture model (random weights,
// Refrain's real vocabulary): round trip, seeded reproducibility, grammar constraints,
// cancellation and the errors for unknown, missing and corrupt models.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineClient } from '../../../src/engine/client';
import { EngineError } from '../../../src/engine/errors';
import type { GenerateRequest } from '../../../src/engine/types';
import { readAbc } from '../../../src/music/abc/reader';
import { writeAbc } from '../../../src/music/abc/writer';
import type { Score } from '../../../src/music/score';
import { barIndexAt, emptyScore } from '../../../src/music/score';
import { isCancellationError } from '../../../src/platform/cancellation';
import { fixtureModelsDir, JIG_ABC, REEL_ABC, workerPath } from './helpers';

function tune(text: string): Score {
  const r = readAbc(text);
  assert.equal(r.tunes.length, 1, JSON.stringify(r.skipped));
  return r.tunes[0].score;
}

function request(prompt: Score, over: Partial<GenerateRequest> = {}): GenerateRequest {
  return {
    model: 'tiny-folk',
    prompt,
    task: { kind: 'continue', bars: 4 },
    controls: { relatedOffsets: [1, 2, 4, 8], scales: [] },
    sampling: { temperature: 1, topP: 0.95, seed: 7 },
    candidates: 2,
    target: 'abc-folk',
    ...over,
  };
}

const clients: EngineClient[] = [];
function client(modelsDir = fixtureModelsDir(), extra: Partial<ConstructorParameters<typeof EngineClient>[0]> = {}): EngineClient {
  const c = new EngineClient({ modelsDir, executionProvider: 'cpu', threads: 1, workerPath: workerPath(), ...extra });
  clients.push(c);
  return c;
}

after(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
});

describe('engine worker round trip', () => {
  test('lists the fixture model', async () => {
    const models = await client().listModels();
    assert.deepEqual(models.map((m) => m.id), ['tiny-folk']);
    assert.equal(models[0].sing, true);
    assert.equal(models[0].vocabVersion, 1);
    assert.deepEqual(models[0].trainedScales, [['full', 24], ['full']]);
  });

  test('continues a reel: whole bars, monophonic, in range, same seed same music', async () => {
    const c = client();
    const prompt = tune(REEL_ABC);
    const progress: number[] = [];
    const a = await c.generate(request(prompt), { onProgress: (p) => progress.push(p.bars) });
    const b = await c.generate(request(prompt));
    assert.equal(a.length, 2);
    assert.ok(progress.length > 0);
    for (const cand of a) {
      assert.deepEqual(cand.newBars, { from: 8, to: 12 });
      assert.equal(cand.score.bars.length, 12);
      const newNotes = cand.score.notes.filter((n) => n.onset >= prompt.length);
      assert.ok(newNotes.length > 0, 'new bars have notes');
      const lo = Math.min(...prompt.notes.map((n) => n.pitch)) - 12;
      const hi = Math.max(...prompt.notes.map((n) => n.pitch)) + 12;
      for (let k = 0; k < newNotes.length; k++) {
        const n = newNotes[k];
        assert.ok(n.pitch >= lo && n.pitch <= hi, `pitch ${n.pitch} outside ${lo}..${hi}`);
        const bar = cand.score.bars[barIndexAt(cand.score.bars, n.onset)];
        assert.ok(n.onset + n.duration <= bar.start + bar.duration, 'note ends inside its bar');
        if (k + 1 < newNotes.length) {
          assert.ok(newNotes[k + 1].onset >= n.onset + n.duration, 'monophonic');
        }
      }
      for (const bar of cand.score.bars.slice(8)) {
        assert.equal(bar.duration, 1920);
      }
      assert.ok(Number.isFinite(cand.logLikelihood) && cand.logLikelihood < 0);
      assert.ok(cand.metrics.se !== undefined && cand.metrics.se >= 0);
      assert.ok(cand.metrics.templateDistance !== undefined);
      const text = writeAbc(cand.score);
      assert.equal(readAbc(text).tunes.length, 1, 'the written ABC reads back');
    }
    assert.deepEqual(a.map((x) => x.score.notes), b.map((x) => x.score.notes), 'same seed, same music');
    assert.deepEqual(a.map((x) => x.seed), [7, 8]);
    assert.notDeepEqual(a[0].score.notes, a[1].score.notes, 'different seeds differ');
  });

  test('infill keeps the bars around the span and ranks by the suffix likelihood', async () => {
    const prompt = tune(REEL_ABC);
    const out = await client().generate(request(prompt, { task: { kind: 'infill', fromBar: 2, toBar: 4 }, candidates: 2, infillSamples: 3 }));
    assert.equal(out.length, 2);
    const span0 = prompt.bars[2].start;
    const span1 = prompt.bars[4].start;
    for (const cand of out) {
      assert.equal(cand.score.bars.length, 8);
      const keep = (n: { onset: number }): boolean => n.onset < span0 || n.onset >= span1;
      assert.deepEqual(
        cand.score.notes.filter(keep).map((n) => [n.pitch, n.onset, n.duration]),
        prompt.notes.filter(keep).map((n) => [n.pitch, n.onset, n.duration]),
      );
      assert.ok(typeof cand.metrics.suffixLogLikelihood === 'number');
    }
    assert.ok((out[0].metrics.suffixLogLikelihood ?? 0) >= (out[1].metrics.suffixLogLikelihood ?? 0));
  });

  test('fromForm writes the form\'s bar count from an empty tune', async () => {
    const empty: Score = { ...emptyScore(), meters: [{ tick: 0, meter: { num: 3, den: 4 } }], keys: [{ tick: 0, key: { tonic: 'A', mode: 'minor', fifths: 0 } }] };
    const out = await client().generate(request(empty, { task: { kind: 'fromForm', form: 'A2 B2 A2' }, candidates: 1 }));
    assert.equal(out[0].score.bars.length, 6);
    assert.ok(out[0].score.bars.every((b) => b.duration === 1440));
    assert.ok(out[0].metrics.templateDistance !== undefined);
  });

  test('a 6/8 tune with a pickup and repeats continues in 6/8', async () => {
    const prompt = tune(JIG_ABC);
    const out = await client().generate(request(prompt, { task: { kind: 'continue', bars: 2 }, candidates: 1, controls: { relatedOffsets: [], relatedFromTemplate: true, scales: ['full', 8] } }));
    const bars = out[0].score.bars.slice(prompt.bars.length);
    assert.equal(bars.length, 2);
    assert.ok(bars.every((b) => b.meter.num === 6 && b.meter.den === 8 && b.duration === 1440));
  });
});

describe('engine errors', () => {
  test('an unknown model lists the available ones', async () => {
    await assert.rejects(client().generate(request(tune(REEL_ABC), { model: 'nope' })), (e: Error) => {
      assert.ok(e instanceof EngineError);
      assert.equal(e.code, 'model-not-found');
      assert.match(e.message, /nope/);
      assert.match(e.message, /tiny-folk/);
      return true;
    });
  });

  test('a missing or corrupt model file is named in the error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'refrain-engine-'));
    try {
      cpSync(join(fixtureModelsDir(), 'tiny-folk'), join(dir, 'broken'), { recursive: true });
      const onnx = join(dir, 'broken', 'model.onnx');
      rmSync(onnx);
      await assert.rejects(client(dir).generate(request(tune(REEL_ABC), { model: 'broken' })), (e: Error) => {
        assert.ok(e instanceof EngineError && e.code === 'model-file', String(e));
        assert.ok(e.message.includes(onnx), e.message);
        return true;
      });
      // Right size (the card checks it), wrong bytes: onnxruntime rejects it.
      const card = JSON.parse(require('node:fs').readFileSync(join(dir, 'broken', 'card.json'), 'utf8')) as { onnx: { bytes: number } };
      writeFileSync(onnx, Buffer.alloc(card.onnx.bytes, 7));
      await assert.rejects(client(dir).generate(request(tune(REEL_ABC), { model: 'broken' })), (e: Error) => {
        assert.ok(e instanceof EngineError && e.code === 'model-file', String(e));
        assert.ok(e.message.includes(onnx), e.message);
        return true;
      });
      writeFileSync(join(dir, 'broken', 'card.json'), '{ not json');
      await assert.rejects(client(dir).generate(request(tune(REEL_ABC), { model: 'broken' })), (e: Error) => {
        assert.ok(e.message.includes(join(dir, 'broken', 'card.json')), e.message);
        return true;
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('cancellation mid-run rejects at once and the worker stays usable', async () => {
    const c = client();
    const ac = new AbortController();
    let steps = 0;
    const run = c.generate(request(tune(REEL_ABC), { task: { kind: 'continue', bars: 64 }, candidates: 4 }), {
      signal: ac.signal,
      onProgress: (p) => {
        steps++;
        if (p.phase === 'decode' && p.bars >= 1) {
          ac.abort();
        }
      },
    });
    await assert.rejects(run, (e: Error) => isCancellationError(e));
    assert.ok(steps > 0);
    const again = await c.generate(request(tune(REEL_ABC), { candidates: 1, task: { kind: 'continue', bars: 1 } }));
    assert.equal(again.length, 1);
  });

  test('cancelling a queued request does not disturb the running one', async () => {
    const c = client(fixtureModelsDir(), { cancelGraceMs: 100, parallel: false });
    // The second request is posted once the first is decoding (the worker is up: its start-up is
    // not part of the 100 ms the cancellation may take), and cancelled while queued behind it.
    let decoding!: () => void;
    const started = new Promise<void>((resolve) => (decoding = resolve));
    const first = c.generate(request(tune(REEL_ABC), { task: { kind: 'continue', bars: 96 }, candidates: 2 }), {
      onProgress: (p) => p.phase === 'decode' && decoding(),
    });
    await started;
    const ac = new AbortController();
    const second = c.generate(request(tune(REEL_ABC), { candidates: 1 }), { signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await assert.rejects(second, (e: Error) => isCancellationError(e));
    const out = await first;
    assert.equal(out.length, 2);
    assert.equal(out[0].score.bars.length, 104);
  });

  test('a worker still running after the cancellation grace is retired, never torn down inside a model step', async () => {
    // Terminating a worker inside onnxruntime's run aborts the whole process; with a 1 ms grace
    // the worker is always still in a step when the grace ends. The process must survive, and the
    // next request goes to a fresh worker.
    for (let i = 0; i < 3; i++) {
      const c = client(fixtureModelsDir(), { cancelGraceMs: 1, parallel: i === 2 });
      const ac = new AbortController();
      const run = c.generate(request(tune(REEL_ABC), { task: { kind: 'continue', bars: 64 }, candidates: 4 }), {
        signal: ac.signal,
        onProgress: (p) => p.phase === 'decode' && p.bars >= 1 && ac.abort(),
      });
      await assert.rejects(run, (e: Error) => isCancellationError(e));
      const again = await c.generate(request(tune(REEL_ABC), { candidates: 1, task: { kind: 'continue', bars: 1 } }));
      assert.equal(again.length, 1);
      await c.dispose();
    }
  });

  test('an already aborted signal rejects without starting', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(client().generate(request(tune(REEL_ABC)), { signal: ac.signal }), (e: Error) => isCancellationError(e));
  });

  test('a bad request is refused with a clear message', async () => {
    await assert.rejects(client().generate(request(tune(REEL_ABC), { task: { kind: 'infill', fromBar: 6, toBar: 12 } })), /Infill bars 7..12/);
  });
});

describe('candidates split over two engine workers', () => {
  const notes = (cs: { score: Score; seed: number; logLikelihood: number }[]): unknown[] => cs.map((c) => ({ seed: c.seed, ll: c.logLikelihood.toFixed(3), notes: c.score.notes }));

  test('continue: the split gives the candidates, seeds and order of one worker', async () => {
    const prompt = tune(REEL_ABC);
    const req = request(prompt, { candidates: 5, task: { kind: 'continue', bars: 3 } });
    const split: number[] = [];
    const [one, two] = [client(fixtureModelsDir(), { parallel: false }), client(fixtureModelsDir(), { parallel: true })];
    const a = await one.generate(req);
    const b = await two.generate(req, { onProgress: (p) => split.push(p.candidate * 3 + p.bars) });
    assert.deepEqual(notes(b), notes(a));
    assert.deepEqual(b.map((c) => c.seed), [7, 8, 9, 10, 11]);
    assert.ok(split.length > 0 && split.every((x) => x >= 0 && x <= 15), `merged progress stays within the request's 15 bars: ${split.join(',')}`);
  });

  test('infill: each worker ranks its half of the pool and the merge keeps the same best spans', async () => {
    const prompt = tune(REEL_ABC);
    const req = request(prompt, { task: { kind: 'infill', fromBar: 2, toBar: 4 }, candidates: 3, infillSamples: 7 });
    const a = await client(fixtureModelsDir(), { parallel: false }).generate(req);
    const b = await client(fixtureModelsDir(), { parallel: true }).generate(req);
    assert.equal(b.length, 3);
    assert.deepEqual(notes(b), notes(a));
  });

  test('a part that fails fails the request, and a cancelled split request frees both workers', async () => {
    const c = client(fixtureModelsDir(), { parallel: true });
    await assert.rejects(c.generate(request(tune(REEL_ABC), { candidates: 2, poolPart: { from: 1, count: 5 } })), /poolPart must lie within/);
    const ac = new AbortController();
    const run = c.generate(request(tune(REEL_ABC), { task: { kind: 'continue', bars: 64 }, candidates: 4 }), {
      signal: ac.signal,
      onProgress: (p) => {
        if (p.phase === 'decode' && p.bars >= 1) {
          ac.abort();
        }
      },
    });
    await assert.rejects(run, (e: Error) => isCancellationError(e));
    const again = await c.generate(request(tune(REEL_ABC), { candidates: 2, task: { kind: 'continue', bars: 1 } }));
    assert.equal(again.length, 2);
  });
});
