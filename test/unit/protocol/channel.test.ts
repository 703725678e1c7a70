import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { silentLogger } from '../../../src/platform/logger';
import { MusicInputError } from '../../../src/music/score';
import { command, request } from '../../../src/protocol/messages';
import type { CommandMessage, HostToWebviewMessage, ResponseMessage } from '../../../src/protocol/messages';
import { EngineError } from '../../../src/engine/errors';
import { RefrainError } from '../../../src/platform/errors';
import { WebviewChannel, replaySlot } from '../../../src/webviews/shared/webviewChannel';
import type { RequestHandlers, WebviewPort } from '../../../src/webviews/shared/webviewChannel';

/** A webview stand-in: records what the host posts, lets the test post as the page. */
function fakeWebview(): WebviewPort & { posted: HostToWebviewMessage[]; send(message: unknown): void } {
  let listener: ((m: unknown) => unknown) | undefined;
  const posted: HostToWebviewMessage[] = [];
  return {
    posted,
    postMessage: async (m) => {
      posted.push(structuredClone(m) as HostToWebviewMessage);
      return true;
    },
    onDidReceiveMessage: (l) => {
      listener = l;
      return { dispose: () => (listener = undefined) };
    },
    send: (m) => listener?.(structuredClone(m)),
  };
}

function handlers(overrides: Partial<RequestHandlers> = {}): RequestHandlers {
  return {
    generate: async () => ({ candidates: [] }),
    insert: async () => ({ message: 'Inserted.' }),
    listModels: async () => ({ models: [] }),
    previewTemplate: async () => ({ ssm: { bars: 0, size: 0, data: new Float32Array(0) }, label: 'none' }),
    pickTemplateFile: async () => ({}),
    ...overrides,
  };
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

const CONFIG = { relatedOffsets: [1, 2, 4], bars: 8, candidates: 3, temperature: 1, topP: 0.95 };

describe('WebviewChannel', () => {
  test('holds notifications until ready, then replays the latest state of each slot', async () => {
    const view = fakeWebview();
    const channel = new WebviewChannel(view, handlers(), () => undefined, silentLogger());
    channel.notify('config', CONFIG);
    channel.notify('noPiece', { reason: 'first', isError: false });
    channel.notify('noPiece', { reason: 'second', isError: false });
    channel.notify('playback', { action: 'play' });
    await settle();
    assert.equal(view.posted.length, 0, 'nothing before ready');
    view.send(command('ready', { protocol: 1, view: 'panel' }));
    await settle();
    assert.deepEqual(
      view.posted.map((m) => `${m.method}${m.kind === 'notification' && m.method === 'noPiece' ? `:${m.params.reason}` : ''}`),
      ['config', 'noPiece:second', 'playback'],
    );
    assert.ok(channel.isReady);
    channel.dispose();
  });

  test('after the view is hidden it replays state, not transient messages, on the next ready', async () => {
    const view = fakeWebview();
    const channel = new WebviewChannel(view, handlers(), () => undefined, silentLogger());
    view.send(command('ready', { protocol: 1, view: 'panel' }));
    channel.notify('config', CONFIG);
    channel.notify('progress', { requestId: 1, done: 1, total: 2 });
    await settle();
    assert.equal(view.posted.length, 2);
    channel.markNotReady();
    channel.notify('noPiece', { reason: 'while hidden', isError: true });
    channel.remember('generation', { running: false, requestId: 1 });
    view.posted.length = 0;
    const ready = channel.whenReady();
    view.send(command('ready', { protocol: 1, view: 'panel' }));
    await ready;
    await settle();
    assert.deepEqual(view.posted.map((m) => m.method), ['config', 'noPiece', 'generation']);
    channel.dispose();
  });

  test('answers every request: results, mapped errors, and invalid requests', async () => {
    const view = fakeWebview();
    const channel = new WebviewChannel(
      view,
      handlers({
        insert: async () => {
          throw new RefrainError('stale', 'Stale.');
        },
        generate: async () => {
          throw new EngineError('model-not-found', "Unknown model 'x'. No models are installed.");
        },
        previewTemplate: async () => {
          throw new MusicInputError('form-invalid', 'Bad form.');
        },
        pickTemplateFile: async () => {
          throw new Error('boom');
        },
      }),
      () => undefined,
      silentLogger(),
    );
    view.send(command('ready', { protocol: 1, view: 'panel' }));
    view.send(request(1, 'listModels', {}));
    view.send(request(2, 'insert', { candidateId: 'x' }));
    view.send(request(3, 'generate', { bars: 4, candidates: 1, temperature: 1, topP: 1, seed: 0, relatedOffsets: [], layerWindows: [], variation: 0.25, modelId: '', template: { kind: 'none' } }));
    view.send(request(4, 'previewTemplate', { template: { kind: 'form', form: '8' }, bars: 4 }));
    view.send(request(5, 'pickTemplateFile', {}));
    view.send({ kind: 'request', id: 6, method: 'insert', params: { candidateId: 42 } });
    await settle();
    await settle();
    const responses = view.posted.filter((m): m is ResponseMessage => m.kind === 'response');
    const byId = new Map(responses.map((m) => [m.id, m]));
    assert.equal(byId.size, 6, 'six answers');
    const r = (id: number): ResponseMessage => {
      const m = byId.get(id);
      assert.ok(m, `an answer to ${id}`);
      return m;
    };
    assert.ok(r(1).result !== undefined);
    assert.equal(r(2).error?.code, 'stale');
    assert.equal(r(2).error?.action, 'generate-again');
    // A missing model reaches the view as no-model, with the action that helps.
    assert.equal(r(3).error?.code, 'no-model');
    assert.equal(r(3).error?.action, 'choose-model');
    assert.match(r(3).error?.message ?? '', /Unknown model 'x'/);
    assert.equal(r(4).error?.code, 'music-input');
    assert.equal(r(4).error?.message, 'Bad form.');
    assert.equal(r(5).error?.code, 'failed');
    assert.equal(r(5).error?.action, 'show-logs');
    assert.match(r(5).error?.message ?? '', /boom/);
    assert.equal(r(6).error?.code, 'invalid-request');
    channel.dispose();
  });

  test('cancel aborts the handler\'s signal and the answer says cancelled', async () => {
    const view = fakeWebview();
    let seen: AbortSignal | undefined;
    const channel = new WebviewChannel(
      view,
      handlers({
        generate: (_p, context) =>
          new Promise((_resolve, reject) => {
            seen = context.signal;
            context.signal.addEventListener('abort', () => reject(Object.assign(new Error('stop'), { name: 'AbortError' })));
          }),
      }),
      () => undefined,
      silentLogger(),
    );
    view.send(command('ready', { protocol: 1, view: 'panel' }));
    view.send(request(7, 'generate', { bars: 4, candidates: 1, temperature: 1, topP: 1, seed: 0, relatedOffsets: [], layerWindows: [], variation: 0.25, modelId: '', template: { kind: 'none' } }));
    await settle();
    assert.ok(seen && !seen.aborted);
    view.send(command('cancel', { requestId: 7 }));
    await settle();
    assert.ok(seen.aborted);
    const answer = view.posted.find((m) => m.kind === 'response' && m.id === 7);
    assert.ok(answer && answer.kind === 'response' && answer.error?.code === 'cancelled');
    channel.dispose();
  });

  test('passes commands on, and disposal aborts requests in flight', async () => {
    const view = fakeWebview();
    const commands: CommandMessage[] = [];
    let seen: AbortSignal | undefined;
    const channel = new WebviewChannel(
      view,
      handlers({
        listModels: (_p, context) => {
          seen = context.signal;
          return new Promise(() => undefined);
        },
      }),
      (m) => commands.push(m),
      silentLogger(),
    );
    view.send(command('selectBars', { i: 1, j: 5 }));
    view.send(request(1, 'listModels', {}));
    await settle();
    assert.deepEqual(commands.map((c) => c.method), ['selectBars']);
    channel.dispose();
    assert.ok(seen?.aborted);
    channel.notify('config', CONFIG);
    view.send(command('ready', { protocol: 1, view: 'panel' }));
    await settle();
    assert.equal(view.posted.length, 0);
  });

  test('every notification has a replay policy', () => {
    assert.equal(replaySlot('piece'), replaySlot('noPiece'));
    assert.equal(replaySlot('progress'), undefined);
    assert.equal(replaySlot('playback'), undefined);
    assert.equal(replaySlot('candidates'), 'candidates');
  });
});
