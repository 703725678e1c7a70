import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkTestSplit } from '../tokens/splitHash';
import type { CliContext } from './usage';
import { UsageError } from './usage';

/** What {@link guardTestSplit} found: the shards' test-split hash and the card's, if any. */
export interface SplitGuardResult {
  shardsHash: string;
  cardHash: string | undefined;
  status: 'match' | 'unrecorded';
}

/**
 * Refuses to evaluate a model on shards whose test split is not the one its card records
 * (`training.split.testHash`, else `split.testHash`; see `tokens/splitHash.ts`): throws a
 * {@link UsageError} naming both hashes and how to rebuild. A card that records no split gets a
 * warning on stderr and the evaluation goes on.
 */
export function guardTestSplit(ctx: CliContext, modelId: string, card: unknown, shardsDir: string): SplitGuardResult {
  const check = checkTestSplit(card, shardsDir);
  if (check.status === 'mismatch') {
    const meta = readMeta(shardsDir);
    const training = (card as { training?: { shardSources?: string[]; seed?: number } }).training;
    const folders = (training?.shardSources ?? meta?.sources ?? ['folk-abc']).join(',');
    const seed = training?.seed ?? meta?.seed ?? 1;
    throw new UsageError(
      `The test split of ${shardsDir} (split hash ${check.hash}) is not the one model ${modelId} was trained against ` +
        `(its card records ${check.cardHash}); some test pieces may be training pieces of that model. ` +
        `Rebuild the shards the model was trained on (\`node bin/refrain.js corpus build --folders ${folders} --seed ${seed} --out ${shardsDir}\` ` +
        'with the corpus and reader of that training run), pass --shards with those, or evaluate a model trained on these shards.',
    );
  }
  if (check.status === 'unrecorded') {
    ctx.err(`warning: model card of ${modelId} records no split; test pieces may have been training pieces (shards' split hash ${check.hash}).`);
    return { shardsHash: check.hash, cardHash: undefined, status: 'unrecorded' };
  }
  return { shardsHash: check.hash, cardHash: check.hash, status: 'match' };
}

function readMeta(shardsDir: string): { sources?: string[]; seed?: number } | undefined {
  const p = join(shardsDir, 'meta.json');
  if (!existsSync(p)) {
    return undefined;
  }
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as { sources?: string[]; seed?: number };
  } catch {
    return undefined;
  }
}
