import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { errorResponse, notification, okResponse } from '../../../src/protocol/messages';
import type { NotificationMessage, WebviewToHostMessage } from '../../../src/protocol/messages';
import { RpcClient, RpcError, defaultTimeout } from '../../../webview/rpc';
import type { RpcTimers } from '../../../webview/rpc';

/** Timers that fire only when the test says so. */
function manualTimers(): RpcTimers & { fireAll(): void; count(): number } {
  const timers = new Map<number, () => void>();
  let next = 1;
  return {
    setTimeout: (fn) => {
      timers.set(next, fn);
      return next++;
    },
    clearTimeout: (id) => {
      timers.delete(id as number);
    },
    fireAll: () => {
      for (const [id, fn] of [...timers]) {
        timers.delete(id);
        fn();
      }
    },
    count: () => timers.size,
  };
}

function client(): { rpc: RpcClient; sent: WebviewToHostMessage[]; timers: ReturnType<typeof manualTimers> } {
  const sent: WebviewToHostMessage[] = [];
  const timers = manualTimers();
  return { rpc: new RpcClient((m) => sent.push(structuredClone(m)), timers), sent, timers };
}

describe('RpcClient', () => {
  test('a request resolves with the matching response and clears its timer', async () => {
    const { rpc, sent, timers } = client();
    const p = rpc.request('insert', { candidateId: '1-1' });
    assert.equal(sent.length, 1);
    const req = sent[0];
    assert.ok(req.kind === 'request' && req.method === 'insert');
    assert.equal(rpc.pendingCount, 1);
    // A response to another id changes nothing.
    assert.equal(rpc.handle(okResponse(req.id + 1, 'insert', { message: 'other' })), true);
    rpc.handle(structuredClone(okResponse(req.id, 'insert', { message: 'Inserted.' })));
    assert.deepEqual(await p, { message: 'Inserted.' });
    assert.equal(rpc.pendingCount, 0);
    assert.equal(timers.count(), 0);
  });

  test('an error response rejects with its code and message', async () => {
    const { rpc, sent } = client();
    const p = rpc.request('generate', { bars: 1, candidates: 1, temperature: 1, topP: 1, seed: 0, relatedOffsets: [], layerWindows: [], variation: 0.25, modelId: '', template: { kind: 'none' } });
    const req = sent[0];
    rpc.handle(errorResponse(req.kind === 'request' ? req.id : 0, 'generate', 'no-model', 'No generation model is available.'));
    await assert.rejects(p, (e: unknown) => e instanceof RpcError && e.code === 'no-model' && /No generation model/.test(e.message));
  });

  test('a request with no answer times out, tells the host to stop, and ignores a late answer', async () => {
    const { rpc, sent, timers } = client();
    const p = rpc.request('listModels', {}, { timeoutMs: 1000 });
    timers.fireAll();
    await assert.rejects(p, (e: unknown) => e instanceof RpcError && e.code === 'timeout');
    const cancel = sent[1];
    assert.ok(cancel.kind === 'command' && cancel.method === 'cancel');
    assert.equal(rpc.handle(okResponse(1, 'listModels', { models: [] })), true);
    assert.equal(rpc.pendingCount, 0);
  });

  test('aborting the signal cancels at once and sends cancel with the request id', async () => {
    const { rpc, sent } = client();
    const controller = new AbortController();
    let id = 0;
    const p = rpc.request('previewTemplate', { template: { kind: 'form', form: 'A8' }, bars: 8 }, { signal: controller.signal }, (i) => (id = i));
    controller.abort();
    await assert.rejects(p, (e: unknown) => e instanceof RpcError && e.code === 'cancelled');
    const last = sent[sent.length - 1];
    assert.ok(last.kind === 'command' && last.method === 'cancel' && last.params.requestId === id);
    await assert.rejects(rpc.request('listModels', {}, { signal: controller.signal }), (e: unknown) => e instanceof RpcError && e.code === 'cancelled');
  });

  test('notifications reach the listener; junk is ignored', () => {
    const { rpc } = client();
    const got: NotificationMessage[] = [];
    rpc.onNotification((m) => got.push(m));
    assert.equal(rpc.handle(notification('playback', { action: 'play' })), true);
    assert.equal(rpc.handle({ kind: 'notification', method: 'nonsense' }), false);
    assert.equal(rpc.handle('hello'), false);
    assert.equal(got.length, 1);
    assert.equal(got[0].method, 'playback');
  });

  test('dispose fails pending requests and stops sending', async () => {
    const { rpc, sent } = client();
    const p = rpc.request('listModels', {});
    rpc.dispose();
    await assert.rejects(p, (e: unknown) => e instanceof RpcError && e.code === 'disposed');
    rpc.command('ready', { protocol: 1, view: 'panel' });
    await assert.rejects(rpc.request('listModels', {}), (e: unknown) => e instanceof RpcError && e.code === 'disposed');
    assert.equal(sent.length, 1);
  });

  test('generation gets a long timeout, other requests a short one', () => {
    assert.ok(defaultTimeout('generate') >= 5 * 60_000);
    assert.ok(defaultTimeout('listModels') <= 60_000);
  });
});
