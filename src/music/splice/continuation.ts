/** Appending generated bars to an ABC tune's text (see `planAbcContinuation` in `./index`). */
import { barLineAfter, writeAbcBars } from '../abc/fragment';
import type { Score, SourceRange } from '../score';
import { MusicInputError, TPQ, barTicks } from '../score';
import { checkSingleVoice, checkSpan, contextAt, trimmed } from './abcText';
import type { BarSpan, ContinuationOptions, TextEdit } from './edit';

/** {@link planAbcContinuation} on text whose line ends are LF. */
export function continuationLf(text: string, tuneSource: SourceRange, score: Score, generated: Score, newBars: BarSpan, options: ContinuationOptions): TextEdit {
  checkSpan(generated, newBars.from, newBars.to, 'append');
  if (newBars.from !== score.bars.length) {
    throw new MusicInputError(
      'splice-bad-range',
      `The new bars should follow the tune's ${score.bars.length} bars, but they start at bar ${newBars.from + 1}.`,
    );
  }
  checkSingleVoice(score);
  const last = score.writtenBars[score.writtenBars.length - 1]?.source;
  if (!last || last.end > tuneSource.end || last.start < tuneSource.start) {
    throw new MusicInputError('abc-edit-no-source', 'The tune has no bars whose place in the text is known, so new bars cannot be added to it.');
  }
  const run = barLineAfter(text, last.end, tuneSource.end);
  const pos = run ? run.end : last.end;
  const lastBar = score.bars[score.bars.length - 1];
  const context = contextAt(text, tuneSource.start, pos, score, score.length, lastBar.meter);
  const lineStart = text.lastIndexOf('\n', Math.max(0, pos - 1)) + 1;
  const onLine = barsOnLine(text.slice(lineStart, pos));
  const perLine = barTicks(lastBar.meter) < TPQ * 2 ? 8 : 4;
  const sameLine = options.continueLine === true && run !== undefined && !run.text.includes(':') && onLine > 0 && onLine < perLine;
  const written = writeAbcBars(generated, newBars.from, newBars.to, { ...context, onLine: sameLine ? onLine : 0 }, { foldRepeats: options.foldRepeats ?? true });

  let joiner: string;
  let finalBar: string;
  if (!run) {
    joiner = '|';
    finalBar = '|';
  } else if (run.text.includes(':')) {
    const closing = run.text.replace(/\]+$/, '').replace(/:+$/, '');
    joiner = /\|/.test(closing) ? closing : ':|';
    finalBar = '|]';
  } else if (run.text.includes(']')) {
    joiner = '|';
    finalBar = '|]';
  } else {
    joiner = run.text;
    finalBar = /^\|+$/.test(run.text) ? run.text : '|';
  }
  // A folded section that ends the tune keeps its closing repeat as the final bar line.
  const body = written.endsWith(':|') ? written : `${written.slice(0, -1)}${finalBar}`;
  const start = run ? run.start : trimmed(text, last).end;
  const end = run ? run.end : start;
  // Lyrics (`w:`) and symbol lines (`s:`) under the last music line stay with it: the new bars go after them.
  const kept = lineFieldsAfter(text, end, tuneSource.end);
  if (sameLine && kept === end) {
    return { start, end, newText: `${joiner}${body}` };
  }
  return { start, end: kept, newText: `${joiner}${text.slice(end, kept)}\n${body}` };
}

/** Bars on a line of ABC body text: the stretches between bar lines that hold a note or rest. */
function barsOnLine(line: string): number {
  const body = line.replace(/%.*$/, '').replace(/"[^"]*"/g, '').replace(/\[[A-Za-z]:[^\]]*\]/g, '').replace(/![^!]*!/g, '');
  return body.split(/\|+[\]:]*\d*|:+\|\d*/).filter((part, i, all) => i < all.length - 1 && /[A-Ga-gz]/.test(part)).length;
}

/**
 * Where the `w:` (lyrics) and `s:` (symbols) lines that follow the music line holding `pos` end;
 * `pos` itself when the rest of that line is not blank or no such line follows.
 */
function lineFieldsAfter(text: string, pos: number, limit: number): number {
  const eol = text.indexOf('\n', pos);
  if (eol < 0 || eol >= limit || text.slice(pos, eol).replace(/%.*$/, '').trim() !== '') {
    return pos;
  }
  let end = pos;
  let at = eol + 1;
  while (at < limit && /^[ws]:/.test(text.slice(at, at + 2))) {
    const next = text.indexOf('\n', at);
    end = next < 0 || next > limit ? limit : next;
    at = end + 1;
  }
  return end;
}
