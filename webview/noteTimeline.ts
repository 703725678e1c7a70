/**
 * Which drawn note is playing: the notation's note events (abcjs's own timing of the tune it
 * drew, so tuplets, grace notes, chords and voices are counted as abcjs engraved them) on a clock
 * of whole notes, found from the playback's tick. Free of the DOM: the elements are carried, not
 * touched.
 *
 * The piece's notation is matched bar by bar: the performed bar playing gives its written bar's
 * character range, and the offset into the bar picks the note. A repeat, a part order or a tempo
 * change in the piece cannot make the two clocks drift apart. A candidate's notation (its new bars
 * only) is matched on one clock from its first note.
 */

/** A note event as abcjs reports it (`TuneObject.setTiming`), the fields read here. */
export interface TimingLike<E> {
  readonly type: string;
  readonly milliseconds: number;
  readonly startChar?: number;
  readonly startCharArray?: readonly number[];
  readonly elements?: readonly (readonly E[])[];
}

/** A note (or chord, or notes of several voices) starting at `at` whole notes, with its drawn elements. */
export interface NoteEvent<E> {
  readonly at: number;
  readonly chars: readonly number[];
  readonly elements: readonly E[];
}

/**
 * The tempo to give abcjs's `setTiming` so that its milliseconds count thousandths of a whole
 * note: abcjs divides whole notes by `beatLength * bpm / 60` to get seconds.
 */
export function wholeNoteBpm(beatLength: number): number {
  return beatLength > 0 ? 60 / beatLength : 240;
}

/** Note events from abcjs timings taken at {@link wholeNoteBpm}, in time order, the end marker left out. */
export function noteEvents<E>(timings: readonly TimingLike<E>[]): NoteEvent<E>[] {
  const out: NoteEvent<E>[] = [];
  for (const t of timings) {
    if (t.type !== 'event') {
      continue;
    }
    const chars = t.startCharArray && t.startCharArray.length > 0 ? [...t.startCharArray] : typeof t.startChar === 'number' ? [t.startChar] : [];
    const elements = (t.elements ?? []).flat();
    out.push({ at: t.milliseconds / 1000, chars, elements });
  }
  return out.sort((a, b) => a.at - b.at);
}

/**
 * The events of one written bar (characters `[start, end)`) on its first pass, with `at` counted
 * from the bar's start. A later pass plays the same characters again: the scan stops there. A bar
 * that starts with a note tied over from the bar before starts with an event of no characters
 * (abcjs's mark of the bar line under a tie): the bar is timed from that one.
 */
export function barEvents<E>(events: readonly NoteEvent<E>[], start: number, end: number): NoteEvent<E>[] {
  const out: NoteEvent<E>[] = [];
  const seen = new Set<number>();
  let tiedOver: number | undefined;
  let anchor = 0;
  for (const ev of events) {
    if (ev.chars.length === 0) {
      if (out.length === 0) {
        tiedOver = ev.at;
      }
      continue;
    }
    const inBar = ev.chars.filter((c) => c >= start && c < end);
    if (inBar.length === 0) {
      if (out.length === 0) {
        tiedOver = undefined;
      } else if (ev.at > out[out.length - 1].at + 4) {
        // Far past the bar: a second pass, if any, is not needed.
        break;
      }
      continue;
    }
    if (inBar.some((c) => seen.has(c))) {
      break;
    }
    for (const c of inBar) {
      seen.add(c);
    }
    if (out.length === 0) {
      anchor = tiedOver !== undefined && tiedOver < ev.at ? tiedOver : ev.at;
    }
    out.push(ev);
  }
  return out.map((ev) => ({ ...ev, at: ev.at - anchor }));
}

/** Half a millisecond of abcjs rounding, in whole notes. */
const EPSILON = 0.0005;

/** Index of the event sounding at `at` (the last that started by then), or -1 before the first. */
export function eventAt<E>(events: readonly NoteEvent<E>[], at: number): number {
  let lo = 0;
  let hi = events.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (events[mid].at <= at + EPSILON) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/** Whole notes between two ticks. */
export function ticksToWholeNotes(ticks: number, ticksPerQuarter: number): number {
  return ticksPerQuarter > 0 ? ticks / (4 * ticksPerQuarter) : 0;
}
