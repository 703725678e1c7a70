import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import type { Candidate, EngineApi, GenerateProgress, GenerateRequest, ModelInfo } from '../../../src/engine/types';
import type { GenerationCandidate } from '../../../src/generation/request';
import { GenerationService } from '../../../src/generation/service';
import { silentLogger } from '../../../src/platform/logger';
import type { Score } from '../../../src/music/score';
import { CancellationError } from '../../../src/platform/cancellation';
import type { GenerationSettings } from '../../../src/generation/config';
import type { GenerateParams, NotificationMap, NotificationMethod } from '../../../src/protocol/messages';
import { GenerationSession } from '../../../src/webviews/shared/generationSession';
import type { SessionHost } from '../../../src/webviews/shared/generationSession';
import { templateSpecOf } from '../../../src/webviews/shared/templates';
import type { GenerationSource } from '../../../src/generation/request';
import { BAR_A, BAR_B, BAR_C, eightBars, scoreOf } from './scores';

function params(overrides: Partial<GenerateParams> = {}): GenerateParams {
  return { bars: 2, candidates: 2, temperature: 1, topP: 0.9, seed: 5, relatedOffsets: [1, 2, 4], layerWindows: [0, 256], variation: 0.25, modelId: '', template: { kind: 'piece' }, ...overrides };
}

const SETTINGS: GenerationSettings = { bars: 8, candidates: 3, relatedOffsets: [1, 2], relatedFromTemplate: true, scales: [], temperature: 1, topP: 0.95, topK: 40, seed: undefined };

type TestHost = SessionHost & { notes: { method: string; params: unknown }[]; remembered: string[]; inserted: GenerationCandidate[]; moveTo(uri: string): void; edit(): void };

function host(score: Score | undefined): TestHost {
  const notes: { method: string; params: unknown }[] = [];
  const remembered: string[] = [];
  const inserted: GenerationCandidate[] = [];
  let source: GenerationSource | undefined = score ? { format: 'abc', uri: 'file:///tune.abc', version: 3, tuneIndex: 0, score } : undefined;
  return {
    notes,
    remembered,
    inserted,
    moveTo: (uri) => {
      source = source ? { ...source, uri } : undefined;
    },
    edit: () => {
      source = source ? { ...source, version: source.version + 1 } : undefined;
    },
    current: () => (source ? { source, feature: 'jaccard' } : undefined),
    insert: async (candidate) => {
      inserted.push(candidate);
      return `Inserted ${candidate.newBars.to - candidate.newBars.from} bars into ${candidate.source.uri}.`;
    },
    settings: () => SETTINGS,
    readFile: async (uri) => ({ bytes: new TextEncoder().encode('X:1\nT:Other\nM:4/4\nL:1/4\nK:C\nC D E F|G A B c|C D E F|G A B c|\n'), path: uri, name: 'other.abc' }),
    pickFile: async () => undefined,
    notify<M extends NotificationMethod>(method: M, p: NotificationMap[M]) {
      notes.push({ method, params: p });
    },
    remember(method) {
      remembered.push(method);
    },
  };
}

function model(id: string, extra: Partial<ModelInfo> = {}): ModelInfo {
  return {
    id,
    title: id.toUpperCase(),
    pe: 'rope',
    trainedOffsets: [1, 2],
    trainedScales: [['full'], ['full']],
    layers: 2,
    sing: false,
    plans: ['fc', 'fc'],
    vocabVersion: 1,
    hasCorpusCurve: true,
    corpusLt: [1, 0.5, null],
    path: `/models/${id}/model.onnx`,
    bytes: 1000,
    ...extra,
  };
}

/** An engine that appends A B C bars as "new" bars and reports progress; `hold` keeps it running. */
class EchoEngine implements EngineApi {
  requests: GenerateRequest[] = [];
  models: ModelInfo[] = [model('tiny')];
  hold: Promise<void> | undefined;

  async listModels(): Promise<ModelInfo[]> {
    return this.models;
  }

  /** Keeps every run going until the returned function is called. */
  holdRuns(): () => void {
    let release = (): void => undefined;
    this.hold = new Promise((r) => (release = r));
    return () => release();
  }

  async generate(req: GenerateRequest, opts: { signal?: AbortSignal; onProgress?: (p: GenerateProgress) => void } = {}): Promise<Candidate[]> {
    this.requests.push(req);
    const bars = req.task.kind === 'continue' ? req.task.bars : 0;
    for (let k = 0; k <= 100; k++) {
      opts.onProgress?.({ candidate: 0, bars: Math.min(bars, k), tokens: k });
    }
    if (this.hold) {
      await this.hold;
    }
    if (opts.signal?.aborted) {
      throw new CancellationError();
    }
    const p = req.prompt.bars.length;
    const score = scoreOf(Array.from({ length: p + bars }, (_, k) => [BAR_A, BAR_B, BAR_C][k % 3]));
    return Array.from({ length: req.candidates }, (_, k) => ({ score, newBars: { from: p, to: p + bars }, tokens: 10, logLikelihood: -5, metrics: { se: k / 10 }, seed: req.sampling.seed + k }));
  }

  async dispose(): Promise<void> {}
}

/** A session over the real generation service and an echo engine. */
function setup(score: Score | null = eightBars(), engine = new EchoEngine(), chosen = '') {
  const service = new GenerationService({ engine: () => engine, listModels: () => engine.listModels() }, () => chosen, silentLogger());
  const h = host(score ?? undefined);
  const session = new GenerationSession(service, h, silentLogger());
  return { engine, service, h, session, dispose: () => (session.dispose(), service.dispose()) };
}

function context(id: number, controller = new AbortController()) {
  return { id, signal: controller.signal };
}

describe('GenerationSession over the generation service', () => {
  test('without a model installed, Generate fails with no-model and the choose-model action', async () => {
    const engine = new EchoEngine();
    engine.models = [];
    const t = setup(eightBars(), engine);
    await assert.rejects(t.session.handlers().generate(params(), context(1)), (e: Error & { code?: string; action?: string }) => e.code === 'no-model' && e.action === 'choose-model' && /No Refrain model is installed/.test(e.message));
    assert.deepEqual((await t.session.handlers().listModels({}, context(2))).models, []);
    t.dispose();
  });

  test('without a piece, Generate says so', async () => {
    const t = setup(null);
    await assert.rejects(t.session.handlers().generate(params(), context(1)), (e: Error & { code?: string }) => e.code === 'no-piece');
    t.dispose();
  });

  test('builds the one engine request from the controls and the settings, throttles progress, returns candidate views', async () => {
    const t = setup();
    const uses: string[] = [];
    t.service.onDidUse((use) => uses.push(use));
    const result = await t.session.handlers().generate(params({ modelId: 'tiny' }), context(11));
    const req = t.engine.requests[0];
    assert.deepEqual(req.task, { kind: 'continue', bars: 2 });
    assert.deepEqual(req.controls, { relatedOffsets: [1, 2, 4], relatedFromTemplate: true, scales: ['full', 256], template: { kind: 'piece' }, variation: 0.25 });
    // top-k and template-related bars come from the settings, in the request for all to see.
    assert.deepEqual(req.sampling, { temperature: 1, topP: 0.9, topK: 40, seed: 5 });
    assert.equal(req.model, 'tiny');
    assert.equal(req.target, 'abc-folk');
    assert.equal(result.candidates.length, 2);
    assert.deepEqual(result.candidates.map((c) => c.id), ['11-1', '11-2']);
    assert.equal(result.candidates[0].newBars, 2);
    // 101 progress reports in a burst: the first goes out, the last is flushed, nothing between.
    const progress = t.h.notes.filter((n) => n.method === 'progress');
    assert.equal(progress.length, 2);
    assert.deepEqual(t.h.notes.filter((n) => n.method === 'generation').map((n) => (n.params as { running: boolean }).running), [true, false]);
    assert.deepEqual(t.h.remembered, ['candidates']);
    // Insert hands the stored candidate to the host.
    const inserted = await t.session.handlers().insert({ candidateId: '11-2' }, context(12));
    assert.match(inserted.message, /Inserted 2 bars/);
    assert.equal(t.h.inserted[0].metrics.se, 0.1);
    // The walkthrough hears of both.
    assert.deepEqual(uses, ['generated', 'inserted']);
    await assert.rejects(t.session.handlers().insert({ candidateId: '99-1' }, context(13)), (e: Error & { code?: string }) => e.code === 'not-found');
    t.dispose();
  });

  test('the control a view leaves out comes from the settings; one it sends wins', async () => {
    const t = setup();
    await t.session.handlers().generate(params({ topK: 0, relatedFromTemplate: false }), context(1));
    assert.equal(t.engine.requests[0].sampling.topK, 0);
    assert.equal(t.engine.requests[0].controls.relatedFromTemplate, false);
    t.dispose();
  });

  test('the newest generation wins, from any view: starting another cancels the one in flight', async () => {
    const t = setup();
    const other = new GenerationSession(t.service, host(eightBars()), silentLogger());
    const release = t.engine.holdRuns();
    const first = t.session.handlers().generate(params(), context(1));
    await new Promise((r) => setImmediate(r));
    assert.ok(t.service.isRunning);
    const second = other.handlers().generate(params(), context(2));
    await new Promise((r) => setImmediate(r));
    release();
    await assert.rejects(first, (e: Error & { code?: string }) => e.code === 'cancelled');
    t.engine.hold = undefined;
    const result = await second;
    assert.equal(result.candidates.length, 2);
    assert.equal(t.service.isRunning, false);
    other.dispose();
    t.dispose();
  });

  test('Cancel Generation (the service\'s cancel) stops a view\'s run', async () => {
    const t = setup();
    const release = t.engine.holdRuns();
    const run = t.session.handlers().generate(params(), context(1));
    await new Promise((r) => setImmediate(r));
    assert.equal(t.service.cancel(), true);
    release();
    await assert.rejects(run, (e: Error & { code?: string }) => e.code === 'cancelled');
    assert.equal(t.service.cancel(), false, 'nothing left running');
    t.dispose();
  });

  test('a background run (ghost text) never stops a view\'s run', async () => {
    const t = setup();
    const release = t.engine.holdRuns();
    const run = t.session.handlers().generate(params(), context(1));
    await new Promise((r) => setImmediate(r));
    const source = t.h.current()?.source as GenerationSource;
    await assert.rejects(
      t.service.generate({ source, task: { kind: 'continue', bars: 1 }, template: { kind: 'piece' }, controls: { ...SETTINGS, seed: 1, variation: 0.25 } }, { background: true }),
      (e: Error) => e.name === 'CancellationError',
    );
    release();
    assert.equal((await run).candidates.length, 2);
    t.dispose();
  });

  test('the webview\'s cancel reaches the engine\'s signal', async () => {
    const t = setup();
    const release = t.engine.holdRuns();
    const controller = new AbortController();
    const run = t.session.handlers().generate(params(), context(1, controller));
    await new Promise((r) => setImmediate(r));
    controller.abort();
    release();
    await assert.rejects(run, (e: Error & { code?: string }) => e.code === 'cancelled');
    t.dispose();
  });

  test('insert refuses a candidate once the piece has changed (no double insert)', async () => {
    const t = setup();
    await t.session.handlers().generate(params(), context(1));
    await t.session.handlers().insert({ candidateId: '1-1' }, context(2));
    t.h.edit();
    await assert.rejects(t.session.handlers().insert({ candidateId: '1-2' }, context(3)), (e: Error & { code?: string }) => e.code === 'stale' && /changed/.test(e.message));
    assert.equal(t.h.inserted.length, 1);
    t.dispose();
  });

  test('insert refuses a candidate of another piece', async () => {
    const t = setup();
    await t.session.handlers().generate(params(), context(1));
    t.h.moveTo('file:///other.abc');
    await assert.rejects(t.session.handlers().insert({ candidateId: '1-1' }, context(2)), (e: Error & { code?: string }) => e.code === 'stale');
    t.dispose();
  });

  test('previews form and file templates as the engine sizes them (only a file picked in the view), and explains a bad form', async () => {
    const t = setup();
    t.h.pickFile = async () => ({ uri: '/other.abc', name: 'other.abc' });
    const form = await t.session.handlers().previewTemplate({ template: { kind: 'form', form: 'A4 A4 B4 A4' }, bars: 4 }, context(1));
    assert.equal(form.ssm.size, 16);
    assert.match(form.label, /A4 A4 B4 A4/);
    await assert.rejects(t.session.handlers().previewTemplate({ template: { kind: 'file', uri: '/other.abc' }, bars: 4 }, context(2)), /not chosen in this view: pick it again/);
    await t.session.handlers().pickTemplateFile({}, context(2));
    const file = await t.session.handlers().previewTemplate({ template: { kind: 'file', uri: '/other.abc' }, bars: 4 }, context(2));
    // The 4-bar file's structure over the piece's 8 bars and the 4 new ones.
    assert.equal(file.ssm.size, 12);
    assert.match(file.label, /other\.abc/);
    await assert.rejects(t.session.handlers().previewTemplate({ template: { kind: 'form', form: '8A' }, bars: 4 }, context(3)), /no section letter/);
    t.dispose();
  });
});

describe('templateSpecOf', () => {
  test('painted templates go symmetric with a unit diagonal', async () => {
    const t = await templateSpecOf({ kind: 'painted', size: 3, data: Float32Array.from([0, 1, 0, 0, 0, 0.5, 0, 0, 0]) }, { score: undefined, readFile: async () => assert.fail('no file') });
    assert.deepEqual(t.spec, { kind: 'matrix', size: 3, data: [1, 0.5, 0, 0.5, 1, 0.25, 0, 0.25, 1] });
  });

  test('an unreadable template file is a readable error', async () => {
    await assert.rejects(
      templateSpecOf({ kind: 'file', uri: 'x.abc' }, { score: undefined, readFile: async () => ({ bytes: new TextEncoder().encode('just words'), path: 'x.abc', name: 'x.abc' }) }),
      (e: Error) => e.name === 'MusicInputError' && e.message.length > 0 && !/\bat .+:\d+:\d+/.test(e.message),
    );
  });
});

describe('candidates and models of a view', () => {
  test('candidates go stale after an edit of their piece: the view is told, Insert refuses them', async () => {
    const t = setup();
    await t.session.handlers().generate(params({ variation: 0 }), context(21));
    assert.equal(t.engine.requests[0].controls.variation, 0);
    const current = t.h.current()?.source;
    t.session.pieceChanged(current);
    assert.equal(t.h.notes.filter((n) => n.method === 'candidates').length, 0, 'the same version: nothing stale');
    t.h.edit();
    t.session.pieceChanged(t.h.current()?.source);
    const stale = t.h.notes.filter((n) => n.method === 'candidates');
    assert.equal(stale.length, 1);
    const p = stale[0].params as NotificationMap['candidates'];
    assert.equal(p.candidates.length, 2);
    assert.match(p.stale ?? '', /changed since these candidates were generated/);
    await assert.rejects(t.session.handlers().insert({ candidateId: '21-1' }, context(22)), (e: Error & { code?: string }) => e.code === 'stale');
    assert.equal(t.h.inserted.length, 0);
    t.dispose();
  });

  test('after an Insert the other candidates are stale', async () => {
    const t = setup();
    await t.session.handlers().generate(params(), context(31));
    await t.session.handlers().insert({ candidateId: '31-1' }, context(32));
    const stale = t.h.notes.filter((n) => n.method === 'candidates').map((n) => (n.params as NotificationMap['candidates']).stale);
    assert.equal(stale.length, 1);
    assert.match(stale[0] ?? '', /inserted/);
    await assert.rejects(t.session.handlers().insert({ candidateId: '31-2' }, context(33)), (e: Error & { code?: string }) => e.code === 'stale');
    t.dispose();
  });

  test('models carry their measured compliance and the experimental flag; the chosen one comes first', async () => {
    const engine = new EchoEngine();
    engine.models = [model('a', { followsForm: 0.8 }), model('b', { pe: 'srope', experimental: true })];
    const t = setup(eightBars(), engine, 'b');
    const { models } = await t.session.handlers().listModels({}, context(41));
    assert.deepEqual(models.map((m) => m.id), ['b', 'a']);
    assert.equal(models[1].followsForm, 0.8);
    assert.equal(models[1].experimental, undefined);
    assert.equal(models[0].followsForm, undefined);
    assert.equal(models[0].experimental, true);
    assert.equal(models[0].positionalEncoding, 'srope');
    t.dispose();
  });
});
