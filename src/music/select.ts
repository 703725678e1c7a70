/**
 * Reading only the piece that is needed: the tune under the cursor, or the tune a `--tune N` names.
 * A tune book of thousands of tunes then costs one tune, not the book.
 *
 * Pure TypeScript: no vscode, no Node-only APIs.
 */

import type { AbcTune, SkippedTune } from './abc/reader';
import { readAbc } from './abc/reader';
import type { LoadedPiece } from './load';
import { formatOfPath, loadPieces, selectPiece } from './load';
import { MusicInputError } from './score';

/** The tune read at an offset: the tune, or why it could not be read; and how many tunes the file has. */
export interface TuneAtResult {
  tune?: AbcTune;
  skipped?: SkippedTune;
  count: number;
}

type Range = { start: number; end: number; reference?: number };

/** The tune whose range holds `offset`; else the last one starting before it; else the first. */
export function pickRange(ranges: readonly Range[], offset: number): number {
  let before = -1;
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i];
    if (offset >= r.start && offset <= r.end) {
      return i;
    }
    if (r.start <= offset) {
      before = i;
    }
  }
  return before >= 0 ? before : 0;
}

/** Reads the ABC tune at `offset` of `text` (only that tune). Throws `MusicInputError` for whole-file problems. */
export function readTuneAt(text: string, offset: number): TuneAtResult {
  const r = readAbc(text, { select: (ranges) => [pickRange(ranges, offset)] });
  return { tune: r.tunes[0], skipped: r.skipped[0], count: r.count };
}

/** Reads the ABC tune with this 0-based position in the file (only that tune). */
export function readTuneByIndex(text: string, index: number): TuneAtResult {
  const r = readAbc(text, { select: () => [index] });
  return { tune: r.tunes[0], skipped: r.skipped[0], count: r.count };
}

/** The index `--tune N` names: the tune with `X:N`, else the N-th tune; -1 when neither exists. */
function indexOfTune(ranges: readonly Range[], tune: number): number {
  const byRef = ranges.findIndex((r) => r.reference === tune);
  if (byRef >= 0) {
    return byRef;
  }
  return Number.isInteger(tune) && tune >= 1 && tune <= ranges.length ? tune - 1 : -1;
}

/**
 * One piece of a file, reading only that piece: by ABC `X:` number, else by 1-based position;
 * without `tune`, the first readable one. MIDI files hold one piece. Throws `MusicInputError`
 * (`tune-not-found`, `tune-skipped`, `no-readable-piece`, and the readers' own codes).
 */
export function loadPiece(path: string, bytes: Uint8Array, tune?: number): LoadedPiece {
  if (formatOfPath(path) !== 'abc') {
    return selectPiece(loadPieces(path, bytes), tune);
  }
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  let count = 0;
  const r = readAbc(text, {
    select: (ranges) => {
      count = ranges.length;
      if (tune === undefined) {
        return ranges.map((_, i) => i);
      }
      const i = indexOfTune(ranges, tune);
      return i >= 0 ? [i] : [];
    },
    stopAfter: 1,
  });
  const t = r.tunes[0];
  if (t) {
    return { score: t.score, index: t.index, reference: t.reference, title: t.title };
  }
  if (r.skipped.length > 0) {
    const s = r.skipped[0];
    const which = tune === undefined ? 'No readable tune in this file' : `Tune ${tune} could not be read`;
    throw new MusicInputError(tune === undefined ? 'no-readable-piece' : 'tune-skipped', `${which}: ${s.reason}`);
  }
  throw new MusicInputError('tune-not-found', `No tune ${tune} in this file: it has ${count} tune(s), numbered by their X: lines or by position.`);
}
