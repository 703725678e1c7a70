// Templates that look like real tunes' SSMs: the corpus background where a form claims nothing,
// shared cadences in tunes with parts, and no tiling of a short prompt over the new bars.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENDINGS, PHRASE_ECHO, SHARED_CADENCE, cadenceBars, corpusBackground, templateSsm } from '../../../src/engine/template';
import { readAbc } from '../../../src/music/abc/reader';
import { TEMPLATE_SAME } from '../../../src/structure/compliance';
import { barSsm } from '../../../src/structure/ssm';
import { REEL_ABC } from './helpers';

// A corpus curve shaped like the folk corpus: peaks at 4, 8 and 16, low elsewhere; 0.9 at 8 is above the threshold.
const LT = Array.from({ length: 41 }, (_, t) => (t === 0 ? 1 : t % 8 === 0 ? 0.9 : t % 4 === 0 ? 0.3 : 0.05));
const cell = (s: { size: number; data: Float32Array }, b: number, c: number): number => s.data[b * s.size + c];

describe('template background and shared cadences', () => {
  const prompt = readAbc(REEL_ABC).tunes[0].score; // 8 bars, no pickup
  const bg = corpusBackground(LT);

  test('the background follows the corpus curve and never reaches the same-bar threshold', () => {
    assert.ok(bg);
    assert.equal(bg(4), 0.3);
    assert.equal(bg(-4), 0.3);
    assert.ok(bg(8) < TEMPLATE_SAME, 'capped below the threshold');
    assert.equal(bg(1000), bg(40));
    assert.equal(corpusBackground(undefined), undefined);
    assert.equal(corpusBackground([1, null, 0.2])?.(1), 0);
  });

  test('A8 A8 B8 B8: repeats at 1, B ends like A, the rest the background', () => {
    const t = templateSsm({ kind: 'form', form: 'A8 A8 B8 B8' }, prompt, 32, bg);
    assert.equal(t.size, 32);
    assert.equal(cell(t, 0, 8), 1, 'A bar 1 = A bar 1');
    assert.equal(cell(t, 16, 24), 1, 'B bar 1 = B bar 1');
    for (let o = 8 - SHARED_CADENCE.bars; o < 7; o++) {
      assert.equal(cell(t, o, 16 + o), SHARED_CADENCE.similarity, `A and B share cadence bar ${o + 1}`);
      assert.equal(cell(t, 16 + o, o), SHARED_CADENCE.similarity, 'symmetric');
    }
    // First- and second-time endings: bar 8 leads back, bar 16 closes the A part; likewise bars 24 and 32.
    // (apart: below the same-bar threshold; the corpus background may lift them above ENDINGS.differ)
    assert.ok(cell(t, 7, 15) >= ENDINGS.differ - 1e-6 && cell(t, 7, 15) < TEMPLATE_SAME, 'the A part\'s two endings differ');
    assert.ok(cell(t, 23, 31) >= ENDINGS.differ - 1e-6 && cell(t, 23, 31) < TEMPLATE_SAME, 'the B part\'s two endings differ');
    assert.ok(Math.abs(cell(t, 7, 23) - ENDINGS.alike) < 1e-6, 'first-time endings alike');
    assert.ok(Math.abs(cell(t, 15, 31) - ENDINGS.alike) < 1e-6, 'second-time endings alike');
    assert.ok(cell(t, 7, 31) < TEMPLATE_SAME && cell(t, 15, 23) < TEMPLATE_SAME, 'a first ending is not a second ending');
    assert.equal(cell(t, 0, 8), 1, 'the rest of the part comes back as it was');
    assert.equal(cell(t, 6, 14), 1);
    assert.ok(cell(t, 0, 16) < TEMPLATE_SAME, 'A and B differ at their start');
    for (const start of [0, 8, 16, 24]) {
      for (let o = 0; o < PHRASE_ECHO.bars; o++) {
        assert.equal(cell(t, start + o, start + 4 + o), PHRASE_ECHO.similarity, `bar ${start + 5 + o} echoes bar ${start + 1 + o}`);
      }
      assert.ok(cell(t, start + PHRASE_ECHO.bars, start + 4 + PHRASE_ECHO.bars) < TEMPLATE_SAME, 'only the opening bar echoes');
    }
    assert.ok(Math.abs(cell(t, 2, 6) - 0.3) < 1e-6, 'other bars 4 apart get the corpus background');
    assert.ok(Math.abs(cell(t, 1, 3) - 0.05) < 1e-6, 'bars 2 apart: the background');
  });

  test('A8 B8 C8 D8 (through-composed) shares no cadence: nothing is marked the same', () => {
    const t = templateSsm({ kind: 'form', form: 'A8 B8 C8 D8' }, prompt, 32, bg);
    for (let b = 0; b < 32; b++) {
      for (let c = 0; c < 32; c++) {
        if (b !== c) {
          assert.ok(cell(t, b, c) < TEMPLATE_SAME, `bars ${b + 1}, ${c + 1}`);
        }
      }
    }
  });

  test('without a background the form template keeps 0 where it claims nothing (callers without a card)', () => {
    const t = templateSsm({ kind: 'form', form: 'A8 A8 B8 B8' }, prompt, 32);
    assert.equal(cell(t, 2, 6), 0);
    assert.equal(cell(t, 6, 22), SHARED_CADENCE.similarity);
    assert.ok(Math.abs(cell(t, 7, 23) - ENDINGS.alike) < 1e-6);
  });

  test('cadence bars: the last bar and the bars marked as it (second-time endings), not first-time endings', () => {
    const t = templateSsm({ kind: 'form', form: 'A8 A8 B8 B8' }, prompt, 32, bg);
    // 4 prompt bars, 28 new ones: new bar k is piece bar 4 + k - 1.
    assert.deepEqual(cadenceBars(t, 32, 28), [12, 28], 'bars 16 and 32');
    assert.deepEqual(cadenceBars(templateSsm({ kind: 'form', form: 'A8 B8 C8 D8' }, prompt, 32, bg), 32, 28), [28], 'a through-composed tune closes once');
    assert.deepEqual(cadenceBars(t, 32, 1), [1], 'one new bar: the last');
  });

  test('piece: the prompt keeps its own SSM and the new bars are not tiled copies of it', () => {
    const own = barSsm(prompt);
    const t = templateSsm({ kind: 'piece' }, prompt, 32, bg);
    for (let b = 0; b < own.size; b++) {
      for (let c = 0; c < own.size; c++) {
        assert.ok(Math.abs(cell(t, b, c) - own.data[b * own.size + c]) < 1e-6);
      }
    }
    for (let b = own.size; b < 32; b++) {
      for (let c = 0; c < b; c++) {
        assert.ok(cell(t, b, c) < TEMPLATE_SAME, `new bar ${b + 1} is not claimed to repeat bar ${c + 1}`);
      }
    }
    const tiled = templateSsm({ kind: 'piece' }, prompt, 32);
    assert.equal(cell(tiled, 8, 0), 1, 'without a background the prompt is tiled (bar 9 acts as bar 1)');
  });
});
