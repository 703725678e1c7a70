/**
 * Reads the header of one ABC tune (the lines from `X:` to the first `K:`) into Score metadata,
 * and splits a file into tunes.
 */
import type { Meter, ScoreMeta } from '../score';

/** One tune's place in a file: half-open character range, and its `X:` number when it has one. */
export interface TuneRange {
  start: number;
  end: number;
  reference?: number;
}

/** Start offsets of every line of `text`. */
function lineStarts(text: string): number[] {
  const out = [0];
  let i = text.indexOf('\n');
  while (i >= 0) {
    out.push(i + 1);
    i = text.indexOf('\n', i + 1);
  }
  return out;
}

/** End of the line starting at `start`, without its line break. */
function lineEnd(text: string, start: number): number {
  const nl = text.indexOf('\n', start);
  const end = nl < 0 ? text.length : nl;
  return end > start && text[end - 1] === '\r' ? end - 1 : end;
}

function isBlank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) {
      return false;
    }
  }
  return true;
}

/** Moves `end` back over trailing whitespace, not before `start`. */
function trimEnd(text: string, start: number, end: number): number {
  let e = end;
  while (e > start && /\s/.test(text[e - 1])) {
    e--;
  }
  return e;
}

/**
 * Splits ABC text into tunes. A tune starts at a line beginning with `X:` and ends at the first
 * blank line after its `K:` line (ABC 2.1: a blank line ends a tune), at the next `X:` line, or at the
 * end of the text. A text without `X:` but with a `K:` line is one tune. Offsets are characters.
 */
export function splitTuneRanges(text: string): TuneRange[] {
  const starts = lineStarts(text);
  const out: TuneRange[] = [];
  let current: { start: number; reference?: number; sawKey: boolean } | undefined;
  let anyKey = false;
  const close = (end: number): void => {
    if (current) {
      const e = trimEnd(text, current.start, end);
      out.push(current.reference === undefined ? { start: current.start, end: e } : { start: current.start, end: e, reference: current.reference });
      current = undefined;
    }
  };
  for (const s of starts) {
    const e = lineEnd(text, s);
    if (text.startsWith('X:', s)) {
      close(s);
      const m = /^\s*(\d{1,9})/.exec(text.slice(s + 2, e));
      current = { start: s, sawKey: false };
      if (m) {
        current.reference = Number(m[1]);
      }
      continue;
    }
    if (text.startsWith('K:', s)) {
      anyKey = true;
      if (current) {
        current.sawKey = true;
      }
      continue;
    }
    if (current && current.sawKey && isBlank(text, s, e)) {
      close(s);
    }
  }
  close(text.length);
  if (out.length === 0 && anyKey) {
    let s = 0;
    while (s < text.length && /\s/.test(text[s])) {
      s++;
    }
    let end = text.length;
    // Without X:, the tune still ends at the first blank line after its K: line.
    let sawKey = false;
    for (const ls of starts) {
      if (ls < s) {
        continue;
      }
      const le = lineEnd(text, ls);
      if (text.startsWith('K:', ls)) {
        sawKey = true;
      } else if (sawKey && isBlank(text, ls, le)) {
        end = ls;
        break;
      }
    }
    out.push({ start: s, end: trimEnd(text, s, end) });
  }
  return out;
}

/** Header fields of one tune as the reader keeps them. */
export interface TuneHeader {
  meta: ScoreMeta;
  /** True when the tune has a `K:` line. */
  hasKey: boolean;
  /** The first `M:` value, for the default unit note length. */
  meterText?: string;
}

/** Parses `1/8` into a fraction; undefined when it is not a positive fraction. */
export function parseFraction(text: string): Meter | undefined {
  const m = /^\s*(\d{1,4})\s*\/\s*(\d{1,4})/.exec(text);
  if (!m) {
    return undefined;
  }
  const num = Number(m[1]);
  const den = Number(m[2]);
  return num > 0 && den > 0 ? { num, den } : undefined;
}

/** Value of a meter text as a fraction of a whole note (`C` is 1, `C|` is 1), undefined when free or unreadable. */
function meterValue(text: string | undefined): number | undefined {
  if (text === undefined) {
    return undefined;
  }
  const t = text.trim();
  if (t.startsWith('C')) {
    return 1;
  }
  const m = /^\(?\s*([\d+\s]+?)\s*\)?\s*\/\s*(\d+)/.exec(t);
  if (!m) {
    return undefined;
  }
  const num = m[1].split('+').reduce((s, p) => s + (Number(p.trim()) || 0), 0);
  const den = Number(m[2]);
  return den > 0 ? num / den : undefined;
}

/** Fields the reader turns into their own Score fields, or that describe the body, not kept as extra headers. */
const OWN_FIELDS = new Set(['X', 'T', 'C', 'R', 'O', 'L', 'M', 'Q', 'K', 'V']);

/**
 * Reads the header lines of one tune's text (from its `X:` line up to and including the first `K:`).
 * `L:` falls back to the ABC 2.1 default: 1/16 when the first meter is below 3/4, else 1/8.
 */
export function parseTuneHeader(tuneText: string): TuneHeader {
  const meta: ScoreMeta = {};
  const extra: string[] = [];
  let hasKey = false;
  let meterText: string | undefined;
  let unit: Meter | undefined;
  for (const s of lineStarts(tuneText)) {
    const line = tuneText.slice(s, lineEnd(tuneText, s));
    const m = /^([A-Za-z+]):(.*)$/.exec(line);
    if (!m) {
      if (line.startsWith('%')) {
        extra.push(line);
      }
      continue;
    }
    const field = m[1];
    const value = m[2].trim();
    if (field === 'K') {
      hasKey = true;
      break;
    }
    switch (field) {
      case 'X': {
        const n = /^\d{1,9}/.exec(value);
        if (n) {
          meta.reference = Number(n[0]);
        }
        break;
      }
      case 'T':
        if (meta.title === undefined) {
          meta.title = value;
        } else {
          extra.push(line);
        }
        break;
      case 'C':
        meta.composer = meta.composer === undefined ? value : `${meta.composer}; ${value}`;
        break;
      case 'R':
        meta.rhythm ??= value;
        break;
      case 'O':
        meta.origin ??= value;
        break;
      case 'L':
        unit ??= parseFraction(value);
        break;
      case 'M':
        meterText ??= value;
        break;
      default:
        if (!OWN_FIELDS.has(field)) {
          extra.push(line);
        }
    }
  }
  if (unit === undefined) {
    const v = meterValue(meterText);
    unit = v !== undefined && v < 0.75 ? { num: 1, den: 16 } : { num: 1, den: 8 };
  }
  meta.unitNoteLength = unit;
  if (extra.length > 0) {
    meta.extraHeaders = extra;
  }
  const out: TuneHeader = { meta, hasKey };
  if (meterText !== undefined) {
    out.meterText = meterText;
  }
  return out;
}

/** The `V:` voice ids of a tune in order of first appearance, with their `name=`/`nm=` when given. */
export function voiceDeclarations(tuneText: string): { id: string; name?: string }[] {
  const out: { id: string; name?: string }[] = [];
  const re = /(?:^|\n)V:\s*(\S+)([^\n]*)|\[V:\s*([^\]\s]+)([^\]]*)\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(tuneText)) !== null) {
    const id = m[1] ?? m[3];
    const rest = m[2] ?? m[4] ?? '';
    const nm = /(?:name|nm)\s*=\s*"([^"]*)"/.exec(rest) ?? /(?:name|nm)\s*=\s*(\S+)/.exec(rest);
    const existing = out.find((v) => v.id === id);
    if (existing) {
      if (existing.name === undefined && nm) {
        existing.name = nm[1];
      }
      continue;
    }
    out.push(nm ? { id, name: nm[1] } : { id });
  }
  return out;
}
