import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { DEFAULT_RELATED_OFFSETS, MAX_SSM_SIDE } from '../../../src/protocol/messages';
import { checkGenerateParams } from '../../../src/protocol/validate';
import {
  addOffsets,
  applyConfig,
  defaultState,
  generateParams,
  isPainted,
  paintedMatrix,
  parseIntField,
  parseNumberField,
  restoreState,
  suggestOffsets,
  templateChoice,
  toggleOffset,
  togglePainted,
  withLayers,
  withRunSeed,
} from '../../../webview/state';

const CONFIG = { relatedOffsets: [1, 2, 4, 8], bars: 4, candidates: 2, temperature: 0.8, topP: 0.9 };

describe('UI state', () => {
  test('garbage restores to the defaults; a saved state comes back as it was', () => {
    for (const junk of [undefined, null, 3, 'x', [], { version: 99 }]) {
      assert.deepEqual(restoreState(junk), defaultState());
    }
    let s = applyConfig(defaultState(), CONFIG);
    s = toggleOffset(s, 4, false);
    s = togglePainted(s, 2, 9);
    s = { ...s, templateKind: 'form', form: 'A4 B4', seed: 77, selection: { i: 1, j: 3 }, pieceKey: 'abc:x#0', templateFile: { uri: 'file:///t.abc', name: 't.abc' } };
    // getState/setState stores a JSON-like copy.
    assert.deepEqual(restoreState(JSON.parse(JSON.stringify(s))), s);
  });

  test('malformed fields fall back one by one', () => {
    const restored = restoreState({ ...defaultState(), bars: 0, topP: 2, seed: -4, offsets: [3, 'x', 0], templateKind: 'magic', painted: [[1, 5], [5, 1], [2, 'a']], layerWindows: [] });
    const d = defaultState();
    assert.equal(restored.bars, d.bars);
    assert.equal(restored.topP, d.topP);
    assert.equal(restored.seed, d.seed);
    assert.deepEqual(restored.offsets, [], 'offsets not among the choices are dropped');
    assert.equal(restored.templateKind, 'piece');
    assert.deepEqual(restored.painted, [[5, 1]]);
    assert.deepEqual(restored.layerWindows, d.layerWindows);
  });

  test('each Generate draws a fresh seed unless the user fixed one (as the commands do); the seed used stays shown', () => {
    const fresh = defaultState();
    assert.equal(fresh.seedFixed, false);
    const run = withRunSeed(fresh, () => 123456789);
    assert.equal(run.seed, 123456789);
    assert.equal(withRunSeed(run, () => 42).seed, 42, 'a second Generate draws again');
    const fixed = { ...run, seed: 7, seedFixed: true };
    assert.equal(withRunSeed(fixed, () => 42), fixed, 'a fixed seed is kept');
    assert.deepEqual(restoreState(JSON.parse(JSON.stringify(fixed))), fixed);
    // refrain.generation.seed fixes the panel's seed too.
    const configured = applyConfig(defaultState(), { ...CONFIG, seed: 99 });
    assert.equal(configured.seed, 99);
    assert.equal(configured.seedFixed, true);
    assert.equal(applyConfig(defaultState(), CONFIG).seedFixed, false);
  });

  test('the host\'s defaults apply once, then user changes stick', () => {
    const first = applyConfig(defaultState(), CONFIG);
    assert.deepEqual(first.offsets, [1, 2, 4, 8]);
    assert.equal(first.bars, 4);
    const changed = { ...first, bars: 16 };
    assert.equal(applyConfig(changed, { ...CONFIG, bars: 2 }).bars, 16);
  });

  test('offsets toggle, and peaks of the piece can be added', () => {
    let s = defaultState();
    assert.deepEqual(s.offsets, DEFAULT_RELATED_OFFSETS);
    s = toggleOffset(s, 8, false);
    assert.ok(!s.offsets.includes(8));
    s = toggleOffset(s, 8, true);
    assert.deepEqual(s.offsets, DEFAULT_RELATED_OFFSETS);
    assert.deepEqual(toggleOffset(s, 5, true).offsets, s.offsets, 'not a choice: ignored');
    const peaks = [{ interval: 6, value: 0.9 }, { interval: 3, value: 0.8 }, { interval: 6, value: 0.7 }, { interval: 40, value: 0.6 }, { interval: 9, value: 0.5 }];
    assert.deepEqual(suggestOffsets(peaks), [3, 6, 40]);
    s = addOffsets(s, suggestOffsets(peaks));
    assert.ok(s.offsetChoices.includes(3) && s.offsets.includes(40));
    assert.deepEqual([...s.offsets], [...s.offsets].sort((a, b) => a - b));
  });

  test('layers follow the model, keeping chosen windows', () => {
    const s = { ...defaultState(), layerWindows: [0, 256, 1024, 0] };
    assert.deepEqual(withLayers(s, 2).layerWindows, [0, 256]);
    assert.deepEqual(withLayers(s, 6).layerWindows, [0, 256, 1024, 0, 0, 0]);
  });

  test('painting toggles symmetric cells, never the diagonal', () => {
    let s = defaultState();
    s = togglePainted(s, 3, 10);
    assert.ok(isPainted(s, 10, 3) && isPainted(s, 3, 10));
    assert.equal(togglePainted(s, 4, 4), s);
    assert.equal(togglePainted(s, 10, 3, true), s, 'already on');
    s = togglePainted(s, 10, 3);
    assert.equal(s.painted.length, 0);
  });

  test('the painted matrix keeps the piece block, adds painted cells, unit diagonal', () => {
    const base = { bars: 2, data: Float32Array.from([1, 0.3, 0.3, 1]) };
    const m = paintedMatrix(4, [[3, 0], [9, 1]], base);
    const f = Math.fround(0.3);
    assert.deepEqual(Array.from(m), [1, f, 0, 1, f, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1]);
  });

  test('the generate request of the controls passes the host\'s validation', () => {
    let s = applyConfig(defaultState(), CONFIG);
    s = togglePainted({ ...s, templateKind: 'painted' }, 5, 1);
    const piece = { bars: 4, ssm: { bars: 4, size: 4, data: new Float32Array(16).fill(0.5) } };
    const template = templateChoice(s, piece);
    assert.ok(template.kind === 'painted' && template.size === 8);
    const params = generateParams(s, template);
    assert.deepEqual(checkGenerateParams(structuredClone(params)), params);
    // A painting never exceeds the protocol's cap.
    const long = templateChoice({ ...s, bars: 64 }, { bars: 600 });
    assert.ok(long.kind === 'painted' && long.size === MAX_SSM_SIDE);
    assert.deepEqual(templateChoice({ ...s, templateKind: 'file' }, piece), { kind: 'none' });
  });

  test('number fields parse strictly', () => {
    assert.equal(parseIntField(' 12 ', 1, 64), 12);
    assert.equal(parseIntField('1.5', 1, 64), undefined);
    assert.equal(parseIntField('65', 1, 64), undefined);
    assert.equal(parseIntField('', 1, 64), undefined);
    assert.equal(parseNumberField('0.95', 0, 1), 0.95);
    assert.equal(parseNumberField('.5', 0, 1), 0.5);
    assert.equal(parseNumberField('0', 0, 1), undefined, 'exclusive minimum');
    assert.equal(parseNumberField('1e-1', 0, 1), 0.1);
    assert.equal(parseNumberField('abc', 0, 1), undefined);
  });
});
