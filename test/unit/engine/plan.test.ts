// The TypeScript attention plan against the Python reference (models/train/plan.py
// decode_inputs): the cases in test/fixtures/engine/plan-cases.json (written by
// test/fixtures/engine/make_models.py) and the recorded steps of the tiny ONNX fixtures.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BLOCKED_BIAS, TokenLayout, buildStepPlan, layerStepPlan, offsetRelatedBars, singStepPlan } from '../../../src/engine/plan';
import type { LayerPlan, SingStepPlan } from '../../../src/engine/plan';
import { HEADER_BAR } from '../../../src/tokens/vocab';
import { loadTensors, repoRoot } from './helpers';

interface PlanCase {
  name: string;
  ids: number[];
  bar: number[];
  layers: { plan: 'fc' | 'dense'; window: number | null }[];
  offsets: number[];
  ssm: { size: number; data: number[] } | null;
  steps: Record<string, unknown>[];
}

function layoutOf(ids: ArrayLike<number>, bar: ArrayLike<number>): TokenLayout {
  const layout = new TokenLayout();
  for (let i = 0; i < ids.length; i++) {
    layout.push(ids[i], bar[i], 255);
  }
  return layout;
}

function allowString(bias: Float32Array, rows: number): string[] {
  const width = bias.length / rows;
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    let s = '';
    for (let c = 0; c < width; c++) {
      const v = bias[r * width + c];
      assert.ok(v === 0 || v === BLOCKED_BIAS, `bias value ${v}`);
      s += v === 0 ? '1' : '0';
    }
    out.push(s);
  }
  return out;
}

function closeMatrix(got: Float32Array, want: number[][], what: string): void {
  const flat = want.flat();
  assert.equal(got.length, flat.length, `${what}: size`);
  for (let k = 0; k < flat.length; k++) {
    assert.ok(Math.abs(got[k] - flat[k]) < 1e-6, `${what}[${k}]: ${got[k]} vs ${flat[k]}`);
  }
}

const CASES = JSON.parse(readFileSync(join(repoRoot(), 'test/fixtures/engine/plan-cases.json'), 'utf8')) as PlanCase[];

describe('plan parity with plan.decode_inputs', () => {
  for (const c of CASES) {
    test(c.name, () => {
      const layout = layoutOf(c.ids, c.bar);
      const template = c.ssm ? { size: c.ssm.size, data: Float32Array.from(c.ssm.data) } : undefined;
      for (const st of c.steps) {
        const past = st.past as number;
        const count = st.new as number;
        const plan = buildStepPlan(layout, past, count, {
          layers: c.layers,
          related: offsetRelatedBars(c.offsets),
          sing: template !== undefined,
          template,
        });
        c.layers.forEach((_, l) => {
          assert.deepEqual(Array.from(plan.layers[l].kidx), st[`kidx_${l}`], `${c.name} step@${past} layer ${l} kidx`);
          assert.deepEqual(allowString(plan.layers[l].bias, count), st[`allow_${l}`], `${c.name} step@${past} layer ${l} bias`);
        });
        if (template) {
          assert.ok(plan.sing);
          assert.deepEqual(Array.from(plan.sing.idx), st.ssm_idx);
          closeMatrix(plan.sing.row, st.ssm_row as number[][], 'ssm_row');
          closeMatrix(plan.sing.mask, st.ssm_mask as number[][], 'ssm_mask');
        }
      }
    });
  }

  test('the comparison can fail: a wrong offset set changes the plan', () => {
    const c = CASES.find((x) => x.offsets.length > 0 && x.layers.some((l) => l.plan === 'fc')) as PlanCase;
    const layout = layoutOf(c.ids, c.bar);
    let differs = false;
    for (const st of c.steps) {
      const plan = buildStepPlan(layout, st.past as number, st.new as number, {
        layers: c.layers,
        related: offsetRelatedBars([]),
        sing: false,
      });
      c.layers.forEach((_, l) => {
        differs ||= JSON.stringify(Array.from(plan.layers[l].kidx)) !== JSON.stringify(st[`kidx_${l}`]);
      });
    }
    assert.ok(differs);
  });
});

describe('plan parity with the recorded decode steps of the tiny ONNX fixtures', () => {
  for (const variant of ['a', 'b']) {
    test(`tiny-${variant}`, () => {
      const dir = join(repoRoot(), 'test/fixtures/onnx', `tiny-${variant}`);
      const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { steps: number; windows: (number | null)[]; offsets: number[] };
      const card = JSON.parse(readFileSync(join(dir, 'card.json'), 'utf8')) as { plan: { layers: { plan: 'fc' | 'dense'; sing: boolean }[] } };
      const t = loadTensors(join(dir, 'steps.json'));
      const ids: number[] = [];
      const bars: number[] = [];
      for (let s = 0; s < meta.steps; s++) {
        ids.push(...(t.get(`step${s}.tokens`)?.data ?? []));
        bars.push(...(t.get(`step${s}.bar`)?.data ?? []));
      }
      const layout = layoutOf(ids, bars);
      const layers: LayerPlan[] = card.plan.layers.map((l, k) => ({ plan: l.plan, window: meta.windows[k] }));
      const sing = card.plan.layers.some((l) => l.sing);
      // The template is not stored; rebuild the entries the steps show (row values of summaries).
      const nb = Math.max(...bars.filter((b) => b !== HEADER_BAR)) + 1;
      const tdata = new Float32Array(nb * nb);
      let past = 0;
      for (let s = 0; s < meta.steps; s++) {
        const count = t.get(`step${s}.tokens`)?.data.length ?? 0;
        if (sing) {
          const idx = t.get(`step${s}.ssm_idx`)?.data as Int32Array;
          const row = t.get(`step${s}.ssm_row`)?.data as Float32Array;
          const width = idx.length + count;
          for (let r = 0; r < count; r++) {
            const b = bars[past + r];
            for (let col = 0; col < width; col++) {
              const j = col < idx.length ? idx[col] : past + col - idx.length;
              if (b !== HEADER_BAR && bars[j] !== HEADER_BAR && bars[j] < b) {
                tdata[b * nb + bars[j]] = row[r * width + col];
              }
            }
          }
        }
        past += count;
      }
      past = 0;
      for (let s = 0; s < meta.steps; s++) {
        const count = t.get(`step${s}.tokens`)?.data.length ?? 0;
        const plan = buildStepPlan(layout, past, count, {
          layers,
          related: offsetRelatedBars(meta.offsets),
          sing,
          template: { size: nb, data: tdata },
        });
        layers.forEach((_, l) => {
          assert.deepEqual(Array.from(plan.layers[l].kidx), Array.from(t.get(`step${s}.kidx_${l}`)?.data ?? []), `step ${s} kidx_${l}`);
          assert.deepEqual(Array.from(plan.layers[l].bias), Array.from(t.get(`step${s}.bias_${l}`)?.data ?? []), `step ${s} bias_${l}`);
        });
        if (sing) {
          assert.deepEqual(Array.from(plan.sing?.idx ?? []), Array.from(t.get(`step${s}.ssm_idx`)?.data ?? []), `step ${s} ssm_idx`);
          assert.deepEqual(Array.from(plan.sing?.mask ?? []), Array.from(t.get(`step${s}.ssm_mask`)?.data ?? []), `step ${s} ssm_mask`);
          assert.deepEqual(Array.from(plan.sing?.row ?? []), Array.from(t.get(`step${s}.ssm_row`)?.data ?? []), `step ${s} ssm_row`);
        }
        past += count;
      }
    });
  }
});

describe('plan cost', () => {
  test('a one-token step of a long piece sees only header, related bars, own bar and summaries', () => {
    const layout = new TokenLayout();
    layout.push(1, HEADER_BAR, 255);
    layout.push(9, HEADER_BAR, 255);
    const barLen = 30;
    for (let b = 0; b < 200; b++) {
      layout.push(3, b, 255);
      for (let k = 0; k < barLen - 2; k++) {
        layout.push(20, b, 0);
      }
      layout.push(4, b, 255);
    }
    layout.push(3, 200, 255);
    const i = layout.length - 1;
    const p = layerStepPlan(layout, i, 1, { plan: 'fc', window: null }, offsetRelatedBars([1, 2, 4, 8]));
    // header 2 + 4 related bars x 30 + 196 other summaries; own bar's first token is the query.
    assert.equal(p.kidx.length, 2 + 4 * barLen + 196);
    const dense = layerStepPlan(layout, i, 1, { plan: 'dense', window: 256 }, offsetRelatedBars([]));
    assert.equal(dense.kidx.length, 2 + 255);
  });
});

describe('coarse horizon (summary tokens of the last N bars only)', () => {
  // Header (BOS + one more), then 101 bars of [BAR, note, SUM]; the query is bar 100's note.
  const NOTE = 200;
  const ids: number[] = [1, 5];
  const bars: number[] = [HEADER_BAR, HEADER_BAR];
  for (let b = 0; b <= 100; b++) {
    ids.push(3, NOTE, 4);
    bars.push(b, b, b);
  }
  const layout = layoutOf(ids, bars);
  const query = 2 + 100 * 3 + 1;
  const barOf = (k: number): number => bars[k];
  const related = offsetRelatedBars([1, 2, 4, 80]);

  function keysOf(horizon: number | null): { full: Set<number>; summaries: Set<number> } {
    const plan = layerStepPlan(layout, query, 1, { plan: 'fc', window: null, summaryHorizon: horizon }, related);
    const full = new Set<number>();
    const summaries = new Set<number>();
    for (const k of plan.kidx) {
      if (bars[k] === HEADER_BAR) {
        continue;
      }
      if (ids[k] === 4) {
        summaries.add(barOf(k));
      }
      if (ids[k] === NOTE) {
        full.add(barOf(k));
      }
    }
    return { full, summaries };
  }

  test('without a horizon every earlier bar is seen, in full or through its summary (Museformer)', () => {
    const { full, summaries } = keysOf(null);
    assert.deepEqual([...full].sort((a, b) => a - b), [20, 96, 98, 99, 100].filter((b) => b < 100));
    assert.equal(full.size + summaries.size - [...full].filter((b) => summaries.has(b)).length, 100);
  });

  test('with a 64-bar horizon only bars 36..99 give summaries, and related bars stay in full however far back', () => {
    const { full, summaries } = keysOf(64);
    assert.deepEqual([...full].sort((a, b) => a - b), [20, 96, 98, 99]);
    // A related bar is seen in full, its summary token included: look at the other bars.
    const sums = [...summaries].filter((b) => !full.has(b)).sort((a, b) => a - b);
    const want: number[] = [];
    for (let b = 36; b < 100; b++) {
      if (![96, 98, 99].includes(b)) {
        want.push(b);
      }
    }
    assert.deepEqual(sums, want, 'summaries of exactly the bars 36..99 that are not related');
    // The key count no longer depends on how long the piece is.
    const longer = keysOf(64);
    assert.equal(longer.summaries.size, summaries.size);
  });
});

describe('one-token steps (built once per bar)', () => {
  const SUM = 4;
  /** Bars from..from + bars - 1 of 5..9 tokens each, closed by SUM: [id, bar] per token. */
  function barTokens(bars: number, from = 0, seed = 1): [number, number][] {
    const out: [number, number][] = [];
    for (let b = from; b < from + bars; b++) {
      const n = 5 + ((b * 7 + seed) % 5);
      for (let t = 0; t < n; t++) {
        out.push([t === n - 1 ? SUM : 200 + t, b]);
      }
    }
    return out;
  }
  /** The keys a query sees (all earlier than it) from row r of a step's plan, itself excluded. */
  function seen(kidx: Int32Array, bias: Float32Array, past: number, count: number, r: number): number[] {
    const width = kidx.length + count;
    const out: number[] = [];
    for (let c = 0; c < width; c++) {
      const key = c < kidx.length ? kidx[c] : past + c - kidx.length;
      if (bias[r * width + c] === 0 && key !== past + r) {
        out.push(key);
      }
    }
    return out;
  }
  /** The SING candidates (cache row: template value) of row r of a step's SING inputs. */
  function singSeen(p: SingStepPlan, past: number, count: number, r: number): [number, number][] {
    const width = p.idx.length + count;
    const out: [number, number][] = [];
    for (let c = 0; c < width; c++) {
      if (p.mask[r * width + c] === 1) {
        out.push([c < p.idx.length ? p.idx[c] : past + c - p.idx.length, p.row[r * width + c]]);
      }
    }
    return out;
  }
  const layerSets: LayerPlan[][] = [
    [{ plan: 'fc', window: null }],
    [{ plan: 'fc', window: 24, summaryHorizon: 3 }, { plan: 'fc', window: null, summaryHorizon: 3 }],
    [{ plan: 'dense', window: 16 }, { plan: 'fc', window: 40 }],
  ];

  test('each query sees what the same query of a multi-token step sees', () => {
    const layout = new TokenLayout();
    for (let i = 0; i < 6; i++) {
      layout.push(10 + i, HEADER_BAR, 255);
    }
    for (const [id, bar] of barTokens(14)) {
      layout.push(id, bar, 255);
    }
    // Related bars with repeats and out-of-range entries, as template-related bars may give.
    const related = (bar: number): number[] => [bar - 1, bar - 4, bar - 4, bar - 9, bar + 1, -1];
    const template = { size: 10, data: Float32Array.from({ length: 100 }, (_, k) => (k % 7) / 7) };
    for (const layers of layerSets) {
      for (const horizon of [null, 2]) {
        for (let i = 0; i < layout.length; i++) {
          const one = buildStepPlan(layout, i, 1, { layers, related, sing: true, template });
          const start = Math.max(0, i - 3);
          const many = buildStepPlan(layout, start, i - start + 1, { layers, related, sing: false });
          layers.forEach((_, l) => {
            const o = one.layers[l];
            assert.deepEqual(Array.from(o.bias), new Array<number>(o.kidx.length + 1).fill(0));
            const m = many.layers[l];
            assert.deepEqual(Array.from(o.kidx), seen(m.kidx, m.bias, start, i - start + 1, i - start), `layers ${JSON.stringify(layers)} query ${i} layer ${l}`);
          });
          const single = singStepPlan(layout, i, 1, template, horizon);
          assert.deepEqual(singSeen(single, i, 1, 0), singSeen(singStepPlan(layout, start, i - start + 1, template, horizon), start, i - start + 1, i - start), `query ${i} SING`);
          assert.equal(single.row[single.idx.length], 0);
          assert.ok((one.sing as SingStepPlan).idx.length >= 0);
        }
      }
    }
  });

  test('plans from a layout stepped and truncated match those of a fresh copy, and no step writes into an earlier step', () => {
    const layers: LayerPlan[] = [{ plan: 'fc', window: 30, summaryHorizon: 4 }, { plan: 'fc', window: null }];
    const related = offsetRelatedBars([1, 2, 4, 8]);
    const template = { size: 40, data: Float32Array.from({ length: 1600 }, (_, k) => ((k * 13) % 11) / 11) };
    const layout = new TokenLayout();
    for (let i = 0; i < 4; i++) {
      layout.push(10 + i, HEADER_BAR, 255);
    }
    const kept: { plan: ReturnType<typeof buildStepPlan>; copy: string }[] = [];
    const snapshot = (p: ReturnType<typeof buildStepPlan>): string =>
      JSON.stringify([p.layers.map((l) => [Array.from(l.kidx), Array.from(l.bias)]), p.sing && [Array.from(p.sing.idx), Array.from(p.sing.row), Array.from(p.sing.mask)]]);
    const check = (seed: number, bars: number, from: number): void => {
      for (const [id, bar] of barTokens(bars, from, seed)) {
        layout.push(id, bar, 255);
        const past = layout.length - 1;
        const plan = buildStepPlan(layout, past, 1, { layers, related, sing: true, template });
        // A fresh copy and a fresh related-bars function: nothing built before is reused.
        const fresh = buildStepPlan(layout.clone(), past, 1, { layers, related: offsetRelatedBars([1, 2, 4, 8]), sing: true, template });
        assert.equal(snapshot(plan), snapshot(fresh), `token ${past}`);
        kept.push({ plan, copy: snapshot(plan) });
      }
    };
    check(1, 12, 0);
    const rev = layout.revision;
    layout.truncate(layout.barFirst(5) + 2);
    assert.notEqual(layout.revision, rev);
    // Bar 5 goes on differently; bars 6.. are new.
    const open = layout.length;
    for (let t = 0; t < 3; t++) {
      layout.push(t === 2 ? SUM : 300 + t, 5, t);
      const plan = buildStepPlan(layout, open + t, 1, { layers, related, sing: true, template });
      assert.equal(snapshot(plan), snapshot(buildStepPlan(layout.clone(), open + t, 1, { layers, related: offsetRelatedBars([1, 2, 4, 8]), sing: true, template })));
    }
    check(3, 9, 6);
    // Back into bar 3 and on to the same last bar without a step in between: no bar is reused.
    layout.truncate(layout.barFirst(3) + 1);
    for (const [id, bar] of barTokens(12, 3, 5).slice(1)) {
      layout.push(id, bar, 255);
    }
    const last = layout.length - 2;
    const again = buildStepPlan(layout, last, 1, { layers, related, sing: true, template });
    assert.equal(snapshot(again), snapshot(buildStepPlan(layout.clone(), last, 1, { layers, related: offsetRelatedBars([1, 2, 4, 8]), sing: true, template })));
    for (const k of kept) {
      assert.equal(snapshot(k.plan), k.copy);
    }
  });
});
