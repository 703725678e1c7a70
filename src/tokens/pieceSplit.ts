/**
 * Which split (train / valid / test) a corpus piece goes to: a seeded hash of a key, where the
 * key is the piece's content fingerprint ({@link contentKey}) or, failing that, its source id.
 * Used by the shard builder (`./shards`).
 */

import type { Score } from '../music/score';

/** The three splits, in the order they are written. */
export const SPLITS = ['train', 'valid', 'test'] as const;

/** One of {@link SPLITS}. */
export type SplitName = (typeof SPLITS)[number];

/**
 * The key a piece is split by (computed on the piece as tokenised): a transposition-invariant fingerprint of a piece's opening melody: the pitch intervals and
 * relative durations of the first 24 onsets of its top line (highest note at each onset of the
 * first non-drum track). Undefined when the piece has fewer than 8 onsets (the source id is
 * used instead).
 */
export function contentKey(score: Score): string | undefined {
  const track = score.notes.find((n) => !score.tracks[n.track]?.isDrum)?.track;
  if (track === undefined) {
    return undefined;
  }
  const top: { onset: number; pitch: number; duration: number }[] = [];
  for (const n of score.notes) {
    if (n.track !== track) {
      continue;
    }
    const last = top[top.length - 1];
    if (last && last.onset === n.onset) {
      if (n.pitch > last.pitch) {
        last.pitch = n.pitch;
        last.duration = n.duration;
      }
    } else if (top.length < 24) {
      top.push({ onset: n.onset, pitch: n.pitch, duration: n.duration });
    } else {
      break;
    }
  }
  if (top.length < 8) {
    return undefined;
  }
  const unit = Math.min(...top.map((n) => n.duration));
  const parts: string[] = [];
  for (let i = 1; i < top.length; i++) {
    parts.push(`${top[i].pitch - top[i - 1].pitch}:${Math.round((top[i].duration / unit) * 4)}`);
  }
  return `melody:${parts.join(',')}`;
}

/**
 * The split of a piece: a 32-bit FNV-1a hash of `seed` and the source id, finalised with a
 * murmur3 mix, as a fraction u in [0, 1): valid when u < valid, test when u < valid + test,
 * else train.
 */
export function splitOf(source: string, seed: number, fractions: { valid: number; test: number }): SplitName {
  let h = 0x811c9dc5;
  const bytes = Buffer.from(`${seed}\u0000${source}`, 'utf8');
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  const u = (h >>> 0) / 2 ** 32;
  if (u < fractions.valid) {
    return 'valid';
  }
  if (u < fractions.valid + fractions.test) {
    return 'test';
  }
  return 'train';
}
