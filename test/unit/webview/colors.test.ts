import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { cssOf, flatten, heatRamp, mix, paintMatrix, parseColor } from '../../../webview/colors';

describe('colours', () => {
  test('parses the forms VS Code theme variables use', () => {
    assert.deepEqual(parseColor('#1e1e1e'), { r: 30, g: 30, b: 30, a: 1 });
    assert.deepEqual(parseColor(' #FFF '), { r: 255, g: 255, b: 255, a: 1 });
    assert.deepEqual(parseColor('#0000ff80'), { r: 0, g: 0, b: 255, a: 128 / 255 });
    assert.deepEqual(parseColor('#f008'), { r: 255, g: 0, b: 0, a: 136 / 255 });
    assert.deepEqual(parseColor('rgba(38, 79, 120, 0.5)'), { r: 38, g: 79, b: 120, a: 0.5 });
    assert.deepEqual(parseColor('rgb(1 2 3 / 40%)'), { r: 1, g: 2, b: 3, a: 0.4 });
    for (const bad of [undefined, '', 'blue', '#12', 'hsl(1, 2%, 3%)']) {
      assert.equal(parseColor(bad), undefined, String(bad));
    }
  });

  test('mixes, flattens and prints', () => {
    const black = { r: 0, g: 0, b: 0, a: 1 };
    const white = { r: 255, g: 255, b: 255, a: 1 };
    assert.deepEqual(mix(black, white, 0.5), { r: 128, g: 128, b: 128, a: 1 });
    assert.deepEqual(flatten({ ...white, a: 0.2 }, black), { r: 51, g: 51, b: 51, a: 1 });
    assert.equal(cssOf(black), 'rgb(0, 0, 0)');
    assert.equal(cssOf({ ...black, a: 0.25 }), 'rgba(0, 0, 0, 0.25)');
  });

  test('the heat ramp runs from low to high, and NaN cells get their own colour', () => {
    const ramp = heatRamp({ r: 0, g: 0, b: 0, a: 1 }, { r: 200, g: 100, b: 0, a: 1 });
    assert.equal(ramp.length, 1024);
    assert.deepEqual(Array.from(ramp.slice(0, 4)), [0, 0, 0, 255]);
    assert.deepEqual(Array.from(ramp.slice(1020)), [200, 100, 0, 255]);
    for (let k = 1; k < 256; k++) {
      assert.ok(ramp[k * 4] >= ramp[(k - 1) * 4], 'monotonic');
    }
    const out = new Uint8ClampedArray(12);
    paintMatrix([0, 1, Number.NaN], ramp, out, { r: 1, g: 2, b: 3, a: 1 });
    assert.deepEqual(Array.from(out), [0, 0, 0, 255, 200, 100, 0, 255, 1, 2, 3, 255]);
  });
});
