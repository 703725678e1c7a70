/**
 * The `refrain` command line: the same pure layers as the extension, for researchers and scripts.
 *
 *   refrain analyze FILE [--tune N] [--feature F] [--json]
 *   refrain corpus-stats DIR [--feature F] [--max-interval T] [--json]
 *   refrain roundtrip DIR [--json]
 *   refrain compose IN -o OUT [--bars N | --infill A-B] [--form F] [options]   (src/cli/compose.ts)
 *   refrain bench [--model ID] [options]                                      (src/cli/bench.ts)
 *   refrain eval --forms [LIST] [options]                                     (src/cli/evalForms.ts)
 *   refrain eval --report [options]                                           (src/cli/evalReport.ts)
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { MusicInputError } from '../music/score';
import { isCancellationError } from '../platform/cancellation';
import { runAnalyze } from './analyze';
import { BENCH_HELP, runBench } from './bench';
import { COMPOSE_HELP, runCompose } from './compose';
import { runCorpusBuild } from './corpusBuild';
import { runCorpusStats } from './corpusStats';
import { runModelCard } from './modelCard';
import { runEval } from './evaluate';
import { EVAL_FORMS_HELP, runFormsEvalCli } from './evalForms';
import { EVAL_PERPLEXITY_HELP, runPerplexityEvalCli } from './evalPerplexity';
import { EVAL_REPORT_HELP, runReportCli } from './evalReport';
import { runRoundTrip } from './roundtrip';
import { UsageError, optionalInt } from './usage';
import type { CliContext } from './usage';
import { EngineError } from '../engine/errors';
import { RefrainError, toUserError } from '../platform/errors';

const HELP = `refrain: structure analysis and generation for ABC and MIDI

Usage:
  refrain analyze FILE [--tune N] [--feature F] [--json]
      Bars, meter, key, the bar self-similarity matrix as a text heatmap, the
      similarity-by-interval curve L_t and this piece's most structure-related
      bar intervals. --tune picks an ABC tune by its X: number (or, failing that,
      its 1-based position in the file).
  refrain corpus-stats DIR [--feature F] [--max-interval T] [--keep-empty] [--json]
      Reads every .abc/.mid/.midi file below DIR, counts tunes read and skipped
      (with reasons) and prints the corpus L_t for t = 1..T (default 40). Bar
      pairs where a bar has no note onset (rests, intros without melody) are
      left out unless --keep-empty.
  refrain corpus build --folders F1[,F2] [--corpus DIR] [--out DIR] [--seed N] [--velocity]
      Tokenises the corpus folders (below --corpus, default $REFRAIN_CORPUS or
      ../shared/corpus) into training shards (docs/shard-format.md) with a
      seeded 90/5/5 split by piece. Default --out .cache/corpus/<folders>.
  refrain eval --model ID [--shards DIR] [--split test] [--pieces 20] [--prompt-bars 4] [--bars 32] [-o FILE]
      Continues held-out tunes and reports metrically complete bars, ABC
      validity and the similarity error SE against the training corpus.
${EVAL_FORMS_HELP}${EVAL_PERPLEXITY_HELP}${EVAL_REPORT_HELP}  refrain model-card DIR [--corpus-dir DIR] [--eval FILE] [--about TEXT]
      Completes models/<id>/card.json (training-corpus L_t for the SE metric,
      data and licences, evaluation results) and writes MODEL_CARD.md.
  refrain roundtrip DIR [--json]
      Reads, writes and re-reads every piece below DIR and reports how many come
      back with identical notes (pitch, onset, duration).
${COMPOSE_HELP}${BENCH_HELP}
Options:
  --feature F   bar feature for the SSM: jaccard (default), chroma, rhythm, combined
  --json        machine-readable output on stdout
  -h, --help    this text
  -v, --version the version
`;

const FEATURES = new Set(['jaccard', 'chroma', 'rhythm', 'combined']);

/** The commands that parse their own flags (`eval --report`, `eval --perplexity`, `eval --forms`, `compose`, `bench`). */
function ownParser(command: string, rest: readonly string[]): ((args: string[], ctx: CliContext) => Promise<number>) | undefined {
  if (command === 'eval' && rest.includes('--report')) {
    return runReportCli;
  }
  if (command === 'eval' && rest.includes('--perplexity')) {
    return runPerplexityEvalCli;
  }
  if (command === 'eval' && rest.some((a) => a === '--forms' || a.startsWith('--forms='))) {
    return runFormsEvalCli;
  }
  if (command === 'compose') {
    return runCompose;
  }
  if (command === 'bench') {
    return runBench;
  }
  return undefined;
}

/** The flags of the other commands, parsed together. */
function parseSharedArgs(rest: string[]) {
  return parseArgs({
    args: rest,
    allowPositionals: true,
    strict: true,
    options: {
      tune: { type: 'string' },
      feature: { type: 'string' },
      json: { type: 'boolean', default: false },
      'max-interval': { type: 'string' },
      'keep-empty': { type: 'boolean', default: false },
      corpus: { type: 'string' },
      folders: { type: 'string' },
      out: { type: 'string', short: 'o' },
      seed: { type: 'string' },
      velocity: { type: 'boolean', default: false },
      'max-pieces': { type: 'string' },
      'corpus-dir': { type: 'string' },
      eval: { type: 'string' },
      about: { type: 'string' },
      shards: { type: 'string' },
      split: { type: 'string' },
      pieces: { type: 'string' },
      'prompt-bars': { type: 'string' },
      model: { type: 'string' },
      models: { type: 'string' },
      bars: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}

type SharedArgs = ReturnType<typeof parseSharedArgs>;

/** Runs `analyze`, `corpus-stats`, `corpus build`, `eval`, `model-card` or `roundtrip`. */
async function runSharedCommand(command: string, { values, positionals }: SharedArgs, ctx: CliContext): Promise<number> {
  const feature = values.feature ?? 'jaccard';
  if (!FEATURES.has(feature)) {
    throw new UsageError(`Unknown --feature "${feature}": use jaccard, chroma, rhythm or combined.`);
  }
  const common = { feature: feature as 'jaccard', json: values.json ?? false };
  switch (command) {
    case 'analyze': {
      const file = onePositional(positionals, 'FILE');
      return runAnalyze(ctx, { ...common, file, tune: optionalInt(values.tune, '--tune', 1) });
    }
    case 'corpus-stats': {
      const dir = onePositional(positionals, 'DIR');
      const maxInterval = optionalInt(values['max-interval'], '--max-interval', 1) ?? 40;
      return await runCorpusStats(ctx, { ...common, dir, maxInterval, skipEmpty: !(values['keep-empty'] ?? false) });
    }
    case 'corpus': {
      if (positionals[0] !== 'build' || positionals.length !== 1) {
        throw new UsageError('Usage: refrain corpus build --folders folk-abc[,pop909] [--corpus DIR] [--out DIR] [--seed N]');
      }
      const folders = (values.folders ?? '').split(',').map((f) => f.trim()).filter((f) => f.length > 0);
      return await runCorpusBuild(ctx, {
        corpus: values.corpus,
        folders,
        out: values.out ?? `.cache/corpus/${folders.join('+') || 'corpus'}`,
        seed: optionalInt(values.seed, '--seed', 0) ?? 1,
        velocity: values.velocity ?? false,
        maxPieces: optionalInt(values['max-pieces'], '--max-pieces', 1),
        json: common.json,
      });
    }
    case 'eval': {
      if (positionals.length > 0) {
        throw new UsageError('Usage: refrain eval --model ID [--shards DIR] [--split test] [--pieces 20] [--prompt-bars 4] [--bars 32] [--seed 1] [-o FILE]');
      }
      return await runEval(ctx, {
        model: values.model,
        models: values.models,
        shards: values.shards ?? '.cache/corpus/folk',
        corpus: values.corpus,
        split: values.split ?? 'test',
        pieces: optionalInt(values.pieces, '--pieces', 1) ?? 20,
        promptBars: optionalInt(values['prompt-bars'], '--prompt-bars', 1) ?? 4,
        bars: optionalInt(values.bars, '--bars', 1) ?? 32,
        seed: optionalInt(values.seed, '--seed', 0) ?? 1,
        json: common.json,
        out: values.out,
      });
    }
    case 'model-card': {
      const dir = onePositional(positionals, 'DIR');
      return await runModelCard(ctx, { dir, corpusDir: values['corpus-dir'], evalFile: values.eval, about: values.about });
    }
    case 'roundtrip': {
      const dir = onePositional(positionals, 'DIR');
      return runRoundTrip(ctx, { json: common.json, dir });
    }
    default:
      throw new UsageError(`Unknown command "${command}". Run "refrain --help" for the list.`);
  }
}

/** Runs the CLI with the given arguments; resolves to the process exit code. */
export async function main(argv: string[], ctx: CliContext): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    ctx.out(HELP);
    return command === undefined ? 2 : 0;
  }
  if (command === '-v' || command === '--version') {
    ctx.out(readVersion());
    return 0;
  }
  try {
    const own = ownParser(command, rest);
    if (own) {
      return await own(rest, ctx);
    }
    const args = parseSharedArgs(rest);
    if (args.values.help) {
      ctx.out(HELP);
      return 0;
    }
    return await runSharedCommand(command, args, ctx);
  } catch (e) {
    return reportError(ctx, e);
  }
}

function reportError(ctx: CliContext, e: unknown): number {
  if (isCancellationError(e)) {
    ctx.err('refrain: cancelled');
    return 130;
  }
  if (e instanceof UsageError || (e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) {
    ctx.err(`refrain: ${e.message}`);
    return 2;
  }
  if (e instanceof MusicInputError) {
    ctx.err(`refrain: ${e.message} [${e.code}]`);
    return 1;
  }
  if (e instanceof RefrainError || e instanceof EngineError) {
    // The user-facing error of every surface: a missing model, a broken card, a failed run.
    const user = toUserError(e);
    ctx.err(`refrain: ${user.message} [${user.code}]`);
    return 1;
  }
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES' || code === 'ENOTDIR') {
    ctx.err(`refrain: ${(e as Error).message}`);
    return 1;
  }
  ctx.err(`refrain: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  return 70;
}

function onePositional(positionals: string[], name: string): string {
  if (positionals.length !== 1) {
    throw new UsageError(`Expected one ${name} argument, got ${positionals.length}.`);
  }
  return positionals[0];
}

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(`${__dirname}/../package.json`, 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Runs the CLI against this process's argv, streams and Ctrl-C; sets the exit code. */
export function runFromProcess(): void {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  main(process.argv.slice(2), {
    out: (s) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`),
    err: (s) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`),
    progress: process.stderr.isTTY ? (s) => process.stderr.write(`\r${s}\x1b[K`) : () => undefined,
    signal: controller.signal,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`refrain: ${String(e)}\n`);
      process.exitCode = 70;
    },
  );
}
