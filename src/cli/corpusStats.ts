import { readFileSync } from 'node:fs';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { formatOfPath, loadPieces } from '../music/load';
import type { LoadResult } from '../music/load';
import { readMidiPiece } from '../tokens/corpusFiles';
import { MusicInputError } from '../music/score';
import { throwIfAborted } from '../platform/cancellation';
import { formatCurve } from '../structure/pieceReport';
import type { BarFeature } from '../structure/ssm';
import { barSsm, IntervalSimilarityAccumulator, topIntervals } from '../structure/ssm';
import type { CliContext } from './usage';
import { displayPath, listMusicFiles } from './walk';

/** Counts and the corpus similarity curve of a folder of music files. */
export interface CorpusStats {
  root: string;
  files: number;
  piecesRead: number;
  piecesSkipped: number;
  /** Skip reason code -> count (a file that cannot be read at all counts once under its code). */
  skipReasons: Record<string, number>;
  /** One example message per reason code, so a reader sees what the code means. */
  skipExamples: Record<string, string>;
  bars: number;
  feature: BarFeature;
  maxInterval: number;
  /** Whether bar pairs involving a bar without any note onset were left out. */
  skipEmpty: boolean;
  /** Corpus L_t, index t for t = 1..maxInterval. */
  lt: Float64Array;
  /** Bar pairs counted at each interval. */
  pairs: Float64Array;
  seconds: number;
}

/** Reads every music file below `root` and computes the corpus statistics. */
export async function corpusStats(
  root: string,
  options: { feature: BarFeature; maxInterval: number; skipEmpty: boolean; signal?: AbortSignal; onProgress?: (done: number, total: number, file: string) => void },
): Promise<CorpusStats> {
  const started = Date.now();
  const files = listMusicFiles(root);
  const skipReasons: Record<string, number> = {};
  const skipExamples: Record<string, string> = {};
  // Streamed: one SSM at a time, so a large corpus never sits in memory.
  const acc = new IntervalSimilarityAccumulator(options.maxInterval, { skipEmpty: options.skipEmpty });
  let piecesRead = 0;
  let piecesSkipped = 0;
  let bars = 0;
  const skip = (code: string, reason: string, where: string): void => {
    piecesSkipped++;
    skipReasons[code] = (skipReasons[code] ?? 0) + 1;
    skipExamples[code] ??= `${where}: ${reason}`;
  };
  for (let f = 0; f < files.length; f++) {
    throwIfAborted(options.signal);
    const file = files[f];
    const shown = displayPath(root, file);
    options.onProgress?.(f, files.length, shown);
    try {
      const bytes = readFileSync(file);
      const result: LoadResult =
        formatOfPath(file) === 'midi'
          ? { format: 'midi', pieces: [{ score: await readMidiPiece(file, bytes, 12), index: 0 }], skipped: [] }
          : loadPieces(file, bytes);
      for (const s of result.skipped) {
        skip(s.code, s.reason, `${shown} #${s.index + 1}`);
      }
      for (const p of result.pieces) {
        piecesRead++;
        bars += p.score.bars.length;
        acc.add(barSsm(p.score, options.feature));
      }
    } catch (e) {
      if (e instanceof MusicInputError) {
        skip(e.code, e.message, shown);
      } else {
        skip('internal-error', e instanceof Error ? e.message : String(e), shown);
      }
    }
    if (f % 8 === 7) {
      await yieldToLoop();
    }
  }
  const { lt, pairs } = acc.result();
  return {
    root,
    files: files.length,
    piecesRead,
    piecesSkipped,
    skipReasons,
    skipExamples,
    bars,
    feature: options.feature,
    maxInterval: options.maxInterval,
    skipEmpty: options.skipEmpty,
    lt,
    pairs,
    seconds: (Date.now() - started) / 1000,
  };
}

/** `refrain corpus-stats DIR`. */
export async function runCorpusStats(ctx: CliContext, options: { dir: string; feature: BarFeature; maxInterval: number; skipEmpty: boolean; json: boolean }): Promise<number> {
  const stats = await corpusStats(options.dir, {
    feature: options.feature,
    maxInterval: options.maxInterval,
    skipEmpty: options.skipEmpty,
    signal: ctx.signal,
    onProgress: (done, total, file) => ctx.progress(`${done}/${total} ${file}`),
  });
  ctx.progress('');
  const total = stats.piecesRead + stats.piecesSkipped;
  const pct = total > 0 ? (100 * stats.piecesRead) / total : 0;
  if (options.json) {
    const lt: Record<string, number | null> = {};
    for (let t = 1; t <= stats.maxInterval; t++) {
      lt[String(t)] = Number.isFinite(stats.lt[t]) ? Math.round(stats.lt[t] * 1e4) / 1e4 : null;
    }
    ctx.out(
      JSON.stringify({
        root: stats.root,
        files: stats.files,
        piecesRead: stats.piecesRead,
        piecesSkipped: stats.piecesSkipped,
        readPercent: Math.round(pct * 100) / 100,
        skipReasons: stats.skipReasons,
        skipExamples: stats.skipExamples,
        bars: stats.bars,
        feature: stats.feature,
        skipEmpty: stats.skipEmpty,
        lt,
        topIntervals: topIntervals(stats.lt, 8),
        seconds: stats.seconds,
      }),
    );
    return 0;
  }
  ctx.out(`${stats.root}: ${stats.files} files, ${total} pieces: ${stats.piecesRead} read (${pct.toFixed(2)}%), ${stats.piecesSkipped} skipped, ${stats.bars} bars, ${stats.seconds.toFixed(1)} s`);
  const reasons = Object.entries(stats.skipReasons).sort((a, b) => b[1] - a[1]);
  if (reasons.length > 0) {
    ctx.out('skipped, by reason:');
    for (const [code, n] of reasons) {
      ctx.out(`  ${String(n).padStart(5)}  ${code}   e.g. ${stats.skipExamples[code]}`);
    }
  }
  ctx.out('');
  ctx.out(`corpus similarity by bar interval L_t (${stats.feature}${stats.skipEmpty ? ', pairs with an empty bar left out' : ''}):`);
  ctx.out(formatCurve(stats.lt, stats.maxInterval).join('\n'));
  ctx.out('');
  ctx.out(`peaks: ${topIntervals(stats.lt, 8).map((t) => `${t.interval} (${t.value.toFixed(3)})`).join(', ')}`);
  return 0;
}
