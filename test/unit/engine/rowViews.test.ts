// The attended rows a 'rows-1' graph reads (src/engine/rowViews.ts), kept from step to step:
// whatever the slots, each query must attend exactly the plan's rows with the plan's bias. Checked
// by attention itself: a random query's softmax-weighted sum over (slot rows, moved bias) equals
// the same sum over (the plan's rows gathered from the cache, the plan's bias), through plans that
// grow, drop rows, jump, and cache rows that are rewritten, grown and shared by layer groups.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KvCache } from '../../../src/engine/kvCache';
import { BLOCKED_BIAS } from '../../../src/engine/plan';
import type { LayerStepPlan } from '../../../src/engine/plan';
import { RowViews } from '../../../src/engine/rowViews';
import type { LayerRows } from '../../../src/engine/rowViews';
import { mulberry32 } from '../../../src/platform/prng';

const ROW = 8;

/** softmax(q . k + bias) . v over `n` rows (keys/values `ROW` floats each), for query row `q` of a bias of width `width`. */
function attend(query: Float32Array, keys: ArrayLike<number>, values: ArrayLike<number>, n: number, bias: Float32Array, q: number, width: number): number[] {
  const scores: number[] = [];
  for (let j = 0; j < n; j++) {
    let dot = 0;
    for (let i = 0; i < ROW; i++) {
      dot += query[i] * keys[j * ROW + i];
    }
    scores.push(dot + bias[q * width + j]);
  }
  const max = Math.max(...scores, -1e30);
  const w = scores.map((x) => Math.exp(x - max));
  const sum = w.reduce((a, b) => a + b, 0);
  const out = new Array<number>(ROW).fill(0);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < ROW; i++) {
      out[i] += (w[j] / sum) * values[j * ROW + i];
    }
  }
  return out;
}

function gather(buf: Float32Array, kidx: Int32Array): Float32Array {
  const out = new Float32Array(kidx.length * ROW);
  kidx.forEach((r, j) => out.set(buf.subarray(r * ROW, r * ROW + ROW), j * ROW));
  return out;
}

/** A plan over `rows` for `s` queries: random entries blocked, the new tokens' own columns open. */
function planOf(rows: number[], s: number, rng: () => number): LayerStepPlan {
  const kidx = Int32Array.from([...new Set(rows)].sort((a, b) => a - b));
  const k = kidx.length;
  const bias = new Float32Array(s * (k + s));
  for (let q = 0; q < s; q++) {
    for (let j = 0; j < k; j++) {
      bias[q * (k + s) + j] = rng() < 0.2 ? BLOCKED_BIAS : 0;
    }
    for (let q2 = 0; q2 < s; q2++) {
      bias[q * (k + s) + k + q2] = q2 <= q ? 0 : BLOCKED_BIAS;
    }
  }
  return { kidx, bias };
}

/** Every query of every layer attends the same through the views as through the plan gathered from the cache. */
function checkStep(cache: KvCache, plans: LayerStepPlan[], rows: LayerRows[], s: number, rng: () => number): void {
  for (let l = 0; l < plans.length; l++) {
    const { kidx, bias } = plans[l];
    const r = rows[l];
    assert.equal(r.bias.length, s * (r.size + s));
    assert.ok(r.size >= kidx.length, `layer ${l}: ${r.size} slots for ${kidx.length} rows`);
    const gk = gather(cache.keys(l), kidx);
    const gv = gather(cache.values(l), kidx);
    for (let q = 0; q < s; q++) {
      const query = Float32Array.from({ length: ROW }, () => rng() * 2 - 1);
      // Only the cached part: the new tokens' columns are the same in both (checked below).
      const want = attend(query, gk, gv, kidx.length, bias, q, kidx.length + s);
      const got = attend(query, r.keys, r.values, r.size, r.bias, q, r.size + s);
      for (let i = 0; i < ROW; i++) {
        assert.ok(Math.abs(want[i] - got[i]) < 1e-5, `layer ${l} query ${q}: ${got[i]} vs ${want[i]}`);
      }
      for (let q2 = 0; q2 < s; q2++) {
        assert.equal(r.bias[q * (r.size + s) + r.size + q2], bias[q * (kidx.length + s) + kidx.length + q2]);
      }
    }
  }
}

function fillRows(cache: KvCache, from: number, count: number, rng: () => number): void {
  for (let l = 0; l < cache.layers; l++) {
    const k = Float32Array.from({ length: count * ROW }, () => rng() * 2 - 1);
    const v = Float32Array.from({ length: count * ROW }, () => rng() * 2 - 1);
    cache.write(l, from, k, v);
  }
}

describe('row views: slots kept across steps attend exactly the plan', () => {
  test('a decode whose plan grows, drops rows and jumps at bar lines, with rows rewritten, the cache grown and a layer leaving its group', () => {
    const rng = mulberry32(7);
    const cache = new KvCache(3, 2, ROW / 2, 16);
    const views = new RowViews(3, ROW);
    let written = 0;
    for (let step = 0; step < 160; step++) {
      const s = step % 17 === 0 ? 3 : 1;
      if (written + s > cache.capacity) {
        cache.ensure(written + s, written);
      }
      // Plan: a header, the last bar (10 rows), a related bar that changes every 10 steps.
      const rows: number[] = [0, 1, 2];
      for (let r = Math.max(3, written - 10); r < written; r++) {
        rows.push(r);
      }
      const related = 3 + (((step / 10) | 0) * 7) % Math.max(1, written - 3);
      for (let r = related; r < Math.min(written, related + 6); r++) {
        rows.push(r);
      }
      const plan = planOf(written === 0 ? [] : rows.filter((r) => r < written), s, rng);
      // Layers 0 and 1 share a plan (one slot map) until layer 1's plan becomes its own at step 80.
      const second = step < 80 ? plan : planOf(rows.filter((r) => r < written && r % 3 !== 0), s, rng);
      const plans = [plan, second, planOf(rows.filter((r) => r < written && r % 2 === 0), s, rng)];
      const out = views.step(plans, cache, s);
      checkStep(cache, plans, out, s, rng);
      // The step's own rows, then now and then a rewrite of earlier rows (a truncated decode written again).
      fillRows(cache, written, s, rng);
      written += s;
      if (step % 23 === 22) {
        const back = Math.max(3, written - 15);
        fillRows(cache, back, written - back, rng);
      }
    }
    assert.ok(views.stats.kept > views.stats.copied, `kept ${views.stats.kept}, copied ${views.stats.copied}: the slots should be reused`);
  });

  test('lanes of a batch: rows of four sequences enter and leave the union', () => {
    const rng = mulberry32(3);
    const cache = new KvCache(2, 2, ROW / 2, 1024);
    const views = new RowViews(2, ROW);
    fillRows(cache, 0, 40, rng);
    let next = 40;
    const own: number[][] = [[], [], [], []];
    for (let step = 0; step < 120; step++) {
      const rows: number[] = [];
      for (let r = 0; r < 40; r += step % 3 === 0 ? 1 : 2) {
        rows.push(r);
      }
      for (const lane of own) {
        rows.push(...lane.slice(-12));
      }
      const plan = planOf(rows, 4, rng);
      const out = views.step([plan, plan], cache, 4);
      checkStep(cache, [plan, plan], out, 4, rng);
      for (const lane of own) {
        fillRows(cache, next, 1, rng);
        lane.push(next++);
      }
    }
  });

  test('the check can fail: a cache row written behind the cache\'s back (no touch) is read stale', () => {
    const rng = mulberry32(5);
    const cache = new KvCache(1, 2, ROW / 2, 16);
    const views = new RowViews(1, ROW);
    fillRows(cache, 0, 6, rng);
    const plan = planOf([0, 1, 2, 3, 4, 5], 1, () => 0.9);
    views.step([plan], cache, 1);
    cache.keys(0).fill(5, 2 * ROW, 3 * ROW);
    const stale = views.step([plan], cache, 1);
    assert.throws(() => checkStep(cache, [plan], stale, 1, rng));
    cache.touch(2, 1);
    checkStep(cache, [plan], views.step([plan], cache, 1), 1, rng);
  });
});
