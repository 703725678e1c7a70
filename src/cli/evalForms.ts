/**
 * `refrain eval --forms`: does the structure a writer chooses come out (issue 9, item 1)?
 *
 * Pieces: the first `--pieces` (100) pieces of `<shards>/test.pieces.json`, in file order, that
 * are ABC, read as a single track and have at least 32 performed bars. Each is cut to a 4-bar
 * prompt and continued by 28 bars (a 32-bar piece), once per configuration, with seed
 * `--seed + piece index` (the same seed for a piece in every configuration), temperature 1,
 * top-p 0.95, the model's trained related offsets and scales.
 *
 * Configurations (`--forms`, `;`-separated; default {@link DEFAULT_FORMS}):
 * - a form string (`A8 A8 B8 B8`...): `controls.template = { kind: 'form', form }`;
 * - `own`: the real tune's own bar SSM as the template (`{ kind: 'score' }` of its first 32
 *   bars), as SING evaluates;
 * - `none`: `controls.template` omitted. The engine then uses its default for a `continue`
 *   task, `{ kind: 'piece' }` (src/engine/generate.ts): the prompt's own SSM over its bars and
 *   the model corpus's mean similarity by interval elsewhere. Follows-the-form and the template
 *   distance of this row are measured against that default template.
 *
 * Figures per configuration (the real tunes, cut to 32 bars, in a row of their own):
 * - repeat fidelity / contrast (`structure/compliance.ts`) at the pairs of the row's form; rows
 *   without a form (`own`, `none`, the real tunes) and forms that repeat nothing (`A8 B8 C8 D8`)
 *   are measured at the pairs of `A8 A8 B8 B8` (column "pairs");
 * - template distance: `ssmDistance(barSsm(piece), template, { sizeMismatch: 'leading-block' })`,
 *   the engine's `CandidateMetrics.templateDistance`; the real tunes against `A8 A8 B8 B8`;
 * - follows the form (`followsForm` of bars 4..31, mean over pieces; the real tunes against
 *   `A8 A8 B8 B8`) and its parts pooled over pieces (same pairs kept, different pairs apart);
 * - tonic ending (% of pieces; the real tunes at their own last note, and cut at bar 32 in the
 *   JSON), in-mode share of the notes of bars 4..31 (pooled), % metrically complete new bars,
 *   % of pieces whose written ABC reads back with the same bars, seconds per piece;
 * - SE (Museformer eq. 6, T = 40, empty bars skipped, against the model card's corpus L_t) of
 *   the row's pieces pooled as in the plain eval, with a 95% bootstrap interval: 1000 resamples
 *   of the pieces with replacement (seeded by `--seed`; the same resamples for every row, so the
 *   rows are paired). The real tunes' row is the SE floor at the same N.
 *
 * The model card's test split must be the shards' (`tokens/splitHash.ts`; see `evalSplit.ts`).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { modelInfoOf } from '../engine/card';
import { EngineError } from '../engine/errors';
import { corpusBackground, templateSsm } from '../engine/template';
import type { Candidate, GenerateRequest, StructureControls, TemplateSpec } from '../engine/types';
import { readAbc } from '../music/abc/reader';
import { scoreHead } from '../music/score';
import type { Score } from '../music/score';
import { throwIfAborted } from '../platform/cancellation';
import { REFERENCE_FORM, formPairs } from '../structure/compliance';
import type { FormPairs } from '../structure/compliance';
import { formToTemplate, parseForm } from '../structure/form';
import { evalEngineClient } from './compose';
import { defaultCorpusRoot } from './corpusBuild';
import { FORMS_PIECE_BARS, FORMS_PROMPT_BARS, RowStats, SE_BOOTSTRAP, addPiece, pick, summarise } from './evalFormsMeasure';
import { guardTestSplit } from './evalSplit';
import type { CliContext } from './usage';
import { UsageError, optionalInt } from './usage';

/** The configurations of `refrain eval --forms` without `--forms LIST`. */
export const DEFAULT_FORMS: readonly string[] = ['A8 A8 B8 B8', 'A8 B8 C8 D8', 'A8 A8 B8 A8', 'own', 'none'];
export const EVAL_FORMS_HELP = `  refrain eval --forms [LIST] [--model ID] [--models DIR] [--shards DIR] [--corpus DIR]
        [--pieces 100] [--variation V | --learned-only] [--seed 1] [--candidates 1] [--json] [-o FILE]
      Form compliance: the first N test pieces with >= 32 bars, 4-bar prompts
      continued to 32 bars under each configuration of LIST (';'-separated form
      strings, 'own' = the tune's own SSM, 'none' = no template; default
      "A8 A8 B8 B8;A8 B8 C8 D8;A8 A8 B8 A8;own;none"). Prints repeat fidelity,
      contrast, template distance, follows-the-form %, tonic ending, in-mode share,
      SE with a bootstrap interval and the real tunes' floor, complete bars, ABC
      validity and time, beside the real tunes' own figures. --learned-only turns
      the copy prior, cadence and mode lock off (variation 1).
`;

/** Options of {@link runFormsEval}. */
export interface FormsEvalOptions {
  model?: string;
  models?: string;
  shards: string;
  corpus?: string;
  pieces: number;
  forms: string[];
  variation?: number;
  learnedOnly: boolean;
  seed: number;
  candidates: number;
  json: boolean;
  out?: string;
}

/** One configuration: what the request's template is, and how its rows are measured. */
interface Config {
  name: string;
  kind: 'form' | 'own' | 'none';
  form?: string;
  pairs: FormPairs;
}

/** Parses `refrain eval --forms ...` and runs it. */
export async function runFormsEvalCli(args: string[], ctx: CliContext): Promise<number> {
  // `--forms` alone is the switch; `--forms LIST` (a next argument not starting with '-') overrides the set.
  const rest: string[] = [];
  let list: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--forms') {
      if (i + 1 < args.length && !args[i + 1].startsWith('-')) {
        list = args[++i];
      }
    } else if (a.startsWith('--forms=')) {
      list = a.slice('--forms='.length);
    } else {
      rest.push(a);
    }
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    strict: true,
    options: {
      model: { type: 'string' },
      models: { type: 'string' },
      shards: { type: 'string' },
      corpus: { type: 'string' },
      pieces: { type: 'string' },
      variation: { type: 'string' },
      'learned-only': { type: 'boolean', default: false },
      seed: { type: 'string' },
      candidates: { type: 'string' },
      json: { type: 'boolean', default: false },
      out: { type: 'string', short: 'o' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    ctx.out(EVAL_FORMS_HELP);
    return 0;
  }
  if (positionals.length > 0) {
    throw new UsageError(`Unexpected argument "${positionals[0]}".\n${EVAL_FORMS_HELP}`);
  }
  const int = (v: string | undefined, flag: string, min: number, dflt: number): number => optionalInt(v, flag, min) ?? dflt;
  let variation: number | undefined;
  if (values.variation !== undefined) {
    variation = Number(values.variation);
    if (!Number.isFinite(variation) || variation < 0 || variation > 1) {
      throw new UsageError(`--variation needs a number from 0 to 1, not "${values.variation}".`);
    }
    if (values['learned-only']) {
      throw new UsageError('--learned-only sets variation 1; do not pass --variation with it.');
    }
  }
  const forms = (list ?? DEFAULT_FORMS.join(';')).split(';').map((f) => f.trim()).filter((f) => f.length > 0);
  if (forms.length === 0) {
    throw new UsageError('--forms needs at least one form, "own" or "none".');
  }
  return runFormsEval(ctx, {
    model: values.model,
    models: values.models,
    shards: values.shards ?? '.cache/corpus/folk',
    corpus: values.corpus,
    pieces: int(values.pieces, '--pieces', 1, 100),
    forms,
    variation,
    learnedOnly: values['learned-only'] ?? false,
    seed: int(values.seed, '--seed', 0, 1),
    candidates: int(values.candidates, '--candidates', 1, 1),
    json: values.json ?? false,
    out: values.out,
  });
}

function configOf(text: string): Config {
  if (text === 'own' || text === 'none') {
    return { name: text === 'own' ? 'own SSM' : 'no template', kind: text, pairs: formPairs(REFERENCE_FORM) };
  }
  try {
    parseForm(text);
  } catch (e) {
    throw new UsageError(`--forms: "${text}" is not a form (${(e as Error).message}); use form strings, "own" or "none".`);
  }
  return { name: text, kind: 'form', form: text, pairs: formPairs(text) };
}

/** A test piece of the forms eval: its source id (`file#index`) and the whole tune. */
export interface FormsPiece {
  source: string;
  score: Score;
}

/**
 * The pieces of the forms eval: the first `count` entries of `<shards>/test.pieces.json`, in file
 * order, that are ABC, read as one track and have at least {@link FORMS_PIECE_BARS} performed bars
 * (each corpus file read once).
 */
export function formsEvalPieces(ctx: CliContext, shards: string, corpusRoot: string, count: number): FormsPiece[] {
  const entries = JSON.parse(readFileSync(join(shards, 'test.pieces.json'), 'utf8')) as { source: string; bars: number }[];
  const files = new Map<string, ReturnType<typeof readAbc> | null>();
  const tunes: FormsPiece[] = [];
  for (const e of entries) {
    if (tunes.length >= count) {
      break;
    }
    const [rel, idx] = e.source.split('#');
    if (e.bars < FORMS_PIECE_BARS || !rel.endsWith('.abc')) {
      continue;
    }
    let file = files.get(rel);
    if (file === undefined) {
      try {
        file = readAbc(readFileSync(join(corpusRoot, rel), 'utf8'));
      } catch (err) {
        ctx.err(`warning: ${rel}: ${(err as Error).message}`);
        file = null;
      }
      files.set(rel, file);
    }
    const tune = file?.tunes.find((t) => t.index === Number(idx));
    if (tune && tune.score.tracks.length === 1 && tune.score.bars.length >= FORMS_PIECE_BARS) {
      tunes.push({ source: e.source, score: tune.score });
    }
  }
  if (tunes.length < count) {
    ctx.err(`warning: only ${tunes.length} test pieces qualify (ABC, one track, >= ${FORMS_PIECE_BARS} bars); asked for ${count}.`);
  }
  return tunes;
}

/**
 * The request of the forms eval for piece `index`: its 4-bar prompt continued to 32 bars,
 * temperature 1, top-p 0.95, seed `seed + index` (the same in every configuration).
 */
export function formsRequest(model: string, prompt: Score, controls: StructureControls, seed: number, index: number, candidates: number): GenerateRequest {
  return {
    model,
    prompt,
    task: { kind: 'continue', bars: FORMS_PIECE_BARS - FORMS_PROMPT_BARS },
    controls,
    sampling: { temperature: 1, topP: 0.95, seed: seed + index },
    candidates,
    target: 'abc-folk',
  };
}

/** Runs the forms eval; resolves to the exit code. */
export async function runFormsEval(ctx: CliContext, options: FormsEvalOptions): Promise<number> {
  const configs = options.forms.map(configOf);
  const corpusRoot = resolve(options.corpus ?? defaultCorpusRoot());
  const client = evalEngineClient(ctx, options.models);
  try {
    const entry = await client.resolveModel(options.model);
    const model = modelInfoOf(entry);
    const split = guardTestSplit(ctx, model.id, entry.card, options.shards);
    const reference = model.corpusLt ? Float64Array.from(model.corpusLt, (v) => (v === null ? Number.NaN : v)) : undefined;
    if (!reference) {
      ctx.err(`warning: model card of ${model.id} has no corpus L_t; SE is not reported.`);
    }
    const tunes = formsEvalPieces(ctx, options.shards, corpusRoot, options.pieces);
    const rows = configs.map(() => new RowStats());
    const real = new RowStats();
    const aabb = formToTemplate(parseForm(REFERENCE_FORM));
    for (let k = 0; k < tunes.length; k++) {
      const whole = tunes[k].score;
      const real32 = scoreHead(whole, FORMS_PIECE_BARS);
      const prompt = scoreHead(whole, FORMS_PROMPT_BARS);
      addPiece(real, real32, aabb, formPairs(REFERENCE_FORM), whole);
      for (let c = 0; c < configs.length; c++) {
        throwIfAborted(ctx.signal);
        ctx.progress(`piece ${k + 1}/${tunes.length}, ${configs[c].name}`);
        const cfg = configs[c];
        const spec: TemplateSpec | undefined =
          cfg.kind === 'form' ? { kind: 'form', form: cfg.form as string } : cfg.kind === 'own' ? { kind: 'score', score: real32 } : undefined;
        const controls: StructureControls = { relatedOffsets: model.trainedOffsets, scales: [] };
        if (spec) {
          controls.template = spec;
        }
        if (options.learnedOnly) {
          controls.variation = 1;
          controls.cadence = false;
          controls.modeLock = false;
        } else if (options.variation !== undefined) {
          controls.variation = options.variation;
        }
        // The template the engine follows (for `none`, its continue default: the prompt's SSM, the corpus background after it).
        const template = templateSsm(spec ?? { kind: 'piece' }, prompt, FORMS_PIECE_BARS, corpusBackground(entry.card.corpusLt?.values));
        const started = Date.now();
        let cands: Candidate[];
        try {
          cands = await client.generate(formsRequest(model.id, prompt, controls, options.seed, k, options.candidates), { signal: ctx.signal });
        } catch (err) {
          if (err instanceof EngineError && err.code !== 'cancelled') {
            ctx.err(`warning: ${tunes[k].source}, ${cfg.name}: ${err.message}`);
            rows[c].failed++;
            continue;
          }
          throw err;
        }
        rows[c].seconds += (Date.now() - started) / 1000;
        const cand = pick(cands, template);
        rows[c].tokens += cands.reduce((s, x) => s + x.tokens, 0);
        addPiece(rows[c], cand.score, template, cfg.pairs);
      }
    }
    ctx.progress('');
    const result = {
      model: model.id,
      shards: options.shards,
      splitHash: split.shardsHash,
      cardSplitHash: split.cardHash ?? null,
      pieces: tunes.length,
      promptBars: FORMS_PROMPT_BARS,
      bars: FORMS_PIECE_BARS,
      seed: options.seed,
      candidates: options.candidates,
      variation: options.learnedOnly ? 1 : (options.variation ?? null),
      learnedOnly: options.learnedOnly,
      sampling: 'temperature 1, top-p 0.95, the model\'s trained related offsets and scales, seed = --seed + piece index',
      bootstrap: { resamples: SE_BOOTSTRAP, seed: options.seed, level: 0.95 },
      noTemplateMeans: 'controls.template omitted: the engine default for continue ({ kind: "piece" }: the prompt SSM, the corpus background over the new bars); compliance measured against it',
      realMeans: 'the same test tunes cut to 32 bars; pairs, template distance and follows-the-form against A8 A8 B8 B8; tonic ending at the whole tune\'s last note',
      configurations: configs.map((cfg, c) => ({ form: cfg.kind === 'form' ? cfg.form : cfg.kind, ...summarise(cfg.name, rows[c], cfg.pairs, reference, options.seed) })),
      real: summarise('real tunes', real, formPairs(REFERENCE_FORM), reference, options.seed),
      pieceSources: tunes.map((t) => t.source),
    };
    if (options.out) {
      writeFileSync(options.out, `${JSON.stringify(result, null, 1)}\n`);
    }
    ctx.out(options.json ? JSON.stringify(result) : formsTable(result));
    return 0;
  } finally {
    await client.dispose();
  }
}

type Row = Record<string, unknown>;

/** The text table of a forms-eval result. */
export function formsTable(result: { model: string; pieces: number; splitHash: string; cardSplitHash: string | null; learnedOnly: boolean; variation: number | null; configurations: Row[]; real: Row }): string {
  const f = (v: unknown, d = 2): string => (typeof v === 'number' ? v.toFixed(d) : '-');
  const seCell = (r: Row): string => {
    const iv = r.seInterval95 as [number | null, number | null] | null;
    return typeof r.se === 'number' && iv ? `${(100 * r.se).toFixed(2)} [${f(iv[0] === null ? null : 100 * iv[0])}, ${f(iv[1] === null ? null : 100 * iv[1])}]` : '-';
  };
  const head = ['configuration', 'pairs', 'fidelity', 'contrast', 'tmpl dist', 'follows %', 'same kept %', 'diff apart %', 'tonic %', 'in-mode %', 'SE x100 [95% CI]', 'complete %', 'ABC %', 's/piece'];
  const line = (r: Row): string[] => [
    String(r.name) + (typeof r.failed === 'number' && r.failed > 0 ? ` (${r.failed} failed)` : ''),
    String(r.pairsOf),
    f(r.repeatFidelity),
    f(r.contrast),
    f(r.templateDistance, 3),
    f(r.followsFormPercent, 1),
    f((r.followsSame as { percent: number | null }).percent, 1),
    f((r.followsDifferent as { percent: number | null }).percent, 1),
    f(r.tonicEndingPercent, 0),
    f(r.inModePercent, 1),
    seCell(r),
    f(r.completePercent, 1),
    f(r.abcReadsBackPercent, 0),
    f(r.secondsPerPiece, 1),
  ];
  const body = [...result.configurations.map(line), line(result.real)];
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const fmt = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  const mode = result.learnedOnly ? 'learned only (variation 1, no cadence, no mode lock)' : result.variation !== null ? `variation ${result.variation}` : 'engine defaults';
  return [
    `model ${result.model}, ${result.pieces} test pieces (4-bar prompts, 32 bars), ${mode}; split ${result.splitHash.slice(0, 12)}${result.cardSplitHash ? ' (= card)' : ' (card records none)'}`,
    fmt(head),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...body.map(fmt),
    'real tunes: the same pieces cut to 32 bars (pairs, distance and follows against A8 A8 B8 B8; tonic at the tune\'s own end); its SE is the floor at this N.',
  ].join('\n');
}
