/**
 * ABC reader: text -> Score, one per tune, over abcjs `parseOnly` (which runs without a DOM).
 *
 * abcjs gives staff positions, written durations and bar lines; this module applies key
 * signatures and bar accidentals to get MIDI numbers, scales tuplets, merges ties, expands
 * repeats and endings into the performed order, and keeps each written bar's source range.
 */
import { parseOnly } from 'abcjs';
import type { Key, Meter, Score, SourceRange } from '../score';
import { MusicInputError, sortNotes } from '../score';
import { masterTimeline, masterVoice, performedNotes, performedStarts, performedVoices, staffTracks, writtenBarsOf } from './assemble';
import { parseTuneHeader, splitTuneRanges } from './header';
import type { TuneHeader } from './header';
import { parsePartOrder } from './repeats';
import { guardForAbcjs } from './guard';
import { tempoOf } from './abcjsElements';
import type { RawTune } from './abcjsElements';
import { collectVoices } from './collectVoices';
import { MAX_WARNINGS, SkipTune, cleanWarning } from './skipTune';
import { VoiceBuilder } from './voiceBuilder';
import { lfText } from './newlines';

/** One tune read from an ABC file. */
export interface AbcTune {
  score: Score;
  /** 0-based position among the tunes in the file. */
  index: number;
  /** The `X:` number. */
  reference?: number;
  title?: string;
  /** Problems abcjs or the reader noticed that did not stop the tune from being read. */
  warnings: string[];
}

/** A tune the reader could not turn into a Score. */
export interface SkippedTune {
  index: number;
  reference?: number;
  title?: string;
  /** Stable reason code, e.g. `'abc-no-key'`, `'abc-no-notes'`, `'abc-bad-meter'`. */
  code: string;
  /** User-readable explanation. */
  reason: string;
}

/** Everything read from one ABC file. */
export interface AbcReadResult {
  tunes: AbcTune[];
  skipped: SkippedTune[];
  /** How many tunes the file holds (read, skipped, or not selected). */
  count: number;
}

/** Options of {@link readAbc}. */
export interface AbcReadOptions {
  /** Largest accepted text, in UTF-8 bytes (default 10 MB). */
  maxBytes?: number;
  /**
   * Picks the tunes to read (indices into the file's tunes, whose ranges are offsets of `text`);
   * the others are neither read nor listed. Default: every tune. Reading one tune of a large book
   * costs that tune, not the book.
   */
  select?: (ranges: readonly { start: number; end: number; reference?: number }[]) => readonly number[];
  /** Stops once this many tunes were read (skipped tunes do not count). Default: no limit. */
  stopAfter?: number;
}

/** Default size limit of {@link readAbc}: 10 MB. */
export const DEFAULT_MAX_ABC_BYTES = 10 * 1024 * 1024;

/** Longest tune text handed to abcjs (about 200,000 notes); longer tunes are skipped unparsed. */
const MAX_TUNE_CHARS = 1_000_000;

// ---- one tune ----------------------------------------------------------------------------------

/** A tune as abcjs parsed it, with its header and the text abcjs was given. */
interface ParsedTune {
  header: TuneHeader;
  /** The unit note length, as a fraction of a whole note. */
  unit: number;
  abcText: string;
  tune: RawTune;
}

/**
 * Checks the tune's size and header and parses it with abcjs (guarded, see `./guard`), adding
 * abcjs's warnings to `warnings`. Throws `SkipTune` for a tune that cannot be parsed.
 */
function parseTune(tuneText: string, warnings: string[]): ParsedTune {
  if (tuneText.length > MAX_TUNE_CHARS) {
    throw new SkipTune('abc-too-long', `The tune is longer than ${MAX_TUNE_CHARS / 1_000_000} million characters.`);
  }
  const header = parseTuneHeader(tuneText);
  if (!header.hasKey) {
    throw new SkipTune('abc-no-key', 'The tune has no K: (key) line, which ends an ABC tune header.');
  }
  const unitMeta = header.meta.unitNoteLength ?? { num: 1, den: 8 };
  const unit = unitMeta.num / unitMeta.den;
  let parsed: RawTune[];
  const abcText = guardForAbcjs(tuneText, (w) => {
    if (warnings.length < MAX_WARNINGS && !warnings.includes(w)) {
      warnings.push(w);
    }
  });
  try {
    parsed = parseOnly(abcText) as unknown as RawTune[];
  } catch (e) {
    throw new SkipTune(
      'abc-parse-error',
      `The ABC parser (abcjs) failed on this tune (${e instanceof Error ? e.message : String(e)}). ` +
        'The tune is probably incomplete: check that its header ends with a K: line and that each V: line is followed by music.',
    );
  }
  const tune = parsed[0];
  if (!tune || !Array.isArray(tune.lines)) {
    throw new SkipTune('abc-no-notes', 'The tune has no music lines.');
  }
  for (const w of tune.warnings ?? []) {
    if (warnings.length < MAX_WARNINGS) {
      warnings.push(cleanWarning(String(w)));
    }
  }
  return { header, unit, abcText, tune };
}

/**
 * Reads one tune: parse, collect each voice's written bars, expand them into the performed
 * order, then assemble tracks, bars, changes and notes (`./assemble`).
 */
function readOneTune(tuneText: string, textOffset: number, warnings: string[]): Score {
  const { header, unit, abcText, tune } = parseTune(tuneText, warnings);

  // Collect each voice's elements across lines.
  const defaultMeter: Meter = { num: 4, den: 4 };
  const defaultKey: Key = { tonic: 'C', mode: 'major', fifths: 0 };
  const { builders, titles } = collectVoices(tune, abcText, () =>
    new VoiceBuilder(defaultMeter, defaultKey, [0, 0, 0, 0, 0, 0, 0], textOffset, unit, warnings, abcText),
  );
  const entries = [...builders.values()];

  const voices = performedVoices(entries, parsePartOrder(tune.metaText?.partOrder));
  const master = masterVoice(voices);
  const { tracks, staffs } = staffTracks(voices, entries, titles, tuneText);
  const writtenBars = writtenBarsOf(master);
  const { starts, length } = performedStarts(voices, master.slots.length);
  const headerTempo = tune.metaText?.tempo ? tempoOf(tune.metaText.tempo, unit) : undefined;
  const { bars, meters, keys, tempos } = masterTimeline(master, starts, length, headerTempo, { meter: defaultMeter, key: defaultKey });
  const { notes, chords } = performedNotes(voices, staffs, starts);

  return {
    meta: header.meta,
    notes: sortNotes(notes),
    bars,
    writtenBars,
    tracks,
    tempos,
    meters,
    keys,
    chords,
    length,
    source: { start: textOffset, end: textOffset + tuneText.length },
  };
}

// ---- whole file --------------------------------------------------------------------------------

/** UTF-8 byte length of a string, stopping early once it exceeds `limit`. */
function utf8LengthExceeds(text: string, limit: number): boolean {
  if (text.length > limit) {
    return true;
  }
  if (text.length * 3 <= limit) {
    return false;
  }
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      bytes += 1;
    } else if (c < 0x800) {
      bytes += 2;
    } else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4;
      i++;
    } else {
      bytes += 3;
    }
    if (bytes > limit) {
      return true;
    }
  }
  return false;
}

/** True when the text looks like binary data decoded as text (NULs, control characters, U+FFFD). */
function looksBinary(text: string): boolean {
  const sample = text.length > 65536 ? text.slice(0, 65536) : text;
  let bad = 0;
  for (let i = 0; i < sample.length; i++) {
    const c = sample.charCodeAt(i);
    if (c === 0) {
      return true;
    }
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12) || c === 0xfffd || c === 0x7f) {
      bad++;
    }
  }
  return bad > Math.max(8, sample.length * 0.01);
}

/**
 * Splits ABC text into tunes on `X:` lines (a text without `X:` but with a `K:` line is one tune).
 * Each range is half-open, in characters of `text`, and ends at the blank line that ends the tune.
 */
export function splitTunes(text: string): { start: number; end: number; reference?: number }[] {
  return splitTuneRanges(text);
}

/**
 * Reads every tune of an ABC file. Throws {@link MusicInputError} only for whole-file problems:
 * `abc-empty`, `abc-too-large`, `abc-binary`, `abc-no-tunes`. A tune that cannot be read is listed
 * in `skipped` with a code and reason; this function does not throw for one bad tune.
 */
export function readAbc(text: string, options: AbcReadOptions = {}): AbcReadResult {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_ABC_BYTES;
  if (typeof text !== 'string' || text.trim() === '') {
    throw new MusicInputError('abc-empty', 'The ABC file is empty.');
  }
  if (utf8LengthExceeds(text, maxBytes)) {
    const mb = (maxBytes / (1024 * 1024)).toFixed(maxBytes % (1024 * 1024) === 0 ? 0 : 1);
    throw new MusicInputError('abc-too-large', `The ABC file is larger than ${mb} MB, the most Refrain reads: split the tune book into smaller files.`);
  }
  if (looksBinary(text)) {
    throw new MusicInputError('abc-binary', 'The file holds binary data, not ABC text.');
  }
  if (!text.includes('\r')) {
    return readTunes(text, options);
  }
  // abcjs turns CRLF into LF before it counts characters, so its offsets would drift by one per
  // line in a Windows file. Read an LF copy and map every source range back to the real text.
  const { text: normalized, toOriginal } = lfText(text);
  const select = options.select;
  const result = readTunes(normalized, {
    ...options,
    select: select && ((ranges) => select(ranges.map((r) => ({ ...r, start: toOriginal[r.start], end: toOriginal[r.end] })))),
  });
  const map = (r: SourceRange | undefined): SourceRange | undefined => (r ? { start: toOriginal[r.start], end: toOriginal[r.end] } : r);
  for (const t of result.tunes) {
    const sc = t.score;
    sc.source = map(sc.source);
    for (const n of sc.notes) {
      n.source = map(n.source);
    }
    for (const c of sc.chords) {
      c.source = map(c.source);
    }
    for (const w of sc.writtenBars) {
      w.source = map(w.source);
    }
  }
  return result;
}

function readTunes(text: string, options: AbcReadOptions): AbcReadResult {
  const ranges = splitTuneRanges(text);
  if (ranges.length === 0) {
    throw new MusicInputError('abc-no-tunes', 'No ABC tune found: a tune starts with an X: line and needs a K: line.');
  }
  const tunes: AbcTune[] = [];
  const skipped: SkippedTune[] = [];
  const chosen = options.select ? options.select(ranges) : ranges.map((_, i) => i);
  const stopAfter = options.stopAfter ?? Infinity;
  for (const index of chosen) {
    const r = ranges[index];
    if (r === undefined || tunes.length >= stopAfter) {
      continue;
    }
    const tuneText = text.slice(r.start, r.end);
    const title = /^T:(.*)$/m.exec(tuneText)?.[1]?.trim();
    const warnings: string[] = [];
    try {
      const score = readOneTune(tuneText, r.start, warnings);
      const tune: AbcTune = { score, index, warnings };
      if (r.reference !== undefined) {
        tune.reference = r.reference;
      }
      if (score.meta.title !== undefined) {
        tune.title = score.meta.title;
      }
      tunes.push(tune);
    } catch (e) {
      const skip: SkippedTune =
        e instanceof SkipTune
          ? { index, code: e.code, reason: e.message }
          : { index, code: 'abc-unreadable', reason: `The tune could not be read: ${e instanceof Error ? e.message : String(e)}` };
      if (r.reference !== undefined) {
        skip.reference = r.reference;
      }
      if (title !== undefined && title !== '') {
        skip.title = title;
      }
      skipped.push(skip);
    }
  }
  return { tunes, skipped, count: ranges.length };
}
