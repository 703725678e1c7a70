import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { candidateWords, followsFormText, generateLabel, metricsTooltip, modelLine, modelOptionText, styleText, variationText } from '../../../webview/words';
import { barAtChar, barAtTick, inRanges, rangesOfBars, withoutHeaderText, writtenBarCount } from '../../../webview/notationMap';

describe('words: figures a writer reads', () => {
  test('follows the form in whole percent', () => {
    assert.equal(followsFormText(0.824), 'follows the form: 82%');
    assert.equal(followsFormText(1), 'follows the form: 100%');
  });

  test('SE in words, raw numbers in the tooltip', () => {
    assert.equal(styleText(0.02), 'close to the style of the training tunes');
    assert.equal(styleText(0.05), 'near the style of the training tunes');
    assert.equal(styleText(0.2), 'unlike the style of the training tunes');
    assert.deepEqual(candidateWords({ followsForm: 0.5, se: 0.01 }), ['follows the form: 50%', 'close to the style of the training tunes']);
    assert.deepEqual(candidateWords({}), []);
    assert.equal(metricsTooltip({ metrics: [{ name: 'similarity error', value: 0.0123 }, { name: 'log-likelihood', value: -132.7 }] }), 'similarity error: 0.012\nlog-likelihood: -133');
  });

  test('the model line says each fact once, with measured compliance or "not measured"', () => {
    const m = { id: 'folk-rope', label: 'Folk RoPE', positionalEncoding: 'rope', layers: 4, description: 'attention fc + SING head' };
    assert.equal(modelLine(m), '4 layers · RoPE · attention fc + SING head · form compliance not measured');
    // An older host's description repeated layers and encoding: not twice.
    const old = { ...m, description: '4 layers, rope, attention fc + SING head', followsForm: 0.91 };
    assert.equal(modelLine(old), '4 layers · RoPE · attention fc + SING head · follows the form: 91%');
    assert.equal(modelOptionText({ ...m, followsForm: 0.6, experimental: true }), 'Folk RoPE · RoPE · follows the form: 60% · experimental');
    assert.equal(modelOptionText(m), 'Folk RoPE · RoPE · form compliance not measured');
  });

  test('Generate tells its state truly', () => {
    assert.equal(generateLabel(true, true), 'Generating…');
    assert.equal(generateLabel(true, false), 'Generating…');
    assert.equal(generateLabel(false, true), 'Generate again');
    assert.equal(generateLabel(false, false), 'Generate');
  });

  test('variation in words', () => {
    assert.match(variationText(0), /as written/);
    assert.match(variationText(0.25), /small changes/);
    assert.match(variationText(1), /free/);
  });
});

describe('notationMap: notation characters <-> performed bars', () => {
  // Written bars at [5, 10) and [11, 16); performed A A B (the first bar repeated).
  const map = { barStart: Int32Array.from([5, 5, 11]), barEnd: Int32Array.from([10, 10, 16]) };
  test('a click on a character gives the first performed bar written there', () => {
    assert.equal(barAtChar(map, 6), 0);
    assert.equal(barAtChar(map, 12), 2);
    assert.equal(barAtChar(map, 10), 0);
    assert.equal(barAtChar(map, 2), -1);
  });
  test('selected bars give their written ranges once each', () => {
    assert.deepEqual(rangesOfBars(map, [2, 1, 0]), [[5, 10], [11, 16]]);
    assert.ok(inRanges([[5, 10]], 6, 8));
    assert.ok(!inRanges([[5, 10]], 9, 12));
    assert.equal(writtenBarCount(map), 2);
  });
});

describe('notation text', () => {
  test('header text lines become comments, character for character', () => {
    const abc = 'X:1\nT:Harbour Wall\nR:reel\nM:4/4\nK:D\nT:not header|\n';
    const out = withoutHeaderText(abc);
    assert.equal(out.length, abc.length);
    assert.equal(out, 'X:1\n%:Harbour Wall\n%:reel\nM:4/4\nK:D\nT:not header|\n');
  });
});

describe('barAtTick', () => {
  test('finds the bar a playing tick is in', () => {
    const starts = [0, 960, 1920, 2880];
    assert.equal(barAtTick(starts, 0), 0);
    assert.equal(barAtTick(starts, 959), 0);
    assert.equal(barAtTick(starts, 960), 1);
    assert.equal(barAtTick(starts, 2879), 2);
    assert.equal(barAtTick(starts, 2880), -1);
    assert.equal(barAtTick(starts, -1), -1);
    assert.equal(barAtTick([0], 0), -1);
  });
});
