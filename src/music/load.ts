import type { Score } from './score';
import { MusicInputError } from './score';
import { readAbc } from './abc/reader';
import { readMidi } from './midi/reader';

/** The formats Refrain reads. */
export type MusicFormat = 'abc' | 'midi';

/** One piece read from a file: a tune of an ABC file, or a whole MIDI file. */
export interface LoadedPiece {
  score: Score;
  /** 0-based position of the tune in its file (always 0 for MIDI). */
  index: number;
  /** ABC `X:` number, when the tune has one. */
  reference?: number;
  title?: string;
}

/** What {@link loadPieces} returns: the pieces read and those skipped, with reasons. */
export interface LoadResult {
  format: MusicFormat;
  pieces: LoadedPiece[];
  skipped: { index: number; reference?: number; title?: string; code: string; reason: string }[];
}

/** The format a file name implies, or undefined when Refrain does not read it. */
export function formatOfPath(path: string): MusicFormat | undefined {
  const lower = path.toLowerCase();
  if (lower.endsWith('.abc')) {
    return 'abc';
  }
  if (lower.endsWith('.mid') || lower.endsWith('.midi')) {
    return 'midi';
  }
  return undefined;
}

/**
 * Reads every piece in a file's bytes. ABC files may hold many tunes; a tune the reader cannot
 * handle is listed in `skipped`. Whole-file problems (empty, not music, too large) throw
 * {@link MusicInputError}.
 */
export function loadPieces(path: string, bytes: Uint8Array): LoadResult {
  const format = formatOfPath(path);
  if (format === undefined) {
    throw new MusicInputError('unsupported-format', `Refrain reads .abc, .mid and .midi files, not "${path}".`);
  }
  if (format === 'abc') {
    const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
    const result = readAbc(text);
    return {
      format,
      pieces: result.tunes.map((t) => ({ score: t.score, index: t.index, reference: t.reference, title: t.title })),
      skipped: result.skipped,
    };
  }
  const score = readMidi(bytes);
  return { format, pieces: [{ score, index: 0, title: score.meta.title }], skipped: [] };
}

/**
 * Picks one piece: by ABC `X:` number when a tune has that number, otherwise by 1-based position.
 * Without a selector, the first piece.
 */
export function selectPiece(result: LoadResult, tune?: number): LoadedPiece {
  if (result.pieces.length === 0) {
    const why = result.skipped.length > 0 ? ` (${result.skipped[0].reason})` : '';
    throw new MusicInputError('no-readable-piece', `No readable tune in this file${why}.`);
  }
  if (tune === undefined) {
    return result.pieces[0];
  }
  const byRef = result.pieces.find((p) => p.reference === tune);
  if (byRef) {
    return byRef;
  }
  const byPos = result.pieces[tune - 1];
  if (byPos && Number.isInteger(tune)) {
    return byPos;
  }
  const skipped = result.skipped.find((s) => s.reference === tune || s.index === tune - 1);
  if (skipped) {
    throw new MusicInputError('tune-skipped', `Tune ${tune} could not be read: ${skipped.reason}`);
  }
  throw new MusicInputError(
    'tune-not-found',
    `No tune ${tune} in this file: it has ${result.pieces.length} readable tune(s).`,
  );
}
