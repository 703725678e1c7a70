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
import { abcFragment, barLineAfter, customSignature, fieldInForce, fieldsIn, unitInForce, writeAbcBars } from './abc/fragment';
import type { AbcBarsContext } from './abc/fragment';
import { readAbc } from './abc/reader';
import { keyFieldText } from './abc/keys';
import { meterText } from './abc/writer';
import { normalizeKeys, normalizeMeters, normalizeTempos } from './midi/maps';
import type { Bar, ChordSymbol, Key, KeyChange, Meter, MeterChange, Note, Score, SourceRange, TempoChange, Track, WrittenBar } from './score';
import { MusicInputError, TPQ, barIndexAt, barTicks, sortNotes } from './score';
import { lfOffset, lfText } from './abc/newlines';

/** A replacement of `text[start, end)` by `newText` (character offsets into the file's text). */
export interface TextEdit {
  start: number;
  end: number;
  newText: string;
}

/** A half-open range of performed bars. */
export interface BarSpan {
  from: number;
  to: number;
}

/** Applies one {@link TextEdit} to a text. */
export function applyTextEdit(text: string, edit: TextEdit): string {
  return text.slice(0, edit.start) + edit.newText + text.slice(edit.end);
}

// ---- shared checks ----------------------------------------------------------------------------

function barsLabel(from: number, to: number): string {
  return to - from === 1 ? `bar ${from + 1}` : `bars ${from + 1}-${to}`;
}

function checkSpan(generated: Score, from: number, to: number, what: string): void {
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
function checkSingleVoice(score: Score): void {
  const voices = new Set(score.notes.map((n) => `${n.track}:${n.voice}`));
  if (score.tracks.length > 1 || voices.size > 1) {
    throw new MusicInputError(
      'abc-edit-voices',
      `This tune has ${Math.max(score.tracks.length, voices.size)} voices; Refrain can write generated bars only into a tune with one voice.`,
    );
  }
}

function keyAt(keys: readonly KeyChange[], tick: number, fallback: Key): Key {
  let k = fallback;
  for (const c of keys) {
    if (c.tick <= tick) {
      k = c.key;
    }
  }
  return k;
}

function barEnd(b: Bar): number {
  return b.start + b.duration;
}

/** Plans an edit on the LF copy of a CRLF text and maps it back (positions, and line ends in the new text). */
function viaLf(text: string, tuneStart: number, plan: (lfText: string, tune: Score) => TextEdit): TextEdit {
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
function contextAt(text: string, tuneStart: number, pos: number, score: Score, tick: number, meter: Meter): AbcBarsContext {
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

// ---- continuation -----------------------------------------------------------------------------

/** {@link planAbcContinuation} on text whose line ends are LF. */
function continuationLf(text: string, tuneSource: SourceRange, score: Score, generated: Score, newBars: BarSpan, options: ContinuationOptions): TextEdit {
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

// ---- infill -----------------------------------------------------------------------------------

/**
 * The written bars each performed bar stands for: its own, the next ones in the text when the
 * reader joined them into it (a short bar and the pickup after it; the last performed bar takes
 * any written bars after it), and any written bar one of its notes is written in (a pickup joined
 * to the end of a repeated section after the jump back).
 */
function coverage(score: Score): number[][] {
  const cov = score.bars.map((b, k) => {
    const next = k + 1 < score.bars.length ? score.bars[k + 1].written : score.writtenBars.length;
    const out = new Set([b.written]);
    for (let w = b.written + 1; w < next; w++) {
      out.add(w);
    }
    return out;
  });
  const placed = score.writtenBars
    .map((w, i) => ({ start: w.source?.start, i }))
    .filter((x): x is { start: number; i: number } => x.start !== undefined)
    .sort((a, b) => a.start - b.start);
  for (const n of score.notes) {
    const k = barIndexAt(score.bars, n.onset);
    if (k < 0 || !n.source) {
      continue;
    }
    let lo = 0;
    let hi = placed.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (placed[mid].start <= n.source.start) {
        found = placed[mid].i;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (found >= 0) {
      cov[k].add(found);
    }
  }
  return cov.map((set) => [...set].sort((a, b) => a - b));
}

/** A source range without the spaces and line breaks abcjs counts into a note at either end. */
function trimmed(text: string, r: SourceRange): SourceRange {
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

/** `pitch@offset/duration` rows of a bar's notes (onset in the bar), plus its chord symbols, sorted. */
function barContent(score: Score, k: number): string[] {
  const b = score.bars[k];
  const end = barEnd(b);
  const rows = score.notes
    .filter((n) => n.onset >= b.start && n.onset < end && !score.tracks[n.track]?.isDrum)
    .map((n) => `${n.pitch}@${n.onset - b.start}/${n.duration}`);
  const chords = score.chords.filter((c) => c.tick >= b.start && c.tick < end).map((c) => `"${c.name}"@${c.tick - b.start}`);
  return [`len ${b.duration}`, ...rows.sort(), ...chords.sort()];
}

function sameContent(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Removes `K:`/`M:`/`L:` fields (inline, or lines with their line break) from a separator between bars. */
function withoutKeyFields(sep: string): string {
  const fields = fieldsIn(sep, 0, sep.length, 'KML');
  let out = sep;
  for (const f of [...fields].reverse()) {
    let end = f.end;
    if (!f.inline) {
      while (end < out.length && out[end] !== '\n') {
        end++;
      }
      end = Math.min(out.length, end + 1);
    }
    out = out.slice(0, f.start) + out.slice(end);
  }
  return out;
}

/** A note written as its own element at the start of `text` (optional chord symbols, decorations, graces). */
const SINGLE_NOTE = /^((?:\s|"[^"\n]*"|![^!\n]*!|\+[^+\n]*\+|[~.HLMOPSTuv]|\{[^}\n]*\}|\(\d*(?::\d*)*)*)([_^=]*[A-Ga-g][,']*)([\d/]*)([ \t]*-)?/;

/** {@link planAbcInfill} on text whose line ends are LF. */
function infillLf(text: string, score: Score, generated: Score, fromBar: number, toBar: number): TextEdit {
  checkSpan(generated, fromBar, toBar, 'regenerate');
  if (toBar > score.bars.length) {
    throw new MusicInputError('splice-bad-range', `Cannot regenerate ${barsLabel(fromBar, toBar)}: the tune has ${score.bars.length} bars.`);
  }
  checkSingleVoice(score);
  const tuneStart = score.source?.start ?? 0;
  const tuneEnd = score.source?.end ?? text.length;
  const label = barsLabel(fromBar, toBar);

  // Performed bars -> written bars, and how often each written bar is played.
  const cov = coverage(score);
  const plays = new Map<number, number[]>();
  cov.forEach((ws, k) => {
    for (const w of ws) {
      plays.set(w, [...(plays.get(w) ?? []), k]);
    }
  });
  const written: number[] = [];
  for (let k = fromBar; k < toBar; k++) {
    const w = score.bars[k].written;
    const sameAsNeighbour =
      (k > 0 && score.bars[k - 1].written === w) || (k + 1 < score.bars.length && score.bars[k + 1].written === w);
    const hasNotes = score.notes.some((n) => n.onset >= score.bars[k].start && n.onset < barEnd(score.bars[k]));
    if (sameAsNeighbour && !hasNotes) {
      throw new MusicInputError(
        'infill-multi-rest',
        `Bar ${k + 1} is part of a multi-bar rest (Z), which is written once for several bars; write the rest bar by bar to regenerate it.`,
      );
    }
    written.push(...cov[k]);
  }
  const spanOfWritten = new Map<number, number>();
  for (let k = fromBar; k < toBar; k++) {
    for (const w of cov[k]) {
      spanOfWritten.set(w, k);
    }
  }
  for (const w of written) {
    const ks = plays.get(w) ?? [];
    if (ks.length <= 1) {
      continue;
    }
    const k0 = spanOfWritten.get(w) ?? fromBar;
    const mine = generated.bars[k0] ? barContent(generated, k0) : [];
    const samePasses = ks.every(
      (k) => cov[k].length === 1 && k < generated.bars.length && sameContent(barContent(generated, k), mine),
    );
    if (!samePasses) {
      throw new MusicInputError(
        'infill-in-repeat',
        `Cannot regenerate ${label}: bar ${k0 + 1} lies in a repeated section, written once but played ${ks.length} times (as bars ${ks
          .map((k) => k + 1)
          .join(', ')}), so new notes there would change every pass. Choose bars outside the repeat, or write the repeat out first.`,
      );
    }
  }
  for (let i = 1; i < written.length; i++) {
    if (written[i] !== written[i - 1] + 1) {
      throw new MusicInputError(
        'infill-not-contiguous',
        `${label[0].toUpperCase()}${label.slice(1)} are not written one after the other in the tune (they cross a repeat or an ending), so they cannot be replaced as one stretch of text.`,
      );
    }
  }
  const sources = written.map((w) => score.writtenBars[w]?.source);
  if (sources.some((r) => r === undefined)) {
    throw new MusicInputError('abc-edit-no-source', `The place of ${label} in the text is not known, so they cannot be replaced.`);
  }
  const src = (w: number): SourceRange => trimmed(text, score.writtenBars[w].source!);
  const regionStart = src(written[0]).start;
  const regionEnd = src(written[written.length - 1]).end;
  const spanStart = score.bars[fromBar].start;
  const spanEnd = barEnd(score.bars[toBar - 1]);
  for (const n of score.notes) {
    if (n.onset >= spanStart && n.onset < spanEnd && n.source && (n.source.end <= regionStart || n.source.start >= regionEnd)) {
      throw new MusicInputError(
        'infill-not-contiguous',
        `${label[0].toUpperCase()}${label.slice(1)} are not written as one stretch of text in the tune, so they cannot be replaced.`,
      );
    }
  }

  // Ties across the span's edges.
  const genStart = generated.bars[fromBar].start;
  const genEnd = barEnd(generated.bars[toBar - 1]);
  const pitchedGen = generated.notes.filter((n) => !generated.tracks[n.track]?.isDrum);
  const heldIn = score.notes.filter((n) => n.onset < spanStart && n.onset + n.duration > spanStart).map((n) => n.pitch);
  const genHeldIn = new Set(pitchedGen.filter((n) => n.onset < genStart && n.onset + n.duration > genStart).map((n) => n.pitch));
  const holdIn = new Set(heldIn.filter((p) => genHeldIn.has(p)));
  let editStart = regionStart;
  let prefix = '';
  const firstWritten = written[0];
  if (heldIn.length === 1 && holdIn.size === 0 && firstWritten > 0 && (plays.get(firstWritten - 1)?.length ?? 0) === 1) {
    const prev = score.writtenBars[firstWritten - 1]?.source;
    if (prev) {
      const t = trimmed(text, prev).end;
      if (text[t - 1] === '-') {
        editStart = t - 1;
        prefix = text.slice(t, regionStart);
      }
    }
  }
  const lastWritten = written[written.length - 1];
  const hasFollowing = lastWritten + 1 < score.writtenBars.length;
  const heldOut = hasFollowing ? score.notes.filter((n) => n.onset < spanEnd && n.onset + n.duration > spanEnd).map((n) => n.pitch) : [];
  const genHeldOut = new Set(pitchedGen.filter((n) => n.onset >= genStart && n.onset < genEnd && n.onset + n.duration > genEnd).map((n) => n.pitch));
  const holdOut = new Set(heldOut.filter((p) => genHeldOut.has(p)));

  // The new bars, with the original text between them.
  const context = contextAt(text, tuneStart, regionStart, score, spanStart, score.bars[fromBar].meter);
  const frag = abcFragment(generated, fromBar, toBar, context, { holdIn, holdOut });
  for (let k = fromBar; k < toBar; k++) {
    for (let i = 1; i < cov[k].length; i++) {
      const inside = text.slice(src(cov[k][i - 1]).end, src(cov[k][i]).start);
      if (/:|\[\d|\|\s*\d/.test(inside.replace(/%[^\n]*/g, '').replace(/\[[A-Za-z]:[^\]]*\]/g, ''))) {
        throw new MusicInputError(
          'infill-in-repeat',
          `Cannot regenerate ${label}: bar ${k + 1} is written in two parts with a repeat or ending mark between them, which new notes cannot keep.`,
        );
      }
    }
  }
  let middle = '';
  for (let k = fromBar; k < toBar; k++) {
    const b = frag.bars[k - fromBar];
    middle += b.fields + b.body;
    if (k + 1 < toBar) {
      middle += withoutKeyFields(text.slice(src(cov[k][cov[k].length - 1]).end, src(cov[k + 1][0]).start));
    }
  }

  // After the span: restore fields, and turn a tie's tail into a rest when the tie is gone.
  let editEnd = regionEnd;
  let suffix = '';
  if (hasFollowing) {
    const run = barLineAfter(text, regionEnd, tuneEnd);
    const restoreAt = run ? run.end : regionEnd;
    const squash = (v: string): string => v.replace(/\s+/g, '');
    // The field the bars after the span expect, when the new text leaves another one in force.
    const toRestore = (letter: string, written: string | undefined): string | undefined => {
      const expected = fieldInForce(text, tuneStart, restoreAt, letter);
      if (expected && expected.start >= regionEnd) {
        return undefined;
      }
      if (written !== undefined) {
        return expected && squash(expected.value) === squash(written) ? undefined : (expected?.value ?? '');
      }
      const before = fieldInForce(text, tuneStart, regionStart, letter);
      return expected && expected.start !== before?.start ? expected.value : undefined;
    };
    let restore = '';
    const meter = toRestore('M', frag.changedMeter ? meterText(frag.meter) : undefined);
    if (meter !== undefined) {
      restore += `[M:${meter === '' ? meterText(score.bars[Math.min(toBar, score.bars.length - 1)].meter) : meter}]`;
    }
    const key = toRestore('K', frag.changedKey ? keyFieldText(frag.key) : undefined);
    if (key) {
      restore += `[K:${key}]`;
    }
    const unit = toRestore('L', undefined);
    if (unit) {
      restore += `[L:${unit}]`;
    }
    const nextRaw = score.writtenBars[lastWritten + 1]?.source;
    const next = nextRaw ? trimmed(text, nextRaw) : undefined;
    const silence = heldOut.length === 1 && !holdOut.has(heldOut[0]) && next !== undefined && next.start >= restoreAt;
    // A tail with an accidental stays: the accidental holds for the rest of its bar.
    const found = silence ? SINGLE_NOTE.exec(text.slice(next.start, next.end)) : null;
    const tail = found && !/^[_^=]/.test(found[2]) ? found : null;
    if (restore !== '' || tail) {
      suffix = text.slice(regionEnd, restoreAt) + restore;
      editEnd = restoreAt;
      if (tail && next) {
        suffix += text.slice(restoreAt, next.start + tail[1].length) + 'z' + tail[3];
        editEnd = next.start + tail[0].length;
      }
    }
  }
  return { start: editStart, end: editEnd, newText: prefix + middle + suffix };
}

// ---- the public planners ---------------------------------------------------------------------

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

/** Options of {@link planAbcContinuation}. */
export interface ContinuationOptions {
  /** Fold sections that come back exactly into repeat signs (default true; false for bar-by-bar ghost text). */
  foldRepeats?: boolean;
  /**
   * Continue the tune's last line while it has fewer bars than a line holds (4, or 8 for bars
   * shorter than a half note), as a writer typing bar by bar would; default false (new bars
   * start a new line).
   */
  continueLine?: boolean;
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

// ---- MIDI (and any Score): splice ------------------------------------------------------------

/** Options of {@link spliceScore}. */
export interface SpliceOptions {
  /**
   * Generated tracks to take (indices into `generated.tracks`). Default: every generated track
   * with a note starting in the span; tracks the model left silent keep the base's notes.
   */
  tracks?: readonly number[];
  /**
   * Base track for a generated track (`trackMap[g]` = base index). Unmapped generated tracks are
   * matched by name (case-insensitive) and drum flag, then a drum track to the base's drum track,
   * then by MIDI channel, then a lone pitched track to the base's lone pitched track; a generated
   * track that matches none is added as a new track.
   */
  trackMap?: Readonly<Record<number, number>>;
}

/** Matches generated tracks to base tracks (see {@link SpliceOptions.trackMap}). */
function matchTracks(base: readonly Track[], gen: readonly Track[], selected: readonly number[], explicit: Readonly<Record<number, number>>): Map<number, number> {
  const out = new Map<number, number>();
  const used = new Set<number>();
  for (const g of selected) {
    const b = explicit[g];
    if (b !== undefined) {
      if (!Number.isInteger(b) || b < 0 || b >= base.length) {
        throw new MusicInputError('splice-bad-track', `Generated track ${g + 1} is mapped to track ${b + 1}, which the piece does not have.`);
      }
      out.set(g, b);
      used.add(b);
    }
  }
  const tryMatch = (pred: (g: Track, b: Track, bi: number) => boolean): void => {
    for (const g of selected) {
      if (out.has(g)) {
        continue;
      }
      const bi = base.findIndex((b, i) => !used.has(i) && pred(gen[g], b, i));
      if (bi >= 0) {
        out.set(g, bi);
        used.add(bi);
      }
    }
  };
  const norm = (s: string): string => s.trim().toLowerCase();
  tryMatch((g, b) => norm(g.name) !== '' && norm(g.name) === norm(b.name) && g.isDrum === b.isDrum);
  tryMatch((g, b) => g.isDrum && b.isDrum);
  tryMatch((g, b) => !g.isDrum && !b.isDrum && g.channel === b.channel);
  const basePitched = base.map((b, i) => (b.isDrum ? -1 : i)).filter((i) => i >= 0);
  const genPitched = selected.filter((g) => !gen[g].isDrum && !out.has(g));
  if (basePitched.length === 1 && genPitched.length === 1 && !used.has(basePitched[0])) {
    out.set(genPitched[0], basePitched[0]);
  }
  return out;
}

/** Map points before `start` from `base`, the generated ones in the span (moved by `shift`), and the base's value again at `end`. */
function spliceMap<T extends { tick: number }>(
  basePoints: readonly T[],
  genPoints: readonly T[],
  span: { start: number; end: number; genStart: number; genEnd: number; follows: boolean },
): T[] {
  const shift = span.start - span.genStart;
  const sorted = <U extends { tick: number }>(xs: readonly U[]): U[] => [...xs].sort((a, b) => a.tick - b.tick);
  const at = <U extends { tick: number }>(xs: readonly U[], tick: number): U | undefined => {
    let found: U | undefined;
    for (const x of sorted(xs)) {
      if (x.tick <= tick) {
        found = x;
      }
    }
    return found;
  };
  const out: T[] = basePoints.filter((p) => p.tick < span.start);
  const genFirst = at(genPoints, span.genStart);
  if (genFirst) {
    out.push({ ...genFirst, tick: span.start });
  }
  for (const p of genPoints) {
    if (p.tick > span.genStart && p.tick < span.genEnd) {
      out.push({ ...p, tick: p.tick + shift });
    }
  }
  if (span.follows) {
    const baseAtEnd = at(basePoints, span.end);
    if (baseAtEnd) {
      out.push({ ...baseAtEnd, tick: span.end });
    }
    out.push(...basePoints.filter((p) => p.tick > span.end));
  }
  return out;
}

/**
 * The base piece with performed bars `[newBars.from, newBars.to)` taken from `generated` (the
 * prompt with new bars appended or regenerated): in the span, the generated tracks' notes replace
 * the matching base tracks' notes (other base tracks, such as drums the model did not touch, keep
 * theirs), and the span's bars, meters, keys, tempos and chord symbols (when the generated piece
 * has any) come from `generated`. Bars past the base's end are appended; `length` is the new end.
 * Base notes of replaced tracks that ring into the span are cut at its start; generated notes
 * that ring past a span followed by base bars are cut at its end.
 *
 * Throws `MusicInputError`: `splice-bad-range` (range outside either piece, or starting after the
 * base's end), `splice-span-length` (a regenerated span followed by base bars must keep its length,
 * or those bars would move), `splice-bad-track` (a `trackMap` entry naming no base track).
 */
export function spliceScore(base: Score, generated: Score, newBars: BarSpan, options: SpliceOptions = {}): Score {
  const { from, to } = newBars;
  checkSpan(generated, from, to, 'take');
  if (from > base.bars.length) {
    throw new MusicInputError('splice-bad-range', `The new bars start at bar ${from + 1}, after the piece's ${base.bars.length} bars.`);
  }
  const baseTo = Math.min(to, base.bars.length);
  const baseEndTick = base.bars.length > 0 ? barEnd(base.bars[base.bars.length - 1]) : 0;
  const start = from < base.bars.length ? base.bars[from].start : baseEndTick;
  const end = baseTo > from ? barEnd(base.bars[baseTo - 1]) : start;
  const genStart = generated.bars[from].start;
  const genEnd = barEnd(generated.bars[to - 1]);
  const follows = baseTo < base.bars.length;
  if (follows && genEnd - genStart !== end - start) {
    throw new MusicInputError(
      'splice-span-length',
      `The regenerated ${barsLabel(from, to)} last ${genEnd - genStart} ticks but the bars they replace last ${end - start}; the bars after them would move.`,
    );
  }
  const shift = start - genStart;

  const selected =
    options.tracks !== undefined
      ? [...new Set(options.tracks)].filter((g) => Number.isInteger(g) && g >= 0 && g < generated.tracks.length)
      : generated.tracks
          .map((_, g) => g)
          .filter((g) => generated.notes.some((n) => n.track === g && n.onset >= genStart && n.onset < genEnd));
  const tracks: Track[] = base.tracks.map((t) => ({ ...t }));
  const map = matchTracks(base.tracks, generated.tracks, selected, options.trackMap ?? {});
  for (const g of selected) {
    if (!map.has(g)) {
      map.set(g, tracks.length);
      tracks.push({ ...generated.tracks[g] });
    }
  }
  const replaced = new Set(map.values());

  const notes: Note[] = [];
  for (const n of base.notes) {
    if (!replaced.has(n.track) || n.onset >= end) {
      notes.push({ ...n });
    } else if (n.onset < start) {
      notes.push({ ...n, duration: Math.min(n.duration, start - n.onset) });
    }
  }
  for (const n of generated.notes) {
    const t = map.get(n.track);
    if (t === undefined || n.onset < genStart || n.onset >= genEnd) {
      continue;
    }
    const duration = follows ? Math.min(n.duration, genEnd - n.onset) : n.duration;
    const copy: Note = { pitch: n.pitch, onset: n.onset + shift, duration, velocity: n.velocity, track: t, voice: n.voice };
    if (n.graces) {
      copy.graces = [...n.graces];
    }
    notes.push(copy);
  }

  const span = { start, end, genStart, genEnd, follows };
  const chords: ChordSymbol[] =
    generated.chords.length > 0
      ? [
          ...base.chords.filter((c) => c.tick < start || (follows && c.tick >= end)).map((c) => ({ ...c })),
          ...generated.chords.filter((c) => c.tick >= genStart && c.tick < genEnd).map((c) => ({ tick: c.tick + shift, name: c.name })),
        ].sort((a, b) => a.tick - b.tick)
      : base.chords.map((c) => ({ ...c }));
  const meters: MeterChange[] = normalizeMeters(spliceMap(base.meters, generated.meters, span));
  const keys: KeyChange[] = normalizeKeys(spliceMap(base.keys, generated.keys, span));
  const tempos: TempoChange[] = normalizeTempos(spliceMap(base.tempos, generated.tempos, span));

  const midiLike = base.writtenBars.length === base.bars.length && base.bars.every((b, i) => b.written === i);
  const writtenBars: WrittenBar[] = base.writtenBars.map((w) => ({ ...w }));
  const bars: Bar[] = base.bars.slice(0, from).map((b) => ({ ...b, meter: { ...b.meter } }));
  for (let k = from; k < to; k++) {
    const g = generated.bars[k];
    let w: number;
    if (midiLike) {
      w = bars.length;
    } else {
      w = writtenBars.length;
      writtenBars.push({});
    }
    bars.push({ start: g.start + shift, duration: g.duration, meter: { ...g.meter }, written: w });
  }
  for (let k = baseTo; k < base.bars.length; k++) {
    const b = base.bars[k];
    bars.push({ ...b, meter: { ...b.meter }, written: midiLike ? bars.length : b.written });
  }
  const length = bars.length > 0 ? barEnd(bars[bars.length - 1]) : 0;
  const out: Score = {
    meta: { ...base.meta },
    notes: sortNotes(notes),
    bars,
    writtenBars: midiLike ? bars.map(() => ({})) : writtenBars,
    tracks,
    tempos,
    meters,
    keys,
    chords,
    length: Math.max(length, follows ? base.length : 0),
  };
  if (base.source) {
    out.source = base.source;
  }
  return out;
}
