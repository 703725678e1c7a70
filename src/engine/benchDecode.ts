/**
 * The decode benchmark's harness (`refrain bench`, run inside the engine worker so that it
 * measures the same session the extension uses): for each plan and context, prefill the
 * context in chunks, then time single-token decode steps, and report the median step, the keys
 * a step attended (layer keys and the SING head's summaries) and the cache size.
 *
 * Pure TypeScript: the worker passes the {@link StepModel}.
 */

import { BatchDecoder } from './batch';
import type { ModelCard } from './card';
import { Decoder } from './decoder';
import type { StepModel } from './decoder';
import { EngineError } from './errors';
import { DEFAULT_SUMMARY_HORIZON, layerPlansOf } from './generate';
import { offsetRelatedBars } from './plan';
import type { LayerPlan, StepPlanOptions } from './plan';
import type { BenchDecodeRow, BenchDecodeSpec, BenchLaneSteps } from './protocol';

function nextPow2(n: number): number {
  let c = 256;
  while (c < n) {
    c *= 2;
  }
  return c;
}

/** The median of `xs` (the lower middle one of an even count; sorted in place), NaN for none. */
function median(xs: number[]): number {
  xs.sort((a, b) => a - b);
  return xs.length > 0 ? xs[Math.floor((xs.length - 1) / 2)] : Number.NaN;
}

/** The layer plans a benchmark plan kind stands for. */
export function benchLayerPlans(card: ModelCard, kind: BenchDecodeSpec['plans'][number]): LayerPlan[] {
  if (kind === 'dense') {
    return card.plan.layers.map(() => ({ plan: 'dense', window: null }));
  }
  if (kind === 'structured') {
    return layerPlansOf(card, []);
  }
  if (kind === 'structured-all-summaries') {
    return layerPlansOf(card, [], null);
  }
  return card.plan.layers.map((l) => {
    const ws = l.windows.filter((w): w is number => typeof w === 'number');
    return { plan: l.plan, window: ws.length > 0 ? Math.min(...ws) : null, summaryHorizon: DEFAULT_SUMMARY_HORIZON };
  });
}

/**
 * Runs the decode benchmark on a model. `check` throws to cancel (between steps); `sample` is
 * called after each prefill and each context's decode (the worker samples its RSS there).
 */
export async function benchDecode(model: StepModel, card: ModelCard, spec: BenchDecodeSpec, check: () => void, sample: () => void = () => undefined): Promise<BenchDecodeRow[]> {
  const rows: BenchDecodeRow[] = [];
  const related = offsetRelatedBars(spec.offsets);
  // Warm-up (first-run allocations and JIT), not measured.
  for (const kind of spec.plans) {
    const n = Math.min(spec.ids.length, Math.max(64, Math.min(512, spec.contexts[0] ?? 64)));
    const warm = new Decoder(model, { plan: { layers: benchLayerPlans(card, kind), related, sing: model.shape.sing }, chunk: spec.chunk });
    await warm.append(spec.ids.slice(0, n - 16), spec.bar.slice(0, n - 16), spec.pos.slice(0, n - 16));
    for (let i = n - 16; i < n; i++) {
      check();
      await warm.appendOne(spec.ids[i], spec.bar[i], spec.pos[i]);
    }
  }
  for (const kind of spec.plans) {
    const layers = benchLayerPlans(card, kind);
    const planOpts: StepPlanOptions = { layers, related, sing: model.shape.sing };
    for (const ctx of spec.contexts) {
      check();
      if (ctx + spec.decodeTokens > spec.ids.length) {
        throw new EngineError('bad-request', `The benchmark sequence has ${spec.ids.length} tokens, fewer than ${ctx} + ${spec.decodeTokens}.`);
      }
      const dec = new Decoder(model, { plan: planOpts, capacity: nextPow2(ctx + spec.decodeTokens), chunk: spec.chunk, beforeStep: check });
      const t0 = performance.now();
      await dec.append(spec.ids.slice(0, ctx), spec.bar.slice(0, ctx), spec.pos.slice(0, ctx));
      const prefillMs = performance.now() - t0;
      sample();
      const keys0 = dec.stats.keys;
      const sing0 = dec.stats.singKeys;
      const t1 = performance.now();
      const times: number[] = [];
      for (let i = ctx; i < ctx + spec.decodeTokens; i++) {
        const ts = performance.now();
        await dec.appendOne(spec.ids[i], spec.bar[i], spec.pos[i]);
        times.push(performance.now() - ts);
        if (spec.budgetMs > 0 && performance.now() - t1 > spec.budgetMs) {
          break;
        }
      }
      const n = times.length;
      const decodeMs = performance.now() - t1;
      sample();
      rows.push({
        plan: kind,
        context: ctx,
        layers: layers.map((l) => ({ plan: l.plan, window: l.window ?? 'full' })),
        prefillMs,
        decodeTokens: n,
        decodeMsPerToken: median(times),
        decodeMeanMsPerToken: decodeMs / Math.max(1, n),
        keysPerStep: (dec.stats.keys - keys0) / Math.max(1, n) / card.plan.layers.length,
        singKeysPerStep: (dec.stats.singKeys - sing0) / Math.max(1, n),
        cacheBytes: dec.cache.bytes,
      });
    }
  }
  return rows;
}

/**
 * Steps of `lanes` lanes side by side against a lone lane's (see {@link BenchLaneSteps}), on the
 * structured plan at the spec's first context: the prefix is prefilled once, the lanes forked
 * from it, and each step appends the sequence's next token to every lane, so each lane writes
 * rows of its own as candidates do. The lone and the side-by-side runs alternate (two rounds
 * each), so that drift in the machine's speed weighs on both.
 */
export async function benchLaneSteps(model: StepModel, card: ModelCard, spec: BenchDecodeSpec, lanes: number, check: () => void): Promise<BenchLaneSteps> {
  const ctx = spec.contexts[0];
  const steps = spec.decodeTokens;
  if (ctx + steps > spec.ids.length) {
    throw new EngineError('bad-request', `The benchmark sequence has ${spec.ids.length} tokens, fewer than ${ctx} + ${steps}.`);
  }
  const plan: StepPlanOptions = { layers: benchLayerPlans(card, 'structured'), related: offsetRelatedBars(spec.offsets), sing: model.shape.sing };
  const times: Record<'one' | 'lanes', number[]> = { one: [], lanes: [] };
  const keys = { one: 0, lanes: 0 };
  // Round 0 warms up the sizes (buffers, slots) and is not counted.
  const rounds = 3;
  for (let round = 0; round < rounds; round++) {
    for (const [key, n] of [['one', 1], ['lanes', lanes]] as const) {
      const dec = new BatchDecoder(model, { plan, capacity: nextPow2(ctx + n * steps), chunk: spec.chunk, beforeStep: check });
      await dec.append(0, spec.ids.slice(0, ctx), spec.bar.slice(0, ctx), spec.pos.slice(0, ctx));
      for (let l = 1; l < n; l++) {
        dec.fork(0);
      }
      const keys0 = dec.stats.keys;
      for (let i = ctx; i < ctx + steps; i++) {
        const appends = [];
        for (let l = 0; l < n; l++) {
          appends.push({ lane: l, ids: [spec.ids[i]], bars: [spec.bar[i]], pos: [spec.pos[i]] });
        }
        const t = performance.now();
        await dec.step(appends);
        if (round > 0) {
          times[key].push(performance.now() - t);
        }
      }
      if (round > 0) {
        keys[key] += (dec.stats.keys - keys0) / steps / card.plan.layers.length / (rounds - 1);
      }
    }
  }
  const one = median(times.one);
  const side = median(times.lanes);
  return { context: ctx, lanes, steps, oneMsPerStep: one, lanesMsPerStep: side, ratio: side / one, oneKeysPerStep: keys.one, lanesKeysPerStep: keys.lanes };
}
