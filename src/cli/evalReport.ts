/**
 * `refrain eval --report`: which structure controls help, by how much (issue 14).
 *
 * One run generates, for every configuration below, the pieces of `refrain eval --forms` (the
 * first `--pieces` test pieces with >= 32 bars, 4-bar prompts continued to 32 bars, seed
 * `--seed + piece index`, temperature 1, top-p 0.95: `formsEvalPieces` and `formsRequest`), and
 * measures them with the forms eval's own code (`addPiece`, `summarise` of `./evalFormsMeasure`: repeat fidelity and
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
 * (`--pe`) under base's controls. See `reportConfigs` in `./evalReportConfigs`. The run's parts: `./evalReportRows`
 * (models, pieces, generation), `./evalReportFigures` and `./evalReportStats` (summaries, differences,
 * bootstrap), `./evalReportMarkdown` (docs/EVALUATION.md).
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
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EngineClient } from '../engine/client';
import { createLineLogger } from '../platform/logger';
import { REFERENCE_FORM } from '../structure/compliance';
import { parseForm } from '../structure/form';
import { cliWorkerPath } from './compose';
import { defaultCorpusRoot } from './corpusBuild';
import { FORMS_PIECE_BARS, FORMS_PROMPT_BARS, round } from './evalFormsMeasure';
import { GROUPS, controlsText } from './evalReportConfigs';
import type { ReportConfig, Role } from './evalReportConfigs';
import { reportFigures } from './evalReportFigures';
import { reportMarkdown, summaryTable } from './evalReportMarkdown';
import { keptConfigs, measureRealRows, planJobs, reportPieces, resolveModels, runWork } from './evalReportRows';
import type { ModelSlot, Perplexity, ReportPieces } from './evalReportRows';
import { DIFF_BOOTSTRAP, DIST_BOOTSTRAP, roundObj } from './evalReportStats';
import type { CliContext } from './usage';
import { UsageError, optionalInt } from './usage';

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
    const slots = await resolveModels(ctx, o, main);
    const kept = keptConfigs(ctx, o, slots);
    const pieces = reportPieces(ctx, o, resolve(o.corpus ?? defaultCorpusRoot()));
    const defaultInfo = slots.get('default')?.info;
    const reference = defaultInfo?.corpusLt ? Float64Array.from(defaultInfo.corpusLt, (v) => (v === null ? Number.NaN : v)) : undefined;
    if (!reference) {
      ctx.err('warning: the default model is missing or its card has no corpus L_t; SE is not reported.');
    }
    const realRows = measureRealRows(o.templates, pieces);
    const jobs = planJobs(kept, o.templates);
    const lanes = (work: number): EngineClient[] => [main, ...Array.from({ length: Math.max(0, Math.min(o.jobs, work) - 1) }, newClient)];
    const { rows, ppl } = await runWork(ctx, o, pieces, jobs, slots, lanes);
    ctx.progress('');

    // Summaries, L_t curves, distribution metrics, differences.
    const figures = reportFigures(rows, realRows, { pieces, slots, reference, seed: o.seed });
    const out = reportJson(o, { started, slots, kept, ppl, pieces, reference, ...figures });
    writeReport(ctx, o, out);
    return 0;
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
  }
}

/** Everything the report's JSON is made of. */
interface ReportParts {
  started: number;
  slots: ReadonlyMap<Role, ModelSlot>;
  kept: readonly ReportConfig[];
  ppl: ReadonlyMap<string, Perplexity>;
  pieces: ReportPieces;
  reference: Float64Array | undefined;
  results: Record<string, unknown>[];
  realResults: Record<string, unknown>[];
  differences: Record<string, unknown>[];
}

/** The report's JSON (bench/results/eval-report.json). */
function reportJson(o: ReportOptions, { started, slots, kept, ppl, pieces, reference, results, realResults, differences }: ReportParts) {
  const n = pieces.tunes.length;
  const tunes = pieces.tunes;
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
  return {
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
}

/** Writes the JSON, the figures and the Markdown, and prints the summary table. */
function writeReport(ctx: CliContext, o: ReportOptions, out: ReturnType<typeof reportJson>): void {
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
