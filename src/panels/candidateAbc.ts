/**
 * The ABC a panel candidate writes: the very edit Insert applies (from `planAbcContinuation`), its
 * text as the card shows it, and a small tune of the new bars (the fields in force where they go,
 * then that text) for the card's notation. One function, so what the card shows is what Insert
 * writes.
 *
 * Pure TypeScript: no vscode, no DOM.
 */

import { fieldInForce } from '../music/abc/fragment';
import type { Score } from '../music/score';
import { planAbcContinuation } from '../music/splice';
import type { BarSpan, TextEdit } from '../music/splice';

/** What {@link candidateAbc} returns. */
export interface CandidateAbc {
  /** The edit Insert applies to the file's text. */
  readonly edit: TextEdit;
  /** Exactly the text the edit writes (`edit.newText`). */
  readonly insert: string;
  /** A tune of the new bars alone, for notation: `X:`, the `M:`, `L:` and `K:` in force, then {@link insert}. */
  readonly notation: string;
}

/**
 * The continuation of the tune `score` (read from `text`, with source positions) by bars `span` of
 * `generated`. Throws what `planAbcContinuation` throws (`MusicInputError`).
 */
export function candidateAbc(text: string, score: Score, generated: Score, span: BarSpan): CandidateAbc {
  const tune = score.source ?? { start: 0, end: text.length };
  const edit = planAbcContinuation(text, tune, score, generated, span);
  const fields = ['M', 'L', 'K']
    .map((letter) => {
      const f = fieldInForce(text, tune.start, edit.start, letter);
      return f ? `${letter}:${f.value}` : letter === 'K' ? 'K:C' : undefined;
    })
    .filter((line): line is string => line !== undefined);
  // The edit may begin by rewriting the tune's last bar line (`:|`, `|]`): that belongs to the old
  // bars, not to the new ones the card draws.
  const body = edit.newText.replace(/\r\n?/g, '\n').replace(/^[ \t]*[|:\][]*[ \t]*\n/, '').replace(/^\s+/, '');
  return { edit, insert: edit.newText, notation: ['X:1', ...fields, body].join('\n') };
}
