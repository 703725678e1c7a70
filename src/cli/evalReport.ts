/**
 * `refrain eval --report`: which structure controls help, by how much (issue 14).
 *
 * One run generates, for every configuration below, the pieces of `refrain eval --forms` (the
 * first `--pieces` test pieces with >= 32 bars, 4-bar prompts continued to 32 bars, seed
 * `--seed + piece index`, temperature 1, top-p 0.95: `formsEvalPieces` and `formsRequest`), and
 * measures them with the forms eval's own code (`addPiece`, `summarise`: repeat fidelity and
 * contrast at the pairs of `A8 A8 B8 B8`, SSM distance to the template, follows the form, tonic
 * ending, in-mode share, complete bars, ABC read-back, SE against the model card's corpus L_t
 * with the real tunes' floor at the same N), plus the pooled L_t curve and the PerceiverS
 * distribution metrics (`structure/distribution.ts`) of the new bars (4..31) against the same
 * bars of the real tunes, and each model's held-out perplexity (`readShardPieces`, the engine's
 * scorer, as `eval --perplexity`).
 *
 * Configurations: every inference ablation runs on the default model (`--model`), learned only
 * (variation 1: no copy prior; no cadence; no mode lock), with the model's trained related bars
 * and scales, and the real tune's own SSM as the template ("base"); each changes one thing. The
 * model ablations compare the equal-time pair (`--pair`) and the positional-encoding variants
 * (`--pe`) under base's controls. See {@link reportConfigs}.
 *
 * Differences: each configuration against its baseline on the same pieces and seeds, with a
 * paired bootstrap 95% interval over pieces (the same resamples for every comparison).
 *
 * Models come from `--model-dirs` (default `models`, so that a clean clone reproduces the
 * report); a model that is not there, or whose card's test split differs from the shards', is
 * skipped with a line saying so, with every configuration that needs it.
 */

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { modelInfoOf } from '../engine/card';
import { EngineClient } from '../engine/client';
import { EngineError } from '../engine/errors';
import { templateSsm } from '../engine/template';
import type { Candidate, ModelInfo, StructureControls, TemplateSpec } from '../engine/types';
import type { Score } from '../music/score';
import { scoreHead } from '../music/score';
import { throwIfAborted } from '../platform/cancellation';
import { createLineLogger } from '../platform/logger';
import { REFERENCE_FORM, formPairs } from '../structure/compliance';
import { DistributionReference, FEATURES, meanComparison, pieceFeatures, scalarMean } from '../structure/distribution';
import type { FeatureComparisons, FeatureName, GeneratedSet, PieceFeatures } from '../structure/distribution';
import { parseForm } from '../structure/form';
import { barSsm, similarityError } from '../structure/ssm';
import type { Ssm } from '../structure/ssm';
import { cliWorkerPath } from './compose';
import { defaultCorpusRoot } from './corpusBuild';
import { FORMS_PIECE_BARS, FORMS_PROMPT_BARS, RowStats, addPiece, formsEvalPieces, formsRequest, mulberry32, summarise } from './evalForms';
import type { FormsPiece } from './evalForms';
import { readShardPieces } from './evalPerplexity';
import { guardTestSplit } from './evalSplit';
import type { CliContext } from './usage';
import { UsageError, optionalInt } from './usage';

/** Interval length of the L_t curves and SE (Museformer: T = 40). */
const T = 40;
/** Paired bootstrap resamples of the differences (per-piece figures and SE). */
export const DIFF_BOOTSTRAP = 1000;
/** Paired bootstrap resamples of the distribution-metric differences (each resample recomputes densities). */
export const DIST_BOOTSTRAP = 200;
/** How many pieces' SSMs each example run keeps for the figures. */
const EXAMPLES = 3;

export const EVAL_REPORT_HELP = `  refrain eval --report [--pieces 100] [--model-dirs models[,DIR...]] [--model folk-tsrope]
        [--pair STRUCTURED,DENSE] [--pe ID,...] [--templates "own;A8 A8 B8 B8"] [--only GROUPS]
        [--ppl-pieces N] [--jobs 2] [--seed 1] [--shards DIR] [--corpus DIR]
        [--json FILE] [--doc FILE] [--figures DIR] [--no-plots]
      The evaluation report: the forms eval's pieces and seeds under each configuration
      (related bars, template head and positions, scales, summary horizon, copy prior /
      cadence / mode lock on the default model; the equal-time structured/dense pair; the
      positional-encoding variants), with SE and its real floor, L_t curves, SSM distance
      to the template, form compliance, PerceiverS distribution metrics (overlap area, KL),
      validity, held-out perplexity and time per piece; each difference with a paired
      bootstrap interval. Writes the JSON (default bench/results/eval-report.json), the
      figures (matplotlib, default bench/results/eval-report/) and docs/EVALUATION.md.
      A model missing from --model-dirs is skipped with a line saying so.
`;

/** Which model a configuration runs. */
type Role = 'default' | 'structured' | 'dense' | `pe:${string}`;

/** One configuration of the report. */
export interface ReportConfig {
  id: string;
  group: string;
  label: string;
  role: Role;
  /** Changes to base's controls. */
  controls: Partial<StructureControls>;
  /** Generate with no template (measured against each template of the run all the same). */
  noTemplate?: boolean;
  /** The configuration it is compared with (same pieces, seeds and template). */
  baseline?: string;
  /** Generation templates: a subset of `--templates` ('own' and form strings); default all. */
  templates?: 'first';
}

/** The ablation groups in report order, with their titles. */
export const GROUPS: readonly { id: string; title: string }[] = [
  { id: 'base', title: 'Default model, learned only' },
  { id: 'decoding', title: 'Decoding controls: copy prior (variation), cadence, mode lock' },
  { id: 'related', title: 'Related bars (Museformer fine attention)' },
  { id: 'template', title: 'Template head (SING) and template-derived positions' },
  { id: 'scales', title: 'Single vs multi-scale windows (PerceiverS)' },
  { id: 'horizon', title: 'Summary horizon' },
  { id: 'pair', title: 'Structured attention vs the dense baseline (equal-time pair)' },
  { id: 'pe', title: 'Positional encodings (equal-time variants)' },
];

/** The configurations of the report (see the module comment). */
export function reportConfigs(pe: readonly string[]): ReportConfig[] {
  const out: ReportConfig[] = [
    { id: 'base', group: 'base', label: 'default model, learned only, trained related bars and scales', role: 'default', controls: {} },
    {
      id: 'engine-defaults',
      group: 'decoding',
      label: 'engine defaults: copy prior (variation 0.25), cadence, mode lock',
      role: 'default',
      controls: { variation: undefined, cadence: undefined, modeLock: undefined },
      baseline: 'base',
    },
    { id: 'related-recent8', group: 'related', label: 'related bars 1..8 (most recent 8)', role: 'default', controls: { relatedOffsets: [1, 2, 3, 4, 5, 6, 7, 8] }, baseline: 'base', templates: 'first' },
    { id: 'related-none', group: 'related', label: 'no related bars (summaries only)', role: 'default', controls: { relatedOffsets: [] }, baseline: 'base', templates: 'first' },
    { id: 'no-head', group: 'template', label: 'template head off', role: 'default', controls: { templateHead: false }, baseline: 'base' },
    { id: 'no-positions', group: 'template', label: 'template positions off', role: 'default', controls: { templatePositions: false }, baseline: 'base' },
    {
      id: 'no-positions-related',
      group: 'template',
      label: 'template positions and same-source bars in full off',
      role: 'default',
      controls: { templatePositions: false, templateRelated: false },
      baseline: 'base',
    },
    { id: 'no-head-positions', group: 'template', label: 'template head and positions off', role: 'default', controls: { templateHead: false, templatePositions: false }, baseline: 'base' },
    { id: 'no-template', group: 'template', label: 'no template at all', role: 'default', controls: {}, noTemplate: true, baseline: 'base' },
    { id: 'multi-scale', group: 'scales', label: 'multi-scale windows full/256/256/full', role: 'default', controls: { scales: ['full', 256, 256, 'full'] }, baseline: 'base', templates: 'first' },
    { id: 'horizon-all', group: 'horizon', label: 'summary horizon: all bars (base: 64)', role: 'default', controls: { summaryHorizon: 0 }, baseline: 'base', templates: 'first' },
    { id: 'pair-structured', group: 'pair', label: 'structured (fine/coarse attention)', role: 'structured', controls: {} },
    { id: 'pair-dense', group: 'pair', label: 'dense attention', role: 'dense', controls: {}, baseline: 'pair-structured' },
  ];
  pe.forEach((id, i) => {
    out.push({ id: `pe-${id}`, group: 'pe', label: id, role: `pe:${id}`, controls: {}, baseline: i === 0 ? undefined : `pe-${pe[0]}`, templates: 'first' });
  });
  return out;
}

/** Options of {@link runReport}. */
export interface ReportOptions {
  pieces: number;
  modelDirs: string[];
  model: string;
  pair: [string, string];
  pe: string[];
  templates: string[];
  only?: string[];
  pplPieces?: number;
  jobs: number;
  seed: number;
  shards: string;
  corpus?: string;
  json: string;
  doc: string;
  figures: string;
  plots: boolean;
  command: string;
}

export async function runReportCli(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args: args.filter((a) => a !== '--report'),
    allowPositionals: true,
    strict: true,
    options: {
      pieces: { type: 'string' },
      'model-dirs': { type: 'string' },
      model: { type: 'string' },
      pair: { type: 'string' },
      pe: { type: 'string' },
      templates: { type: 'string' },
      only: { type: 'string' },
      'ppl-pieces': { type: 'string' },
      jobs: { type: 'string' },
      seed: { type: 'string' },
      shards: { type: 'string' },
      corpus: { type: 'string' },
      json: { type: 'string' },
      doc: { type: 'string' },
      figures: { type: 'string' },
      'no-plots': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    ctx.out(EVAL_REPORT_HELP);
    return 0;
  }
  if (positionals.length > 0) {
    throw new UsageError(`Unexpected argument "${positionals[0]}".\n${EVAL_REPORT_HELP}`);
  }
  const int = (v: string | undefined, flag: string, min: number, dflt: number): number => optionalInt(v, flag, min) ?? dflt;
  const list = (v: string | undefined, dflt: string[]): string[] => (v === undefined ? dflt : v.split(',').map((s) => s.trim()).filter((s) => s.length > 0));
  const pair = list(values.pair, ['folk-tsrope-pair', 'folk-tsrope-dense']);
  if (pair.length !== 2) {
    throw new UsageError('--pair needs two model ids: STRUCTURED,DENSE.');
  }
  const templates = (values.templates ?? `own;${REFERENCE_FORM}`).split(';').map((s) => s.trim()).filter((s) => s.length > 0);
  for (const t of templates) {
    if (t !== 'own') {
      try {
        parseForm(t);
      } catch (e) {
        throw new UsageError(`--templates: "${t}" is not a form (${(e as Error).message}); use "own" or form strings.`);
      }
    }
  }
  if (templates.length === 0) {
    throw new UsageError('--templates needs at least one template.');
  }
  const only = values.only === undefined ? undefined : list(values.only, []);
  for (const g of only ?? []) {
    if (!GROUPS.some((x) => x.id === g)) {
      throw new UsageError(`--only: unknown group "${g}" (groups: ${GROUPS.map((x) => x.id).join(', ')}).`);
    }
  }
  return runReport(ctx, {
    pieces: int(values.pieces, '--pieces', 1, 100),
    modelDirs: list(values['model-dirs'], ['models']),
    model: values.model ?? 'folk-tsrope',
    pair: [pair[0], pair[1]],
    pe: list(values.pe, ['folk-rope', 'folk-srope', 'folk-ropepool', 'folk-fstripe', 'folk-nope']),
    templates,
    only,
    pplPieces: values['ppl-pieces'] === undefined ? undefined : int(values['ppl-pieces'], '--ppl-pieces', 0, 0),
    jobs: int(values.jobs, '--jobs', 1, 2),
    seed: int(values.seed, '--seed', 0, 1),
    shards: values.shards ?? '.cache/corpus/folk',
    corpus: values.corpus,
    json: values.json ?? 'bench/results/eval-report.json',
    doc: values.doc ?? 'docs/EVALUATION.md',
    figures: values.figures ?? 'bench/results/eval-report',
    plots: !values['no-plots'],
    command: `node bin/refrain.js eval --report ${args.filter((a) => a !== '--report').map(shellWord).join(' ')}`.trim(),
  });
}

function shellWord(a: string): string {
  return /^[\w./,=:@+-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`;
}

/** A model the report uses: present and on the shards' split, or skipped with the reason. */
interface ModelSlot {
  role: Role;
  id: string;
  info?: ModelInfo;
  path?: string;
  created?: string;
  sha256?: string;
  split?: string;
  skipped?: string;
}

/** Per piece figures of one (configuration, template), index = piece; null where generation failed. */
interface PieceRecord {
  fidelity: number;
  contrast: number;
  distance: number;
  follows: number;
  tonic: number;
  inMode: number;
  complete: number;
  abcOk: number;
  seconds: number;
  ltSums: Float64Array;
  ltCounts: Float64Array;
  features: PieceFeatures;
}

/** One measured row: a configuration generated under (or, without template, measured against) one template. */
interface Row {
  config: ReportConfig;
  template: string;
  stats: RowStats;
  pieces: (PieceRecord | null)[];
  examples: { piece: number; template: number[]; generated: number[] }[];
}

/** A unit of work: one configuration, one generation template, measured against `measures`. */
interface Job {
  config: ReportConfig;
  generateWith: string | null;
  measures: string[];
}

/** The measuring template of a piece: the real tune's own SSM or a form (with the piece's pickup). */
function measureTemplate(name: string, real32: Score, prompt: Score): Ssm {
  return name === 'own' ? barSsm(real32) : templateSsm({ kind: 'form', form: name }, prompt, FORMS_PIECE_BARS);
}

function templateSpecOf(name: string, real32: Score): TemplateSpec {
  return name === 'own' ? { kind: 'score', score: real32 } : { kind: 'form', form: name };
}

/** Base's controls for a model: learned only, its trained related bars and scales. */
function baseControls(info: ModelInfo): StructureControls {
  return { relatedOffsets: [...info.trainedOffsets], scales: [], variation: 1, cadence: false, modeLock: false };
}


/** Bootstrap draws: `count` resamples of `n` units, as per-unit weights (how often each was drawn). */
export function bootstrapWeights(n: number, count: number, seed: number): Float64Array[] {
  const rand = mulberry32(seed);
  const out: Float64Array[] = [];
  for (let r = 0; r < count; r++) {
    const w = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      w[Math.floor(rand() * n)]++;
    }
    out.push(w);
  }
  return out;
}

/** 2.5th and 97.5th percentiles (nearest rank) of finite draws. */
export function percentileInterval(draws: readonly number[]): [number, number] {
  const ok = draws.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (ok.length === 0) {
    return [Number.NaN, Number.NaN];
  }
  const at = (q: number): number => ok[Math.min(ok.length - 1, Math.max(0, Math.round(q * (ok.length - 1))))];
  return [at(0.025), at(0.975)];
}

/** Weighted mean of per-piece values (weights per piece; NaN values and zero weights skipped). */
export function weightedMean(values: readonly number[], weights: ArrayLike<number> | undefined): number {
  let s = 0;
  let w = 0;
  for (let k = 0; k < values.length; k++) {
    const wk = weights ? weights[k] : 1;
    if (wk > 0 && Number.isFinite(values[k])) {
      s += wk * values[k];
      w += wk;
    }
  }
  return w > 0 ? s / w : Number.NaN;
}

/** Pooled L_t (sum of pair sums over sum of pair counts per t) of weighted pieces. */
export function pooledLt(sums: readonly (Float64Array | null)[], counts: readonly (Float64Array | null)[], weights?: ArrayLike<number>): Float64Array {
  const lt = new Float64Array(T + 1);
  for (let t = 0; t <= T; t++) {
    let s = 0;
    let c = 0;
    for (let k = 0; k < sums.length; k++) {
      const wk = weights ? weights[k] : 1;
      const sk = sums[k];
      const ck = counts[k];
      if (wk > 0 && sk && ck) {
        s += wk * sk[t];
        c += wk * ck[t];
      }
    }
    lt[t] = c > 0 ? s / c : Number.NaN;
  }
  return lt;
}

const PER_PIECE: readonly { key: 'fidelity' | 'contrast' | 'distance' | 'follows' | 'tonic' | 'inMode' | 'complete' | 'abcOk'; name: string; scale: number; better: 'higher' | 'lower' | 'closer' }[] = [
  { key: 'follows', name: 'followsFormPercent', scale: 100, better: 'higher' },
  { key: 'fidelity', name: 'repeatFidelity', scale: 1, better: 'closer' },
  { key: 'contrast', name: 'contrast', scale: 1, better: 'closer' },
  { key: 'distance', name: 'templateDistance', scale: 1, better: 'lower' },
  { key: 'tonic', name: 'tonicEndingPercent', scale: 100, better: 'higher' },
  { key: 'inMode', name: 'inModePercent', scale: 100, better: 'closer' },
  { key: 'complete', name: 'completePercent', scale: 100, better: 'higher' },
  { key: 'abcOk', name: 'abcReadsBackPercent', scale: 100, better: 'higher' },
];

/** Runs the report; resolves to the exit code. */
export async function runReport(ctx: CliContext, o: ReportOptions): Promise<number> {
  const started = Date.now();
  const dirs = o.modelDirs.map((d) => resolve(d));
  const clients: EngineClient[] = [];
  const newClient = (): EngineClient => {
    const c = new EngineClient({
      modelsDir: dirs[0],
      extraModelDirs: dirs.slice(1),
      executionProvider: 'cpu',
      threads: 1,
      workerPath: cliWorkerPath(),
      log: createLineLogger((l) => ctx.err(l), 'warn'),
    });
    clients.push(c);
    return c;
  };
  const main = newClient();
  try {
    // Models: present and on the shards' test split, or skipped with a line.
    const wanted: { role: Role; id: string }[] = [
      { role: 'default', id: o.model },
      { role: 'structured', id: o.pair[0] },
      { role: 'dense', id: o.pair[1] },
      ...o.pe.map((id) => ({ role: `pe:${id}` as Role, id })),
    ];
    const slots = new Map<Role, ModelSlot>();
    for (const w of wanted) {
      const slot: ModelSlot = { ...w };
      try {
        const entry = await main.resolveModel(w.id);
        slot.info = modelInfoOf(entry);
        slot.path = relative(process.cwd(), entry.dir) || entry.dir;
        const card = entry.card as { created?: string; onnx?: { sha256?: string } };
        slot.created = card.created;
        slot.sha256 = card.onnx?.sha256;
        try {
          slot.split = guardTestSplit(ctx, w.id, entry.card, o.shards).status;
        } catch (e) {
          slot.skipped = `its card's test split is not the shards' (${(e as Error).message.split(';')[0]})`;
          slot.info = undefined;
        }
      } catch (e) {
        if (!(e instanceof EngineError) || e.code !== 'model-not-found') {
          throw e;
        }
        slot.skipped = `not found in ${o.modelDirs.join(', ')}`;
      }
      if (slot.skipped) {
        ctx.err(`skipped: model ${w.id} (${w.role}): ${slot.skipped}; its configurations are left out.`);
      }
      slots.set(w.role, slot);
    }
    const configs = reportConfigs(o.pe).filter((c) => (o.only ? o.only.includes(c.group) || c.id === 'base' || c.id === 'pair-structured' || c.id === `pe-${o.pe[0]}` : true));
    const kept = configs.filter((c) => slots.get(c.role)?.info !== undefined);
    for (const c of configs) {
      if (!kept.includes(c)) {
        ctx.err(`skipped: configuration ${c.id} (model ${slots.get(c.role)?.id} missing).`);
      }
    }
    const corpusRoot = resolve(o.corpus ?? defaultCorpusRoot());
    const tunes: FormsPiece[] = formsEvalPieces(ctx, o.shards, corpusRoot, o.pieces);
    const n = tunes.length;
    const real32s = tunes.map((t) => scoreHead(t.score, FORMS_PIECE_BARS));
    const prompts = tunes.map((t) => scoreHead(t.score, FORMS_PROMPT_BARS));
    const defaultInfo = slots.get('default')?.info;
    const reference = defaultInfo?.corpusLt ? Float64Array.from(defaultInfo.corpusLt, (v) => (v === null ? Number.NaN : v)) : undefined;
    if (!reference) {
      ctx.err('warning: the default model is missing or its card has no corpus L_t; SE is not reported.');
    }

    // The real tunes: cut to 32 bars; features of bars 4..31 (the bars the models write).
    const realFeatures = real32s.map((s) => pieceFeatures(s, FORMS_PROMPT_BARS, FORMS_PIECE_BARS));
    const distRef = new DistributionReference(realFeatures);
    const realRows = new Map<string, Row>();
    for (const tname of o.templates) {
      const row: Row = { config: { id: 'real', group: 'real', label: 'real tunes', role: 'default', controls: {} }, template: tname, stats: new RowStats(), pieces: [], examples: [] };
      for (let k = 0; k < n; k++) {
        row.pieces.push(measure(row.stats, real32s[k], measureTemplate(tname, real32s[k], prompts[k]), tunes[k].score, realFeatures[k], 0));
      }
      realRows.set(tname, row);
    }

    // Jobs: one per (configuration, generation template); without a template one generation for all.
    const jobs: Job[] = [];
    for (const c of kept) {
      const ts = c.templates === 'first' ? o.templates.slice(0, 1) : o.templates;
      if (c.noTemplate) {
        jobs.push({ config: c, generateWith: null, measures: ts });
      } else {
        for (const t of ts) {
          jobs.push({ config: c, generateWith: t, measures: [t] });
        }
      }
    }
    const rows = new Map<string, Row>();
    const rowKey = (id: string, t: string): string => `${id}@${t}`;
    let done = 0;
    const total = jobs.reduce((s) => s + n, 0);
    const runJob = async (client: EngineClient, job: Job): Promise<void> => {
      const slot = slots.get(job.config.role) as ModelSlot;
      const info = slot.info as ModelInfo;
      const own: Row[] = job.measures.map((t) => ({ config: job.config, template: t, stats: new RowStats(), pieces: [], examples: [] }));
      for (let k = 0; k < n; k++) {
        throwIfAborted(ctx.signal);
        done++;
        ctx.progress(`${done}/${total}: ${job.config.id}, ${job.generateWith ?? 'no template'}, piece ${k + 1}/${n}`);
        const controls: StructureControls = { ...baseControls(info), ...job.config.controls };
        for (const key of Object.keys(controls) as (keyof StructureControls)[]) {
          if (controls[key] === undefined) {
            delete controls[key];
          }
        }
        if (job.generateWith !== null) {
          controls.template = templateSpecOf(job.generateWith, real32s[k]);
        }
        const t0 = Date.now();
        let cand: Candidate | undefined;
        try {
          cand = (await client.generate(formsRequest(slot.id, prompts[k], controls, o.seed, k, 1), { signal: ctx.signal }))[0];
        } catch (err) {
          if (!(err instanceof EngineError) || err.code === 'cancelled') {
            throw err;
          }
          ctx.err(`warning: ${tunes[k].source}, ${job.config.id}: ${err.message}`);
        }
        const seconds = (Date.now() - t0) / 1000;
        for (const row of own) {
          if (!cand) {
            row.stats.failed++;
            row.pieces.push(null);
            continue;
          }
          const template = measureTemplate(row.template, real32s[k], prompts[k]);
          const features = pieceFeatures(cand.score, FORMS_PROMPT_BARS, FORMS_PIECE_BARS);
          row.pieces.push(measure(row.stats, cand.score, template, undefined, features, seconds));
          row.stats.seconds += seconds;
          row.stats.tokens += cand.tokens;
          if (row.examples.length < EXAMPLES) {
            row.examples.push({ piece: k, template: roundAll(template.data), generated: roundAll(barSsm(cand.score).data) });
          }
        }
      }
      for (const row of own) {
        rows.set(rowKey(row.config.id, row.template), row);
      }
    };
    // Held-out perplexity of each model used (own template and none), as `eval --perplexity`.
    const pplPieces = o.pplPieces === 0 ? [] : readShardPieces(o.shards, 'test', o.pplPieces ?? Infinity);
    const ppl = new Map<string, { own: number; none: number; tokens: number; pieces: number; seconds: number }>();
    const pplModels = [...new Set(kept.map((c) => slots.get(c.role) as ModelSlot))];
    const runPpl = async (client: EngineClient, slot: ModelSlot): Promise<void> => {
      const t0 = Date.now();
      ctx.progress(`perplexity: ${slot.id}`);
      const own = await client.score(slot.id, { pieces: pplPieces, template: 'own', chunk: 256 }, ctx.signal);
      const none = await client.score(slot.id, { pieces: pplPieces, template: 'none', chunk: 256 }, ctx.signal);
      ppl.set(slot.id, { own: own.perplexity, none: none.perplexity, tokens: own.tokens, pieces: own.pieces, seconds: (Date.now() - t0) / 1000 });
    };
    const work: (() => (client: EngineClient) => Promise<void>)[] = [
      ...jobs.map((j) => () => (c: EngineClient) => runJob(c, j)),
      ...(pplPieces.length > 0 ? pplModels.map((s) => () => (c: EngineClient) => runPpl(c, s)) : []),
    ];
    let next = 0;
    const lane = async (client: EngineClient): Promise<void> => {
      while (next < work.length) {
        const w = work[next++]();
        await w(client);
      }
    };
    const lanes = [main, ...Array.from({ length: Math.max(0, Math.min(o.jobs, work.length) - 1) }, newClient)];
    await Promise.all(lanes.map(lane));
    ctx.progress('');

    // Summaries, L_t curves, distribution metrics, differences.
    const weights = bootstrapWeights(n, DIFF_BOOTSTRAP, o.seed);
    const distWeights = weights.slice(0, DIST_BOOTSTRAP);
    const distSets = new Map<string, Record<FeatureName, GeneratedSet>>();
    const distSetsOf = (key: string, row: Row): Record<FeatureName, GeneratedSet> => {
      let s = distSets.get(key);
      if (!s) {
        const present = row.pieces.map((p, k) => ({ p, k })).filter((x) => x.p !== null) as { p: PieceRecord; k: number }[];
        s = {} as Record<FeatureName, GeneratedSet>;
        for (const f of FEATURES) {
          s[f] = distRef.overall[f].against(present.map((x) => x.p.features.overall[f]), present.map((x) => x.k));
        }
        distSets.set(key, s);
      }
      return s;
    };
    const summaryOf = (key: string, row: Row, isReal: boolean): Record<string, unknown> => {
      const base = summarise(row.config.label, row.stats, formPairs(REFERENCE_FORM), reference, o.seed);
      const lt = pooledLt(row.pieces.map((p) => p?.ltSums ?? null), row.pieces.map((p) => p?.ltCounts ?? null));
      const present = row.pieces.filter((p): p is PieceRecord => p !== null).map((p) => p.features);
      const dist = isReal ? undefined : distRef.compare(present);
      return {
        id: row.config.id,
        group: row.config.group,
        template: row.template,
        model: isReal ? null : (slots.get(row.config.role) as ModelSlot).id,
        generatedWithout: row.config.noTemplate ? 'template' : undefined,
        ...base,
        lt: Array.from(lt.subarray(1), (v) => round(v, 4)),
        distribution: dist ? distJson(dist) : undefined,
        scalarMeans: Object.fromEntries((['pr', 'pi', 'ioi'] as const).map((f) => [f, round(scalarMean(present.map((x) => x.overall[f])), 3)])),
        examples: row.examples.length > 0 ? row.examples : undefined,
        key,
      };
    };
    const results = [...rows.entries()].map(([key, row]) => summaryOf(key, row, false));
    const realResults = [...realRows.entries()].map(([t, row]) => ({
      ...summaryOf(`real@${t}`, row, true),
      scalarMeans: Object.fromEntries((['pr', 'pi', 'ioi'] as const).map((f) => [f, round(scalarMean(realFeatures.map((x) => x.overall[f])), 3)])),
    }));

    const differences: Record<string, unknown>[] = [];
    for (const [key, row] of rows) {
      const bId = row.config.baseline;
      if (!bId) {
        continue;
      }
      const bKey = rowKey(bId, row.template);
      const b = rows.get(bKey);
      if (!b) {
        continue;
      }
      const both: number[] = row.pieces.map((p, k) => (p !== null && b.pieces[k] !== null ? 1 : 0));
      const metrics: Record<string, unknown> = {};
      for (const m of PER_PIECE) {
        const x = row.pieces.map((p) => (p ? p[m.key] : Number.NaN));
        const y = b.pieces.map((p) => (p ? p[m.key] : Number.NaN));
        const d = (w: ArrayLike<number>): number => m.scale * (weightedMean(x, mul(w, both)) - weightedMean(y, mul(w, both)));
        metrics[m.name] = interval(d(both), weights.map(d), m.better);
      }
      if (reference) {
        const seOf = (r: Row, w: ArrayLike<number>): number =>
          similarityError(pooledLt(r.pieces.map((p) => p?.ltSums ?? null), r.pieces.map((p) => p?.ltCounts ?? null), w), reference, T);
        const d = (w: ArrayLike<number>): number => 100 * (seOf(row, mul(w, both)) - seOf(b, mul(w, both)));
        metrics.seX100 = interval(d(both), weights.map(d), 'lower');
      }
      const xs = distSetsOf(key, row);
      const ys = distSetsOf(bKey, b);
      const meanOa = (s: Record<FeatureName, GeneratedSet>, w?: ArrayLike<number>): number => {
        const v = FEATURES.map((f) => s[f].compare(w).oa).filter((z) => Number.isFinite(z));
        return v.length > 0 ? v.reduce((a, c) => a + c, 0) / v.length : Number.NaN;
      };
      const dOa = (w?: ArrayLike<number>): number => meanOa(xs, w && mul(w, both)) - meanOa(ys, w && mul(w, both));
      metrics.meanOverlapArea = interval(dOa(both), distWeights.map(dOa), 'higher');
      const secs = (r: Row): number => weightedMean(r.pieces.map((p) => (p ? p.seconds : Number.NaN)), both);
      metrics.timeRatio = { value: round(secs(row) / secs(b), 3) };
      differences.push({ key, id: row.config.id, group: row.config.group, template: row.template, against: bId, pieces: both.reduce((s, v) => s + v, 0), metrics });
    }

    const seconds = (Date.now() - started) / 1000;
    const models = [...slots.values()].map((s) => ({
      role: s.role,
      id: s.id,
      present: s.info !== undefined,
      skipped: s.skipped ?? null,
      path: s.path ?? null,
      created: s.created ?? null,
      sha256: s.sha256 ?? null,
      pe: s.info?.pe ?? null,
      plans: s.info?.plans ?? null,
      split: s.split ?? null,
      perplexity: ppl.get(s.id) ? roundObj(ppl.get(s.id) as Record<string, number>) : null,
    }));
    const out = {
      report: 'refrain eval --report',
      command: o.command,
      commit: gitCommit(),
      date: new Date(started).toISOString(),
      runSeconds: Math.round(seconds),
      machine: `${cpus().length} CPU cores (${availableParallelism()} available), ${o.jobs} engine workers of 1 thread each`,
      pieces: n,
      promptBars: FORMS_PROMPT_BARS,
      bars: FORMS_PIECE_BARS,
      seed: o.seed,
      templates: o.templates,
      sampling: 'temperature 1, top-p 0.95, seed = --seed + piece index, one candidate',
      base: 'learned only (variation 1, no cadence, no mode lock), the model\'s trained related offsets, scales [] (each layer\'s first trained window), summary horizon 64',
      bootstrap: { resamples: DIFF_BOOTSTRAP, distributionResamples: DIST_BOOTSTRAP, seed: o.seed, level: 0.95, paired: 'the same resampled pieces for a configuration and its baseline' },
      distribution: 'PerceiverS/mgeval: per feature, Gaussian-KDE densities of the intra-set distances of the real tunes and the inter-set distances generated-to-real; OA = overlap area, KL = KL(intra-real || inter) in nats; bars 5..32 (the new bars) of each piece; segments = 4-bar segments pooled',
      corpusLt: reference ? Array.from(reference.subarray(1), (v) => round(v, 4)) : null,
      models,
      configurations: kept.map((c) => ({
        id: c.id,
        group: c.group,
        label: c.label,
        model: slots.get(c.role)?.id,
        controls: c.noTemplate ? 'template omitted' : controlsText(c.controls),
        baseline: c.baseline ?? null,
      })),
      groups: GROUPS,
      results,
      real: realResults,
      differences,
      pieceSources: tunes.map((t) => t.source),
    };
    mkdirSync(dirname(o.json), { recursive: true });
    writeFileSync(o.json, `${JSON.stringify(out, null, 1)}\n`);
    ctx.err(`wrote ${o.json}`);
    let plots: string[] = [];
    if (o.plots) {
      plots = drawPlots(ctx, o.json, o.figures);
    }
    mkdirSync(dirname(o.doc), { recursive: true });
    writeFileSync(o.doc, reportMarkdown(out, plots, o.doc));
    ctx.err(`wrote ${o.doc}`);
    ctx.out(summaryTable(out));
    return 0;
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
  }
}

/** The controls a configuration changes, as text (`key: value`; an undefined value is the engine's default). */
export function controlsText(c: Partial<StructureControls>): string {
  const parts = Object.entries(c).map(([k, v]) => `${k}: ${v === undefined ? 'engine default' : JSON.stringify(v)}`);
  return parts.length > 0 ? parts.join(', ') : '-';
}

function mul(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    out[i] = a[i] * b[i];
  }
  return out;
}

/** A difference with its bootstrap interval, and whether the interval excludes 0. */
function interval(value: number, draws: number[], better: 'higher' | 'lower' | 'closer'): Record<string, unknown> {
  const [lo, hi] = percentileInterval(draws);
  return { value: round(value, 4), ci95: [round(lo, 4), round(hi, 4)], excludesZero: Number.isFinite(lo) && (lo > 0 || hi < 0), better };
}

/** One piece's figures: added to the row's stats (the forms eval's `addPiece`) and kept per piece. */
function measure(stats: RowStats, score: Score, template: Ssm, whole: Score | undefined, features: PieceFeatures, seconds: number): PieceRecord {
  const before = { tonic: stats.tonic, notes: stats.notes, inMode: stats.notesInMode, bars: stats.bars, complete: stats.barsComplete, abc: stats.abcOk };
  addPiece(stats, score, template, formPairs(REFERENCE_FORM), whole);
  const last = <X>(xs: X[]): X => xs[xs.length - 1];
  const notes = stats.notes - before.notes;
  const bars = stats.bars - before.bars;
  return {
    fidelity: last(stats.fidelity),
    contrast: last(stats.contrast),
    distance: last(stats.distance),
    follows: last(stats.follows),
    tonic: stats.tonic - before.tonic,
    inMode: notes > 0 ? (stats.notesInMode - before.inMode) / notes : Number.NaN,
    complete: bars > 0 ? (stats.barsComplete - before.complete) / bars : Number.NaN,
    abcOk: stats.abcOk - before.abc,
    seconds,
    ltSums: last(stats.ltSums),
    ltCounts: last(stats.ltCounts),
    features,
  };
}

function distJson(d: { overall: FeatureComparisons; segment: FeatureComparisons }): Record<string, unknown> {
  const part = (c: FeatureComparisons): Record<string, unknown> => {
    const m = meanComparison(c);
    return {
      ...Object.fromEntries(FEATURES.map((f) => [f, { oa: round(c[f].oa, 4), kl: round(c[f].kl, 4) }])),
      mean: { oa: round(m.oa, 4), kl: round(m.kl, 4) },
    };
  };
  return { overall: part(d.overall), segment: part(d.segment) };
}

function round(x: number, digits: number): number | null {
  if (!Number.isFinite(x)) {
    return null;
  }
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function roundAll(xs: ArrayLike<number>): number[] {
  return Array.from(xs, (v) => Math.round(v * 1000) / 1000);
}

function roundObj(o: Record<string, number>): Record<string, number | null> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Number.isInteger(v) ? v : round(v, 4)]));
}

function gitCommit(): string {
  const r = spawnSync('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8' });
  if (r.status !== 0) {
    return 'unknown';
  }
  // What the report's numbers depend on: the CLI, the engine and the pure layers, the models, the plots.
  const paths = ['src/cli', 'src/engine', 'src/structure', 'src/music', 'src/tokens', 'src/platform', 'models', 'scripts/eval-report'];
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=all', '--', ...paths], { encoding: 'utf8' });
  const changed = dirty.status === 0 ? dirty.stdout.split('\n').filter((l) => l.trim().length > 0 && !l.includes('models/train/')).length : 0;
  return `${r.stdout.trim()}${changed > 0 ? ` (with ${changed} uncommitted or untracked files under ${paths.join(', ')})` : ''}`;
}

/** Runs scripts/eval-report/plots.py (matplotlib, Debian's /usr/bin/python3); returns the PNG paths written. */
function drawPlots(ctx: CliContext, json: string, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const python = process.env.REFRAIN_PYTHON ?? '/usr/bin/python3';
  const rel = join('scripts', 'eval-report', 'plots.py');
  const script = [resolve(__dirname, '..', rel), resolve(rel)].find((p) => existsSync(p)) ?? resolve(rel);
  const r = spawnSync(python, [script, json, dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    ctx.err(`warning: the plots were not drawn (${python} ${script}): ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' ')}`);
    return [];
  }
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.endsWith('.png'));
}

type Json = Record<string, unknown>;

const f = (v: unknown, d = 2): string => (typeof v === 'number' ? v.toFixed(d) : '-');

function seCell(r: Json): string {
  const iv = r.seInterval95 as [number | null, number | null] | null;
  return typeof r.se === 'number' && iv ? `${(100 * r.se).toFixed(2)} [${f(iv[0] === null ? null : 100 * iv[0])}, ${f(iv[1] === null ? null : 100 * iv[1])}]` : '-';
}

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function resultRow(r: Json): string[] {
  const dist = r.distribution as { overall: { mean: { oa: number; kl: number } }; segment: { mean: { oa: number; kl: number } } } | undefined;
  return [
    String(r.id === 'real' ? '**real tunes**' : r.id) + (typeof r.failed === 'number' && r.failed > 0 ? ` (${r.failed} failed)` : ''),
    String(r.template),
    f(r.followsFormPercent, 1),
    f(r.repeatFidelity),
    f(r.contrast),
    f(r.templateDistance, 3),
    f(r.tonicEndingPercent, 0),
    f(r.inModePercent, 1),
    seCell(r),
    dist ? f(dist.overall.mean.oa, 3) : '-',
    dist ? f(dist.overall.mean.kl, 3) : '-',
    dist ? f(dist.segment.mean.oa, 3) : '-',
    f(r.completePercent, 1),
    f(r.abcReadsBackPercent, 0),
    f(r.secondsPerPiece, 2),
  ];
}

const RESULT_HEAD = ['configuration', 'template', 'follows %', 'fidelity', 'contrast', 'tmpl dist', 'tonic %', 'in-mode %', 'SE x100 [95% CI]', 'OA', 'KL', 'OA/seg', 'complete %', 'ABC %', 's/piece'];

/** The text table printed at the end of a run. */
function summaryTable(out: { results: Json[]; real: Json[]; pieces: number; runSeconds: number }): string {
  const rows = [...out.results.map(resultRow), ...out.real.map(resultRow)];
  return `evaluation report: ${out.pieces} pieces, ${out.runSeconds} s\n${table(RESULT_HEAD, rows)}`;
}

function diffCell(m: Json | undefined, d = 2): string {
  if (!m) {
    return '-';
  }
  const ci = m.ci95 as [number | null, number | null] | undefined;
  const v = f(m.value, d);
  if (!ci) {
    return v;
  }
  const mark = m.excludesZero ? ' *' : '';
  return `${v} [${f(ci[0], d)}, ${f(ci[1], d)}]${mark}`;
}

const VERDICT_METRICS: readonly [string, string, number][] = [
  ['followsFormPercent', 'follows the form', 1],
  ['templateDistance', 'template distance', 4],
  ['seX100', 'SE x100', 2],
  ['meanOverlapArea', 'mean OA', 3],
  ['tonicEndingPercent', 'tonic ending %', 1],
];

/** One sentence on a difference: which directed metrics it moves, and which way. */
export function verdict(d: Json): string {
  const m = d.metrics as Record<string, Json | undefined>;
  const better: string[] = [];
  const worse: string[] = [];
  const same: string[] = [];
  for (const [key, name, digits] of VERDICT_METRICS) {
    const x = m[key];
    if (!x || typeof x.value !== 'number') {
      continue;
    }
    const v = x.value;
    const text = `${name} ${v > 0 ? '+' : ''}${v.toFixed(digits)}`;
    if (!x.excludesZero) {
      same.push(name);
    } else if ((x.better === 'higher') === v > 0) {
      better.push(text);
    } else {
      worse.push(text);
    }
  }
  const parts = [
    better.length > 0 ? `better: ${better.join(', ')}` : '',
    worse.length > 0 ? `worse: ${worse.join(', ')}` : '',
    same.length > 0 ? `no measurable difference: ${same.join(', ')}` : '',
  ].filter((x) => x.length > 0);
  return `**${String(d.id)}** [${String(d.template)}] vs ${String(d.against)}: ${parts.join('; ')}.`;
}

/** docs/EVALUATION.md from the report's JSON. */
export function reportMarkdown(out: Record<string, unknown> & { results: Json[]; real: Json[]; differences: Json[]; models: Json[] }, plots: string[], docPath: string): string {
  const lines: string[] = [];
  const o = out as Record<string, unknown>;
  const rel = (p: string): string => relative(dirname(resolve(docPath)), resolve(p)).split('\\').join('/');
  lines.push('# Evaluation report: which structure controls help, and by how much');
  lines.push('');
  lines.push('Generated by `refrain eval --report` (`src/cli/evalReport.ts`); do not edit by hand: rerun the command.');
  lines.push('');
  lines.push(`- Command: \`${String(o.command)}\``);
  lines.push(`- Commit: \`${String(o.commit)}\`; run started ${String(o.date)}; run time ${Math.round(Number(o.runSeconds) / 60)} min (${String(o.runSeconds)} s) on ${String(o.machine)}.`);
  lines.push(`- Pieces: the first ${String(o.pieces)} test-split tunes with >= 32 bars (the pieces of \`refrain eval --forms\`), ${String(o.promptBars)}-bar prompts continued to ${String(o.bars)} bars; ${String(o.sampling)}.`);
  lines.push(`- Base configuration: ${String(o.base)}; template = the real tune's own bar SSM ("own") or a form string.`);
  lines.push(`- Intervals: paired bootstrap over pieces, ${DIFF_BOOTSTRAP} resamples (${DIST_BOOTSTRAP} for the distribution metrics), 95%; \`*\` = the interval excludes 0.`);
  lines.push('- Only figures and generated music are reported: no bars of corpus tunes (the template SSM images of "own" are similarity matrices, not notes).');
  lines.push('');
  lines.push('## Models');
  lines.push('');
  lines.push(
    table(
      ['role', 'model', 'status', 'PE', 'attention', 'card created', 'held-out ppl (own / none)'],
      out.models.map((m) => {
        const p = m.perplexity as { own: number; none: number; pieces: number } | null;
        const plans = m.plans as string[] | null;
        return [
          String(m.role),
          String(m.id),
          m.present ? `\`${String(m.path)}\`` : `skipped: ${String(m.skipped)}`,
          String(m.pe ?? '-'),
          plans ? [...new Set(plans)].join('/') : '-',
          String(m.created ?? '-'),
          p ? `${f(p.own, 3)} / ${f(p.none, 3)} (${p.pieces} pieces)` : '-',
        ];
      }),
    ),
  );
  lines.push('');
  lines.push('## Definitions');
  lines.push('');
  lines.push('- **follows %**: the share of the new bars\' pairs that the template marks the same and that come back (Jaccard >= 0.5), and of those it marks different that stay apart (`structure/compliance.ts`, `followsForm`).');
  lines.push('- **fidelity / contrast**: mean bar Jaccard at the `A8 A8 B8 B8` pairs (bar i and i+8 in each part / bar i and i+16); real folk tunes sit near 0.8-0.9 and 0.1-0.25.');
  lines.push('- **tmpl dist**: SSM distance of the piece to its template (SING). **tonic %**: last note of the 32-bar piece on the key\'s final (the real tunes: at their own end). **in-mode %**: new notes in the key\'s mode.');
  lines.push('- **SE**: Museformer similarity error (T = 40) against the default model card\'s corpus L_t, the pieces pooled; the real tunes\' row is the floor at the same N.');
  lines.push(`- **OA / KL**: PerceiverS distribution metrics of the new bars: ${String(o.distribution)}. OA and KL in the tables are means over the seven features (pitch-class histogram and transitions, pitch range, average pitch interval, inter-onset interval, note-length histogram and transitions); per-feature figures are in the JSON.`);
  lines.push('- **complete %**: metrically complete new bars; **ABC %**: pieces whose written ABC reads back with the same bars; **s/piece**: generation time per 28-bar piece on one thread.');
  lines.push('');
  lines.push('## Configurations');
  lines.push('');
  lines.push('Every configuration changes base\'s controls as listed (the engine request\'s `controls`); "template head off" feeds the SING head no template (it then weighs every earlier bar the same), "template positions off" gives no structural source bar (`sbar`), "same-source bars off" stops the bars the template marks the same from being attended in full, "no template" omits the template (the engine\'s own default for a continuation); such rows are still measured against the template of their column.');
  lines.push('');
  lines.push(
    table(
      ['id', 'group', 'what', 'model', 'controls changed', 'baseline'],
      (out.configurations as Json[]).map((c) => [
        String(c.id),
        String(c.group),
        String(c.label),
        String(c.model),
        String(c.controls),
        String(c.baseline ?? '-'),
      ]),
    ),
  );
  lines.push('');
  lines.push('## All configurations');
  lines.push('');
  lines.push(table(RESULT_HEAD, [...out.results.map(resultRow), ...out.real.map(resultRow)]));
  lines.push('');
  lines.push('## Ablations: differences against the baseline (configuration minus baseline, same pieces and seeds)');
  lines.push('');
  lines.push('Better is: follows % higher; template distance, SE and KL lower; OA higher; fidelity and contrast closer to the real tunes.');
  lines.push('');
  const diffHead = ['configuration', 'template', 'vs', 'Δ follows %', 'Δ fidelity', 'Δ contrast', 'Δ tmpl dist', 'Δ SE x100', 'Δ mean OA', 'Δ tonic %', 'time ratio'];
  for (const g of out.groups as { id: string; title: string }[]) {
    const ds = out.differences.filter((d) => d.group === g.id);
    if (ds.length === 0) {
      continue;
    }
    lines.push(`### ${g.title}`);
    lines.push('');
    lines.push(
      table(
        diffHead,
        ds.map((d) => {
          const m = d.metrics as Record<string, Json>;
          return [
            String(d.id),
            String(d.template),
            String(d.against),
            diffCell(m.followsFormPercent, 1),
            diffCell(m.repeatFidelity, 3),
            diffCell(m.contrast, 3),
            diffCell(m.templateDistance, 4),
            diffCell(m.seX100, 2),
            diffCell(m.meanOverlapArea, 3),
            diffCell(m.tonicEndingPercent, 1),
            f(m.timeRatio?.value, 2),
          ];
        }),
      ),
    );
    lines.push('');
  }
  lines.push('## Findings (from the intervals above)');
  lines.push('');
  lines.push('Each line: the configuration against its baseline, on the metrics with a direction (follows %, template distance, SE, mean OA, tonic ending); "better"/"worse" only where the 95% interval excludes 0.');
  lines.push('');
  for (const d of out.differences) {
    lines.push(`- ${verdict(d)}`);
  }
  lines.push('');
  lines.push('## Distribution metrics per feature (template "own")');
  lines.push('');
  const distRows = out.results.filter((r) => r.template === 'own' && r.distribution);
  for (const part of ['overall', 'segment'] as const) {
    lines.push(`${part === 'overall' ? 'Whole new span (bars 5-32)' : 'Per 4-bar segment'}: OA (higher is closer) / KL (lower is closer).`);
    lines.push('');
    lines.push(
      table(
        ['configuration', ...FEATURES],
        distRows.map((r) => {
          const d = (r.distribution as Record<string, Record<string, { oa: number; kl: number }>>)[part];
          return [String(r.id), ...FEATURES.map((x) => `${f(d[x].oa, 2)} / ${f(d[x].kl, 2)}`)];
        }),
      ),
    );
    lines.push('');
  }
  const realOwn = out.real.find((r) => r.template === 'own');
  if (realOwn) {
    const sm = realOwn.scalarMeans as Record<string, number>;
    lines.push(`Means of the real tunes' new span: pitch range ${f(sm.pr, 1)} semitones, average interval ${f(sm.pi, 2)} semitones, inter-onset interval ${f(sm.ioi, 3)} quarters; each configuration's means are in the JSON (\`scalarMeans\`).`);
    lines.push('');
  }
  if (plots.length > 0) {
    lines.push('## Figures');
    lines.push('');
    for (const p of plots) {
      const name = p.split('/').pop() as string;
      lines.push(`![${name.replace(/\.png$/, '')}](${rel(p)})`);
      lines.push('');
    }
  }
  lines.push('## Reproduce');
  lines.push('');
  lines.push('From a clean clone with `../shared/corpus` beside it and the committed models: `npm ci`, `node bin/refrain.js corpus build --folders folk-abc --out .cache/corpus/folk`, then the command above (`npm run eval:report` runs the default). The numbers are the same apart from timings (one engine thread per worker makes the arithmetic independent of the machine\'s thread count). `--pieces 10` gives a quick run.');
  lines.push('');
  return `${lines.join('\n')}\n`;
}
