/**
 * Replacing performed bars of an ABC tune's text with regenerated ones (see `planAbcInfill` in
 * `./index`). The plan runs in phases: which written bars the span covers (and whether they can
 * be replaced as one stretch of text), the ties across its edges, the new text between them, and
 * the fields and tie tails restored after it.
 */
import { abcFragment, barLineAfter, fieldInForce, fieldsIn } from '../abc/fragment';
import type { AbcFragment } from '../abc/fragment';
import { keyFieldText } from '../abc/keys';
import { meterText } from '../abc/writer';
import type { Score, SourceRange } from '../score';
import { MusicInputError, barIndexAt } from '../score';
import { barEnd, barsLabel, checkSingleVoice, checkSpan, contextAt, trimmed } from './abcText';
import type { TextEdit } from './edit';

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

/** The span being replaced: performed bars `[fromBar, toBar)` of `score`, in `text`. */
interface InfillSpan {
  text: string;
  score: Score;
  generated: Score;
  fromBar: number;
  toBar: number;
  /** `bar 3` or `bars 3-6`, for messages. */
  label: string;
}

/** The written bars behind the span, as {@link writtenSpan} finds them. */
interface WrittenSpan {
  /** Written bars per performed bar ({@link coverage}). */
  cov: number[][];
  /** Performed bars per written bar. */
  plays: Map<number, number[]>;
  /** The written bars the span covers, in text order. */
  written: number[];
}

/** The tied notes at the span's edges, as {@link edgeTies} finds them. */
interface EdgeTies {
  holdIn: Set<number>;
  holdOut: Set<number>;
  /** Pitches the tune holds over the span's end (into a following bar). */
  heldOut: number[];
  /** Where the edit starts (before a tie into the span that is dropped). */
  editStart: number;
  /** The text kept between that start and the span's first bar. */
  prefix: string;
}

function capitalized(label: string): string {
  return `${label[0].toUpperCase()}${label.slice(1)}`;
}

/**
 * The written bars the span stands for. Throws `infill-multi-rest` for a bar of a multi-bar rest,
 * `infill-in-repeat` for a bar played more than once unless every pass gets the same new bar,
 * and `infill-not-contiguous` when the written bars do not follow one another.
 */
function writtenSpan({ score, generated, fromBar, toBar, label }: InfillSpan): WrittenSpan {
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
        `${capitalized(label)} are not written one after the other in the tune (they cross a repeat or an ending), so they cannot be replaced as one stretch of text.`,
      );
    }
  }
  return { cov, plays, written };
}

/**
 * The text the written bars occupy, `[regionStart, regionEnd)`. Throws `abc-edit-no-source`
 * when a bar's place is unknown and `infill-not-contiguous` when a note of the span is written
 * outside that stretch.
 */
function textRegion({ text, score, fromBar, toBar, label }: InfillSpan, written: readonly number[]): { regionStart: number; regionEnd: number } {
  if (written.some((w) => score.writtenBars[w]?.source === undefined)) {
    throw new MusicInputError('abc-edit-no-source', `The place of ${label} in the text is not known, so they cannot be replaced.`);
  }
  const regionStart = trimmed(text, score.writtenBars[written[0]].source!).start;
  const regionEnd = trimmed(text, score.writtenBars[written[written.length - 1]].source!).end;
  const spanStart = score.bars[fromBar].start;
  const spanEnd = barEnd(score.bars[toBar - 1]);
  for (const n of score.notes) {
    if (n.onset >= spanStart && n.onset < spanEnd && n.source && (n.source.end <= regionStart || n.source.start >= regionEnd)) {
      throw new MusicInputError(
        'infill-not-contiguous',
        `${capitalized(label)} are not written as one stretch of text in the tune, so they cannot be replaced.`,
      );
    }
  }
  return { regionStart, regionEnd };
}

/**
 * Ties across the span's edges: the pitches held into and out of the span that the generated
 * piece holds too (kept), and, for a lone tie into the span that the generated piece drops, an
 * edit start that takes the `-` before the span out.
 */
function edgeTies({ text, score, generated, fromBar, toBar }: InfillSpan, { plays, written }: WrittenSpan, regionStart: number): EdgeTies {
  const spanStart = score.bars[fromBar].start;
  const spanEnd = barEnd(score.bars[toBar - 1]);
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
  const hasFollowing = written[written.length - 1] + 1 < score.writtenBars.length;
  const heldOut = hasFollowing ? score.notes.filter((n) => n.onset < spanEnd && n.onset + n.duration > spanEnd).map((n) => n.pitch) : [];
  const genHeldOut = new Set(pitchedGen.filter((n) => n.onset >= genStart && n.onset < genEnd && n.onset + n.duration > genEnd).map((n) => n.pitch));
  const holdOut = new Set(heldOut.filter((p) => genHeldOut.has(p)));
  return { holdIn, holdOut, heldOut, editStart, prefix };
}

/**
 * The new bars with the original text between them (less its `K:`/`M:`/`L:` fields). Throws
 * `infill-in-repeat` when a bar is written in two parts with a repeat or ending mark between.
 */
function newBarsText({ text, score, fromBar, toBar, label }: InfillSpan, cov: readonly number[][], frag: AbcFragment): string {
  const src = (w: number): SourceRange => trimmed(text, score.writtenBars[w].source!);
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
  return middle;
}

/**
 * After the span: the inline fields that restore the key, meter and unit the following bars
 * expect, and a tie's tail turned into a rest when the tie is gone. Returns where the edit ends
 * and the text that goes between the new bars and there.
 */
function afterSpan(
  { text, score, toBar }: InfillSpan,
  lastWritten: number,
  region: { regionStart: number; regionEnd: number },
  frag: AbcFragment,
  ties: EdgeTies,
): { editEnd: number; suffix: string } {
  const { regionStart, regionEnd } = region;
  const tuneStart = score.source?.start ?? 0;
  const tuneEnd = score.source?.end ?? text.length;
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
  const { heldOut, holdOut } = ties;
  const nextRaw = score.writtenBars[lastWritten + 1]?.source;
  const next = nextRaw ? trimmed(text, nextRaw) : undefined;
  const silence = heldOut.length === 1 && !holdOut.has(heldOut[0]) && next !== undefined && next.start >= restoreAt;
  // A tail with an accidental stays: the accidental holds for the rest of its bar.
  const found = silence ? SINGLE_NOTE.exec(text.slice(next.start, next.end)) : null;
  const tail = found && !/^[_^=]/.test(found[2]) ? found : null;
  if (restore === '' && !tail) {
    return { editEnd: regionEnd, suffix: '' };
  }
  let suffix = text.slice(regionEnd, restoreAt) + restore;
  let editEnd = restoreAt;
  if (tail && next) {
    suffix += text.slice(restoreAt, next.start + tail[1].length) + 'z' + tail[3];
    editEnd = next.start + tail[0].length;
  }
  return { editEnd, suffix };
}

/** {@link planAbcInfill} on text whose line ends are LF. */
export function infillLf(text: string, score: Score, generated: Score, fromBar: number, toBar: number): TextEdit {
  checkSpan(generated, fromBar, toBar, 'regenerate');
  if (toBar > score.bars.length) {
    throw new MusicInputError('splice-bad-range', `Cannot regenerate ${barsLabel(fromBar, toBar)}: the tune has ${score.bars.length} bars.`);
  }
  checkSingleVoice(score);
  const span: InfillSpan = { text, score, generated, fromBar, toBar, label: barsLabel(fromBar, toBar) };
  const bars = writtenSpan(span);
  const region = textRegion(span, bars.written);
  const ties = edgeTies(span, bars, region.regionStart);

  const tuneStart = score.source?.start ?? 0;
  const context = contextAt(text, tuneStart, region.regionStart, score, score.bars[fromBar].start, score.bars[fromBar].meter);
  const frag = abcFragment(generated, fromBar, toBar, context, { holdIn: ties.holdIn, holdOut: ties.holdOut });
  const middle = newBarsText(span, bars.cov, frag);

  const lastWritten = bars.written[bars.written.length - 1];
  const hasFollowing = lastWritten + 1 < score.writtenBars.length;
  const { editEnd, suffix } = hasFollowing ? afterSpan(span, lastWritten, region, frag, ties) : { editEnd: region.regionEnd, suffix: '' };
  return { start: ties.editStart, end: editEnd, newText: ties.prefix + middle + suffix };
}
