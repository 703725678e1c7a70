/**
 * Writing generated bars into the user's piece as one edit.
 *
 * The engine returns a Score: the prompt piece with new bars, either appended after its last bar
 * or replacing bars `from..to` (performed numbering: repeats played out). This module turns that
 * into
 * - for an ABC file, one {@link TextEdit} on the file's text ({@link planAbcContinuation},
 *   {@link planAbcInfill}), spelled for the tune's own `L:`, `K:` and `M:`, touching only the tune
 *   being edited;
 * - for a MIDI file, a new Score ({@link spliceScore}) that keeps every track and bar the model did
 *   not generate.
 *
 * What is written: the generated notes whose onset lies in the span (and, where the text before
 * the span ties a note into it and the generated piece holds that pitch too, the held part), cut
 * at the span's end unless the text after it continues the same pitch with a tie. The bars
 * outside the span keep their text; the fields in force after the span (`K:`, `M:`, `L:`) are
 * restored with inline fields when the new bars change them or when a field inside the replaced
 * text is dropped.
 *
 * Pure TypeScript: no vscode, no DOM, no Node-only APIs.
 */
import type { Score, SourceRange } from '../score';
import { viaLf } from './abcText';
import { continuationLf } from './continuation';
import type { BarSpan, ContinuationOptions, TextEdit } from './edit';
import { infillLf } from './infill';

export { applyTextEdit } from './edit';
export type { BarSpan, ContinuationOptions, TextEdit } from './edit';
export { spliceScore } from './scoreSplice';
export type { SpliceOptions } from './scoreSplice';

/**
 * The edit that appends generated bars `newBars` (performed numbering in `generated`) to the tune
 * at `tuneSource` of `text`, whose Score (read from `text`) is `score`. `newBars.from` must be the
 * tune's bar count: the generated piece is the tune followed by new bars.
 *
 * The bars go right after the tune's last bar line, or after the `w:` lyrics and `s:` symbol lines
 * under its last music line, which stay with that line (before any trailing comment, `W:` lines,
 * blank lines and the next tune), on new lines of 4 bars, spelled for the `L:` and `K:` in force
 * there. The join: a final `|]` becomes `|` and the new bars end with `|]`; after a closing repeat
 * `:|` (the repeat stays; the new bars follow it and are played once) they end with `|]`; a
 * trailing `::` becomes `:|`; a plain `|` or `||` stays and ends the new bars too; a tune without a
 * last bar line gets one. Throws `MusicInputError` for a bad range (`splice-bad-range`), a tune with
 * several voices (`abc-edit-voices`) or without source positions (`abc-edit-no-source`).
 * Line ends of CRLF text are kept.
 */
export function planAbcContinuation(
  text: string,
  tuneSource: SourceRange,
  score: Score,
  generated: Score,
  newBars: BarSpan,
  options: ContinuationOptions = {},
): TextEdit {
  if (!text.includes('\r')) {
    return continuationLf(text, tuneSource, score, generated, newBars, options);
  }
  const length = tuneSource.end - tuneSource.start;
  return viaLf(text, tuneSource.start, (lf, tune) =>
    continuationLf(lf, tune.source ?? { start: 0, end: Math.min(lf.length, length) }, tune, generated, newBars, options),
  );
}

/**
 * The edit that replaces performed bars `[fromBar, toBar)` of the tune `score` (read from `text`)
 * with the same bars of `generated` (the whole piece with those bars regenerated).
 *
 * The bars must be written once each, one after the other in the text. A bar inside a repeat is
 * written once but played on every pass, so regenerating one pass would change all of them: that
 * throws `MusicInputError('infill-in-repeat')`, unless the generated piece has the same new bar on
 * every pass, in which case the written bar is replaced once. Bars of a multi-bar rest `Zn` throw
 * `infill-multi-rest`; a run that is not one stretch of text throws `infill-not-contiguous`.
 *
 * The text between the bars (bar lines, line breaks, comments, other fields) is kept, except
 * `K:`/`M:`/`L:` fields there, which the new bars set themselves; after the span the key, meter
 * and unit in force are restored with inline fields when needed. A tie from the bar before into
 * the span is kept when the generated piece holds that note, otherwise removed; a tie out of the
 * span into the next bar is kept when the generated piece holds the pitch there, otherwise the
 * tied note at the start of the next bar becomes a rest (a single note without an accidental; a
 * tied chord, or a note whose accidental governs the rest of its bar, is left and sounds again).
 */
export function planAbcInfill(text: string, score: Score, generated: Score, fromBar: number, toBar: number): TextEdit {
  if (!text.includes('\r')) {
    return infillLf(text, score, generated, fromBar, toBar);
  }
  return viaLf(text, score.source?.start ?? 0, (lf, tune) => infillLf(lf, tune, generated, fromBar, toBar));
}
