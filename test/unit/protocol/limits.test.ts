// The limits, defaults and user-facing errors are decided once: the settings schema
// (package.json), the protocol and the engine agree; every error maps to a code and an action on
// every surface (webview responses, the CLI's exit codes).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { main } from '../../../src/cli/main';
import type { CliContext } from '../../../src/cli/usage';
import { EngineError } from '../../../src/engine/errors';
import { DEFAULT_MODEL, DEFAULT_RELATED_OFFSETS, MAX_CANDIDATES, MAX_NEW_BARS, MAX_RELATED_OFFSET, cleanRelatedOffsets } from '../../../src/engine/limits';
import { validateRequest } from '../../../src/engine/generate';
import { MusicInputError } from '../../../src/music/score';
import { CancellationError } from '../../../src/platform/cancellation';
import { ERROR_CODES, RefrainError, toUserError } from '../../../src/platform/errors';
import { silentLogger } from '../../../src/platform/logger';
import { MAX_GENERATE_BARS } from '../../../src/protocol/messages';
import { checkGenerateParams } from '../../../src/protocol/validate';
import { toProtocolError } from '../../../src/webviews/shared/webviewChannel';
import { repoRoot, workerPath } from '../engine/helpers';
import { eightBars } from './scores';

interface SettingSchema {
  maximum?: number;
  default?: unknown;
  items?: { maximum?: number };
  markdownDescription?: string;
}

function settings(): Record<string, SettingSchema> {
  const pkg = JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { contributes: { configuration: { properties: Record<string, SettingSchema> }[] } };
  return Object.assign({}, ...pkg.contributes.configuration.map((c) => c.properties)) as Record<string, SettingSchema>;
}

describe('limits: one place each', () => {
  test('the settings schema, the protocol and the engine share the limits and defaults', () => {
    const s = settings();
    assert.equal(s['refrain.generation.bars'].maximum, MAX_NEW_BARS);
    assert.equal(s['refrain.generation.candidates'].maximum, MAX_CANDIDATES);
    assert.equal(s['refrain.generation.relatedOffsets'].items?.maximum, MAX_RELATED_OFFSET);
    assert.deepEqual(s['refrain.generation.relatedOffsets'].default, DEFAULT_RELATED_OFFSETS);
    assert.match(s['refrain.model'].markdownDescription ?? '', new RegExp(DEFAULT_MODEL));
    assert.equal(MAX_GENERATE_BARS, MAX_NEW_BARS);
  });

  test('what the protocol accepts, the engine accepts, and one more is refused by both', () => {
    const params = { bars: MAX_NEW_BARS, candidates: MAX_CANDIDATES, temperature: 1, topP: 1, seed: 0, relatedOffsets: [MAX_RELATED_OFFSET], layerWindows: [], modelId: '', template: { kind: 'none' } };
    checkGenerateParams(params);
    const req = {
      model: 'm',
      prompt: eightBars(),
      task: { kind: 'continue' as const, bars: MAX_NEW_BARS },
      controls: { relatedOffsets: [MAX_RELATED_OFFSET], scales: [] },
      sampling: { temperature: 1, seed: 0 },
      candidates: MAX_CANDIDATES,
      target: 'midi' as const,
    };
    validateRequest(req);
    assert.throws(() => checkGenerateParams({ ...params, candidates: MAX_CANDIDATES + 1 }), /candidates/);
    assert.throws(() => validateRequest({ ...req, candidates: MAX_CANDIDATES + 1 }), /candidates/);
    assert.throws(() => checkGenerateParams({ ...params, bars: MAX_NEW_BARS + 1 }), /bars/);
    assert.throws(() => validateRequest({ ...req, task: { kind: 'continue', bars: MAX_NEW_BARS + 1 } }), /Bars/);
    assert.throws(() => checkGenerateParams({ ...params, relatedOffsets: [MAX_RELATED_OFFSET + 1] }), /relatedOffsets/);
    assert.throws(() => validateRequest({ ...req, controls: { relatedOffsets: [MAX_RELATED_OFFSET + 1], scales: [] } }), /offsets/);
  });

  test('related offsets are cleaned by one rule: whole, in range, unique, ascending; nothing usable gives the defaults', () => {
    assert.deepEqual(cleanRelatedOffsets([8, 2, 2, 0, 1.5, MAX_RELATED_OFFSET + 1, 4]), [2, 4, 8]);
    assert.deepEqual(cleanRelatedOffsets([]), []);
    assert.deepEqual(cleanRelatedOffsets([0, -1]), DEFAULT_RELATED_OFFSETS);
    assert.deepEqual(cleanRelatedOffsets('1,2'), DEFAULT_RELATED_OFFSETS);
  });
});

describe('one user-facing error', () => {
  test('every code maps to itself with an action, on the webview too', () => {
    for (const code of ERROR_CODES) {
      const e = toProtocolError(new RefrainError(code, `a ${code} error`), silentLogger(), 'generate');
      assert.equal(e.code, code);
      assert.ok(e.action, `${code} has an action`);
    }
  });

  test('engine, music and cancellation errors get their codes: a missing model is no-model with Choose Model', () => {
    assert.deepEqual(toUserError(new EngineError('model-not-found', "Unknown model 'x'.")), { code: 'no-model', message: "Unknown model 'x'.", action: 'choose-model', unexpected: false });
    assert.equal(toUserError(new EngineError('model-card', 'bad card')).code, 'model-broken');
    assert.equal(toUserError(new EngineError('runtime', 'boom')).code, 'engine-failed');
    assert.equal(toUserError(new MusicInputError('abc-empty', 'The file is empty.')).code, 'music-input');
    assert.equal(toUserError(new CancellationError()).code, 'cancelled');
    assert.equal(toUserError(new Error('bug')).unexpected, true);
  });

  test('the CLI reports an engine error with its message and exit 1, not 70 "internal error"', async () => {
    process.env.REFRAIN_ENGINE_WORKER = workerPath();
    const err: string[] = [];
    const ctx: CliContext = { out: () => undefined, err: (s) => err.push(s), progress: () => undefined };
    const code = await main(['eval', '--forms', '--model', 'no-such-model', '--models', join(repoRoot(), 'test/fixtures/engine/models')], ctx);
    assert.equal(code, 1, err.join('\n'));
    assert.doesNotMatch(err.join('\n'), /internal error/);
    assert.match(err.join('\n'), /no-such-model.*\[no-model\]/s);
  });
});
