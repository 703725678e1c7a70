import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { silentLogger } from '../../../src/platform/logger';
import type { Score } from '../../../src/music/score';
import { CancellationError } from '../../../src/platform/cancellation';
import type { GenerateParams, NotificationMap, NotificationMethod } from '../../../src/protocol/messages';
import { UnavailableGenerationService } from '../../../src/panels/generationService';
import type { GeneratedCandidate, GenerationProgress, GenerationRequest, GenerationService, GenerationSource, InsertTarget, ModelInfo } from '../../../src/panels/generationService';
import { GenerationSession } from '../../../src/panels/generationSession';
import type { SessionHost } from '../../../src/panels/generationSession';
import { resolveTemplate } from '../../../src/panels/templates';
import { BAR_A, BAR_B, BAR_C, eightBars, scoreOf } from './scores';

function params(overrides: Partial<GenerateParams> = {}): GenerateParams {
  return { bars: 2, candidates: 2, temperature: 1, topP: 0.9, seed: 5, relatedOffsets: [1, 2, 4], layerWindows: [0, 256], variation: 0.25, modelId: '', template: { kind: 'piece' }, ...overrides };
}

function host(score: Score | undefined): SessionHost & { notes: { method: string; params: unknown }[]; remembered: string[]; moveTo(uri: string): void; edit(): void } {
  const notes: { method: string; params: unknown }[] = [];
  const remembered: string[] = [];
  let source: GenerationSource | undefined = score ? { format: 'abc', uri: 'file:///tune.abc', version: 3, tuneIndex: 0, score } : undefined;
  return {
    notes,
    remembered,
    moveTo: (uri) => {
      source = source ? { ...source, uri } : undefined;
    },
    edit: () => {
      source = source ? { ...source, version: source.version + 1 } : undefined;
    },
    current: () => (source ? { source, feature: 'jaccard' } : undefined),
    insertTarget: (s): InsertTarget => ({ kind: 'text', source: s }),
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

/** A service that appends the piece's first bars as "new" bars and reports progress. */
class EchoService implements GenerationService {
  requests: GenerationRequest[] = [];
  inserted: GeneratedCandidate[] = [];
  hold: Promise<void> | undefined;

  async listModels(): Promise<readonly ModelInfo[]> {
    return [{ id: 'tiny', label: 'Tiny', positionalEncoding: 'rope', layers: 2, corpusLt: [1, 0.5, 0.4] }];
  }

  async generate(request: GenerationRequest, signal: AbortSignal, onProgress: (p: GenerationProgress) => void): Promise<readonly GeneratedCandidate[]> {
    this.requests.push(request);
    for (let k = 0; k <= 100; k++) {
      onProgress({ done: k, total: 100 });
    }
    if (this.hold) {
      await this.hold;
    }
    if (signal.aborted) {
      throw new CancellationError();
    }
    const src = request.source.score;
    const bars = Array.from({ length: src.bars.length + request.bars }, (_, k) => [BAR_A, BAR_B, BAR_C][k % 3]);
    return Array.from({ length: request.candidates }, (_, k) => ({ score: scoreOf(bars), newBars: request.bars, metrics: { se: k / 10 } }));
  }

  async insert(target: InsertTarget, candidate: GeneratedCandidate) {
    this.inserted.push(candidate);
    return { message: `Inserted ${candidate.newBars} bars into ${target.source.uri}.` };
  }
}

function context(id: number, controller = new AbortController()) {
  return { id, signal: controller.signal };
}

describe('GenerationSession', () => {
  test('without an engine, Generate fails with a clear no-model error', async () => {
    const session = new GenerationSession(new UnavailableGenerationService(), host(eightBars()), silentLogger());
    await assert.rejects(session.handlers().generate(params(), context(1)), (e: Error) => e.name === 'GenerationUnavailableError' && /No generation model is available/.test(e.message));
    assert.deepEqual((await session.handlers().listModels({}, context(2))).models, []);
    session.dispose();
  });

  test('without a piece, Generate says so', async () => {
    const session = new GenerationSession(new EchoService(), host(undefined), silentLogger());
    await assert.rejects(session.handlers().generate(params(), context(1)), (e: Error & { code?: string }) => e.code === 'no-piece');
    session.dispose();
  });

  test('builds the engine request from the controls, throttles progress, and returns candidate views', async () => {
    const service = new EchoService();
    const h = host(eightBars());
    const session = new GenerationSession(service, h, silentLogger());
    const result = await session.handlers().generate(params({ modelId: 'tiny' }), context(11));
    const req = service.requests[0];
    assert.equal(req.bars, 2);
    assert.deepEqual(req.structure, { relatedOffsets: [1, 2, 4], layerWindows: [0, 256], variation: 0.25 });
    assert.deepEqual(req.sampling, { temperature: 1, topP: 0.9, seed: 5 });
    assert.equal(req.modelId, 'tiny');
    assert.ok(req.template.kind === 'ssm' && req.template.origin === 'piece' && req.template.ssm.size === 8);
    assert.equal(result.candidates.length, 2);
    assert.deepEqual(result.candidates.map((c) => c.id), ['11-1', '11-2']);
    assert.equal(result.candidates[0].newBars, 2);
    // 101 progress reports in a burst: the first goes out, the last is flushed, nothing between.
    const progress = h.notes.filter((n) => n.method === 'progress');
    assert.equal(progress.length, 2);
    assert.deepEqual(h.notes.filter((n) => n.method === 'generation').map((n) => (n.params as { running: boolean }).running), [true, false]);
    assert.deepEqual(h.remembered, ['candidates']);
    // Insert hands the stored candidate to the service.
    const inserted = await session.handlers().insert({ candidateId: '11-2' }, context(12));
    assert.match(inserted.message, /Inserted 2 bars/);
    assert.equal(service.inserted[0].metrics.se, 0.1);
    await assert.rejects(session.handlers().insert({ candidateId: '99-1' }, context(13)), (e: Error & { code?: string }) => e.code === 'not-found');
    session.dispose();
  });

  test('the newest generation wins: starting another cancels the one in flight', async () => {
    const service = new EchoService();
    let release = (): void => undefined;
    service.hold = new Promise((r) => (release = r));
    const session = new GenerationSession(service, host(eightBars()), silentLogger());
    const first = session.handlers().generate(params(), context(1));
    await new Promise((r) => setImmediate(r));
    assert.ok(session.isRunning);
    const second = session.handlers().generate(params(), context(2));
    await new Promise((r) => setImmediate(r));
    release();
    await assert.rejects(first, (e: Error & { code?: string }) => e.code === 'cancelled');
    service.hold = undefined;
    const result = await second;
    assert.equal(result.candidates.length, 2);
    assert.equal(session.isRunning, false);
    session.dispose();
  });

  test('the webview\'s cancel reaches the engine\'s signal', async () => {
    const service = new EchoService();
    let release = (): void => undefined;
    service.hold = new Promise((r) => (release = r));
    const session = new GenerationSession(service, host(eightBars()), silentLogger());
    const controller = new AbortController();
    const run = session.handlers().generate(params(), context(1, controller));
    await new Promise((r) => setImmediate(r));
    controller.abort();
    release();
    await assert.rejects(run, (e: Error & { code?: string }) => e.code === 'cancelled');
    session.dispose();
  });

  test('insert refuses a candidate once the piece has changed (no double insert)', async () => {
    const service = new EchoService();
    const h = host(eightBars());
    const session = new GenerationSession(service, h, silentLogger());
    await session.handlers().generate(params(), context(1));
    await session.handlers().insert({ candidateId: '1-1' }, context(2));
    h.edit();
    await assert.rejects(session.handlers().insert({ candidateId: '1-2' }, context(3)), (e: Error & { code?: string }) => e.code === 'stale' && /changed/.test(e.message));
    assert.equal(service.inserted.length, 1);
    session.dispose();
  });

  test('insert refuses a candidate of another piece', async () => {
    const service = new EchoService();
    const h = host(eightBars());
    const session = new GenerationSession(service, h, silentLogger());
    await session.handlers().generate(params(), context(1));
    h.moveTo('file:///other.abc');
    await assert.rejects(session.handlers().insert({ candidateId: '1-1' }, context(2)), (e: Error & { code?: string }) => e.code === 'stale');
    session.dispose();
  });

  test('previews form and file templates (only a file picked in the view), and explains a bad form', async () => {
    const h = host(eightBars());
    h.pickFile = async () => ({ uri: '/other.abc', name: 'other.abc' });
    const session = new GenerationSession(new EchoService(), h, silentLogger());
    const form = await session.handlers().previewTemplate({ template: { kind: 'form', form: 'A4 A4 B4 A4' }, bars: 4 }, context(1));
    assert.equal(form.ssm.size, 16);
    assert.match(form.label, /A4 A4 B4 A4/);
    await assert.rejects(
      session.handlers().previewTemplate({ template: { kind: 'file', uri: '/other.abc' }, bars: 4 }, context(2)),
      /not chosen in this view: pick it again/,
    );
    await session.handlers().pickTemplateFile({}, context(2));
    const file = await session.handlers().previewTemplate({ template: { kind: 'file', uri: '/other.abc' }, bars: 4 }, context(2));
    assert.equal(file.ssm.size, 4);
    assert.match(file.label, /other\.abc/);
    await assert.rejects(session.handlers().previewTemplate({ template: { kind: 'form', form: '8A' }, bars: 4 }, context(3)), /no section letter/);
    session.dispose();
  });
});

describe('resolveTemplate', () => {
  test('painted templates come back symmetric with a unit diagonal', async () => {
    const t = await resolveTemplate(
      { kind: 'painted', size: 3, data: Float32Array.from([0, 1, 0, 0, 0, 0.5, 0, 0, 0]) },
      { score: undefined, feature: 'jaccard', readFile: async () => assert.fail('no file') },
    );
    assert.ok(t.kind === 'ssm');
    assert.deepEqual(Array.from(t.ssm.data), [1, 0.5, 0, 0.5, 1, 0.25, 0, 0.25, 1]);
  });

  test('an unreadable template file is a readable error', async () => {
    await assert.rejects(
      resolveTemplate({ kind: 'file', uri: 'x.abc' }, { score: undefined, feature: 'jaccard', readFile: async () => ({ bytes: new TextEncoder().encode('just words'), path: 'x.abc', name: 'x.abc' }) }),
      (e: Error) => e.name === 'MusicInputError' && e.message.length > 0 && !/\bat .+:\d+:\d+/.test(e.message),
    );
  });

  test('candidates go stale after an edit of their piece: the view is told, Insert refuses them', async () => {
    const service = new EchoService();
    const h = host(eightBars());
    const session = new GenerationSession(service, h, silentLogger());
    await session.handlers().generate(params({ variation: 0 }), context(21));
    assert.equal(service.requests[0].structure.variation, 0);
    const current = h.current()?.source;
    session.pieceChanged(current);
    assert.equal(h.notes.filter((n) => n.method === 'candidates').length, 0, 'the same version: nothing stale');
    h.edit();
    session.pieceChanged(h.current()?.source);
    const stale = h.notes.filter((n) => n.method === 'candidates');
    assert.equal(stale.length, 1);
    const p = stale[0].params as NotificationMap['candidates'];
    assert.equal(p.candidates.length, 2);
    assert.match(p.stale ?? '', /changed since these candidates were generated/);
    await assert.rejects(session.handlers().insert({ candidateId: '21-1' }, context(22)), (e: Error & { code?: string }) => e.code === 'stale');
    assert.equal(service.inserted.length, 0);
    session.dispose();
  });

  test('after an Insert the other candidates are stale', async () => {
    const service = new EchoService();
    const h = host(eightBars());
    const session = new GenerationSession(service, h, silentLogger());
    await session.handlers().generate(params(), context(31));
    await session.handlers().insert({ candidateId: '31-1' }, context(32));
    const stale = h.notes.filter((n) => n.method === 'candidates').map((n) => (n.params as NotificationMap['candidates']).stale);
    assert.equal(stale.length, 1);
    assert.match(stale[0] ?? '', /inserted/);
    await assert.rejects(session.handlers().insert({ candidateId: '31-2' }, context(33)), (e: Error & { code?: string }) => e.code === 'stale');
    session.dispose();
  });

  test('models carry their measured compliance and the experimental flag', async () => {
    const service = new EchoService();
    service.listModels = async (): Promise<readonly ModelInfo[]> => [
      { id: 'a', label: 'A', positionalEncoding: 'rope', layers: 2, followsForm: 0.8 },
      { id: 'b', label: 'B', positionalEncoding: 'srope', layers: 2, experimental: true },
    ];
    const session = new GenerationSession(service, host(eightBars()), silentLogger());
    const { models } = await session.handlers().listModels({}, context(41));
    assert.equal(models[0].followsForm, 0.8);
    assert.equal(models[0].experimental, undefined);
    assert.equal(models[1].followsForm, undefined);
    assert.equal(models[1].experimental, true);
    session.dispose();
  });
});
