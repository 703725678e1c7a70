/**
 * Checks and text helpers shared by the ABC splice planners (`./continuation`, `./infill`) and
 * the Score splice (`./scoreSplice`): bar-span checks, the `L:`/`K:`/`M:` context at a text
 * position, planning on the LF copy of a CRLF text, and trimmed source ranges.
 */
import { customSignature, fieldInForce, unitInForce } from '../abc/fragment';
import type { AbcBarsContext } from '../abc/fragment';
import { readAbc } from '../abc/reader';
import { lfOffset, lfText } from '../abc/newlines';
import type { Bar, Key, KeyChange, Meter, Score, SourceRange } from '../score';
import { MusicInputError } from '../score';
import type { TextEdit } from './edit';

export function barsLabel(from: number, to: number): string {
  return to - from === 1 ? `bar ${from + 1}` : `bars ${from + 1}-${to}`;
}

export function checkSpan(generated: Score, from: number, to: number, what: string): void {
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to <= from) {
    throw new MusicInputError('splice-bad-range', `Cannot ${what} ${barsLabel(from, to)}: the range is empty or invalid.`);
  }
  if (to > generated.bars.length) {
    throw new MusicInputError(
      'splice-bad-range',
      `Cannot ${what} ${barsLabel(from, to)}: the generated piece has only ${generated.bars.length} bars.`,
    );
  }
}

/** Throws unless the tune is one voice (one track, voice 0): only then is a bar one stretch of text. */
export function checkSingleVoice(score: Score): void {
  const voices = new Set(score.notes.map((n) => `${n.track}:${n.voice}`));
  if (score.tracks.length > 1 || voices.size > 1) {
    throw new MusicInputError(
      'abc-edit-voices',
      `This tune has ${Math.max(score.tracks.length, voices.size)} voices; Refrain can write generated bars only into a tune with one voice.`,
    );
  }
}

export function keyAt(keys: readonly KeyChange[], tick: number, fallback: Key): Key {
  let k = fallback;
  for (const c of keys) {
    if (c.tick <= tick) {
      k = c.key;
    }
  }
  return k;
}

export function barEnd(b: Bar): number {
  return b.start + b.duration;
}

/** Plans an edit on the LF copy of a CRLF text and maps it back (positions, and line ends in the new text). */
export function viaLf(text: string, tuneStart: number, plan: (lfText: string, tune: Score) => TextEdit): TextEdit {
  const lf = lfText(text);
  const lfStart = lfOffset(lf, tuneStart);
  const tune = readAbc(lf.text).tunes.find((t) => t.score.source?.start === lfStart);
  if (!tune) {
    throw new MusicInputError('abc-edit-no-source', 'The tune could not be found again in the text, so the new bars cannot be placed.');
  }
  const edit = plan(lf.text, tune.score);
  const crlf = text.includes('\r\n');
  return {
    start: lf.toOriginal[edit.start],
    end: lf.toOriginal[edit.end],
    newText: crlf ? edit.newText.replace(/\r?\n/g, '\r\n') : edit.newText,
  };
}

const C_MAJOR: Key = { tonic: 'C', mode: 'major', fifths: 0 };

/** The `L:`, key (and its signature when custom) and meter in force at text position `pos` / tick `tick`. */
export function contextAt(text: string, tuneStart: number, pos: number, score: Score, tick: number, meter: Meter): AbcBarsContext {
  const key = keyAt(score.keys, tick, C_MAJOR);
  const context: AbcBarsContext = {
    unitNoteLength: unitInForce(text, tuneStart, pos, score.meta.unitNoteLength ?? { num: 1, den: 8 }),
    key,
    meter,
  };
  const field = fieldInForce(text, tuneStart, pos, 'K');
  const signature = field ? customSignature(field.value, key) : undefined;
  if (signature) {
    context.signature = signature;
  }
  return context;
}

/** A source range without the spaces and line breaks abcjs counts into a note at either end. */
export function trimmed(text: string, r: SourceRange): SourceRange {
  let start = r.start;
  let end = r.end;
  while (start < end && /\s/.test(text[start])) {
    start++;
  }
  while (end > start && /\s/.test(text[end - 1])) {
    end--;
  }
  return { start, end };
}
