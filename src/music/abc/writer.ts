/**
 * ABC writer: Score -> one idiomatic ABC tune, in performed order (repeats are not re-folded).
 *
 * Each bar of each voice is cut into slices at every note start and end (and at bar lines,
 * chord-symbol ticks and the middle of the bar for off-beat notes); a slice is a note, a chord
 * or a rest, and a note that goes on into the next slice is tied. So any polyphony within a voice
 * is written exactly, and the text reads back with `readAbc` to the same (pitch, onset, duration)
 * list. Durations are multiples of the chosen `L:`; triplet rhythms are written as `(3` groups and
 * anything else that is not a binary fraction as an explicit fraction such as `A2/5`.
 */
import type { Key, Meter, Note, Score } from '../score';
import { TPQ, barTicks } from '../score';
import { chooseUnit } from './durations';
import { keyFieldText } from './keys';
import { VoiceWriter } from './voiceWriter';

/** Options of {@link writeAbc}. */
export interface AbcWriteOptions {
  /** `X:` number (default: the score's own reference, else 1). */
  reference?: number;
  /** Bars per line (default 4, or 8 when bars are shorter than a half note). */
  barsPerLine?: number;
}

/** Ticks per whole note. */
const WHOLE = TPQ * 4;

/** Header fields the writer produces itself; extra header lines with these letters are dropped. */
const OWN_FIELDS = /^[XMLKQV]:/;

/** A bar as the writer lays it out: start tick, length in ticks, meter. */
export interface SimpleBar {
  start: number;
  duration: number;
  meter: Meter;
}

/** Bars to write: the score's bars, made contiguous from 0 and extended to cover every note. */
function normalizeBars(score: Score): SimpleBar[] {
  const meterAt = (tick: number): Meter => {
    let m: Meter = score.meters[0]?.meter ?? { num: 4, den: 4 };
    for (const c of score.meters) {
      if (c.tick <= tick) {
        m = c.meter;
      }
    }
    return m.num > 0 && m.den > 0 ? m : { num: 4, den: 4 };
  };
  const out: SimpleBar[] = [];
  let cursor = 0;
  const fill = (until: number): void => {
    while (cursor < until) {
      const meter = meterAt(cursor);
      const len = Math.max(1, Math.min(barTicks(meter), until - cursor));
      out.push({ start: cursor, duration: len, meter });
      cursor += len;
    }
  };
  const sorted = [...score.bars].sort((a, b) => a.start - b.start);
  for (const b of sorted) {
    if (!(b.duration > 0) || !Number.isFinite(b.start)) {
      continue;
    }
    fill(b.start);
    const end = b.start + b.duration;
    if (end <= cursor) {
      continue;
    }
    const meter = b.meter && b.meter.num > 0 && b.meter.den > 0 ? b.meter : meterAt(cursor);
    out.push({ start: cursor, duration: end - cursor, meter });
    cursor = end;
  }
  let last = Math.max(score.length || 0, 0);
  for (const n of score.notes) {
    last = Math.max(last, n.onset + n.duration);
  }
  if (sorted.length > 0) {
    // Only notes (not a longer `length`) extend a score that has bars.
    last = cursor;
    for (const n of score.notes) {
      last = Math.max(last, n.onset + n.duration);
    }
  }
  fill(last);
  return out;
}

/** Index of the first bar whose end is after `tick`. */
function firstBarEndingAfter(bars: readonly SimpleBar[], tick: number): number {
  let lo = 0;
  let hi = bars.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (bars[mid].start + bars[mid].duration <= tick) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

/** `M:` value of a meter: `6/8`. */
export function meterText(m: Meter): string {
  return `${m.num}/${m.den}`;
}

function tempoText(bpm: number): string {
  return `1/4=${Math.max(1, Math.round(bpm))}`;
}

/** A chord-symbol name that is safe inside `"..."`: quotes and line breaks removed, trimmed. */
export function cleanName(name: string): string {
  return name.replace(/["\n\r]/g, '').trim();
}

/** The ABC voices: one per (track, voice) pair that has notes, in track then voice order. */
interface AbcVoices {
  keys: { track: number; voice: number }[];
  /** Per voice, per bar: the notes sounding in the bar. */
  perBar: Note[][][];
  /** Whether a voice shares its track with the voice before it (then it is written on the same staff, with invisible rests). */
  sharesStaff: boolean[];
}

function voicesOf(notes: readonly Note[], bars: readonly SimpleBar[]): AbcVoices {
  const keys: { track: number; voice: number }[] = [];
  const voiceIndex = new Map<string, number>();
  for (const n of [...notes].sort((a, b) => a.track - b.track || (a.voice ?? 0) - (b.voice ?? 0))) {
    const id = `${n.track}:${n.voice ?? 0}`;
    if (!voiceIndex.has(id)) {
      voiceIndex.set(id, keys.length);
      keys.push({ track: n.track, voice: n.voice ?? 0 });
    }
  }
  if (keys.length === 0) {
    keys.push({ track: 0, voice: 0 });
  }
  const perBar: Note[][][] = keys.map(() => bars.map(() => []));
  for (const n of notes) {
    const v = voiceIndex.get(`${n.track}:${n.voice ?? 0}`) ?? 0;
    for (let b = firstBarEndingAfter(bars, n.onset); b < bars.length && bars[b].start < n.onset + n.duration; b++) {
      perBar[v][b].push(n);
    }
  }
  // A voice that shares its track with an earlier voice is written on the same staff, with invisible rests.
  const sharesStaff = keys.map((k, i) => i > 0 && keys[i - 1].track === k.track);
  return { keys, perBar, sharesStaff };
}

/** The chord symbols of each bar (names cleaned, empty ones dropped). */
function chordsPerBar(score: Score, bars: readonly SimpleBar[]): { tick: number; name: string }[][] {
  const out: { tick: number; name: string }[][] = bars.map(() => []);
  for (const c of score.chords) {
    const name = cleanName(c.name);
    const b = firstBarEndingAfter(bars, c.tick);
    if (name !== '' && b < bars.length && c.tick >= bars[b].start) {
      out[b].push({ tick: c.tick, name });
    }
  }
  return out;
}

/** The key in force at the end of each bar. */
function keyAtBarOf(score: Score, bars: readonly SimpleBar[]): (b: number) => Key {
  const keys = [...score.keys].sort((a, b) => a.tick - b.tick);
  return (b) => {
    const end = bars[b].start + bars[b].duration;
    let k: Key = keys[0]?.key ?? { tonic: 'C', mode: 'major', fifths: 0 };
    for (const c of keys) {
      if (c.tick < end) {
        k = c.key;
      }
    }
    return k;
  };
}

/** The tune's header: `X:`, `T:`, kept headers, `M:`, `L:`, `Q:`, `%%score` for shared staffs, `K:`. */
function headerLines(
  score: Score,
  options: AbcWriteOptions,
  fields: { meter: Meter; unitDen: number; tempo: number | undefined; key: Key },
  sharesStaff: readonly boolean[],
): string[] {
  const meta = score.meta ?? {};
  const lines: string[] = [];
  const reference = options.reference ?? meta.reference ?? 1;
  lines.push(`X:${reference}`);
  lines.push(`T:${(meta.title ?? '').replace(/[\r\n]/g, ' ').trim() || 'Untitled'}`);
  if (meta.composer) {
    lines.push(`C:${meta.composer.replace(/[\r\n]/g, ' ')}`);
  }
  if (meta.origin) {
    lines.push(`O:${meta.origin.replace(/[\r\n]/g, ' ')}`);
  }
  if (meta.rhythm) {
    lines.push(`R:${meta.rhythm.replace(/[\r\n]/g, ' ')}`);
  }
  for (const h of meta.extraHeaders ?? []) {
    if (/[\r\n]/.test(h) || OWN_FIELDS.test(h) || /^%%\s*(score|staves)\b/.test(h)) {
      continue;
    }
    if (/^[A-Za-z+]:/.test(h) || h.startsWith('%')) {
      lines.push(h);
    }
  }
  lines.push(`M:${meterText(fields.meter)}`);
  lines.push(`L:1/${fields.unitDen}`);
  if (fields.tempo !== undefined) {
    lines.push(`Q:${tempoText(fields.tempo)}`);
  }
  if (sharesStaff.some((x) => x)) {
    const groups: string[] = [];
    sharesStaff.forEach((shares, i) => {
      if (shares) {
        groups[groups.length - 1] += ` ${i + 1}`;
      } else {
        groups.push(`${i + 1}`);
      }
    });
    lines.push(`%%score ${groups.map((g) => (g.includes(' ') ? `(${g})` : g)).join(' ')}`);
  }
  lines.push(`K:${keyFieldText(fields.key)}`);
  return lines;
}

/** Inline fields at bar starts: meter and key changes (every voice), tempo changes (the first voice). */
function inlineFields(
  bars: readonly SimpleBar[],
  keyAtBar: (b: number) => Key,
  firstKey: Key,
  tempos: readonly { tick: number; bpm: number }[],
): { barPrefix: string[]; tempoPrefix: string[] } {
  const barPrefix: string[] = bars.map(() => '');
  const tempoPrefix: string[] = bars.map(() => '');
  let prevKey = keyFieldText(firstKey);
  for (let b = 0; b < bars.length; b++) {
    let p = '';
    if (b > 0 && meterText(bars[b].meter) !== meterText(bars[b - 1].meter)) {
      p += `[M:${meterText(bars[b].meter)}]`;
    }
    const kt = keyFieldText(keyAtBar(b));
    if (kt !== prevKey) {
      p += `[K:${kt}]`;
      prevKey = kt;
    }
    barPrefix[b] = p;
  }
  for (let t = 1; t < tempos.length; t++) {
    const b = firstBarEndingAfter(bars, tempos[t].tick);
    if (b < bars.length) {
      tempoPrefix[b] = `[Q:${tempoText(tempos[t].bpm)}]`;
    }
  }
  return { barPrefix, tempoPrefix };
}

/**
 * Writes a Score as one ABC tune: `X:`, `T:`, kept headers, `M:`, `L:`, `Q:`, `K:` and a body in
 * performed order with bar lines, key-aware accidentals, chords, chord symbols, grace notes,
 * ties, triplets and beam groups. Several tracks become `V:` voices written line by line.
 */
export function writeAbc(score: Score, options: AbcWriteOptions = {}): string {
  const notes = score.notes.filter(
    (n) => Number.isFinite(n.onset) && Number.isFinite(n.duration) && n.duration > 0 && n.onset >= 0 && n.pitch >= 0 && n.pitch <= 127,
  );
  const bars = normalizeBars({ ...score, notes });
  const unit = chooseUnit(notes);
  const voices = voicesOf(notes, bars);
  const chords = chordsPerBar(score, bars);

  const firstMeter = bars[0]?.meter ?? score.meters[0]?.meter ?? { num: 4, den: 4 };
  const tempos = [...score.tempos].filter((t) => t.bpm > 0 && Number.isFinite(t.bpm)).sort((a, b) => a.tick - b.tick);
  const keyAtBar = keyAtBarOf(score, bars);
  const firstKey = bars.length > 0 ? keyAtBar(0) : ([...score.keys].sort((a, b) => a.tick - b.tick)[0]?.key ?? { tonic: 'C', mode: 'major', fifths: 0 });
  const lines = headerLines(score, options, { meter: firstMeter, unitDen: unit.den, tempo: tempos[0]?.bpm, key: firstKey }, voices.sharesStaff);
  const { barPrefix, tempoPrefix } = inlineFields(bars, keyAtBar, firstKey, tempos);

  // Body.
  const shortBars = bars.length > 0 && barTicks(firstMeter) < WHOLE / 2;
  const perLine = Math.max(1, Math.floor(options.barsPerLine ?? (shortBars ? 8 : 4)));
  // A short first bar (anacrusis) does not count towards the bars of the first line.
  const pickup = bars.length > 1 && bars[0].duration < barTicks(bars[0].meter) ? 1 : 0;
  const voiceLines: string[][] = voices.keys.map((_, v) => {
    const w = new VoiceWriter(unit, voices.sharesStaff[v] ? 'x' : 'z');
    const out: string[] = [];
    let line = '';
    for (let b = 0; b < bars.length; b++) {
      w.setKey(keyAtBar(b));
      const text = w.bar(voices.perBar[v][b], bars[b], v === 0 ? chords[b] : []);
      const isLast = b === bars.length - 1;
      line += barPrefix[b] + (v === 0 ? tempoPrefix[b] : '') + text + (isLast ? '|]' : '|');
      if ((b + 1 - pickup > 0 && (b + 1 - pickup) % perLine === 0) || isLast) {
        out.push(line);
        line = '';
      }
    }
    return out;
  });
  if (voices.keys.length === 1) {
    lines.push(...voiceLines[0]);
  } else {
    const lineCount = Math.max(...voiceLines.map((l) => l.length));
    for (let k = 0; k < lineCount; k++) {
      voices.keys.forEach((key, v) => {
        const id = v + 1;
        const name = voices.sharesStaff[v] ? '' : cleanName(score.tracks[key.track]?.name ?? '');
        lines.push(k === 0 && name !== '' ? `V:${id} name="${name}"` : `V:${id}`);
        lines.push(voiceLines[v][k] ?? '');
      });
    }
  }
  return lines.join('\n') + '\n';
}
