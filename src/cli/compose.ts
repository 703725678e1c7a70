/**
 * `refrain compose`: continue, infill or write from a form with a local model, and write
 * the candidates as ABC or MIDI files.
 *
 * Output files are written to temporary names next to OUT and renamed only when every
 * candidate is ready, so Ctrl-C (or any failure) leaves no output file behind.
 */

import { existsSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EngineClient } from '../engine/client';
import { EngineError } from '../engine/errors';
import { modelInfoOf } from '../engine/card';
import { MAX_CANDIDATES, MAX_NEW_BARS } from '../engine/limits';
import type { Candidate, ExecutionProviderChoice, GenerateRequest, GenerationTarget, LayerScale, TemplateSpec } from '../engine/types';
import { writeAbcFolded } from '../music/abc/fragment';
import { formatOfPath } from '../music/load';
import { loadPiece } from '../music/select';
import { writeMidi } from '../music/midi/writer';
import { rewriteSmf } from '../music/midi/preserve';
import { MusicInputError } from '../music/score';
import type { Score } from '../music/score';
import { applyTextEdit, planAbcContinuation, planAbcInfill } from '../music/splice';
import type { LoadedPiece } from '../music/load';
import { createLineLogger } from '../platform/logger';
import { throwIfAborted } from '../platform/cancellation';
import { UsageError } from './usage';
import type { CliContext } from './usage';

/** Help text of the command. */
export const COMPOSE_HELP = `  refrain compose IN.abc|IN.mid -o OUT.abc|OUT.mid [options]
      Generates music with a local model: continues the piece (--bars N, default
      16), regenerates bars (--infill 9-12, 1-based, inclusive) or writes a whole
      piece after a form (--form "A8 A8 B8 A8" without --bars). Candidate 1 goes to
      OUT, others to OUT-2, OUT-3... Prints per candidate the bars written, SE
      against the model's corpus curve and the SSM distance to the template.
      OUT may be the input ABC file: the new bars are spliced into that tune and
      every other tune is kept byte for byte (or nothing is written). MIDI
      output from a MIDI input keeps every event of the input exactly.
      --tune N            ABC tune by X: number (or position)
      --form F            form string: the template (and the length with no --bars)
      --template FILE     another piece whose bar SSM is the template
      --related 1,2,4,8   related-bar offsets (default: the model's trained set)
      --related-from-template  related bars = the most similar earlier bars
      --summary-horizon N      summaries of only the last N bars (default 64; 0 = all bars)
      --variation V       0 = sections the form marks the same come back as written,
                          1 = free (default 0.25; applies with --form or --template)
      --no-cadence        leave the ending to the model (default: end on the key's final)
      --no-mode-lock      allow notes outside the key's mode (ABC output)
      --scales full,256   per-layer windows (default: each layer's first)
      --model ID          model id (default: folk-tsrope when installed, else the first)
      --models DIR        models folder (default: the one next to the CLI)
      --candidates N      candidates (default 1)   --seed N (default 1)
      --temperature T (1.0)  --top-p P (0.95)  --top-k K (0 = off)
      --ep auto|cpu|webgpu|cuda  execution provider (default auto)
      --threads N         inference threads   --json  machine-readable output
`;

interface ComposeValues {
  o?: string;
  tune?: string;
  bars?: string;
  infill?: string;
  form?: string;
  template?: string;
  related?: string;
  'related-from-template'?: boolean;
  'summary-horizon'?: string;
  variation?: string;
  'no-cadence'?: boolean;
  'no-mode-lock'?: boolean;
  scales?: string;
  model?: string;
  models?: string;
  candidates?: string;
  seed?: string;
  temperature?: string;
  'top-p'?: string;
  'top-k'?: string;
  ep?: string;
  threads?: string;
  json?: boolean;
  verbose?: boolean;
  help?: boolean;
}

function num(value: string | undefined, flag: string, check: (n: number) => boolean, what: string): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || !check(n)) {
    throw new UsageError(`${flag} needs ${what}, not "${value}".`);
  }
  return n;
}

function intList(value: string, flag: string): number[] {
  const parts = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  return parts.map((p) => num(p, flag, (n) => Number.isInteger(n) && n >= 1, 'whole numbers >= 1, comma-separated') as number);
}

/** The folder of the models shipped with the CLI (`<package>/models`). */
export function defaultModelsDir(): string {
  return process.env.REFRAIN_MODELS ?? resolve(__dirname, '..', 'models');
}

/** The worker script of the CLI (`dist/engineWorker.js`, or `REFRAIN_ENGINE_WORKER`). */
export function cliWorkerPath(): string {
  return process.env.REFRAIN_ENGINE_WORKER ?? join(__dirname, 'engineWorker.js');
}

/** The engine client of the evaluation commands: CPU, the CLI's worker, warnings to stderr. */
export function evalEngineClient(ctx: CliContext, modelsDir: string | undefined): EngineClient {
  return new EngineClient({
    modelsDir: modelsDir ?? defaultModelsDir(),
    executionProvider: 'cpu',
    workerPath: cliWorkerPath(),
    log: createLineLogger((l) => ctx.err(l), 'warn'),
  });
}

/** OUT for candidate 1, OUT-2.ext, OUT-3.ext... for the others. */
export function candidatePath(out: string, index: number): string {
  if (index === 0) {
    return out;
  }
  const ext = extname(out);
  return `${out.slice(0, out.length - ext.length)}-${index + 1}${ext}`;
}

function fmt(v: number | undefined, digits = 4): string {
  return v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(digits);
}

/** The flags of `refrain compose` as given (`-o` or `--out` as `o`) and the input files. */
function parseComposeArgs(args: string[]): { values: ComposeValues; positionals: string[] } {
  const { values: v, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      o: { type: 'string', short: 'o' },
      out: { type: 'string' },
      tune: { type: 'string' },
      bars: { type: 'string' },
      infill: { type: 'string' },
      form: { type: 'string' },
      template: { type: 'string' },
      related: { type: 'string' },
      'related-from-template': { type: 'boolean', default: false },
      'summary-horizon': { type: 'string' },
      variation: { type: 'string' },
      'no-cadence': { type: 'boolean', default: false },
      'no-mode-lock': { type: 'boolean', default: false },
      scales: { type: 'string' },
      model: { type: 'string' },
      models: { type: 'string' },
      candidates: { type: 'string' },
      seed: { type: 'string' },
      temperature: { type: 'string' },
      'top-p': { type: 'string' },
      'top-k': { type: 'string' },
      ep: { type: 'string' },
      threads: { type: 'string' },
      json: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  return { values: { ...v, o: v.o ?? v.out } as ComposeValues, positionals };
}

/** The sampling and engine flags, checked. */
function samplingFlags(values: ComposeValues): {
  ep: ExecutionProviderChoice;
  candidates: number;
  seed: number;
  temperature: number;
  topP: number;
  topK: number;
  threads: number | undefined;
  scales: LayerScale[];
} {
  const ep = (values.ep ?? 'auto') as ExecutionProviderChoice;
  if (!['auto', 'cpu', 'webgpu', 'cuda'].includes(ep)) {
    throw new UsageError(`--ep must be auto, cpu, webgpu or cuda, not "${values.ep}".`);
  }
  const candidates = num(values.candidates, '--candidates', (n) => Number.isInteger(n) && n >= 1 && n <= MAX_CANDIDATES, `a whole number from 1 to ${MAX_CANDIDATES}`) ?? 1;
  const seed = num(values.seed, '--seed', (n) => Number.isInteger(n) && Math.abs(n) < 2 ** 31, 'a whole number') ?? 1;
  const temperature = num(values.temperature, '--temperature', (n) => n >= 0, 'a number >= 0') ?? 1.0;
  const topP = num(values['top-p'], '--top-p', (n) => n > 0 && n <= 1, 'a number in (0, 1]') ?? 0.95;
  const topK = num(values['top-k'], '--top-k', (n) => Number.isInteger(n) && n >= 0, 'a whole number >= 0') ?? 0;
  const threads = num(values.threads, '--threads', (n) => Number.isInteger(n) && n >= 1, 'a whole number >= 1');
  const scales: LayerScale[] =
    values.scales === undefined
      ? []
      : values.scales.split(',').map((s) => {
          const t = s.trim();
          return t === 'full' ? 'full' : (num(t, '--scales', (n) => Number.isInteger(n) && n >= 1, "'full' or whole numbers of tokens, comma-separated") as number);
        });
  return { ep, candidates, seed, temperature, topP, topK, threads, scales };
}

/** The task the flags ask for: `--infill FROM-TO`, `--form` alone (a piece in that form), else `--bars` (default 16) more. */
function composeTask(values: ComposeValues, prompt: Score): GenerateRequest['task'] {
  if (values.infill !== undefined) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+))?\s*$/.exec(values.infill);
    if (!m) {
      throw new UsageError(`--infill needs bars as FROM-TO (1-based, inclusive), e.g. 9-12, not "${values.infill}".`);
    }
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (from < 1 || to < from || to > prompt.bars.length) {
      throw new UsageError(`--infill ${values.infill}: the piece has bars 1..${prompt.bars.length}.`);
    }
    return { kind: 'infill', fromBar: from - 1, toBar: to };
  }
  if (values.bars === undefined && values.form !== undefined) {
    return { kind: 'fromForm', form: values.form };
  }
  return { kind: 'continue', bars: num(values.bars, '--bars', (n) => Number.isInteger(n) && n >= 1 && n <= MAX_NEW_BARS, `a whole number from 1 to ${MAX_NEW_BARS}`) ?? 16 };
}

/** The template the flags give: another file's structure (`--template`), a form (`--form`), or none. */
function composeTemplate(values: ComposeValues): TemplateSpec | undefined {
  if (values.template !== undefined) {
    if (values.form !== undefined) {
      throw new UsageError('Give --form or --template, not both.');
    }
    return { kind: 'score', score: loadPiece(values.template, readFileSync(values.template)).score };
  }
  return values.form !== undefined ? { kind: 'form', form: values.form } : undefined;
}

/** Parses `refrain compose` arguments and runs it; resolves to the exit code. */
export async function runCompose(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseComposeArgs(args);
  if (values.help) {
    ctx.out(COMPOSE_HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError(`compose expects one input file, got ${positionals.length}. Usage:\n${COMPOSE_HELP}`);
  }
  const input = positionals[0];
  const out = values.o;
  if (out === undefined) {
    throw new UsageError('compose needs -o OUT.abc or -o OUT.mid.');
  }
  const outFormat = formatOfPath(out);
  if (outFormat === undefined) {
    throw new UsageError(`-o ${out}: the output must end in .abc, .mid or .midi.`);
  }
  const target: GenerationTarget = outFormat === 'abc' ? 'abc-folk' : 'midi';
  if (values.bars !== undefined && values.infill !== undefined) {
    throw new UsageError('Give --bars or --infill, not both.');
  }
  const { ep, candidates, seed, temperature, topP, topK, threads, scales } = samplingFlags(values);

  const inPlace = sameFile(input, out);
  if (inPlace) {
    refuseUnsafeInPlace(input, values.form !== undefined && values.bars === undefined && values.infill === undefined);
  }
  const inputBytes = readFileSync(input);
  const piece = loadPiece(input, inputBytes, num(values.tune, '--tune', (n) => Number.isInteger(n) && n >= 1, 'a whole number >= 1'));
  const prompt = piece.score;
  const task = composeTask(values, prompt);
  const template = composeTemplate(values);

  const log = createLineLogger((line) => ctx.err(line), values.verbose ? 'debug' : 'warn');
  const client = new EngineClient({
    modelsDir: values.models ?? defaultModelsDir(),
    executionProvider: ep,
    threads,
    log,
    workerPath: cliWorkerPath(),
  });
  const temps: string[] = [];
  try {
    const entry = await client.resolveModel(values.model);
    const info = modelInfoOf(entry);
    const relatedOffsets = values.related !== undefined ? intList(values.related, '--related') : info.trainedOffsets;
    const req: GenerateRequest = {
      model: entry.id,
      prompt,
      task,
      controls: {
        relatedOffsets,
        relatedFromTemplate: values['related-from-template'] === true,
        scales,
        template,
        summaryHorizon: num(values['summary-horizon'], '--summary-horizon', (n) => Number.isInteger(n) && n >= 0, 'a whole number of bars >= 0'),
        variation: num(values.variation, '--variation', (n) => n >= 0 && n <= 1, 'a number from 0 (repeat as written) to 1 (free)'),
        cadence: values['no-cadence'] === true ? false : undefined,
        modeLock: values['no-mode-lock'] === true ? false : undefined,
      },
      sampling: { temperature, topP, topK, seed },
      candidates,
      target,
    };
    const what = task.kind === 'infill' ? `bars ${task.fromBar + 1}-${task.toBar}` : task.kind === 'continue' ? `${task.bars} bars` : `form ${task.form}`;
    ctx.err(`refrain: composing ${what} with model ${entry.id} (${candidates} candidate(s), seed ${seed})...`);
    const result = await client.generate(req, {
      signal: ctx.signal,
      onProgress: (p) => ctx.progress(`candidate ${p.candidate + 1}/${candidates}: ${p.phase ?? ''} ${p.bars} bars, ${p.tokens} tokens`),
    });
    ctx.progress('');
    // Write every candidate to a temporary file first; rename them all at the end.
    const finals = result.map((_, i) => candidatePath(out, i));
    result.forEach((cand, i) => {
      const tmp = join(dirname(finals[i]), `.${basename(finals[i])}.${process.pid}.tmp`);
      temps.push(tmp);
      const inPlaceHere = inPlace && i === 0;
      writeFileSync(tmp, outFormat === 'abc' ? abcOutput(ctx, input, inputBytes, piece, cand, task, inPlaceHere) : midiOutput(input, inputBytes, piece, cand, task));
    });
    throwIfAborted(ctx.signal);
    result.forEach((_, i) => renameSync(temps[i], finals[i]));
    temps.length = 0;
    report(ctx, values.json === true, entry.id, result, finals, info.hasCorpusCurve);
    return 0;
  } catch (e) {
    if (e instanceof EngineError) {
      ctx.err(`refrain: ${e.message}`);
      return 1;
    }
    throw e;
  } finally {
    for (const t of temps) {
      if (existsSync(t)) {
        rmSync(t, { force: true });
      }
    }
    await client.dispose();
  }
}

function report(ctx: CliContext, json: boolean, model: string, result: Candidate[], files: string[], hasCurve: boolean): void {
  if (json) {
    ctx.out(
      JSON.stringify({
        model,
        candidates: result.map((c, i) => ({
          file: files[i],
          bars: { from: c.newBars.from + 1, to: c.newBars.to },
          tokens: c.tokens,
          logLikelihood: c.logLikelihood,
          seed: c.seed,
          ...c.metrics,
        })),
      }),
    );
    return;
  }
  ctx.out(`model ${model}`);
  ctx.out('#  file                               bars     tokens  log-lik   SE vs corpus  SSM dist  seed');
  result.forEach((c, i) => {
    const suffix = c.metrics.suffixLogLikelihood !== undefined ? `  (rest: ${c.metrics.suffixLogLikelihood.toFixed(1)})` : '';
    ctx.out(
      `${String(i + 1).padEnd(2)} ${files[i].padEnd(34)} ${`${c.newBars.from + 1}-${c.newBars.to}`.padEnd(8)} ${String(c.tokens).padStart(6)}  ` +
        `${c.logLikelihood.toFixed(1).padStart(8)}  ${fmt(c.metrics.se).padStart(12)}  ${fmt(c.metrics.templateDistance).padStart(8)}  ${c.seed}${suffix}`,
    );
  });
  if (!hasCurve) {
    ctx.out('SE n/a: the model card has no corpus L_t curve (corpusLt).');
  }
}

/**
 * The ABC text of a candidate. Continuing or regenerating bars of an ABC tune keeps the tune as
 * its writer wrote it (repeats, line breaks, comments) and changes only the new bars, with the
 * same edit the extension applies. A new piece (a form), a MIDI input, or an edit the text cannot
 * take (bars inside a repeat) is written whole, in performed order.
 */
function abcOutput(
  ctx: CliContext,
  input: string,
  inputBytes: Uint8Array,
  piece: LoadedPiece,
  cand: Candidate,
  task: GenerateRequest['task'],
  inPlace: boolean,
): string {
  const src = piece.score.source;
  if (formatOfPath(input) === 'abc' && src && task.kind !== 'fromForm') {
    const text = new TextDecoder().decode(inputBytes);
    try {
      const edit =
        task.kind === 'continue'
          ? planAbcContinuation(text, src, piece.score, cand.score, cand.newBars)
          : planAbcInfill(text, piece.score, cand.score, task.fromBar, task.toBar);
      if (inPlace) {
        // The whole book, with only this tune's text changed.
        return applyTextEdit(text, edit);
      }
      const delta = edit.newText.length - (edit.end - edit.start);
      return `${applyTextEdit(text, edit).slice(src.start, src.end + delta).trimEnd()}\n`;
    } catch (e) {
      if (!(e instanceof MusicInputError)) {
        throw e;
      }
      if (inPlace) {
        throw new MusicInputError(
          'compose-in-place-refused',
          `${e.message} Refrain did not change ${input}: write the result to another file with -o, where the tune is written whole.`,
        );
      }
      ctx.err(`refrain: ${e.message} Writing the whole tune in performed order instead.`);
    }
  }
  if (inPlace) {
    throw new MusicInputError('compose-in-place-refused', `Refrain did not change ${input}: this result cannot be spliced into it. Write it to another file with -o.`);
  }
  return writeAbcFolded(cand.score, { reference: piece.reference });
}

/**
 * The MIDI bytes of a candidate. Continuing or regenerating bars of a MIDI input: the input file
 * itself with only the new bars' events added (or the regenerated bars' notes swapped), every other
 * event kept exactly. A new piece (a form) or an ABC input: written whole.
 */
function midiOutput(input: string, inputBytes: Uint8Array, piece: LoadedPiece, cand: Candidate, task: GenerateRequest['task']): Uint8Array {
  if (formatOfPath(input) === 'midi' && task.kind !== 'fromForm') {
    return rewriteSmf(inputBytes, piece.score, cand.score);
  }
  return writeMidi(cand.score);
}

/** True when `a` and `b` name the same existing file (through links and relative paths too). */
function sameFile(a: string, b: string): boolean {
  if (!existsSync(a) || !existsSync(b)) {
    return false;
  }
  return realpathSync(a) === realpathSync(b);
}

/**
 * `-o` names the input file. ABC continuation and infill splice into the file in place (every other
 * tune kept byte for byte), MIDI keeps every event of the file; a form, which would replace the
 * file with a new piece, is refused.
 */
function refuseUnsafeInPlace(input: string, fromForm: boolean): void {
  if (fromForm) {
    throw new UsageError(
      `-o ${input} is the input file, and --form writes a new piece, not an edit of a tune in it. Write to a new file, e.g. -o ${candidatePath(input, 1)}.`,
    );
  }
}
