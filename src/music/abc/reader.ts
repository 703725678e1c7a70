/**
 * ABC reader: text -> Score, one per tune, over abcjs `parseOnly` (which runs without a DOM).
 *
 * abcjs gives staff positions, written durations and bar lines; this module applies key
 * signatures and bar accidentals to get MIDI numbers, scales tuplets, merges ties, expands
 * repeats and endings into the performed order, and keeps each written bar's source range.
 */
import { parseOnly } from 'abcjs';
import type {
  Bar,
  ChordSymbol,
  Key,
  KeyChange,
  Meter,
  MeterChange,
  Note,
  Score,
  SourceRange,
  TempoChange,
  Track,
  WrittenBar,
} from '../score';
import { MusicInputError, TPQ, barTicks, sortNotes } from '../score';
import { parseTuneHeader, splitTuneRanges, voiceDeclarations } from './header';
import { expandParts, parsePartOrder } from './repeats';
import { guardForAbcjs } from './guard';
import { MAX_WARNINGS, SkipTune, VoiceBuilder, barLength, cleanWarning, collectVoices, sameKey, tempoOf } from './voiceBuilder';
import type { RawTune, VoiceBar } from './voiceBuilder';
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

/** Ticks per whole note. */
const WHOLE = TPQ * 4;
/** Default MIDI velocity of ABC notes. */
const VELOCITY = 80;
/** Upper bounds that keep malformed input from producing huge scores. */
const MAX_PERFORMED_BARS = 20000;
const MAX_NOTES = 200000;
/** Longest tune text handed to abcjs (about 200,000 notes); longer tunes are skipped unparsed. */
const MAX_TUNE_CHARS = 1_000_000;

// ---- assembling the Score -------------------------------------------------------------------

/** A voice: its abcjs position (staff, voice in staff) and its written bars. */
interface VoiceData {
  staff: number;
  voiceInStaff: number;
  bars: VoiceBar[];
  /** Performed order: written bar index per performed slot (multi-bar rests repeat their index). */
  slots: number[];
  hasNotes: boolean;
}

function readOneTune(tuneText: string, textOffset: number, warnings: string[]): Score {
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

  // Collect each voice's elements across lines.
  const defaultMeter: Meter = { num: 4, den: 4 };
  const defaultKey: Key = { tonic: 'C', mode: 'major', fifths: 0 };
  const { builders, titles } = collectVoices(tune, abcText, () =>
    new VoiceBuilder(defaultMeter, defaultKey, [0, 0, 0, 0, 0, 0, 0], textOffset, unit, warnings, abcText),
  );

  const partOrder = parsePartOrder(tune.metaText?.partOrder);
  const voices: VoiceData[] = [];
  for (const { staff, voice, builder } of builders.values()) {
    builder.finish();
    const hasNotes = builder.bars.some((b) => b.events.some((e) => e.tones.length > 0));
    if (!hasNotes) {
      continue;
    }
    const { order, capped } = expandParts(builder.bars, partOrder, MAX_PERFORMED_BARS);
    if (capped) {
      throw new SkipTune('abc-too-long', `The tune expands to more than ${MAX_PERFORMED_BARS} bars when its repeats are played.`);
    }
    const slots: number[] = [];
    for (const i of order) {
      const n = builder.bars[i].multiRest ?? 1;
      for (let k = 0; k < n; k++) {
        slots.push(i);
      }
      if (slots.length > MAX_PERFORMED_BARS) {
        throw new SkipTune('abc-too-long', `The tune has more than ${MAX_PERFORMED_BARS} bars when its repeats and rests are played.`);
      }
    }
    voices.push({ staff, voiceInStaff: voice, bars: builder.bars, slots, hasNotes });
  }
  if (voices.length === 0) {
    throw new SkipTune('abc-no-notes', 'The tune has no notes.');
  }
  voices.sort((a, b) => a.staff - b.staff || a.voiceInStaff - b.voiceInStaff);

  // The master voice (most performed bars, first on ties) gives written bars, meters, keys and tempos.
  let master = voices[0];
  for (const v of voices) {
    if (v.slots.length > master.slots.length) {
      master = v;
    }
  }

  // Tracks: one per staff that has notes, named after the staff's first declared voice.
  const staffs = [...new Set(voices.map((v) => v.staff))].sort((a, b) => a - b);
  const declared = voiceDeclarations(tuneText);
  const allVoiceKeys = [...builders.values()].sort((a, b) => a.staff - b.staff || a.voice - b.voice);
  const tracks: Track[] = staffs.map((s, i) => {
    const owner = allVoiceKeys.find((k) => k.staff === s)?.owner;
    const decl = declared.find((d) => d.id === owner);
    const name = titles.get(s) ?? decl?.name ?? decl?.id ?? 'Melody';
    const channel = i < 9 ? i : Math.min(15, i + 1);
    return { name: staffs.length === 1 && !titles.has(s) && decl?.name === undefined ? 'Melody' : name, channel, program: 0, isDrum: false };
  });
  const trackOfStaff = new Map(staffs.map((s, i) => [s, i]));

  // Written bars of the master voice.
  const writtenBars: WrittenBar[] = master.bars.map((b) => {
    const wb: WrittenBar = {};
    if (b.contentStart !== undefined && b.contentEnd !== undefined) {
      wb.source = { start: b.contentStart, end: b.contentEnd };
    }
    if (b.ending !== undefined) {
      wb.ending = Math.min(...b.ending);
    }
    return wb;
  });

  // Performed bar lengths: the longest content of any voice in that slot.
  const slotCount = master.slots.length;
  // Invisible rests (`x`) take time like any rest: `G6 Hx` fills a 4/4 bar.
  const lens: number[] = [];
  for (let k = 0; k < slotCount; k++) {
    let len = 0;
    for (const v of voices) {
      const idx = v.slots[k];
      if (idx !== undefined) {
        const wb = v.bars[idx];
        len = Math.max(len, wb.multiRest !== undefined ? barLength(wb.meter) : wb.len);
      }
    }
    lens.push(len);
  }
  const starts: number[] = [];
  let acc = 0;
  for (const len of lens) {
    starts.push(Math.round(acc * WHOLE));
    acc += len;
  }
  const length = Math.round(acc * WHOLE);

  const bars: Bar[] = [];
  const meters: MeterChange[] = [];
  const keys: KeyChange[] = [];
  const tempos: TempoChange[] = [];
  const headerTempo = tune.metaText?.tempo ? tempoOf(tune.metaText.tempo, unit) : undefined;
  tempos.push({ tick: 0, bpm: headerTempo ?? 120 });
  const pushKey = (tick: number, key: Key): void => {
    const last = keys[keys.length - 1];
    if (last && sameKey(last.key, key)) {
      return;
    }
    if (last && last.tick === tick) {
      keys[keys.length - 1] = { tick, key };
    } else {
      keys.push({ tick, key });
    }
  };
  const pushTempo = (tick: number, bpm: number): void => {
    const last = tempos[tempos.length - 1];
    if (last.tick === tick) {
      last.bpm = bpm;
    } else if (last.bpm !== bpm) {
      tempos.push({ tick, bpm });
    }
  };
  for (let k = 0; k < slotCount; k++) {
    const wbIndex = master.slots[k];
    const wb = master.bars[wbIndex];
    const start = starts[k];
    const duration = Math.round((k + 1 < slotCount ? starts[k + 1] : length) - start);
    if (k === 0 || wbIndex !== master.slots[k - 1]) {
      pushKey(start, wb.keyAtStart);
      for (const kc of wb.keyChanges) {
        pushKey(start + Math.round(kc.offset * WHOLE), kc.key);
      }
      for (const t of wb.tempos) {
        pushTempo(start + Math.round(t.offset * WHOLE), t.bpm);
      }
    }
    if (duration <= 0) {
      continue;
    }
    const lastMeter = meters[meters.length - 1];
    if (!lastMeter || lastMeter.meter.num !== wb.meter.num || lastMeter.meter.den !== wb.meter.den) {
      meters.push({ tick: start, meter: wb.meter });
    }
    bars.push({ start, duration, meter: wb.meter, written: wbIndex });
  }
  joinSplitBars(bars);
  if (meters.length === 0) {
    meters.push({ tick: 0, meter: master.bars[0]?.meter ?? defaultMeter });
  }
  if (keys.length === 0) {
    keys.push({ tick: 0, key: defaultKey });
  }
  meters[0] = { tick: 0, meter: meters[0].meter };
  keys[0] = { tick: 0, key: keys[0].key };

  // Notes, in performed order per voice, with ties merged.
  const notes: Note[] = [];
  const chords: ChordSymbol[] = [];
  const chordSeen = new Set<string>();
  for (const v of voices) {
    const track = trackOfStaff.get(v.staff) ?? 0;
    let pending: { step: number; note: Note }[] = [];
    for (let k = 0; k < v.slots.length && k < slotCount; k++) {
      const wb = v.bars[v.slots[k]];
      if (wb.multiRest !== undefined) {
        pending = [];
        continue;
      }
      const start = starts[k];
      for (const e of wb.events) {
        const onset = start + Math.round(e.offset * WHOLE);
        const end = start + Math.round((e.offset + e.dur) * WHOLE);
        for (const name of e.chords) {
          const id = `${onset}\u0000${name}`;
          if (!chordSeen.has(id)) {
            chordSeen.add(id);
            chords.push({ tick: onset, name, source: e.source });
          }
        }
        const next: { step: number; note: Note }[] = [];
        let first = true;
        for (const t of e.tones) {
          let target: Note | undefined;
          // A tie joins the same pitch in the next note or chord. abcjs marks tie ends by position
          // in the chord, not by pitch, so its endTie flag is not used.
          {
            const found =
              pending.find((p) => p.step === t.step && p.note.onset + p.note.duration === onset) ??
              pending.find((p) => p.note.pitch === t.midi && p.note.onset + p.note.duration === onset);
            if (found) {
              target = found.note;
              pending = pending.filter((p) => p !== found);
              target.duration = end - target.onset;
            }
          }
          if (!target) {
            if (end <= onset) {
              continue;
            }
            target = { pitch: t.midi, onset, duration: end - onset, velocity: VELOCITY, track, voice: v.voiceInStaff, source: e.source };
            if (first && e.graces && e.graces.length > 0) {
              target.graces = [...e.graces];
            }
            first = false;
            notes.push(target);
            if (notes.length > MAX_NOTES) {
              throw new SkipTune('abc-too-long', `The tune has more than ${MAX_NOTES} notes when its repeats are played.`);
            }
          }
          if (t.tieStart) {
            next.push({ step: t.step, note: target });
          }
        }
        pending = next;
      }
    }
  }
  if (notes.length === 0) {
    throw new SkipTune('abc-no-notes', 'The tune has no notes.');
  }
  // Voice numbers restart at 0 within each track.
  const voiceNumber = new Map<string, number>();
  for (const s of staffs) {
    voices.filter((v) => v.staff === s).forEach((v, i) => voiceNumber.set(`${s}:${v.voiceInStaff}`, i));
  }
  for (const n of notes) {
    n.voice = voiceNumber.get(`${staffs[n.track]}:${n.voice}`) ?? 0;
  }
  chords.sort((a, b) => a.tick - b.tick);

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

/**
 * Joins two adjacent short performed bars that together fill exactly one bar of their shared
 * meter: the short bar that ends a repeated part (`... D2:|`) and the pickup that follows it
 * when the repeat is played (`|:A2|...`). Musically they are one bar; keeping them apart would
 * make every repeated 8-bar part 9 bars long and shift the piece's structure. The joined bar
 * keeps the first one's written bar for editor mapping. The opening pickup stays a short bar.
 */
function joinSplitBars(bars: Bar[]): void {
  let out = 0;
  for (let i = 0; i < bars.length; i++) {
    const b = bars[i];
    const next = bars[i + 1];
    const full = barTicks(b.meter);
    if (
      next !== undefined &&
      b.duration < full &&
      next.duration < full &&
      b.duration + next.duration === full &&
      b.meter.num === next.meter.num &&
      b.meter.den === next.meter.den &&
      next.start === b.start + b.duration
    ) {
      bars[out++] = { ...b, duration: full };
      i++;
    } else {
      bars[out++] = b;
    }
  }
  bars.length = out;
}
