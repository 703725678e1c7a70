/**
 * The pinned test split: one hash that names which pieces a shard directory's test split holds,
 * so a model card can record the split it was trained against and `refrain eval` can refuse
 * shards whose test pieces differ (some of them could then be training pieces of the model).
 *
 * Definition (also in docs/shard-format.md): the SHA-256, in lowercase hex, of the `source`
 * strings of `test.pieces.json`, in file order, joined with `"\n"` (UTF-8, no trailing newline).
 */

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** SHA-256 hex of the piece sources joined with "\n" (see the module comment). */
export function splitHashOf(sources: readonly string[]): string {
  return createHash('sha256').update(sources.join('\n'), 'utf8').digest('hex');
}

/** The split hash of `<shardsDir>/test.pieces.json` (see the module comment). */
export function testSplitHash(shardsDir: string): string {
  const pieces = JSON.parse(readFileSync(join(shardsDir, 'test.pieces.json'), 'utf8')) as { source: string }[];
  return splitHashOf(pieces.map((p) => p.source));
}

/**
 * The test-split hash a model card records, if any: `training.split.testHash` (written by the
 * trainer's exporter), else `split.testHash`.
 */
export function cardTestSplitHash(card: unknown): string | undefined {
  const c = card as { training?: { split?: { testHash?: unknown } }; split?: { testHash?: unknown } } | undefined;
  const h = c?.training?.split?.testHash ?? c?.split?.testHash;
  return typeof h === 'string' && h.length > 0 ? h : undefined;
}

/** How a card's split compares with a shard directory's. */
export type SplitCheck =
  | { status: 'match'; hash: string }
  | { status: 'unrecorded'; hash: string }
  | { status: 'mismatch'; hash: string; cardHash: string };

/** Compares the card's recorded test split with the shards' (see {@link testSplitHash}). */
export function checkTestSplit(card: unknown, shardsDir: string): SplitCheck {
  const hash = testSplitHash(shardsDir);
  const cardHash = cardTestSplitHash(card);
  if (cardHash === undefined) {
    return { status: 'unrecorded', hash };
  }
  return cardHash.toLowerCase() === hash ? { status: 'match', hash } : { status: 'mismatch', hash, cardHash };
}
