/**
 * The measuring of `refrain eval --report` (`./evalReport`): the models it finds, the pieces,
 * the real tunes' rows, and the generation and perplexity work spread over engine workers, each
 * generated piece measured with the forms eval's own code.
 */

import { relative } from 'node:path';
import { modelInfoOf } from '../engine/card';
import type { EngineClient } from '../engine/client';
import { EngineError } from '../engine/errors';
import { templateSsm } from '../engine/template';
import type { Candidate, ModelInfo, StructureControls, TemplateSpec } from '../engine/types';
import type { Score } from '../music/score';
import { scoreHead } from '../music/score';
import { throwIfAborted } from '../platform/cancellation';
import { REFERENCE_FORM, formPairs } from '../structure/compliance';
import { DistributionReference, pieceFeatures } from '../structure/distribution';
import type { PieceFeatures } from '../structure/distribution';
import { barSsm } from '../structure/ssm';
import type { Ssm } from '../structure/ssm';
import { formsEvalPieces, formsRequest } from './evalForms';
import { FORMS_PIECE_BARS, FORMS_PROMPT_BARS, RowStats, addPiece } from './evalFormsMeasure';
import type { FormsPiece } from './evalForms';
import { readShardPieces } from './evalPerplexity';
import type { ReportOptions } from './evalReport';
import { reportConfigs } from './evalReportConfigs';
import type { ReportConfig, Role } from './evalReportConfigs';
import { roundAll } from './evalReportStats';
import { guardTestSplit } from './evalSplit';
import type { CliContext } from './usage';

/** How many pieces' SSMs each example run keeps for the figures. */
const EXAMPLES = 3;

/** A model the report uses: present and on the shards' split, or skipped with the reason. */
export interface ModelSlot {
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
export interface PieceRecord {
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
export interface Row {
  config: ReportConfig;
  template: string;
  stats: RowStats;
  pieces: (PieceRecord | null)[];
  examples: { piece: number; template: number[]; generated: number[] }[];
}

/** A unit of work: one configuration, one generation template, measured against `measures`. */
export interface Job {
  config: ReportConfig;
  generateWith: string | null;
  measures: string[];
}

/** The measuring template of a piece: the real tune's own SSM or a form (with the piece's pickup). */
export function measureTemplate(name: string, real32: Score, prompt: Score): Ssm {
  return name === 'own' ? barSsm(real32) : templateSsm({ kind: 'form', form: name }, prompt, FORMS_PIECE_BARS);
}

/** The template a generation is asked for: the real tune itself or a form. */
function templateSpecOf(name: string, real32: Score): TemplateSpec {
  return name === 'own' ? { kind: 'score', score: real32 } : { kind: 'form', form: name };
}

/** Base's controls for a model: learned only, its trained related bars and scales. */
function baseControls(info: ModelInfo): StructureControls {
  return { relatedOffsets: [...info.trainedOffsets], scales: [], variation: 1, cadence: false, modeLock: false };
}

/** One piece's figures: added to the row's stats (the forms eval's `addPiece`) and kept per piece. */
export function measure(stats: RowStats, score: Score, template: Ssm, whole: Score | undefined, features: PieceFeatures, seconds: number): PieceRecord {
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

/** Held-out perplexity of one model, with its own template and none. */
export type Perplexity = {
  own: number;
  none: number;
  tokens: number;
  pieces: number;
  seconds: number;
};

/**
 * The models the report asks for, each present and on the shards' test split, or skipped with
 * a line saying why.
 */
export async function resolveModels(ctx: CliContext, o: ReportOptions, client: EngineClient): Promise<Map<Role, ModelSlot>> {
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
      const entry = await client.resolveModel(w.id);
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
  return slots;
}

/** The configurations to run (`--only`), less those whose model is missing (each said in a line). */
export function keptConfigs(ctx: CliContext, o: ReportOptions, slots: ReadonlyMap<Role, ModelSlot>): ReportConfig[] {
  const configs = reportConfigs(o.pe).filter((c) => (o.only ? o.only.includes(c.group) || c.id === 'base' || c.id === 'pair-structured' || c.id === `pe-${o.pe[0]}` : true));
  const kept = configs.filter((c) => slots.get(c.role)?.info !== undefined);
  for (const c of configs) {
    if (!kept.includes(c)) {
      ctx.err(`skipped: configuration ${c.id} (model ${slots.get(c.role)?.id} missing).`);
    }
  }
  return kept;
}

/** The report's pieces: the tunes, cut to 32 bars and to their prompts, and the real features. */
export interface ReportPieces {
  tunes: FormsPiece[];
  real32s: Score[];
  prompts: Score[];
  /** Features of bars 4..31 of each real tune (the bars the models write). */
  realFeatures: PieceFeatures[];
  distRef: DistributionReference;
}

/** The pieces of `refrain eval --forms` for the report. */
export function reportPieces(ctx: CliContext, o: ReportOptions, corpusRoot: string): ReportPieces {
  const tunes = formsEvalPieces(ctx, o.shards, corpusRoot, o.pieces);
  const real32s = tunes.map((t) => scoreHead(t.score, FORMS_PIECE_BARS));
  const prompts = tunes.map((t) => scoreHead(t.score, FORMS_PROMPT_BARS));
  const realFeatures = real32s.map((s) => pieceFeatures(s, FORMS_PROMPT_BARS, FORMS_PIECE_BARS));
  return { tunes, real32s, prompts, realFeatures, distRef: new DistributionReference(realFeatures) };
}

/** The real tunes' row under each template (cut to 32 bars). */
export function measureRealRows(templates: readonly string[], p: ReportPieces): Map<string, Row> {
  const realRows = new Map<string, Row>();
  for (const tname of templates) {
    const row: Row = { config: { id: 'real', group: 'real', label: 'real tunes', role: 'default', controls: {} }, template: tname, stats: new RowStats(), pieces: [], examples: [] };
    for (let k = 0; k < p.tunes.length; k++) {
      row.pieces.push(measure(row.stats, p.real32s[k], measureTemplate(tname, p.real32s[k], p.prompts[k]), p.tunes[k].score, p.realFeatures[k], 0));
    }
    realRows.set(tname, row);
  }
  return realRows;
}

/** Jobs: one per (configuration, generation template); without a template one generation for all. */
export function planJobs(kept: readonly ReportConfig[], templates: readonly string[]): Job[] {
  const jobs: Job[] = [];
  for (const c of kept) {
    const ts = c.templates === 'first' ? templates.slice(0, 1) : [...templates];
    if (c.noTemplate) {
      jobs.push({ config: c, generateWith: null, measures: ts });
    } else {
      for (const t of ts) {
        jobs.push({ config: c, generateWith: t, measures: [t] });
      }
    }
  }
  return jobs;
}

/** The key of a row: configuration id and template. */
export function rowKey(id: string, t: string): string {
  return `${id}@${t}`;
}

/** Base's controls for a model with a configuration's changes (an undefined change: the engine's default). */
function jobControls(info: ModelInfo, job: Job, real32: Score): StructureControls {
  const controls: StructureControls = { ...baseControls(info), ...job.config.controls };
  for (const key of Object.keys(controls) as (keyof StructureControls)[]) {
    if (controls[key] === undefined) {
      delete controls[key];
    }
  }
  if (job.generateWith !== null) {
    controls.template = templateSpecOf(job.generateWith, real32);
  }
  return controls;
}

/**
 * Runs every job (generating each piece and measuring it against each of the job's templates)
 * and, with `--ppl-pieces`, each model's held-out perplexity, spread over the engine workers
 * `lanes` gives (one piece of work at a time each).
 */
export async function runWork(
  ctx: CliContext,
  o: ReportOptions,
  p: ReportPieces,
  jobs: readonly Job[],
  slots: ReadonlyMap<Role, ModelSlot>,
  lanes: (work: number) => EngineClient[],
): Promise<{ rows: Map<string, Row>; ppl: Map<string, Perplexity> }> {
  const n = p.tunes.length;
  const rows = new Map<string, Row>();
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
      const controls = jobControls(info, job, p.real32s[k]);
      const t0 = Date.now();
      let cand: Candidate | undefined;
      try {
        cand = (await client.generate(formsRequest(slot.id, p.prompts[k], controls, o.seed, k, 1), { signal: ctx.signal }))[0];
      } catch (err) {
        if (!(err instanceof EngineError) || err.code === 'cancelled') {
          throw err;
        }
        ctx.err(`warning: ${p.tunes[k].source}, ${job.config.id}: ${err.message}`);
      }
      const seconds = (Date.now() - t0) / 1000;
      for (const row of own) {
        if (!cand) {
          row.stats.failed++;
          row.pieces.push(null);
          continue;
        }
        const template = measureTemplate(row.template, p.real32s[k], p.prompts[k]);
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
  const ppl = new Map<string, Perplexity>();
  const pplModels = [...new Set(jobs.map((j) => slots.get(j.config.role) as ModelSlot))];
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
  await Promise.all(lanes(work.length).map(lane));
  return { rows, ppl };
}
