import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  DEFAULT_VARIATION,
  COMMAND_METHODS,
  MAX_GENERATE_BARS,
  MAX_SSM_SIDE,
  NOTIFICATION_METHODS,
  REQUEST_METHODS,
  command,
  errorResponse,
  isHostMessage,
  notification,
  okResponse,
  request,
} from '../../../src/protocol/messages';
import { checkGenerateParams, checkTemplate, parseWebviewMessage } from '../../../src/protocol/validate';
import type { GenerateParams, RequestMethod } from '../../../src/protocol/messages';

function goodParams(): GenerateParams {
  return {
    bars: 8,
    candidates: 3,
    temperature: 1,
    topP: 0.9,
    seed: 42,
    relatedOffsets: [16, 1, 2, 4, 8, 4],
    layerWindows: [0, 1024, 256, 0],
    variation: 0.25,
    modelId: '',
    template: { kind: 'form', form: 'A8 A8 B8 A8' },
  };
}

/** What postMessage does to a value (structured clone keeps typed arrays). */
function overTheWire<T>(value: T): T {
  return structuredClone(value);
}

describe('parseWebviewMessage', () => {
  test('accepts every command with good params', () => {
    const samples = [
      command('ready', { protocol: 1, view: 'panel' }),
      command('selectBars', { i: 0, j: 7 }),
      command('cancel', { requestId: 3 }),
      command('rendered', { key: 'abc:x#0', revision: 2, bars: 8, ssmSize: 8, candidates: 0 }),
      command('log', { level: 'warn', message: 'hello' }),
    ];
    assert.deepEqual(samples.map((s) => s.method).sort(), [...COMMAND_METHODS].sort());
    for (const s of samples) {
      const parsed = parseWebviewMessage(overTheWire(s));
      assert.ok(parsed.ok, `${s.method}: ${parsed.ok ? '' : parsed.reason}`);
      assert.deepEqual(parsed.message, s);
    }
  });

  test('accepts every request with good params, round-tripping through a structured clone', () => {
    const painted = new Float32Array(4).fill(0.5);
    const samples = [
      request(1, 'generate', goodParams()),
      request(2, 'insert', { candidateId: '1-2' }),
      request(3, 'listModels', {}),
      request(4, 'previewTemplate', { template: { kind: 'painted', size: 2, data: painted }, bars: 4 }),
      request(5, 'pickTemplateFile', {}),
    ];
    assert.deepEqual(samples.map((s) => s.method).sort(), [...REQUEST_METHODS].sort());
    for (const s of samples) {
      const parsed = parseWebviewMessage(overTheWire(s));
      assert.ok(parsed.ok, `${s.method}: ${parsed.ok ? '' : parsed.reason}`);
      assert.equal(parsed.message.kind, 'request');
    }
    const preview = parseWebviewMessage(overTheWire(samples[3]));
    assert.ok(preview.ok && preview.message.method === 'previewTemplate');
    const template = preview.message.params.template;
    assert.ok(template.kind === 'painted' && template.data instanceof Float32Array);
  });

  test('generate params come back with offsets sorted and unique', () => {
    const parsed = checkGenerateParams(goodParams());
    assert.deepEqual(parsed.relatedOffsets, [1, 2, 4, 8, 16]);
  });

  test('refuses malformed messages without throwing', () => {
    for (const bad of [null, 3, 'ready', [], {}, { kind: 'command' }, { kind: 'notification', method: 'piece' }, { kind: 'command', method: 'nope', params: {} }]) {
      const parsed = parseWebviewMessage(bad);
      assert.equal(parsed.ok, false, JSON.stringify(bad));
      assert.ok(!parsed.ok && parsed.request === undefined);
    }
  });

  test('a request with bad params is refused with its id, so the host can answer it', () => {
    const cases: [RequestMethod, unknown, RegExp][] = [
      ['generate', { ...goodParams(), bars: 0 }, /bars/],
      ['generate', { ...goodParams(), bars: MAX_GENERATE_BARS + 1 }, /bars/],
      ['generate', { ...goodParams(), temperature: 0 }, /temperature/],
      ['generate', { ...goodParams(), topP: 1.5 }, /topP/],
      ['generate', { ...goodParams(), seed: -1 }, /seed/],
      ['generate', { ...goodParams(), seed: 1.5 }, /seed/],
      ['generate', { ...goodParams(), relatedOffsets: [0] }, /relatedOffsets\[0\]/],
      ['generate', { ...goodParams(), relatedOffsets: 'all' }, /relatedOffsets/],
      ['generate', { ...goodParams(), layerWindows: [-1] }, /layerWindows/],
      ['generate', { ...goodParams(), template: { kind: 'magic' } }, /template\.kind/],
      ['generate', { ...goodParams(), template: { kind: 'form', form: '' } }, /form/],
      ['insert', { candidateId: 7 }, /candidateId/],
      ['listModels', { extra: true }, /empty/],
    ];
    for (const [method, params, reason] of cases) {
      const parsed = parseWebviewMessage({ kind: 'request', id: 9, method, params });
      assert.equal(parsed.ok, false, `${method} ${JSON.stringify(params)}`);
      if (!parsed.ok) {
        assert.deepEqual(parsed.request, { id: 9, method });
        assert.match(parsed.reason, reason);
      }
    }
  });

  test('a request without a usable id or method cannot be answered', () => {
    for (const bad of [
      { kind: 'request', id: 0, method: 'listModels', params: {} },
      { kind: 'request', id: 1.5, method: 'listModels', params: {} },
      { kind: 'request', id: 2, method: 'format', params: {} },
    ]) {
      const parsed = parseWebviewMessage(bad);
      assert.ok(!parsed.ok && parsed.request === undefined, JSON.stringify(bad));
    }
  });

  test('painted templates are bounded and checked cell by cell', () => {
    assert.throws(() => checkTemplate({ kind: 'painted', size: MAX_SSM_SIDE + 1, data: new Float32Array(0) }), /size/);
    assert.throws(() => checkTemplate({ kind: 'painted', size: 2, data: new Float32Array(3) }), /4 values/);
    assert.throws(() => checkTemplate({ kind: 'painted', size: 2, data: Float32Array.from([1, 2, 0, 1]) }), /\[1\]/);
    assert.throws(() => checkTemplate({ kind: 'painted', size: 1, data: Float32Array.from([Number.NaN]) }), /\[0\]/);
    // Plain arrays (a transport that flattens typed arrays) are accepted and converted.
    const t = checkTemplate({ kind: 'painted', size: 2, data: [1, 0, 0, 1] });
    assert.ok(t.kind === 'painted' && t.data instanceof Float32Array);
  });

  test('log lines are cut to length rather than refused', () => {
    const parsed = parseWebviewMessage({ kind: 'command', method: 'log', params: { level: 'error', message: 'x'.repeat(10_000) } });
    assert.ok(parsed.ok && parsed.message.method === 'log');
    assert.ok(parsed.message.params.message.length <= 4000);
  });
});

describe('host messages', () => {
  test('isHostMessage accepts responses and notifications and nothing else', () => {
    assert.ok(isHostMessage(okResponse(1, 'insert', { message: 'done' })));
    assert.ok(isHostMessage(errorResponse(1, 'generate', 'no-model', 'No model.')));
    for (const method of NOTIFICATION_METHODS) {
      assert.ok(isHostMessage({ kind: 'notification', method, params: {} }), method);
    }
    assert.ok(isHostMessage(overTheWire(notification('playback', { action: 'stop' }))));
    assert.equal(isHostMessage({ kind: 'notification', method: 'explode', params: {} }), false);
    assert.equal(isHostMessage({ kind: 'response', id: 1, method: 'insert' }), false, 'neither result nor error');
    assert.equal(isHostMessage({ kind: 'response', id: 1, method: 'insert', result: {}, error: { code: 'failed', message: '' } }), false, 'both');
    assert.equal(isHostMessage(command('ready', { protocol: 1, view: 'panel' })), false);
  });

  test('typed arrays survive the trip in a piece notification', () => {
    const sent = notification('candidates', {
      requestId: 1,
      candidates: [
        {
          id: '1-1',
          label: 'Candidate 1',
          newBars: 1,
          roll: {
            ticksPerQuarter: 480,
            barStarts: Uint32Array.from([0, 1920]),
            tracks: [{ name: 'Melody', isDrum: false, program: 0 }],
            notes: { pitch: Uint8Array.from([60]), velocity: Uint8Array.from([90]), track: Uint16Array.from([0]), onset: Uint32Array.from([0]), duration: Uint32Array.from([480]) },
            tempoTicks: Uint32Array.from([0]),
            tempoBpm: Float32Array.from([120]),
          },
          ssm: { bars: 1, size: 1, data: Float32Array.from([1]) },
          metrics: [{ name: 'se', value: 0.1 }],
        },
      ],
    });
    const received = overTheWire(sent);
    assert.ok(received.method === 'candidates');
    const roll = received.params.candidates[0].roll;
    assert.ok(roll.notes.pitch instanceof Uint8Array);
    assert.ok(roll.barStarts instanceof Uint32Array);
    assert.deepEqual(received, sent);
  });
});

describe('variation in the generate request', () => {
  test('is taken from 0 to 1, defaults to DEFAULT_VARIATION when absent, and is refused outside', () => {
    assert.equal(checkGenerateParams({ ...goodParams(), variation: 0 }).variation, 0);
    assert.equal(checkGenerateParams({ ...goodParams(), variation: 1 }).variation, 1);
    const { variation: _omit, ...rest } = goodParams();
    assert.equal(checkGenerateParams(rest).variation, DEFAULT_VARIATION);
    assert.throws(() => checkGenerateParams({ ...goodParams(), variation: 1.5 }), /variation/);
    assert.throws(() => checkGenerateParams({ ...goodParams(), variation: 'free' }), /variation/);
  });
});
