/**
 * How a candidate goes into its document: the one place an edit is planned, whichever front asked.
 * ABC text keeps the writer's tune as written (repeats, line breaks, comments: the preservation
 * rules and repeat folding of `music/splice.ts` and `music/abc/fragment.ts`); a MIDI score gets the
 * new bars spliced in. What a candidate card or a picker shows is the text planned here, so it is
 * exactly what Insert writes.
 *
 * Pure TypeScript: no vscode.
 */

import type { GenerationTask } from '../engine/types';
import { fieldInForce, writeAbcFolded } from '../music/abc/fragment';
import { withSamePasses } from '../music/passes';
import type { Score } from '../music/score';
import { planAbcContinuation, planAbcInfill, spliceScore } from '../music/splice';
import type { BarSpan, ContinuationOptions, TextEdit } from '../music/splice';
import { formToString, parseForm } from '../structure/form';

/** What planning an ABC edit needs: the text the tune was read from, the tune, the candidate. */
export interface AbcEditInput {
  readonly text: string;
  /** The tune (read from `text`, with source positions). */
  readonly score: Score;
  readonly task: GenerationTask;
  /** The candidate's whole piece and which bars are new. */
  readonly generated: Score;
  readonly newBars: BarSpan;
}

/**
 * The text edit that puts a candidate into an ABC file: the new bars after the tune
 * (continue), the regenerated bars in place and alike in every pass of a repeat (infill), or a
 * new tune after this one (a form). Throws `MusicInputError` when the text cannot take it.
 */
export function planAbcEdit(input: AbcEditInput, options: ContinuationOptions = {}): TextEdit {
  const { text, score, task, generated, newBars } = input;
  switch (task.kind) {
    case 'continue':
      return planAbcContinuation(text, score.source ?? { start: 0, end: text.length }, score, generated, newBars, options);
    case 'infill':
      return planAbcInfill(text, score, withSamePasses(generated, task.fromBar, task.toBar), task.fromBar, task.toBar);
    case 'fromForm': {
      const abc = newTuneAbc(text, score, generated, task.form);
      const end = text.length;
      const sep = text.endsWith('\n\n') ? '' : text.endsWith('\n') ? '\n' : '\n\n';
      return { start: end, end, newText: `${sep}${abc.endsWith('\n') ? abc : `${abc}\n`}` };
    }
    default: {
      const never: never = task;
      return never;
    }
  }
}

/** A whole new tune after the last one of `text`: the next `X:` number, the old title with its form. */
export function newTuneAbc(text: string, score: Score, generated: Score, form: string): string {
  const reference = nextReference(text);
  const title = `${score.meta.title ?? 'Tune'} (form ${formToString(parseForm(form))})`;
  return writeAbcFolded({ ...generated, meta: { ...generated.meta, reference, title } }, { reference });
}

/** One more than the largest `X:` number in the file. */
export function nextReference(text: string): number {
  let max = 0;
  for (const m of text.matchAll(/^X:\s*(\d+)/gm)) {
    max = Math.max(max, Number(m[1]));
  }
  return max + 1;
}

/**
 * A small tune of an edit's new bars for notation: `X:`, the `M:`, `L:` and `K:` in force where
 * the edit goes, then the text it writes (without a rewritten closing bar line of the old bars).
 */
export function notationOf(text: string, score: Score, edit: TextEdit): string {
  const tuneStart = score.source?.start ?? 0;
  const fields = ['M', 'L', 'K']
    .map((letter) => {
      const f = fieldInForce(text, tuneStart, edit.start, letter);
      return f ? `${letter}:${f.value}` : letter === 'K' ? 'K:C' : undefined;
    })
    .filter((line): line is string => line !== undefined);
  const body = edit.newText.replace(/\r\n?/g, '\n').replace(/^[ \t]*[|:\][]*[ \t]*\n/, '').replace(/^\s+/, '');
  return ['X:1', ...fields, body].join('\n');
}

/** The MIDI (or any score) document after a candidate: its new bars spliced into `base`. */
export function planScoreEdit(base: Score, generated: Score, newBars: BarSpan): Score {
  return spliceScore(base, generated, newBars);
}
