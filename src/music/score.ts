/**
 * The Score model shared by every layer: readers produce it, structure analysis and the
 * tokenizer consume it, writers turn it back into ABC text or MIDI bytes.
 *
 * Time is in ticks at {@link TPQ} ticks per quarter note. 480 divides by 2, 3, 4, 5, 6, 8,
 * 12 and 16, so triplets, sixteenths and 32nds land on whole ticks.
 *
 * Pure TypeScript: no vscode, no DOM, no Node-only APIs.
 */

/** Ticks per quarter note used by every Score. */
export const TPQ = 480;

/** A half-open range of character offsets into the source text (ABC only). */
export interface SourceRange {
  readonly start: number;
  readonly end: number;
}

/** A time signature. `num/den` as written (6/8 is num 6, den 8). */
export interface Meter {
  readonly num: number;
  readonly den: number;
}

/** Church modes and the two common ones; ABC `K:` accepts all of them. */
export type Mode = 'major' | 'minor' | 'dorian' | 'phrygian' | 'lydian' | 'mixolydian' | 'locrian';

/** A key: tonic spelled as a letter with optional accidental (`'F#'`, `'Bb'`), its mode, and signature. */
export interface Key {
  /** Tonic letter name, upper case, with `#` or `b` (e.g. `'D'`, `'F#'`, `'Bb'`). */
  readonly tonic: string;
  readonly mode: Mode;
  /** Signature as a count of sharps (positive) or flats (negative), -7..7. */
  readonly fifths: number;
}

/** One sounding note. Grace notes are not notes; they ride on the note they ornament. */
export interface Note {
  /** MIDI pitch 0..127. */
  pitch: number;
  /** Onset in ticks from the start of the piece (performed order). */
  onset: number;
  /** Duration in ticks, > 0. Tied notes are merged into one note. */
  duration: number;
  /** MIDI velocity 1..127. */
  velocity: number;
  /** Index into {@link Score.tracks}. */
  track: number;
  /** Voice number within the track (ABC `V:`), 0 when there is one. */
  voice: number;
  /** Pitches of grace notes played before this note (ABC `{g}`), in order. */
  graces?: number[];
  /** Where the note head is written in the ABC source (first note of a tie chain). */
  source?: SourceRange;
}

/** A chord symbol such as `"Am"` or `"D7"` above the staff. */
export interface ChordSymbol {
  /** Tick in performed order. */
  tick: number;
  /** The symbol as written, e.g. `'Am'`, `'G/B'`. */
  name: string;
  source?: SourceRange;
}

/** A bar in performed order (repeats and endings expanded). */
export interface Bar {
  /** Start tick. */
  start: number;
  /** Length in ticks as actually filled (a pickup bar is shorter than its meter). */
  duration: number;
  meter: Meter;
  /** Index into {@link Score.writtenBars}: the bar as written, for mapping back to the editor. */
  written: number;
}

/** A bar as written in the source, before expanding repeats. */
export interface WrittenBar {
  /** Source text range of the bar's content (ABC only). */
  source?: SourceRange;
  /** 1 or 2 etc. when the bar is inside a first/second ending. */
  ending?: number;
}

/** A point in the tempo map. */
export interface TempoChange {
  tick: number;
  /** Quarter notes per minute. */
  bpm: number;
}

/** A point in the time-signature map. */
export interface MeterChange {
  tick: number;
  meter: Meter;
}

/** A point in the key map. */
export interface KeyChange {
  tick: number;
  key: Key;
}

/** A track (MIDI track, or one per ABC voice). */
export interface Track {
  name: string;
  /** MIDI channel 0..15 (9 is percussion). */
  channel: number;
  /** General MIDI program 0..127. */
  program: number;
  /** Percussion tracks hold drum hits, not pitches; they are kept apart from melody analysis. */
  isDrum: boolean;
}

/** Header fields of an ABC tune (or their MIDI equivalents where they exist). */
export interface ScoreMeta {
  title?: string;
  composer?: string;
  /** ABC `R:` (reel, jig, hornpipe...). */
  rhythm?: string;
  origin?: string;
  /** ABC `X:` reference number. */
  reference?: number;
  /** ABC `L:` as written, as a fraction of a whole note (1/8 is `{num:1, den:8}`). */
  unitNoteLength?: Meter;
  /** Any other header lines kept verbatim so a round trip loses nothing (`S:`, `Z:`, `N:`...). */
  extraHeaders?: string[];
}

/** A piece of music. */
export interface Score {
  meta: ScoreMeta;
  /** Notes sorted by onset, then pitch. */
  notes: Note[];
  /** Bars in performed order, contiguous: bars[i+1].start === bars[i].start + bars[i].duration. */
  bars: Bar[];
  writtenBars: WrittenBar[];
  tracks: Track[];
  tempos: TempoChange[];
  meters: MeterChange[];
  keys: KeyChange[];
  chords: ChordSymbol[];
  /** Total length in ticks (end of the last bar). */
  length: number;
  /** For an ABC tune, the range of the whole tune in the file's text. */
  source?: SourceRange;
}

/** An error about the user's input: malformed ABC or MIDI, or a request the input cannot satisfy. */
export class MusicInputError extends Error {
  /** A stable machine-readable reason, e.g. `'abc-no-notes'`, `'midi-truncated'`. */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'MusicInputError';
    this.code = code;
  }
}

/** Ticks in one bar of the given meter. */
export function barTicks(meter: Meter): number {
  return Math.round((TPQ * 4 * meter.num) / meter.den);
}

/** Index of the bar containing `tick` (binary search over contiguous bars); -1 when outside. */
export function barIndexAt(bars: readonly Bar[], tick: number): number {
  let lo = 0;
  let hi = bars.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const b = bars[mid];
    if (tick < b.start) {
      hi = mid - 1;
    } else if (tick >= b.start + b.duration) {
      lo = mid + 1;
    } else {
      return mid;
    }
  }
  return -1;
}

/** Notes grouped by the bar their onset falls in (performed order). Drum tracks are excluded unless asked. */
export function notesByBar(score: Score, options: { includeDrums?: boolean } = {}): Note[][] {
  const out: Note[][] = score.bars.map(() => []);
  for (const n of score.notes) {
    if (!options.includeDrums && score.tracks[n.track]?.isDrum) {
      continue;
    }
    const i = barIndexAt(score.bars, n.onset);
    if (i >= 0) {
      out[i].push(n);
    }
  }
  return out;
}

/** Sort notes in place into the canonical order: onset, then track, then pitch. */
export function sortNotes(notes: Note[]): Note[] {
  return notes.sort((a, b) => a.onset - b.onset || a.track - b.track || a.pitch - b.pitch);
}

/** A fresh empty score with one track, 4/4, C major, 120 bpm. */
export function emptyScore(): Score {
  return {
    meta: {},
    notes: [],
    bars: [],
    writtenBars: [],
    tracks: [{ name: 'Melody', channel: 0, program: 0, isDrum: false }],
    tempos: [{ tick: 0, bpm: 120 }],
    meters: [{ tick: 0, meter: { num: 4, den: 4 } }],
    keys: [{ tick: 0, key: { tonic: 'C', mode: 'major', fifths: 0 } }],
    chords: [],
    length: 0,
  };
}

/**
 * The score cut to its first `bars` performed bars: notes starting before the cut (shortened to
 * end there), chord symbols, and the maps up to the cut.
 */
export function scoreHead(score: Score, bars: number): Score {
  const n = Math.max(0, Math.min(bars, score.bars.length));
  const end = n > 0 ? score.bars[n - 1].start + score.bars[n - 1].duration : 0;
  const upTo = <T extends { tick: number }>(xs: T[]): T[] => xs.filter((x, i) => i === 0 || x.tick < end);
  return {
    ...score,
    notes: score.notes.filter((x) => x.onset < end).map((x) => ({ ...x, duration: Math.min(x.duration, end - x.onset) })),
    chords: score.chords.filter((c) => c.tick < end),
    bars: score.bars.slice(0, n),
    tempos: upTo(score.tempos),
    meters: upTo(score.meters),
    keys: upTo(score.keys),
    length: end,
  };
}
