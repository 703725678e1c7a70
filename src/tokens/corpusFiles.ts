/**
 * Finding and reading the music files of a corpus: every `.abc` / `.mid` / `.midi` file below
 * some folders, and MIDI files read the way the shard builder and `refrain corpus-stats` both
 * read them (POP909 songs re-barred from their annotations, see `./pop909`).
 *
 * Node-only (fs).
 */

import { readFile, readdir } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { readMidi } from '../music/midi/reader';
import type { Score } from '../music/score';
import { applyPop909Annotations, parsePop909Beats, parsePop909Labels } from './pop909';
import type { Pop909Annotations } from './pop909';

/** A music file of a corpus: its corpus-relative path (`/`-separated) and its absolute path. */
export interface CorpusFile {
  rel: string;
  path: string;
}

/** Every `.abc` / `.mid` / `.midi` file below `dir`, as sorted absolute paths; hidden entries skipped. */
async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (d: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) {
        continue;
      }
      const p = join(d, e.name);
      if (e.isDirectory()) {
        await visit(p);
      } else if (e.isFile() && /\.(abc|midi?)$/i.test(e.name)) {
        out.push(p);
      }
    }
  };
  await visit(dir);
  return out;
}

/**
 * The music files below `folders` of `corpusRoot`, sorted by corpus-relative path, each once.
 * `unreadable` makes the error thrown for a folder that cannot be read.
 */
export async function listCorpusFiles(corpusRoot: string, folders: readonly string[], unreadable: (message: string) => Error): Promise<CorpusFile[]> {
  const relPath = (p: string): string => relative(corpusRoot, p).split(sep).join('/');
  const found = new Map<string, string>();
  for (const folder of folders) {
    const root = join(corpusRoot, folder);
    let files: string[];
    try {
      files = await listFiles(root);
    } catch (e) {
      throw unreadable(`Cannot read the corpus folder ${root}: ${(e as Error).message}`);
    }
    for (const f of files) {
      found.set(relPath(f), f);
    }
  }
  return [...found.keys()].sort().map((rel) => ({ rel, path: found.get(rel) as string }));
}

/** Reads a text file, or undefined when it cannot be read. */
async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Reads a MIDI file; a POP909 song with a `beat_midi.txt` beside it is re-barred and
 * annotated by `applyPop909Annotations` (its own MIDI meter is a placeholder). Used by the
 * shard builder and by `refrain corpus-stats`, so both see the same bars.
 */
export async function readMidiPiece(path: string, bytes: Uint8Array, grid: number): Promise<Score> {
  if (isPop909Song(path)) {
    const dir = dirname(path);
    const beats = await readText(join(dir, 'beat_midi.txt'));
    if (beats !== undefined) {
      const annotations: Pop909Annotations = {
        beats: parsePop909Beats(beats),
        chords: parsePop909Labels((await readText(join(dir, 'chord_midi.txt'))) ?? ''),
        keys: parsePop909Labels((await readText(join(dir, 'key_audio.txt'))) ?? ''),
      };
      return applyPop909Annotations(readMidi(bytes, { quantize: 0 }), annotations, grid);
    }
  }
  return readMidi(bytes, { quantize: grid });
}

/** Whether a MIDI file sits in a POP909 song folder (`NNN/NNN.mid`). */
function isPop909Song(path: string): boolean {
  const name = basename(path).replace(/\.midi?$/i, '');
  return /^\d{3}$/.test(name) && basename(dirname(path)) === name;
}
