/**
 * ABC fragments: a run of a Score's bars written as ABC body text for an existing tune (its
 * `L:`, `K:` and `M:` in force), so generated bars can be pasted into the user's file; plus the
 * small text scanners the splice planner (`../splice`) needs to place such text: bar lines
 * after a position, and the `K:`/`M:`/`L:` fields in force at a position.
 *
 * The notes are written by the full-tune writer's {@link VoiceWriter}, so spelling, durations,
 * beam groups, ties, triplets and chord symbols are the same as in `writeAbc`.
 *
 * Pure TypeScript: no vscode, no DOM, no Node-only APIs.
 */
import type { ChordSymbol, Key, KeyChange, Meter, Note, Score } from '../score';
import { MusicInputError, TPQ, barIndexAt, barTicks } from '../score';
import { parseFraction } from './header';
import { LETTERS, keyFieldText, signatureOf } from './keys';
import type { SimpleBar } from './writer';
import { VoiceWriter } from './voiceWriter';
import { cleanName, meterText, writeAbc } from './writer';
import type { AbcWriteOptions } from './writer';
import { foldRepeats } from './folding';

/** Ticks per whole note. */
const WHOLE = TPQ * 4;

/** What a fragment is written for: the tune's fields in force where the text goes. */
export interface AbcBarsContext {
  /** The `L:` in force (1/8 is `{ num: 1, den: 8 }`). */
  unitNoteLength: Meter;
  /** The key in force; notes are spelled against its signature (`fifths`). */
  key: Key;
  /**
   * The signature in force when it is not `key`'s standard one (a `K:` with `exp` or explicit
   * accidentals, see {@link customSignature}): alteration per letter C..B.
   */
  signature?: readonly number[];
  /** The meter in force. */
  meter: Meter;
  /** Bars per line (default 4, or 8 when bars are shorter than a half note); 0 or less: one line. */
  barsPerLine?: number;
  /**
   * Whether the text will stand at the start of a line (default true). When false the text
   * begins with a line break, so the bars start a line of their own.
   */
  startsLine?: boolean;
  /** Bars already on the line the text continues (the first line break comes after perLine - onLine bars); default 0. */
  onLine?: number;
  /** Write only this track's notes (default: every pitched track, merged into one voice). */
  track?: number;
}

/** Extra controls of a fragment, used when it is spliced between existing bars. */
export interface AbcFragmentOptions {
  /**
   * Pitches whose notes, sounding when the range starts, are written from its start: the text
   * before the fragment ends with a tie on them. Other notes that start before the range are
   * left out (their bars own them).
   */
  holdIn?: ReadonlySet<number>;
  /**
   * Pitches whose notes, still sounding when the range ends, are written with a tie out of the
   * last bar: the text after the fragment starts with that pitch. Other notes are cut at the end.
   */
  holdOut?: ReadonlySet<number>;
  /**
   * Fold bars that come back exactly into repeat signs, with first and second endings where only
   * the last bars differ (`./folding`). Default false (bar-by-bar ghost text stays written out).
   */
  foldRepeats?: boolean;
}

/** One bar of a fragment. */
export interface AbcFragmentBar {
  /** Inline fields written before the bar's notes (`[M:3/4]`, `[K:G]`); `''` when none. */
  fields: string;
  /** The bar's notes, rests and chord symbols, without bar lines. */
  body: string;
}

/** A run of bars written as ABC, before it is laid out into lines. */
export interface AbcFragment {
  bars: AbcFragmentBar[];
  /** The key in force after the last bar (the context's unless an inline `[K:]` was written). */
  key: Key;
  /** The meter in force after the last bar. */
  meter: Meter;
  /** True when an inline `[K:]` was written. */
  changedKey: boolean;
  /** True when an inline `[M:]` was written. */
  changedMeter: boolean;
}

function sameMeter(a: Meter, b: Meter): boolean {
  return a.num === b.num && a.den === b.den;
}

/** The writer's unit for an `L:` value; throws when it is not a whole number of ticks. */
function unitOf(l: Meter): { den: number; ticks: number } {
  const ticks = (WHOLE * l.num) / l.den;
  if (!(l.num > 0) || !(l.den > 0) || !Number.isInteger(ticks) || ticks <= 0) {
    throw new MusicInputError('abc-fragment-unit', `The unit note length L:${l.num}/${l.den} cannot be used to write notes.`);
  }
  return { den: Math.max(1, Math.round(l.den / l.num)), ticks };
}

/** The key in force over a bar, as the full-tune writer sees it: the last change before the bar's end. */
function keyOverBar(keys: readonly KeyChange[], bar: SimpleBar, fallback: Key): Key {
  let k = fallback;
  const end = bar.start + bar.duration;
  for (const c of keys) {
    if (c.tick < end) {
      k = c.key;
    }
  }
  return k;
}

/**
 * Writes performed bars `[fromBar, toBar)` of `score` as ABC for a tune whose `L:`, `K:` and `M:`
 * in force are `context`'s: one {@link AbcFragmentBar} per bar. Accidentals are key-aware and reset
 * at every bar, notes across bar lines inside the range are tied, triplets are `(3` groups, chord
 * symbols are written, and an inline `[M:]` or `[K:]` is written before a bar whose meter or key
 * signature differs from the one in force (a change of mode alone, same signature, writes
 * nothing). Drum tracks are left out. Throws `MusicInputError('abc-fragment-range')` for a bad range.
 */
export function abcFragment(
  score: Score,
  fromBar: number,
  toBar: number,
  context: AbcBarsContext,
  options: AbcFragmentOptions = {},
): AbcFragment {
  if (!Number.isInteger(fromBar) || !Number.isInteger(toBar) || fromBar < 0 || toBar < fromBar || toBar > score.bars.length) {
    throw new MusicInputError(
      'abc-fragment-range',
      `Cannot write bars ${fromBar + 1} to ${toBar}: the piece has ${score.bars.length} bars.`,
    );
  }
  const unit = unitOf(context.unitNoteLength);
  const out: AbcFragment = { bars: [], key: context.key, meter: context.meter, changedKey: false, changedMeter: false };
  if (fromBar === toBar) {
    return out;
  }
  const bars: SimpleBar[] = [];
  for (let k = fromBar; k < toBar; k++) {
    const b = score.bars[k];
    if (!(b.duration > 0) || !Number.isFinite(b.start)) {
      throw new MusicInputError('abc-fragment-bar', `Bar ${k + 1} has no length, so it cannot be written.`);
    }
    bars.push({ start: b.start, duration: b.duration, meter: b.meter });
  }
  const rangeStart = bars[0].start;
  const last = bars[bars.length - 1];
  const rangeEnd = last.start + last.duration;
  const holdIn = options.holdIn ?? new Set<number>();
  const holdOut = options.holdOut ?? new Set<number>();

  const perBar: Note[][] = bars.map(() => []);
  for (const n of score.notes) {
    const wanted = context.track === undefined ? !score.tracks[n.track]?.isDrum : n.track === context.track;
    if (!wanted || !Number.isFinite(n.onset) || !(n.duration > 0) || !(n.pitch >= 0 && n.pitch <= 127)) {
      continue;
    }
    const end = n.onset + n.duration;
    if (end <= rangeStart || n.onset >= rangeEnd || (n.onset < rangeStart && !holdIn.has(n.pitch))) {
      continue;
    }
    const note = end > rangeEnd && !holdOut.has(n.pitch) ? { ...n, duration: rangeEnd - n.onset } : n;
    const first = barIndexAt(score.bars, Math.max(n.onset, rangeStart));
    if (first < 0) {
      continue;
    }
    for (let k = first; k < toBar && score.bars[k].start < Math.min(end, rangeEnd); k++) {
      perBar[k - fromBar].push(note);
    }
  }
  const chordsPerBar: { tick: number; name: string }[][] = bars.map(() => []);
  for (const c of score.chords as readonly ChordSymbol[]) {
    const name = cleanName(c.name);
    if (name === '' || c.tick < rangeStart || c.tick >= rangeEnd) {
      continue;
    }
    const k = barIndexAt(score.bars, c.tick);
    if (k >= fromBar && k < toBar) {
      chordsPerBar[k - fromBar].push({ tick: c.tick, name });
    }
  }

  const keys = [...score.keys].sort((a, b) => a.tick - b.tick);
  const writer = new VoiceWriter(unit, 'z');
  let key = context.key;
  let meter = context.meter;
  bars.forEach((bar, i) => {
    let fields = '';
    if (!sameMeter(bar.meter, meter)) {
      fields += `[M:${meterText(bar.meter)}]`;
      meter = bar.meter;
      out.changedMeter = true;
    }
    const barKey = keyOverBar(keys, bar, key);
    if (Math.round(barKey.fifths) !== Math.round(key.fifths)) {
      fields += `[K:${keyFieldText(barKey)}]`;
      key = barKey;
      out.changedKey = true;
    }
    writer.setKey(key, out.changedKey ? undefined : context.signature);
    out.bars.push({ fields, body: writer.bar(perBar[i], bar, chordsPerBar[i]) });
  });
  out.key = key;
  out.meter = meter;
  return out;
}

/**
 * ABC body text for performed bars `[fromBar, toBar)` of `score`, spelled for a tune whose fields
 * in force are `context`'s, ready to paste into that tune: each bar is followed by a bar line `|`
 * (the caller turns the last one into `|]` where the tune ends), lines break every
 * `context.barsPerLine` bars, inline `[M:]`/`[K:]` fields mark changes (see {@link abcFragment}).
 * Notes that start before the range are left out and notes still sounding at its end are cut
 * there (unless `options` says otherwise). An anacrusis at bar 0 does not count towards the
 * first line. Returns `''` for an empty range.
 */
export function writeAbcBars(
  score: Score,
  fromBar: number,
  toBar: number,
  context: AbcBarsContext,
  options: AbcFragmentOptions = {},
): string {
  const frag = abcFragment(score, fromBar, toBar, context, options);
  if (frag.bars.length === 0) {
    return '';
  }
  const first = score.bars[fromBar];
  const shortBars = barTicks(first.meter) < WHOLE / 2;
  const requested = context.barsPerLine ?? (shortBars ? 8 : 4);
  const perLine = Number.isFinite(requested) && requested > 0 ? Math.max(1, Math.floor(requested)) : Infinity;
  const pickup = fromBar === 0 && frag.bars.length > 1 && first.duration < barTicks(first.meter) ? 1 : 0;
  let text = context.startsLine === false ? '\n' : '';
  const placed = options.foldRepeats ? foldRepeats(frag.bars) : frag.bars.map((b) => ({ pre: '', text: `${b.fields}${b.body}`, post: '|' }));
  let onLine = (context.onLine ?? 0) - pickup;
  placed.forEach((b, i) => {
    text += `${b.pre}${b.text}${b.post}`;
    onLine++;
    // A line ends every perLine bars, but never between an ending's number and its first bar.
    if (i < placed.length - 1 && onLine >= perLine && !/\d $/.test(b.post)) {
      text += '\n';
      onLine = 0;
    }
  });
  return text;
}

// ---- text scanners ----------------------------------------------------------------------------

/** A bar line found in the text: its half-open range and characters (`|`, `:|`, `|]`, `|1`...). */
export interface AbcBarLine {
  start: number;
  end: number;
  text: string;
}

/** A bar line with an optional ending number after it. */
const BAR_LINE = /^(?:\[\|[|\]:]*|:*\|[|\]:]*|::+)(?:[ \t]*\[?\d+(?:[,-]\d+)*)?/;

/**
 * The bar line that follows position `pos` (skipping spaces, line breaks, comments, inline fields,
 * annotations and decorations, but not a field line), or undefined when notes or a field line come
 * first, or `limit` is reached.
 */
export function barLineAfter(text: string, pos: number, limit: number): AbcBarLine | undefined {
  let p = pos;
  let lineStart = p === 0 || text[p - 1] === '\n';
  while (p < limit) {
    const c = text[p];
    if (c === ' ' || c === '\t' || c === '\r') {
      p++;
      continue;
    }
    if (c === '\n') {
      p++;
      lineStart = true;
      continue;
    }
    if (lineStart && /^[A-Za-z+]:/.test(text.slice(p, p + 2))) {
      return undefined;
    }
    lineStart = false;
    if (c === '%') {
      const nl = text.indexOf('\n', p);
      p = nl < 0 ? limit : nl;
      continue;
    }
    if (c === '[' && /^\[[A-Za-z]:/.test(text.slice(p, p + 3))) {
      const close = text.indexOf(']', p);
      if (close < 0 || close >= limit) {
        return undefined;
      }
      p = close + 1;
      continue;
    }
    if (c === '"' || c === '!') {
      const close = text.indexOf(c, p + 1);
      if (close < 0 || close >= limit) {
        return undefined;
      }
      p = close + 1;
      continue;
    }
    break;
  }
  if (p >= limit) {
    return undefined;
  }
  const m = BAR_LINE.exec(text.slice(p, Math.min(limit, p + 32)));
  if (!m) {
    return undefined;
  }
  return { start: p, end: p + m[0].length, text: m[0] };
}

/** An information field written in a tune's body or header. */
export interface AbcField {
  /** Field letter (`K`, `M`, `L`...). */
  letter: string;
  /** The value after the colon, trimmed. */
  value: string;
  /** Half-open range of the whole field (`K:G` line without its line break, or `[K:G]`). */
  start: number;
  end: number;
  /** True for an inline field `[K:G]`, false for a field line. */
  inline: boolean;
}

/** Replaces comments and quoted strings of one line with spaces, keeping offsets. */
function blankCommentsAndQuotes(line: string): string {
  let out = '';
  let inQuote = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (!inQuote && c === '%' && (i === 0 || line[i - 1] !== '\\')) {
      return out + ' '.repeat(line.length - i);
    }
    if (c === '"') {
      inQuote = !inQuote;
      out += ' ';
      continue;
    }
    out += inQuote ? ' ' : c;
  }
  return out;
}

/**
 * The fields with one of `letters` in `text[start, end)`, in text order: field lines (`K:D`) and
 * inline fields (`[K:D]`), outside comments and quoted strings. `start` should be a line start.
 */
export function fieldsIn(text: string, start: number, end: number, letters: string): AbcField[] {
  const out: AbcField[] = [];
  let s = start;
  while (s < end) {
    const nl = text.indexOf('\n', s);
    const lineEnd = nl < 0 || nl > end ? end : nl;
    const line = blankCommentsAndQuotes(text.slice(s, lineEnd));
    const atLineStart = s === 0 || text[s - 1] === '\n';
    const head = /^([A-Za-z]):(.*)$/.exec(line);
    if (atLineStart && head) {
      if (letters.includes(head[1])) {
        out.push({ letter: head[1], value: head[2].trim(), start: s, end: s + line.trimEnd().length, inline: false });
      }
    } else {
      const re = /\[([A-Za-z]):([^\]]*)\]/g;
      let m: RegExpExecArray | null;
      while ((m = re.exec(line)) !== null) {
        if (letters.includes(m[1])) {
          out.push({ letter: m[1], value: m[2].trim(), start: s + m.index, end: s + m.index + m[0].length, inline: true });
        }
      }
    }
    s = lineEnd === end ? end : lineEnd + 1;
  }
  return out;
}

/** The last field with `letter` in `text[tuneStart, pos)`: the one in force at `pos`; undefined when none. */
export function fieldInForce(text: string, tuneStart: number, pos: number, letter: string): AbcField | undefined {
  const all = fieldsIn(text, tuneStart, pos, letter);
  return all[all.length - 1];
}

/** The `L:` in force at `pos` of a tune starting at `tuneStart` (the tune's default when none is written). */
export function unitInForce(text: string, tuneStart: number, pos: number, fallback: Meter): Meter {
  const f = fieldInForce(text, tuneStart, pos, 'L');
  return (f && parseFraction(f.value)) || fallback;
}

const ALTER: Readonly<Record<string, number>> = { '^^': 2, __: -2, '^': 1, _: -1, '=': 0 };

/**
 * The signature a `K:` value sets when it is not its key's standard one: `exp` with the listed
 * accidentals only (`K:D exp ^f _b`), or the standard signature of `key` (the key the reader made
 * of the field) with the listed accidentals changed (`K:D ^g`). Undefined for a standard key.
 * Alteration per letter C..B.
 */
export function customSignature(value: string, key: Key): number[] | undefined {
  const words = value.split(/\s+/).filter((w) => w !== '' && !/^[a-z]+=/i.test(w));
  const exp = words.some((w) => /^exp$/i.test(w));
  const accidentals = words.slice(1).map((w) => /^(\^\^|__|\^|_|=)([a-gA-G])$/.exec(w)).filter((m): m is RegExpExecArray => m !== null);
  if (!exp && accidentals.length === 0) {
    return undefined;
  }
  const sig = exp ? [0, 0, 0, 0, 0, 0, 0] : signatureOf(key.fifths);
  for (const m of accidentals) {
    sig[LETTERS.indexOf(m[2].toUpperCase())] = ALTER[m[1]] ?? 0;
  }
  return sig;
}

/**
 * A whole one-voice tune as ABC with repeats folded (see `./folding`): `writeAbc`'s header, then
 * the bars with sections that come back exactly written once between repeat signs. A tune with
 * several voices is written by `writeAbc` unchanged.
 */
export function writeAbcFolded(score: Score, options: AbcWriteOptions = {}): string {
  const full = writeAbc(score, options);
  const voices = new Set(score.notes.map((n) => `${n.track}:${n.voice ?? 0}`));
  const lines = full.split('\n');
  const k = lines.findIndex((l) => l.startsWith('K:'));
  const l = lines.find((x) => x.startsWith('L:'));
  if (voices.size > 1 || k < 0 || !l || score.bars.length === 0 || lines.some((x) => x.startsWith('V:'))) {
    return full;
  }
  const unitNoteLength = parseFraction(l.slice(2).trim());
  const key = [...score.keys].sort((a, b) => a.tick - b.tick)[0]?.key ?? { tonic: 'C', mode: 'major', fifths: 0 };
  if (!unitNoteLength) {
    return full;
  }
  const body = writeAbcBars(score, 0, score.bars.length, { unitNoteLength, key, meter: score.bars[0].meter }, { foldRepeats: true });
  const closed = body.endsWith(':|') ? body : `${body.slice(0, -1)}|]`;
  return `${lines.slice(0, k + 1).join('\n')}\n${closed}\n`;
}
