/**
 * `refrain bench` (`npm run bench`): how fast the engine runs a model, measured through the
 * same worker the extension uses.
 *
 * - model load time (session creation in the worker);
 * - prefill time and per-token decode time at several contexts, for the structured plan
 *   (Museformer fine/coarse + the model's windows) against dense full attention on the same
 *   model, and their ratio;
 * - peak process RSS seen by the worker;
 * - one-bar continuation latency p50/p95 on an 8-bar prompt, through `EngineClient.generate`;
 * - candidates side by side: 4 candidates of 8 bars against 1 candidate (median of `--cand-runs`);
 * - whole-tune (32 bars) generation time, and the main thread's worst timer delay (a 5 ms
 *   interval timer) meanwhile: it must stay under 50 ms;
 * - the physical bound: bytes of weights (+ attended KV rows, the SING head's summary values
 *   included) read per token divided by the measured memory bandwidth (a large typed-array copy),
 *   and the summary ratios the engine is held to: decode at 1k over its bound, 16k over 1k,
 *   dense over structured at 16k.
 *
 * Prints a table and writes JSON to `bench/results/<model>-<timestamp>.json` (or `--out`).
 */

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { EngineClient, SPLIT_MIN_CORES } from '../engine/client';
import { modelInfoOf, scanModels } from '../engine/card';
import { EngineError } from '../engine/errors';
import type { BenchDecodeResult, BenchPlan } from '../engine/protocol';
import type { GenerateRequest } from '../engine/types';
import { readAbc } from '../music/abc/reader';
import { emptyScore } from '../music/score';
import type { Score } from '../music/score';
import { createLineLogger } from '../platform/logger';
import { encodeScore } from '../tokens/encode';
import { cliWorkerPath, defaultModelsDir } from './compose';
import { UsageError } from './usage';
import type { CliContext } from './usage';

/** Help text of the command. */
export const BENCH_HELP = `  refrain bench [--model ID] [--compare ID[,ID]] [--models DIR] [--contexts 256,1024,4096,16384]
               [--decode-tokens 64] [--runs 20] [--cand-runs 3] [--ep cpu] [--threads N] [--workers 1|2] [--out FILE] [--json]
      Engine benchmark (npm run bench): model load, prefill and per-token decode
      at each context for the structured plan vs dense attention, peak RSS,
      one-bar continuation p50/p95, 4 vs 1 candidates of 8 bars, 32-bar tune
      time, main-thread timer gap, memory-bandwidth bound and the ratios to it.
      Default model: the first in models/, else the test fixture model. --compare runs other models' structured decode in the same
      run and prints the per-token ratios. --workers 1|2 keeps a request's candidates in one engine
      worker or splits them over two (default: two on a CPU with four or more cores). Writes JSON to
      bench/results/ (or --out FILE).
`;

/** Our own 8-bar reel (not from any corpus): the prompt and the material of the long sequences. */
const BENCH_TUNE = `X:1
T:Bench Reel
M:4/4
L:1/8
K:D
DFAF dFAF|GBdB GBdB|Aced cAGE|FDEC D4|
fdfa gfed|cBAG FGAF|GBdB AFDF|EDCE D4|
`;

function tuneScore(): Score {
  return readAbc(BENCH_TUNE).tunes[0].score;
}

/** A score of `bars` bars made by repeating the bench tune. */
function repeated(score: Score, bars: number): Score {
  const out: Score = { ...score, notes: [], bars: [], writtenBars: [], chords: [] };
  const n = score.bars.length;
  let t = 0;
  for (let b = 0; b < bars; b++) {
    const src = score.bars[b % n];
    out.bars.push({ start: t, duration: src.duration, meter: src.meter, written: b });
    out.writtenBars.push({});
    for (const note of score.notes) {
      if (note.onset >= src.start && note.onset < src.start + src.duration) {
        out.notes.push({ ...note, onset: note.onset - src.start + t, source: undefined });
      }
    }
    t += src.duration;
  }
  out.length = t;
  return out;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) {
    return Number.NaN;
  }
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** Copy bandwidth in bytes per second (bytes read + bytes written, best of several copies of a 128 MiB buffer). */
export function measureBandwidth(): number {
  const n = 32 * 1024 * 1024;
  const a = new Float32Array(n).fill(1);
  const b = new Float32Array(n);
  let best = Infinity;
  for (let r = 0; r < 6; r++) {
    const t0 = performance.now();
    b.set(a);
    const dt = performance.now() - t0;
    if (r > 0) {
      best = Math.min(best, dt);
    }
  }
  return (2 * n * 4) / (best / 1000);
}

function ms(v: number): string {
  if (!Number.isFinite(v)) {
    return 'n/a';
  }
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(0)} MiB`;
}

/** Parses `refrain bench` arguments and runs it; resolves to the exit code. */
export async function runBench(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({
    args,
    allowPositionals: false,
    strict: true,
    options: {
      model: { type: 'string' },
      models: { type: 'string' },
      compare: { type: 'string' },
      contexts: { type: 'string' },
      'decode-tokens': { type: 'string' },
      runs: { type: 'string' },
      'cand-runs': { type: 'string' },
      ep: { type: 'string' },
      threads: { type: 'string' },
      workers: { type: 'string' },
      out: { type: 'string', short: 'o' },
      json: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    ctx.out(BENCH_HELP);
    return 0;
  }
  const ints = (s: string | undefined, flag: string, def: number[]): number[] => {
    if (s === undefined) {
      return def;
    }
    const out = s.split(',').map((x) => Number(x.trim()));
    if (out.some((x) => !Number.isInteger(x) || x < 1)) {
      throw new UsageError(`${flag} needs whole numbers >= 1, comma-separated, not "${s}".`);
    }
    return out;
  };
  const contexts = ints(values.contexts, '--contexts', [256, 1024, 4096, 16384]);
  const decodeTokens = ints(values['decode-tokens'], '--decode-tokens', [64])[0];
  const runs = ints(values.runs, '--runs', [20])[0];
  const candRuns = ints(values['cand-runs'], '--cand-runs', [3])[0];
  const threads = values.threads === undefined ? undefined : ints(values.threads, '--threads', [1])[0];
  const workers = values.workers === undefined ? undefined : ints(values.workers, '--workers', [2])[0];
  if (workers !== undefined && workers > 2) {
    throw new UsageError(`--workers is 1 or 2, not ${workers}.`);
  }
  const ep = values.ep ?? 'cpu';
  if (!['auto', 'cpu', 'webgpu', 'cuda'].includes(ep)) {
    throw new UsageError(`--ep must be auto, cpu, webgpu or cuda, not "${ep}".`);
  }

  // Models: the given folder, else models/, else the test fixture model.
  let modelsDir = values.models ?? defaultModelsDir();
  let note = '';
  if (values.models === undefined && values.model === undefined && (await scanModels([modelsDir])).models.length === 0) {
    const fixture = resolve(__dirname, '..', 'test', 'fixtures', 'engine', 'models');
    if (existsSync(fixture)) {
      note = `no model in ${modelsDir}; using the test fixture model`;
      modelsDir = fixture;
    }
  }
  const log = createLineLogger((line) => ctx.err(line), values.verbose ? 'debug' : 'warn');
  const client = new EngineClient({ modelsDir, executionProvider: ep as 'cpu', threads, log, workerPath: cliWorkerPath(), parallel: workers === undefined ? undefined : workers === 2 });
  try {
    const entry = await client.resolveModel(values.model);
    const info = modelInfoOf(entry);
    if (note) {
      ctx.err(`refrain bench: ${note}`);
    }
    ctx.err(`refrain bench: model ${entry.id} (${info.parameters ?? '?'} parameters, ${mib(entry.bytes)}), ${cpus().length} CPU(s)`);

    const base = tuneScore();
    const maxCtx = Math.max(...contexts);
    const need = maxCtx + decodeTokens;
    let barsNeeded = base.bars.length;
    let long = encodeScore(base);
    while (long.ids.length < need) {
      barsNeeded = Math.ceil((barsNeeded * need * 1.05) / long.ids.length) + 1;
      long = encodeScore(repeated(base, barsNeeded));
    }
    const plans: BenchPlan[] = ['structured', 'structured-all-summaries', 'dense'];
    if (entry.card.plan.layers.some((l) => l.windows.some((w) => typeof w === 'number'))) {
      plans.splice(2, 0, 'structured-windowed');
    }
    ctx.err(`refrain bench: decode timings at contexts ${contexts.join(', ')} (${plans.join(', ')})...`);
    const decode: BenchDecodeResult = await client.benchDecode(
      entry.id,
      {
        ids: Array.from(long.ids),
        bar: Array.from(long.bar),
        pos: Array.from(long.pos),
        contexts,
        decodeTokens,
        plans,
        offsets: info.trainedOffsets,
        chunk: 256,
        budgetMs: 20000,
        laneSteps: 4,
      },
      ctx.signal,
    );

    // Generation through the client: warm-up, one-bar latency, then a 32-bar tune with the timer probe.
    const prompt = base;
    const req = (over: Partial<GenerateRequest>): GenerateRequest => ({
      model: entry.id,
      prompt,
      task: { kind: 'continue', bars: 1 },
      controls: { relatedOffsets: info.trainedOffsets, scales: [] },
      sampling: { temperature: 1, topP: 0.95, seed: 1 },
      candidates: 1,
      target: 'abc-folk',
      ...over,
    });
    ctx.err(`refrain bench: ${runs} one-bar continuations...`);
    await client.generate(req({}), { signal: ctx.signal });
    const lat: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      await client.generate(req({ sampling: { temperature: 1, topP: 0.95, seed: r + 2 } }), { signal: ctx.signal });
      lat.push(performance.now() - t0);
    }
    lat.sort((a, b) => a - b);
    // Candidates side by side: 4 candidates of 8 bars vs 1 (same seeds; each after a warm-up).
    ctx.err(`refrain bench: 1 and 4 candidates of 8 bars (${candRuns} runs each)...`);
    const eight = (candidates: number, seed: number): GenerateRequest => req({ task: { kind: 'continue', bars: 8 }, candidates, sampling: { temperature: 1, topP: 0.95, seed } });
    await client.generate(eight(4, 100), { signal: ctx.signal });
    const candTimes: Record<'one' | 'four', number[]> = { one: [], four: [] };
    // CPU time of the whole process (every thread: the engine workers included).
    const candCpu: Record<'one' | 'four', number[]> = { one: [], four: [] };
    let candTokens = { one: 0, four: 0 };
    for (let r = 0; r < candRuns; r++) {
      for (const [key, n] of [['one', 1], ['four', 4]] as const) {
        const t = performance.now();
        const c0 = process.cpuUsage();
        const out = await client.generate(eight(n, 200 + r), { signal: ctx.signal });
        candTimes[key].push(performance.now() - t);
        const c1 = process.cpuUsage(c0);
        candCpu[key].push((c1.user + c1.system) / 1000);
        candTokens = { ...candTokens, [key]: candTokens[key] + out.reduce((a, c) => a + c.tokens, 0) };
      }
    }
    const median = (xs: number[]): number => percentile([...xs].sort((a, b) => a - b), 50);
    const candidates = {
      bars: 8,
      runs: candRuns,
      oneMs: median(candTimes.one),
      fourMs: median(candTimes.four),
      ratio: median(candTimes.four) / median(candTimes.one),
      oneCpuMs: median(candCpu.one),
      fourCpuMs: median(candCpu.four),
      cpuRatio: median(candCpu.four) / median(candCpu.one),
      engineWorkers: workers ?? (ep === 'cpu' && availableParallelism() >= SPLIT_MIN_CORES ? 2 : 1),
      oneTokens: candTokens.one / candRuns,
      fourTokens: candTokens.four / candRuns,
      all: candTimes,
      allCpu: candCpu,
    };

    ctx.err('refrain bench: a 32-bar tune with the main-thread timer probe...');
    const empty: Score = { ...emptyScore(), meters: [{ tick: 0, meter: { num: 4, den: 4 } }] };
    let maxGap = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last - 5);
      last = now;
    }, 5);
    const t0 = performance.now();
    let tuneTokens = 0;
    try {
      const out = await client.generate(req({ prompt: empty, task: { kind: 'fromForm', form: 'A8 A8 B8 B8' } }), { signal: ctx.signal });
      tuneTokens = out[0].tokens;
    } finally {
      clearInterval(timer);
    }
    const tuneMs = performance.now() - t0;

    // Other models at the same contexts (structured plan), in this run, for ratios that hold across machines.
    const compare: { id: string; context: number; decodeMsPerToken: number; ratio: number }[] = [];
    for (const other of (values.compare ?? '').split(',').map((x) => x.trim()).filter((x) => x !== '')) {
      const oe = await client.resolveModel(other);
      ctx.err(`refrain bench: ${oe.id} for comparison...`);
      const od = await client.benchDecode(
        oe.id,
        { ids: Array.from(long.ids), bar: Array.from(long.bar), pos: Array.from(long.pos), contexts, decodeTokens, plans: ['structured'], offsets: modelInfoOf(oe).trainedOffsets, chunk: 256, budgetMs: 20000 },
        ctx.signal,
      );
      for (const r of od.rows) {
        const mine = decode.rows.find((d) => d.plan === 'structured' && d.context === r.context);
        compare.push({ id: oe.id, context: r.context, decodeMsPerToken: r.decodeMsPerToken, ratio: mine ? mine.decodeMsPerToken / r.decodeMsPerToken : Number.NaN });
      }
    }

    // Measured last, so that its buffers do not count in the worker's RSS figures.
    const bandwidth = measureBandwidth();

    // Table.
    const weights = entry.bytes;
    const rowBytes = entry.card.model.heads * entry.card.model.headDim * 4 * 2;
    const layers = entry.card.model.layers;
    const rows = decode.rows.map((r) => {
      const dense = decode.rows.find((d) => d.plan === 'dense' && d.context === r.context);
      const kvBytes = r.keysPerStep * layers * rowBytes + (r.singKeysPerStep ?? 0) * (rowBytes / 2);
      return {
        ...r,
        denseRatio: dense && r.plan !== 'dense' ? dense.decodeMsPerToken / r.decodeMsPerToken : undefined,
        prefillRatio: dense && r.plan !== 'dense' ? dense.prefillMs / r.prefillMs : undefined,
        boundMsPerToken: ((weights + kvBytes) / bandwidth) * 1000,
      };
    });
    const row = (plan: string, context: number): (typeof rows)[number] | undefined => rows.find((r) => r.plan === plan && r.context === context);
    const at1k = row('structured', 1024);
    const at16k = row('structured', 16384);
    const dense16k = row('dense', 16384);
    const summary = {
      decode1kOverBound: at1k ? at1k.decodeMsPerToken / at1k.boundMsPerToken : undefined,
      decode16kOver1k: at1k && at16k ? at16k.decodeMsPerToken / at1k.decodeMsPerToken : undefined,
      dense16kOverStructured: at16k && dense16k ? dense16k.decodeMsPerToken / at16k.decodeMsPerToken : undefined,
      fourCandidatesOverOne: candidates.ratio,
      fourLaneStepOverOne: decode.laneSteps?.ratio,
    };
    const result = {
      date: new Date().toISOString(),
      model: { id: entry.id, parameters: info.parameters, bytes: entry.bytes, layers, pe: info.pe, plans: info.plans },
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryBytes: totalmem(), node: process.version },
      provider: decode.provider,
      threads: threads ?? null,
      loadMs: decode.loadMs,
      bandwidthBytesPerSecond: bandwidth,
      weightsBoundMsPerToken: (weights / bandwidth) * 1000,
      decode: rows,
      peakRssBytes: decode.peakRss,
      baseRssBytes: decode.baseRss,
      oneBarLatencyMs: { runs, p50: percentile(lat, 50), p95: percentile(lat, 95), all: lat },
      wholeTune: { bars: 32, tokens: tuneTokens, ms: tuneMs, msPerToken: tuneMs / Math.max(1, tuneTokens) },
      candidates,
      laneSteps: decode.laneSteps,
      summary,
      mainThreadMaxTimerDelayMs: maxGap,
      compare: compare.length > 0 ? compare : undefined,
      note: note || undefined,
    };
    const outPath = values.out ?? join(resolve(__dirname, '..'), 'bench', 'results', `${entry.id}-${result.date.replace(/[:.]/g, '-')}.json`);
    mkdirSync(dirname(outPath), { recursive: true });
    writeFileSync(outPath, `${JSON.stringify(result, null, 1)}\n`);
    if (values.json) {
      ctx.out(JSON.stringify(result));
      return 0;
    }
    ctx.out(`model ${entry.id}: ${info.parameters ?? '?'} parameters, ${mib(entry.bytes)}; provider ${decode.provider}; load ${ms(decode.loadMs)} ms`);
    ctx.out(`memory bandwidth (copy) ${(bandwidth / 1e9).toFixed(1)} GB/s; weights bound ${ms(result.weightsBoundMsPerToken)} ms/token`);
    ctx.out('');
    ctx.out('plan                  context  prefill ms  decode ms/tok  keys/step  sum/step  vs dense  bound ms/tok');
    for (const r of rows) {
      ctx.out(
        `${r.plan.padEnd(21)} ${String(r.context).padStart(7)}  ${ms(r.prefillMs).padStart(10)}  ${ms(r.decodeMsPerToken).padStart(13)}  ` +
          `${r.keysPerStep.toFixed(0).padStart(9)}  ${(r.singKeysPerStep ?? 0).toFixed(0).padStart(8)}  ${r.denseRatio === undefined ? '        ' : `${r.denseRatio.toFixed(2)}x`.padStart(8)}  ${ms(r.boundMsPerToken).padStart(12)}`,
      );
    }
    ctx.out('');
    ctx.out(`peak RSS ${mib(decode.peakRss)} (before the model: ${mib(decode.baseRss)})`);
    ctx.out(`one-bar continuation (8-bar prompt, ${runs} runs): p50 ${ms(result.oneBarLatencyMs.p50)} ms, p95 ${ms(result.oneBarLatencyMs.p95)} ms`);
    ctx.out(
      `8 bars: 1 candidate ${ms(candidates.oneMs)} ms, 4 candidates ${ms(candidates.fourMs)} ms (${candidates.ratio.toFixed(2)}x; median of ${candRuns}; ` +
        `${candidates.engineWorkers} engine worker(s); CPU ${ms(candidates.oneCpuMs)} vs ${ms(candidates.fourCpuMs)} ms, ${candidates.cpuRatio.toFixed(2)}x)`,
    );
    const ls = decode.laneSteps;
    if (ls) {
      ctx.out(
        `model steps at ${ls.context} tokens, no sampling: ${ls.lanes} lanes ${ms(ls.lanesMsPerStep)} ms vs 1 lane ${ms(ls.oneMsPerStep)} ms (${ls.ratio.toFixed(2)}x; ` +
          `keys per layer ${ls.lanesKeysPerStep.toFixed(0)} vs ${ls.oneKeysPerStep.toFixed(0)})`,
      );
    }
    const x = (v: number | undefined): string => (v === undefined ? 'n/a' : `${v.toFixed(2)}x`);
    ctx.out(`structured decode: 1k at ${x(summary.decode1kOverBound)} its bound; 16k / 1k ${x(summary.decode16kOver1k)}; dense / structured at 16k ${x(summary.dense16kOverStructured)}`);
    ctx.out(`32-bar tune: ${ms(tuneMs)} ms (${tuneTokens} tokens, ${ms(result.wholeTune.msPerToken)} ms/token)`);
    ctx.out(`main-thread max timer delay while decoding: ${ms(maxGap)} ms (${maxGap < 50 ? 'ok' : 'OVER'} the 50 ms limit)`);
    for (const c of compare) {
      ctx.out(`structured decode at ${c.context}: ${entry.id} ${ms(c.ratio * c.decodeMsPerToken)} ms/token vs ${c.id} ${ms(c.decodeMsPerToken)} ms/token (${c.ratio.toFixed(2)}x)`);
    }
    ctx.out(`written: ${outPath}`);
    return 0;
  } catch (e) {
    if (e instanceof EngineError) {
      ctx.err(`refrain: ${e.message}`);
      return 1;
    }
    throw e;
  } finally {
    await client.dispose();
  }
}
