/**
 * Writing the bars of one ABC voice (see {@link VoiceWriter}); used by the tune writer
 * (`./writer`) and the fragment writer (`./fragment`).
 */
import type { Key, Note } from '../score';
import { TPQ } from '../score';
import { beatTicks, durationPieces, groupTicks, isDyadic, isPow2, ratio, suffix } from './durations';
import { accidentalText, signatureOf, spellPitch, stepText } from './keys';
import type { SimpleBar } from './writer';

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
