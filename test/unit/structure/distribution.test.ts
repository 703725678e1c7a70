// PerceiverS distribution metrics: each feature on pieces written by hand here, and the set
// comparison (overlap area, KL divergence) on sets whose relation is known by construction.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  DistributionReference,
  FEATURES,
  FeatureReference,
  LENGTH_CLASSES,
  featureDistance,
  lengthClass,
  meanComparison,
  noteFeatures,
  pieceFeatures,
  scalarMean,
  segmentFeatures,
  spanFeatures,
  spanNotes,
} from '../../../src/structure/distribution';
import { mulberry32 } from '../../../src/platform/prng';
import { buildScore } from '../scoreBuilder';
import type { BarNote } from '../scoreBuilder';

const near = (a: number, b: number, eps = 1e-9): void => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

/** C D E F as quarter notes (C4 = 60). */
const CDEF: BarNote[] = [
  [60, 0, 4],
  [62, 4, 4],
  [64, 8, 4],
  [65, 12, 4],
];
/** G (half note), then two eighths E C and a quarter rest. */
const G_EC: BarNote[] = [
  [67, 0, 8],
  [64, 8, 2],
  [60, 10, 2],
];

describe('lengthClass', () => {
  test('maps each class length to itself and neighbours to the nearest class', () => {
    LENGTH_CLASSES.forEach((q, k) => assert.equal(lengthClass(q), k));
    assert.equal(LENGTH_CLASSES[lengthClass(0.26)], 0.25);
    assert.equal(LENGTH_CLASSES[lengthClass(1.4)], 1.5);
    assert.equal(LENGTH_CLASSES[lengthClass(16)], 6);
    assert.equal(LENGTH_CLASSES[lengthClass(0.01)], 0.125);
  });
});

describe('features of a span', () => {
  const score = buildScore([CDEF, G_EC, [], CDEF]);

  test('spanNotes takes the notes whose onset lies in the bars, drums left out', () => {
    assert.deepEqual(
      spanNotes(score, 0, 2).map((n) => n.pitch),
      [60, 62, 64, 65, 67, 64, 60],
    );
    assert.deepEqual(spanNotes(score, 2, 3), []);
    const drums = buildScore([[[60, 0, 4], [36, 0, 4, 1]]], {
      tracks: [
        { name: 'Melody', channel: 0, program: 0, isDrum: false },
        { name: 'Drums', channel: 9, program: 0, isDrum: true },
      ],
    });
    assert.deepEqual(
      spanNotes(drums, 0, 1).map((n) => n.pitch),
      [60],
    );
  });

  test('pitch-class histogram and transitions', () => {
    const f = spanFeatures(score, 0, 2);
    const pch = f.pch as Float64Array;
    // 7 notes: C x2, D, E x2, F, G.
    near(pch[0], 2 / 7);
    near(pch[2], 1 / 7);
    near(pch[4], 2 / 7);
    near(pch[5], 1 / 7);
    near(pch[7], 1 / 7);
    near(pch.reduce((a, b) => a + b, 0), 1);
    const pctm = f.pctm as Float64Array;
    // 6 transitions: C-D, D-E, E-F, F-G, G-E, E-C.
    for (const [a, b] of [
      [0, 2],
      [2, 4],
      [4, 5],
      [5, 7],
      [7, 4],
      [4, 0],
    ]) {
      near(pctm[a * 12 + b], 1 / 6);
    }
    near(pctm.reduce((x, y) => x + y, 0), 1);
  });

  test('pitch range, average interval, inter-onset interval', () => {
    const f = spanFeatures(score, 0, 2);
    assert.equal(f.pr, 7);
    // Steps 2, 2, 1, 2, 3, 4 over 6 transitions.
    near(f.pi as number, 14 / 6);
    // Onsets (quarters) 0, 1, 2, 3, 4, 6, 6.5: span 6.5 over 6 gaps.
    near(f.ioi as number, 6.5 / 6);
  });

  test('note-length histogram and transitions', () => {
    const f = spanFeatures(score, 0, 2);
    const nlh = f.nlh as Float64Array;
    const q = lengthClass(1);
    const h = lengthClass(2);
    const e = lengthClass(0.5);
    near(nlh[q], 4 / 7);
    near(nlh[h], 1 / 7);
    near(nlh[e], 2 / 7);
    const k = LENGTH_CLASSES.length;
    const nltm = f.nltm as Float64Array;
    near(nltm[q * k + q], 3 / 6);
    near(nltm[q * k + h], 1 / 6);
    near(nltm[h * k + e], 1 / 6);
    near(nltm[e * k + e], 1 / 6);
  });

  test('empty and one-note spans give null where the feature needs notes or steps', () => {
    const empty = spanFeatures(score, 2, 3);
    for (const name of FEATURES) {
      assert.equal(empty[name], null, name);
    }
    const one = noteFeatures([{ pitch: 62, onset: 0, duration: 480, velocity: 80, track: 0, voice: 0 }]);
    assert.equal(one.pr, 0);
    assert.equal(one.pi, null);
    assert.equal(one.ioi, null);
    assert.equal(one.pctm, null);
    assert.equal(one.nltm, null);
    near((one.pch as Float64Array)[2], 1);
  });

  test('segments are 4 bars each; a short last segment is dropped', () => {
    const long = buildScore(Array.from({ length: 11 }, () => CDEF));
    const segs = segmentFeatures(long, 1, 11);
    assert.equal(segs.length, 2);
    const pf = pieceFeatures(long, 1, 9);
    assert.equal(pf.segments.length, 2);
    assert.equal(pf.overall.pr, 5);
  });
});

describe('featureDistance', () => {
  test('Euclidean for vectors, absolute for numbers, NaN with a null', () => {
    near(featureDistance(Float64Array.of(1, 0), Float64Array.of(0, 1)), Math.SQRT2);
    near(featureDistance(3, 7.5), 4.5);
    assert.ok(Number.isNaN(featureDistance(null, 2)));
  });
});

/** A set of `n` random pieces: `center` + uniform noise (pitch steps of width `spread`). */
function randomSet(seed: number, n: number, center: number, spread: number): ReturnType<typeof pieceFeatures>[] {
  const r = mulberry32(seed);
  const out: ReturnType<typeof pieceFeatures>[] = [];
  for (let i = 0; i < n; i++) {
    const bars: BarNote[][] = [];
    for (let b = 0; b < 8; b++) {
      const notes: BarNote[] = [];
      for (let k = 0; k < 4; k++) {
        notes.push([center + Math.floor(r() * spread), 4 * k, r() < 0.5 ? 4 : 2]);
      }
      bars.push(notes);
    }
    out.push(pieceFeatures(buildScore(bars), 0, 8));
  }
  return out;
}

describe('set comparison', () => {
  test('a set drawn like the reference overlaps much more than a set drawn elsewhere', () => {
    const real = randomSet(1, 40, 60, 12);
    const like = randomSet(2, 40, 60, 12);
    const far = randomSet(3, 40, 80, 3);
    const ref = new DistributionReference(real);
    const a = ref.compare(like);
    const b = ref.compare(far);
    for (const f of ['pch', 'pr', 'pi'] as const) {
      assert.ok(a.overall[f].oa > 0.7, `${f}: like OA ${a.overall[f].oa}`);
      assert.ok(a.overall[f].oa > b.overall[f].oa + 0.3, `${f}: ${a.overall[f].oa} vs ${b.overall[f].oa}`);
      assert.ok(a.overall[f].kl < b.overall[f].kl, `${f}: KL ${a.overall[f].kl} vs ${b.overall[f].kl}`);
    }
    assert.ok(meanComparison(a.overall).oa > meanComparison(b.overall).oa);
    assert.ok(meanComparison(a.segment).oa > meanComparison(b.segment).oa);
    for (const f of FEATURES) {
      assert.ok(a.overall[f].oa >= 0 && a.overall[f].oa <= 1 && a.overall[f].kl >= 0, f);
    }
  });

  test('scalar sets: the same values give OA near 1 and KL near 0; shifted ones overlap less', () => {
    const xs = Array.from({ length: 60 }, (_, i) => (i % 10) + 0.5 * Math.floor(i / 10));
    const ref = new FeatureReference(xs);
    const same = ref.compare(xs);
    assert.ok(same.oa > 0.8, `OA ${same.oa}`);
    assert.ok(same.kl < 0.1, `KL ${same.kl}`);
    const shifted = ref.compare(xs.map((x) => x + 20));
    assert.ok(shifted.oa < 0.05, `OA ${shifted.oa}`);
    assert.ok(shifted.kl > 1, `KL ${shifted.kl}`);
  });

  test('equal values everywhere: identical distributions', () => {
    const ref = new FeatureReference([5, 5, 5, 5]);
    const c = ref.compare([5, 5]);
    near(c.oa, 1, 1e-6);
    near(c.kl, 0, 1e-6);
  });

  test('null items are skipped; a reference of fewer than two items gives NaN', () => {
    const ref = new FeatureReference([1, null, 2, 3]);
    assert.equal(ref.size, 3);
    assert.ok(Number.isFinite(ref.compare([null, 2]).oa));
    assert.ok(Number.isNaN(new FeatureReference([1]).compare([1]).oa));
  });

  test('unit weights: weight 1 on every unit equals no weights; a resample changes the figures', () => {
    const ref = new FeatureReference(Array.from({ length: 30 }, (_, i) => i % 7));
    const gen = [0, 1, 2, 10, 11, 12];
    const set = ref.against(gen, [0, 0, 1, 1, 2, 2]);
    const plain = set.compare();
    const ones = set.compare([1, 1, 1]);
    near(plain.oa, ones.oa);
    near(plain.kl, ones.kl);
    const onlyFirst = set.compare([3, 0, 0]);
    assert.ok(onlyFirst.oa > plain.oa, `${onlyFirst.oa} vs ${plain.oa}`);
  });

  test('scalarMean skips nulls', () => {
    near(scalarMean([1, null, 3]), 2);
    assert.ok(Number.isNaN(scalarMean([null])));
  });
});
