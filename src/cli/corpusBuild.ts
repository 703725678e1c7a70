import { resolve } from 'node:path';
import { buildShards } from '../tokens/shards';
import type { CliContext } from './usage';
import { UsageError } from './usage';

/** Where the corpus is unless told: `$REFRAIN_CORPUS`, else `../shared/corpus` from the working directory. */
export function defaultCorpusRoot(): string {
  return resolve(process.env.REFRAIN_CORPUS ?? '../shared/corpus');
}

/** `refrain corpus build`: token shards for training (docs/shard-format.md). */
export async function runCorpusBuild(
  ctx: CliContext,
  options: { corpus?: string; folders: string[]; out: string; seed: number; velocity: boolean; maxPieces?: number; json: boolean },
): Promise<number> {
  if (options.folders.length === 0) {
    throw new UsageError('corpus build needs --folders, e.g. --folders folk-abc or --folders pop909');
  }
  const corpusRoot = resolve(options.corpus ?? defaultCorpusRoot());
  const started = Date.now();
  const summary = await buildShards({
    corpusRoot,
    folders: options.folders,
    outDir: resolve(options.out),
    seed: options.seed,
    includeVelocity: options.velocity,
    maxPieces: options.maxPieces,
    signal: ctx.signal,
    onProgress: (done, total) => ctx.progress(`${done}/${total} files`),
  });
  ctx.progress('');
  const seconds = (Date.now() - started) / 1000;
  if (options.json) {
    const { tokenCounts: _counts, ...rest } = summary;
    ctx.out(JSON.stringify({ ...rest, corpusRoot, seconds }));
    return 0;
  }
  ctx.out(`${summary.outDir}: ${summary.pieces} pieces from ${summary.files} files in ${seconds.toFixed(1)} s, ${summary.vocabUsed} token types used`);
  for (const [name, s] of Object.entries(summary.splits)) {
    ctx.out(`  ${name.padEnd(5)}  ${String(s.pieces).padStart(6)} pieces  ${String(s.tokens).padStart(9)} tokens  ${String(s.bars).padStart(7)} bars`);
  }
  const skipped = Object.entries(summary.skipped);
  if (skipped.length > 0) {
    ctx.out(`  skipped: ${skipped.map(([code, n]) => `${code} ${n}`).join(', ')}`);
  }
  return 0;
}
