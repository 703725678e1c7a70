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
import { accidentalText, keyFieldText, signatureOf, spellPitch, stepText } from './keys';

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

interface Tone {
  midi: number;
  tie: boolean;
}

interface Slice {
  t0: number;
  t1: number;
  tones: Tone[];
  /** +1 / -1 when a single note moves on by a semitone up / down (spelling hint). */
  direction?: number;
  graces?: number[];
  chords: string[];
}

function gcd(a: number, b: number): number {
  let x = Math.abs(a);
  let y = Math.abs(b);
  while (y) {
    [x, y] = [y, x % y];
  }
  return x || 1;
}

function isPow2(n: number): boolean {
  return n >= 1 && Number.isInteger(n) && (n & (n - 1)) === 0;
}

/** `ticks / unit` as a reduced fraction. */
function ratio(ticks: number, unit: number): [number, number] {
  const g = gcd(ticks, unit);
  return [ticks / g, unit / g];
}

/** True when `ticks` is a binary fraction of the unit (writable with `/2`, `/4`...). */
function isDyadic(ticks: number, unit: number): boolean {
  return isPow2(ratio(ticks, unit)[1]);
}

/** True when a multiplier n/d is one plain or dotted note value. */
function isSingleValue(n: number, d: number): boolean {
  return isPow2(d) && (isPow2(n) || (n % 3 === 0 && isPow2(n / 3)));
}

/** Duration suffix for a multiplier n/d of the unit: `''`, `2`, `/`, `3/2`, `/4`... */
function suffix(n: number, d: number): string {
  if (d === 1) {
    return n === 1 ? '' : String(n);
  }
  if (n === 1) {
    return d === 2 ? '/' : `/${d}`;
  }
  return `${n}/${d}`;
}

/**
 * Duration suffixes of the pieces a duration is written as: one piece when it is a plain or
 * dotted value, tied pieces (largest first) for other binary fractions, one explicit fraction
 * otherwise.
 */
function durationPieces(ticks: number, unit: number): string[] {
  const [n, d] = ratio(ticks, unit);
  if (!isPow2(d)) {
    return [suffix(n, d)];
  }
  if (isSingleValue(n, d)) {
    return [suffix(n, d)];
  }
  const out: string[] = [];
  let rn = n;
  let rd = d;
  while (rn > 0 && out.length < 16) {
    // Largest power of two p/q <= rn/rd, then the dotted value when it still fits.
    let pn = 1;
    let pd = 1;
    while (pn * 2 * rd <= rn * pd) {
      pn *= 2;
    }
    while (pn * rd > rn * pd) {
      pd *= 2;
    }
    if (pn * 3 * rd <= rn * pd * 2) {
      pn *= 3;
      pd *= 2;
    }
    const g = gcd(pn, pd);
    pn /= g;
    pd /= g;
    out.push(suffix(pn, pd));
    // rn/rd - pn/pd
    const nn = rn * pd - pn * rd;
    const dd = rd * pd;
    const g2 = gcd(nn, dd);
    rn = nn / g2;
    rd = dd / g2;
  }
  return out;
}

/** Characters the duration of a note adds, for choosing `L:`. */
function durationCost(ticks: number, unit: number): number {
  if (isDyadic(ticks, unit)) {
    const pieces = durationPieces(ticks, unit);
    return pieces.reduce((s, p) => s + p.length, 0) + (pieces.length - 1) * 3;
  }
  if (isDyadic((ticks * 3) / 2, unit) && Number.isInteger((ticks * 3) / 2)) {
    return durationPieces((ticks * 3) / 2, unit).join('').length + 1;
  }
  return 6;
}

/**
 * Picks the unit note length that keeps the written durations shortest (1/8 on ties). A dotted
 * pair that can be written as broken rhythm (`A>B`) counts as one character.
 */
function chooseUnit(notes: readonly Note[]): { den: number; ticks: number } {
  const candidates = [8, 16, 4];
  const ordered = [...notes].sort((a, b) => a.track - b.track || a.onset - b.onset || a.pitch - b.pitch);
  let best = candidates[0];
  let bestCost = Infinity;
  for (const den of candidates) {
    const unit = WHOLE / den;
    let cost = 0;
    for (let i = 0; i < ordered.length; i++) {
      const n = ordered[i];
      const m = ordered[i + 1];
      if (m && m.track === n.track && m.onset === n.onset + n.duration) {
        const a = n.duration;
        const b = m.duration;
        if ((a === 3 * b || b === 3 * a) && isPow2(ratio((a + b) / 2, unit)[0]) && isPow2(ratio((a + b) / 2, unit)[1])) {
          cost += 1 + (a + b === 2 * unit ? 0 : 2);
          i++;
          continue;
        }
      }
      cost += durationCost(n.duration, unit);
    }
    if (cost < bestCost) {
      bestCost = cost;
      best = den;
    }
  }
  return { den: best, ticks: WHOLE / best };
}

function isCompound(m: Meter): boolean {
  return m.num % 3 === 0 && m.num > 3 && m.den >= 8;
}

/** Ticks of one beat. */
function beatTicks(m: Meter): number {
  return Math.round(((isCompound(m) ? 3 : 1) * WHOLE) / m.den);
}

/** Ticks of one beam group (spaces are written between groups). */
function groupTicks(m: Meter, unitDen: number): number {
  if (isCompound(m)) {
    return beatTicks(m);
  }
  if (m.num === 4 && m.den === 4) {
    return unitDen <= 8 ? WHOLE / 2 : WHOLE / 4;
  }
  if (m.den === 2) {
    return WHOLE / 2;
  }
  return beatTicks(m);
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

/**
 * Writes the bars of one voice: key-aware accidentals (reset at every bar), beam groups, ties,
 * triplets, broken rhythm, chords, grace notes and chord symbols. Shared by {@link writeAbc} and
 * the fragment writer (`./fragment`), which writes a run of bars into an existing tune.
 */
export class VoiceWriter {
  private readonly _unit: number;
  private readonly _unitDen: number;
  private _fifths = 0;
  private _sig: number[] = signatureOf(0);
  private _state = new Map<number, number>();
  private readonly _rest: string;

  /** `rest` is `z`, or `x` (invisible) for a second voice on a staff. */
  constructor(unit: { den: number; ticks: number }, rest: string) {
    this._unit = unit.ticks;
    this._unitDen = unit.den;
    this._rest = rest;
  }

  /**
   * Sets the key the following bars are spelled in: its `fifths`, and its standard signature
   * unless `signature` (alteration per letter C..B, for a `K:` with explicit accidentals) is given.
   */
  setKey(key: Key, signature?: readonly number[]): void {
    this._fifths = Math.round(key.fifths);
    this._sig = signature ? [...signature] : signatureOf(this._fifths);
  }

  /** Note text (accidental when the bar needs one, letter, octave marks); updates the bar's accidentals. */
  private _pitch(midi: number, update: boolean, direction = 0): string {
    const sp = spellPitch(midi, this._fifths, this._sig, direction);
    const letter = ((sp.step % 7) + 7) % 7;
    const current = this._state.get(sp.step) ?? this._sig[letter];
    let acc = '';
    if (current !== sp.alter) {
      acc = accidentalText(sp.alter);
      if (update) {
        this._state.set(sp.step, sp.alter);
      }
    }
    return acc + stepText(sp.step);
  }

  /** Text of one bar: slices with beaming spaces, tuplet groups and ties. */
  bar(notes: readonly Note[], bar: SimpleBar, chords: readonly { tick: number; name: string }[]): string {
    this._state = new Map();
    const bs = bar.start;
    const be = bar.start + bar.duration;
    const slices = this._slices(notes, bar, chords);
    const group = groupTicks(bar.meter, this._unitDen);
    const parts: string[] = [];
    let i = 0;
    while (i < slices.length) {
      const s = slices[i];
      const space = s.t0 > bs && (s.t0 - bs) % group === 0 && parts.length > 0 ? ' ' : '';
      const dur = s.t1 - s.t0;
      if (!isDyadic(dur, this._unit)) {
        const n = this._tupletLength(slices, i);
        if (n > 0) {
          const texts: string[] = [];
          let pieces = 0;
          for (let j = i; j < i + n; j++) {
            const written = ((slices[j].t1 - slices[j].t0) * 3) / 2;
            const durs = durationPieces(written, this._unit);
            pieces += durs.length;
            texts.push(this._slice(slices[j], durs));
          }
          const mark = pieces === 3 ? '(3' : `(3:2:${pieces}`;
          const lead = space === '' && parts.length > 0 && (s.t0 - bs) % TPQ === 0 ? ' ' : space;
          parts.push(lead + mark + texts.join(''));
          i += n;
          continue;
        }
      }
      const broken = this._broken(slices, i, bs, group);
      if (broken !== undefined) {
        const [a, b] = [slices[i], slices[i + 1]];
        parts.push(space + this._slice(a, [broken.base]) + broken.mark + this._slice(b, [broken.base]));
        i += 2;
        continue;
      }
      if (s.tones.length === 0) {
        parts.push(space + this._rests(s, bs, group));
      } else {
        parts.push(space + this._slice(s, durationPieces(dur, this._unit)));
      }
      i++;
    }
    if (parts.length === 0) {
      parts.push(`${this._rest}${suffix(...ratio(be - bs, this._unit))}`);
    }
    return parts.join('');
  }

  /** A rest slice, cut at beam-group boundaries (`z z4` rather than `z4z`); chord symbols go on the first rest. */
  private _rests(s: Slice, bs: number, group: number): string {
    const out: string[] = [];
    let t = s.t0;
    while (t < s.t1) {
      const boundary = bs + (Math.floor((t - bs) / group) + 1) * group;
      const end = Math.min(s.t1, boundary);
      const piece: Slice = { t0: t, t1: end, tones: [], chords: t === s.t0 ? s.chords : [] };
      out.push(this._slice(piece, durationPieces(end - t, this._unit)));
      t = end;
    }
    return out.join(' ');
  }

  /**
   * Broken rhythm (`A>B`, `A<B`) for slices `i` and `i + 1`: a 3:1 or 1:3 pair inside one beam group
   * whose two halves are one plain note value each, without ties out of either note. Returns the
   * common duration suffix and the mark, or undefined.
   */
  private _broken(slices: readonly Slice[], i: number, bs: number, group: number): { base: string; mark: string } | undefined {
    const a = slices[i];
    const b = slices[i + 1];
    if (!b || a.tones.length === 0 || b.tones.length === 0 || (b.t0 - bs) % group === 0) {
      return undefined;
    }
    if (a.tones.some((t) => t.tie) || b.tones.some((t) => t.tie)) {
      return undefined;
    }
    const da = a.t1 - a.t0;
    const db = b.t1 - b.t0;
    if (da !== 3 * db && db !== 3 * da) {
      return undefined;
    }
    const base = (da + db) / 2;
    if (!Number.isInteger(base) || base > this._unit || !isDyadic(base, this._unit)) {
      return undefined;
    }
    const [n, d] = ratio(base, this._unit);
    if (!isPow2(n) || !isPow2(d)) {
      return undefined;
    }
    return { base: suffix(n, d), mark: da > db ? '>' : '<' };
  }

  /**
   * Number of slices from `i` that form a triplet group: each slice is 2/3 of a binary value and
   * together they fill a binary value. 0 when there is no such group.
   */
  private _tupletLength(slices: readonly Slice[], i: number): number {
    let sum = 0;
    for (let j = i; j < slices.length && j < i + 24; j++) {
      const d = slices[j].t1 - slices[j].t0;
      const written = (d * 3) / 2;
      if (!Number.isInteger(written) || !isDyadic(written, this._unit) || isDyadic(d, this._unit)) {
        return 0;
      }
      sum += d;
      if (isDyadic(sum, this._unit)) {
        return j - i + 1;
      }
    }
    return 0;
  }

  /** Text of one slice written as the given duration pieces (tied to each other). */
  private _slice(s: Slice, durs: readonly string[]): string {
    let out = '';
    if (s.graces && s.graces.length > 0) {
      out += `{${s.graces.map((g) => this._pitch(g, false)).join('')}}`;
    }
    for (const c of s.chords) {
      out += `"${c}"`;
    }
    durs.forEach((d, k) => {
      const lastPiece = k === durs.length - 1;
      if (s.tones.length === 0) {
        out += `${this._rest}${d}`;
        return;
      }
      if (s.tones.length === 1) {
        const t = s.tones[0];
        out += this._pitch(t.midi, true, s.direction ?? 0) + d + (!lastPiece || t.tie ? '-' : '');
        return;
      }
      out += '[' + s.tones.map((t) => this._pitch(t.midi, true) + (!lastPiece || t.tie ? '-' : '')).join('') + ']' + d;
    });
    return out;
  }

  /** Cuts a bar of one voice into slices. */
  private _slices(notes: readonly Note[], bar: SimpleBar, chords: readonly { tick: number; name: string }[]): Slice[] {
    const bs = bar.start;
    const be = bar.start + bar.duration;
    const cuts = new Set<number>([bs, be]);
    for (const n of notes) {
      const end = n.onset + n.duration;
      if (n.onset > bs && n.onset < be) {
        cuts.add(n.onset);
      }
      if (end > bs && end < be) {
        cuts.add(end);
      }
    }
    for (const c of chords) {
      if (c.tick > bs && c.tick < be) {
        cuts.add(c.tick);
      }
    }
    // An off-beat note that crosses a beam-group boundary is split there (a tie shows the beat).
    const beat = beatTicks(bar.meter);
    const group = groupTicks(bar.meter, this._unitDen);
    for (const n of notes) {
      const a = n.onset - bs;
      const b = n.onset + n.duration - bs;
      if (a > 0 && a % beat !== 0 && a % 30 === 0 && b % 30 === 0) {
        for (let g = (Math.floor(a / group) + 1) * group; g < b && g < be - bs; g += group) {
          cuts.add(bs + g);
        }
      }
    }
    const times = [...cuts].sort((x, y) => x - y);
    const hinted = (list: Slice[]): Slice[] => {
      for (let k = 0; k + 1 < list.length; k++) {
        const x = list[k].tones;
        const y = list[k + 1].tones;
        if (x.length === 1 && y.length === 1 && Math.abs(y[0].midi - x[0].midi) === 1) {
          list[k].direction = y[0].midi - x[0].midi;
        }
      }
      return list;
    };
    // Sweep: notes sorted by onset enter the active set at their onset and leave at their end.
    const sorted = [...notes].sort((x, y) => x.onset - y.onset || x.pitch - y.pitch);
    const chordAt = new Map<number, string[]>();
    for (const c of chords) {
      chordAt.set(c.tick, [...(chordAt.get(c.tick) ?? []), c.name]);
    }
    let next = 0;
    let active: Note[] = [];
    const out: Slice[] = [];
    for (let k = 0; k + 1 < times.length; k++) {
      const t0 = times[k];
      const t1 = times[k + 1];
      active = active.filter((n) => n.onset + n.duration > t0);
      while (next < sorted.length && sorted[next].onset <= t0) {
        if (sorted[next].onset + sorted[next].duration > t0) {
          active.push(sorted[next]);
        }
        next++;
      }
      const byPitch = new Map<number, Tone>();
      let graces: number[] | undefined;
      for (const n of active) {
        const tie = n.onset + n.duration > t1;
        const prev = byPitch.get(n.pitch);
        byPitch.set(n.pitch, { midi: n.pitch, tie: tie || (prev?.tie ?? false) });
        if (n.onset === t0 && graces === undefined && n.graces && n.graces.length > 0) {
          graces = n.graces.filter((g) => Number.isInteger(g) && g >= 0 && g <= 127);
        }
      }
      const tones = [...byPitch.values()].sort((x, y) => x.midi - y.midi);
      const slice: Slice = { t0, t1, tones, chords: chordAt.get(t0) ?? [] };
      if (graces && graces.length > 0 && tones.length > 0) {
        slice.graces = graces;
      }
      out.push(slice);
    }
    return hinted(out);
  }
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

  // ABC voices: one per (track, voice) pair that has notes, in track then voice order.
  const voiceKeys: { track: number; voice: number }[] = [];
  const voiceIndex = new Map<string, number>();
  for (const n of [...notes].sort((a, b) => a.track - b.track || (a.voice ?? 0) - (b.voice ?? 0))) {
    const id = `${n.track}:${n.voice ?? 0}`;
    if (!voiceIndex.has(id)) {
      voiceIndex.set(id, voiceKeys.length);
      voiceKeys.push({ track: n.track, voice: n.voice ?? 0 });
    }
  }
  if (voiceKeys.length === 0) {
    voiceKeys.push({ track: 0, voice: 0 });
  }
  const perVoiceBars: Note[][][] = voiceKeys.map(() => bars.map(() => []));
  for (const n of notes) {
    const v = voiceIndex.get(`${n.track}:${n.voice ?? 0}`) ?? 0;
    for (let b = firstBarEndingAfter(bars, n.onset); b < bars.length && bars[b].start < n.onset + n.duration; b++) {
      perVoiceBars[v][b].push(n);
    }
  }
  // A voice that shares its track with an earlier voice is written on the same staff, with invisible rests.
  const sharesStaff = voiceKeys.map((k, i) => i > 0 && voiceKeys[i - 1].track === k.track);
  const chordsPerBar: { tick: number; name: string }[][] = bars.map(() => []);
  for (const c of score.chords) {
    const name = cleanName(c.name);
    const b = firstBarEndingAfter(bars, c.tick);
    if (name !== '' && b < bars.length && c.tick >= bars[b].start) {
      chordsPerBar[b].push({ tick: c.tick, name });
    }
  }

  // Header.
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
  const firstMeter = bars[0]?.meter ?? score.meters[0]?.meter ?? { num: 4, den: 4 };
  lines.push(`M:${meterText(firstMeter)}`);
  lines.push(`L:1/${unit.den}`);
  const tempos = [...score.tempos].filter((t) => t.bpm > 0 && Number.isFinite(t.bpm)).sort((a, b) => a.tick - b.tick);
  if (tempos.length > 0) {
    lines.push(`Q:${tempoText(tempos[0].bpm)}`);
  }
  const keys = [...score.keys].sort((a, b) => a.tick - b.tick);
  const keyAtBar = (b: number): Key => {
    const end = bars[b].start + bars[b].duration;
    let k: Key = keys[0]?.key ?? { tonic: 'C', mode: 'major', fifths: 0 };
    for (const c of keys) {
      if (c.tick < end) {
        k = c.key;
      }
    }
    return k;
  };
  const firstKey = bars.length > 0 ? keyAtBar(0) : (keys[0]?.key ?? { tonic: 'C', mode: 'major', fifths: 0 });
  if (sharesStaff.some((x) => x)) {
    const groups: string[] = [];
    voiceKeys.forEach((_, i) => {
      if (sharesStaff[i]) {
        groups[groups.length - 1] += ` ${i + 1}`;
      } else {
        groups.push(`${i + 1}`);
      }
    });
    lines.push(`%%score ${groups.map((g) => (g.includes(' ') ? `(${g})` : g)).join(' ')}`);
  }
  lines.push(`K:${keyFieldText(firstKey)}`);

  // Inline fields at bar starts: meter, key, tempo changes.
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

  // Body.
  const shortBars = bars.length > 0 && barTicks(firstMeter) < WHOLE / 2;
  const perLine = Math.max(1, Math.floor(options.barsPerLine ?? (shortBars ? 8 : 4)));
  // A short first bar (anacrusis) does not count towards the bars of the first line.
  const pickup = bars.length > 1 && bars[0].duration < barTicks(bars[0].meter) ? 1 : 0;
  const writers = voiceKeys.map((_, v) => new VoiceWriter(unit, sharesStaff[v] ? 'x' : 'z'));
  const voiceLines: string[][] = voiceKeys.map((_, v) => {
    const w = writers[v];
    const out: string[] = [];
    let line = '';
    for (let b = 0; b < bars.length; b++) {
      w.setKey(keyAtBar(b));
      const text = w.bar(perVoiceBars[v][b], bars[b], v === 0 ? chordsPerBar[b] : []);
      const isLast = b === bars.length - 1;
      line += barPrefix[b] + (v === 0 ? tempoPrefix[b] : '') + text + (isLast ? '|]' : '|');
      if ((b + 1 - pickup > 0 && (b + 1 - pickup) % perLine === 0) || isLast) {
        out.push(line);
        line = '';
      }
    }
    return out;
  });
  if (voiceKeys.length === 1) {
    lines.push(...voiceLines[0]);
  } else {
    const lineCount = Math.max(...voiceLines.map((l) => l.length));
    for (let k = 0; k < lineCount; k++) {
      voiceKeys.forEach((key, v) => {
        const id = v + 1;
        const name = sharesStaff[v] ? '' : cleanName(score.tracks[key.track]?.name ?? '');
        lines.push(k === 0 && name !== '' ? `V:${id} name="${name}"` : `V:${id}`);
        lines.push(voiceLines[v][k] ?? '');
      });
    }
  }
  return lines.join('\n') + '\n';
}
