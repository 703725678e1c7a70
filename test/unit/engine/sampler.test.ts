// Seeded PRNG and token samplers: reproducible, respect the grammar mask, top-k / top-p cut.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GreedySampler, Prng, SamplingSampler, createSampler, generationConfigOf, logProbAt } from '../../../src/engine/sampler';

describe('Prng', () => {
  test('same seed, same sequence; different seeds differ', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const c = new Prng(43);
    const sa = Array.from({ length: 100 }, () => a.nextUint32());
    const sb = Array.from({ length: 100 }, () => b.nextUint32());
    const sc = Array.from({ length: 100 }, () => c.nextUint32());
    assert.deepEqual(sa, sb);
    assert.notDeepEqual(sa, sc);
    assert.ok(sa.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32));
  });

  test('uniform enough: mean and buckets of 20000 draws', () => {
    const r = new Prng(7);
    const buckets = new Array<number>(10).fill(0);
    let sum = 0;
    for (let i = 0; i < 20000; i++) {
      const x = r.next();
      assert.ok(x >= 0 && x < 1);
      sum += x;
      buckets[Math.floor(x * 10)]++;
    }
    assert.ok(Math.abs(sum / 20000 - 0.5) < 0.02);
    assert.ok(buckets.every((n) => n > 1700 && n < 2300), buckets.join(','));
  });
});

describe('samplers', () => {
  const logits = Float32Array.from([2, 1, 0.5, 3, -1, 0]);
  const all = Uint8Array.from([1, 1, 1, 1, 1, 1]);

  test('greedy takes the best allowed id', () => {
    assert.equal(new GreedySampler().sample(logits, all), 3);
    assert.equal(new GreedySampler().sample(logits, Uint8Array.from([1, 1, 1, 0, 1, 1])), 0);
    assert.throws(() => new GreedySampler().sample(logits, new Uint8Array(6)));
  });

  test('never returns a masked id', () => {
    const s = new SamplingSampler(1.5, 0, 1);
    const mask = Uint8Array.from([0, 1, 0, 0, 1, 0]);
    const r = new Prng(1);
    for (let i = 0; i < 500; i++) {
      const id = s.sample(logits, mask, r);
      assert.ok(id === 1 || id === 4);
    }
  });

  test('top-k 2 and top-p keep only the most likely', () => {
    const r = new Prng(3);
    const k2 = new SamplingSampler(1, 2, 1);
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) {
      seen.add(k2.sample(logits, all, r));
    }
    assert.deepEqual([...seen].sort(), [0, 3]);
    // p(3) = e^3 / sum ~ 0.61, so top-p 0.5 keeps id 3 alone.
    const p = new SamplingSampler(1, 0, 0.5);
    for (let i = 0; i < 200; i++) {
      assert.equal(p.sample(logits, all, r), 3);
    }
  });

  test('reproducible with the same seed, and frequencies follow the softmax', () => {
    const s = createSampler(generationConfigOf({ temperature: 1, seed: 1 } as { temperature: number }));
    const draw = (seed: number): number[] => {
      const r = new Prng(seed);
      return Array.from({ length: 4000 }, () => s.sample(logits, all, r));
    };
    const a = draw(9);
    assert.deepEqual(a, draw(9));
    assert.notDeepEqual(a, draw(10));
    const freq3 = a.filter((x) => x === 3).length / a.length;
    const p3 = Math.exp(logProbAt(logits, 0, 6, 3));
    assert.ok(Math.abs(freq3 - p3) < 0.03, `${freq3} vs ${p3}`);
  });

  test('config checks and greedy at temperature 0', () => {
    assert.deepEqual(generationConfigOf({ temperature: 0 }), { kind: 'greedy' });
    assert.throws(() => generationConfigOf({ temperature: -1 }), RangeError);
    assert.throws(() => generationConfigOf({ temperature: 1, topP: 0 }), RangeError);
    assert.throws(() => generationConfigOf({ temperature: 1, topK: 1.5 }), RangeError);
  });

  test('draws what the reference algorithm draws (sort all allowed ids, then weights in rank order)', () => {
    // The sampler as first written: any change in the order of its arithmetic could change a draw.
    const reference = (t: number, k: number, p: number, l: Float32Array, mask: Uint8Array, rng: Prng): number => {
      let ids = [...mask.keys()].filter((i) => mask[i] && Number.isFinite(l[i]));
      if (ids.length === 0) {
        ids = [...mask.keys()].filter((i) => mask[i]);
        return ids[Math.min(ids.length - 1, Math.floor(rng.next() * ids.length))];
      }
      ids.sort((a, b) => l[b] - l[a] || a - b);
      let n = k > 0 && k < ids.length ? k : ids.length;
      const w = ids.slice(0, n).map((id) => Math.exp((l[id] - l[ids[0]]) / t));
      let total = w.reduce((a, b) => a + b, 0);
      if (p < 1) {
        let acc = 0;
        let keep = n;
        for (let r = 0; r < n; r++) {
          acc += w[r] / total;
          if (acc >= p) {
            keep = r + 1;
            break;
          }
        }
        n = keep;
        total = w.slice(0, n).reduce((a, b) => a + b, 0);
      }
      let u = rng.next() * total;
      for (let r = 0; r < n; r++) {
        u -= w[r];
        if (u < 0) {
          return ids[r];
        }
      }
      return ids[n - 1];
    };
    const gen = new Prng(11);
    for (let c = 0; c < 300; c++) {
      const v = 598;
      // Coarse values make ties; some ids allowed, or most of the vocabulary (past the insertion sort).
      const l = Float32Array.from({ length: v }, () => Math.round((gen.next() - 0.5) * (c % 2 ? 8 : 60)) / (c % 3 ? 4 : 1));
      const density = [0.03, 0.1, 0.5, 0.95][c % 4];
      const mask = Uint8Array.from({ length: v }, () => (gen.next() < density ? 1 : 0));
      mask[c] = 1;
      if (c % 17 === 0) {
        l.fill(Number.NEGATIVE_INFINITY);
      } else if (c % 5 === 0) {
        l[c] = Number.NaN;
      }
      const [t, k, p] = [[1, 0, 0.95], [0.7, 20, 1], [1.3, 0, 0.5], [1, 3, 0.9]][c % 4];
      const s = new SamplingSampler(t, k, p);
      const [ra, rb] = [new Prng(c), new Prng(c)];
      for (let d = 0; d < 20; d++) {
        assert.equal(s.sample(l, mask, ra), reference(t, k, p, l, mask, rb), `case ${c} draw ${d}`);
      }
    }
  });

  test('logProbAt is a normalised log-softmax', () => {
    let total = 0;
    for (let i = 0; i < 6; i++) {
      total += Math.exp(logProbAt(logits, 0, 6, i));
    }
    assert.ok(Math.abs(total - 1) < 1e-9);
  });
});
