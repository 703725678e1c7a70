/**
 * The corpus shard builder: reads every `.abc` and `.mid` file below some corpus folders,
 * tokenises each piece, splits the pieces into train / valid / test by a seeded hash of their
 * source id, and writes the token shards of `docs/shard-format.md` for the Python trainer.
 *
 * Deterministic: files are read in sorted path order and nothing depends on time or
 * machine, so the same corpus and options give byte-identical files.
 *
 * A piece that cannot be read or tokenised is skipped and counted by reason: the reader's
 * code (`abc-no-notes`, `midi-truncated`...), the tokenizer's (`tokens-bar-length`...),
 * `tokens-meter-unsupported` (a meter without its own token), `tokens-no-notes`, or
 * `file-unreadable` / `internal-error`.
 *
 * POP909 songs (`NNN/NNN.mid` with a `beat_midi.txt` beside it) are read unquantised, then
 * re-barred from their beat annotations and given the chord symbols of `chord_midi.txt` and
 * the keys of `key_audio.txt` (see `./pop909`). Other MIDI files are read quantised to the grid.
 *
 * Node-only (fs): used by the CLI and the corpus build, never by the extension's pure layers.
 */

import { mkdir, open, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { readAbc } from '../music/abc/reader';
import { readMidi } from '../music/midi/reader';
import { MusicInputError } from '../music/score';
import type { Score } from '../music/score';
import { CancellationError } from '../platform/cancellation';
import { barSsm } from '../structure/ssm';
import { decodeTokens } from './decode';
import { encodeScoreDetailed } from './encode';
import type { EncodeStats, TokenSequence } from './encode';
import { applyPop909Annotations, parsePop909Beats, parsePop909Labels } from './pop909';
import type { Pop909Annotations } from './pop909';
import { BAR_ID, BOS_ID, DEFAULT_GRID, EOS_ID, PAD_ID, SUM_ID, VOCAB, VOCAB_SIZE, VOCAB_VERSION, ticksPerStep } from './vocab';

/** Shard format version written to `meta.json`. */
export const SHARD_FORMAT = 1;

/** The three splits, in the order they are written. */
export const SPLITS = ['train', 'valid', 'test'] as const;

/** One of {@link SPLITS}. */
export type SplitName = (typeof SPLITS)[number];

/** Options of {@link buildShards}. */
export interface BuildShardsOptions {
  /** The corpus root; piece sources are paths relative to it. */
  corpusRoot: string;
  /** Folders below `corpusRoot` to read (e.g. `['folk-abc']`); files below them are read recursively. */
  folders: string[];
  /** Where the shard files go (created if missing; existing shard files are replaced). */
  outDir: string;
  /** Seed of the split hash. Default 1. */
  seed?: number;
  /** Fractions of pieces for valid and test. Default 0.05 each (so 90/5/5). */
  splits?: { valid: number; test: number };
  /** Stop after this many pieces read (skipped ones included). */
  maxPieces?: number;
  /** Cancels the build between files; the partial output is removed and a `CancellationError` thrown. */
  signal?: AbortSignal;
  /** Called after each file with files done and files in all. */
  onProgress?: (done: number, total: number) => void;
  /** Grid steps per quarter note. Default 12. */
  grid?: number;
  /** Write `VEL` tokens. Default false. */
  includeVelocity?: boolean;
  /** Write chord tokens. Default true. */
  includeChords?: boolean;
  /** Keep only the first bars of each piece (then no `EOS`). Default: all. */
  maxBars?: number;
  /** Written as `createdBy` in meta.json. Default `refrain-tokens/<vocab version>`. */
  createdBy?: string;
}

/** Pieces, tokens and bars of one split. */
export interface SplitSummary {
  pieces: number;
  tokens: number;
  bars: number;
}

/** What {@link buildShards} wrote. */
export interface ShardSummary {
  outDir: string;
  /** Music files found. */
  files: number;
  /** Pieces written (all splits). */
  pieces: number;
  splits: Record<SplitName, SplitSummary>;
  /** Skipped pieces by reason code, sorted by code. */
  skipped: Record<string, number>;
  /** Up to 20 messages of `internal-error` skips, for debugging. */
  errors: string[];
  /** Summed encoder counts over written pieces. */
  stats: Omit<EncodeStats, 'roles' | 'truncated'> & { truncated: number };
  /** Distinct token ids used. */
  vocabUsed: number;
  /** How often each token id occurs (all splits). */
  tokenCounts: number[];
}

/** One entry of `S.pieces.json`. */
export interface PieceEntry {
  source: string;
  tokenOffset: number;
  tokenCount: number;
  bars: number;
  ssmOffset: number;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Bytes of a typed array in little-endian order. */
function leBytes(a: Uint16Array | Uint8Array | Float32Array): Uint8Array {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (LITTLE_ENDIAN || a.BYTES_PER_ELEMENT === 1) {
    return bytes;
  }
  const out = new Uint8Array(bytes.length);
  const w = a.BYTES_PER_ELEMENT;
  for (let i = 0; i < bytes.length; i += w) {
    for (let k = 0; k < w; k++) {
      out[i + k] = bytes[i + w - 1 - k];
    }
  }
  return out;
}

/** Appends to a file through a memory buffer, writing in large chunks. */
class ChunkWriter {
  private readonly _chunks: Uint8Array[] = [];
  private _size = 0;
  constructor(private readonly _handle: FileHandle) {}

  async append(bytes: Uint8Array): Promise<void> {
    this._chunks.push(bytes.slice());
    this._size += bytes.length;
    if (this._size >= 1 << 22) {
      await this.flush();
    }
  }

  async flush(): Promise<void> {
    if (this._size === 0) {
      return;
    }
    const all = Buffer.concat(this._chunks, this._size);
    this._chunks.length = 0;
    this._size = 0;
    await this._handle.write(all);
  }

  async close(): Promise<void> {
    await this.flush();
    await this._handle.close();
  }
}

interface SplitOutput {
  ids: ChunkWriter;
  bar: ChunkWriter;
  pos: ChunkWriter;
  ssm: ChunkWriter;
  pieces: PieceEntry[];
  tokens: number;
  bars: number;
  ssmElements: number;
}

const BINARY_FILES = ['ids.u16', 'bar.u16', 'pos.u8', 'ssm.f32'] as const;

/**
 * The key a piece is split by (computed on the piece as tokenised): a transposition-invariant fingerprint of a piece's opening melody: the pitch intervals and
 * relative durations of the first 24 onsets of its top line (highest note at each onset of the
 * first non-drum track). Undefined when the piece has fewer than 8 onsets (the source id is
 * used instead).
 */
export function contentKey(score: Score): string | undefined {
  const track = score.notes.find((n) => !score.tracks[n.track]?.isDrum)?.track;
  if (track === undefined) {
    return undefined;
  }
  const top: { onset: number; pitch: number; duration: number }[] = [];
  for (const n of score.notes) {
    if (n.track !== track) {
      continue;
    }
    const last = top[top.length - 1];
    if (last && last.onset === n.onset) {
      if (n.pitch > last.pitch) {
        last.pitch = n.pitch;
        last.duration = n.duration;
      }
    } else if (top.length < 24) {
      top.push({ onset: n.onset, pitch: n.pitch, duration: n.duration });
    } else {
      break;
    }
  }
  if (top.length < 8) {
    return undefined;
  }
  const unit = Math.min(...top.map((n) => n.duration));
  const parts: string[] = [];
  for (let i = 1; i < top.length; i++) {
    parts.push(`${top[i].pitch - top[i - 1].pitch}:${Math.round((top[i].duration / unit) * 4)}`);
  }
  return `melody:${parts.join(',')}`;
}

/**
 * The split of a piece: a 32-bit FNV-1a hash of `seed` and the source id, finalised with a
 * murmur3 mix, as a fraction u in [0, 1): valid when u < valid, test when u < valid + test,
 * else train.
 */
export function splitOf(source: string, seed: number, fractions: { valid: number; test: number }): SplitName {
  let h = 0x811c9dc5;
  const bytes = Buffer.from(`${seed}\u0000${source}`, 'utf8');
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  const u = (h >>> 0) / 2 ** 32;
  if (u < fractions.valid) {
    return 'valid';
  }
  if (u < fractions.valid + fractions.test) {
    return 'test';
  }
  return 'train';
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

/**
 * Builds the token shards of `docs/shard-format.md` from corpus folders. See the module
 * comment. Throws `MusicInputError('shards-bad-option')` for bad options, and
 * `CancellationError` when `signal` aborts (the partial files are removed).
 */
export async function buildShards(options: BuildShardsOptions): Promise<ShardSummary> {
  const seed = options.seed ?? 1;
  const fractions = options.splits ?? { valid: 0.05, test: 0.05 };
  const grid = options.grid ?? DEFAULT_GRID;
  const badOption = (message: string): MusicInputError => new MusicInputError('shards-bad-option', message);
  if (!Number.isInteger(seed)) {
    throw badOption(`The split seed must be a whole number, got ${seed}.`);
  }
  if (
    !(fractions.valid >= 0 && fractions.test >= 0 && fractions.valid + fractions.test < 1) ||
    !Number.isFinite(fractions.valid + fractions.test)
  ) {
    throw badOption(`The valid and test fractions must be >= 0 with a sum below 1, got ${fractions.valid} and ${fractions.test}.`);
  }
  if (options.folders.length === 0) {
    throw badOption('Name at least one corpus folder to read.');
  }
  if (options.maxPieces !== undefined && !(Number.isInteger(options.maxPieces) && options.maxPieces >= 0)) {
    throw badOption(`maxPieces must be a whole number >= 0, got ${options.maxPieces}.`);
  }
  try {
    ticksPerStep(grid);
  } catch (e) {
    throw badOption((e as Error).message);
  }
  const signal = options.signal;
  const checkAbort = (): void => {
    if (signal?.aborted) {
      throw new CancellationError('The corpus build was cancelled.');
    }
  };

  // Files, sorted by corpus-relative path, each once.
  const relPath = (p: string): string => relative(options.corpusRoot, p).split(sep).join('/');
  const found = new Map<string, string>();
  for (const folder of options.folders) {
    const root = join(options.corpusRoot, folder);
    let files: string[];
    try {
      files = await listFiles(root);
    } catch (e) {
      throw badOption(`Cannot read the corpus folder ${root}: ${(e as Error).message}`);
    }
    for (const f of files) {
      found.set(relPath(f), f);
    }
  }
  const files = [...found.keys()].sort().map((rel) => ({ rel, path: found.get(rel) as string }));
  checkAbort();

  await mkdir(options.outDir, { recursive: true });
  const partial = (split: SplitName, file: string): string => join(options.outDir, `${split}.${file}.partial`);
  const outputs = {} as Record<SplitName, SplitOutput>;
  const opened: ChunkWriter[] = [];
  const cleanup = async (): Promise<void> => {
    await Promise.allSettled(opened.map((w) => w.close()));
    await Promise.allSettled(SPLITS.flatMap((s) => BINARY_FILES.map((f) => rm(partial(s, f), { force: true }))));
  };

  const skipped = new Map<string, number>();
  const skip = (code: string): void => {
    skipped.set(code, (skipped.get(code) ?? 0) + 1);
  };
  const errors: string[] = [];
  const internal = (where: string, e: unknown): void => {
    skip('internal-error');
    if (errors.length < 20) {
      errors.push(`${where}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const totals = {
    bars: 0,
    notes: 0,
    truncated: 0,
    droppedNotes: 0,
    offGridNotes: 0,
    roundedDurations: 0,
    cappedNotes: 0,
    droppedChords: 0,
    reducedChords: 0,
    otherMeterBars: 0,
  };
  const counts = new Float64Array(VOCAB_SIZE);
  let piecesRead = 0;
  const limit = options.maxPieces ?? Number.POSITIVE_INFINITY;

  const addPiece = async (source: string, score: Score): Promise<void> => {
    let encoded: { sequence: TokenSequence; stats: EncodeStats };
    try {
      encoded = encodeScoreDetailed(score, {
        grid,
        includeVelocity: options.includeVelocity === true,
        includeChords: options.includeChords !== false,
        maxBars: options.maxBars,
      });
    } catch (e) {
      if (e instanceof MusicInputError) {
        skip(e.code);
      } else {
        internal(source, e);
      }
      return;
    }
    const { sequence, stats } = encoded;
    if (stats.otherMeterBars > 0) {
      skip('tokens-meter-unsupported');
      return;
    }
    if (stats.notes === 0) {
      skip('tokens-no-notes');
      return;
    }
    let ssm: Float32Array;
    let key: string | undefined;
    try {
      const decoded = decodeTokens(sequence, { grid });
      key = contentKey(decoded);
      const s = barSsm(decoded, 'jaccard');
      if (s.size !== stats.bars) {
        throw new Error(`SSM has ${s.size} rows for ${stats.bars} bars`);
      }
      ssm = s.data;
    } catch (e) {
      internal(source, e);
      return;
    }
    // Split by what the music is, not where it was found: the same tune transcribed in two
    // collections (O'Neill's and Ryan's share many) lands in one split, so held-out figures
    // are not inflated by tunes the model saw in training.
    const out = outputs[splitOf(key ?? source, seed, fractions)];
    out.pieces.push({
      source,
      tokenOffset: out.tokens,
      tokenCount: sequence.ids.length,
      bars: stats.bars,
      ssmOffset: out.ssmElements,
    });
    await out.ids.append(leBytes(sequence.ids));
    await out.bar.append(leBytes(sequence.bar));
    await out.pos.append(leBytes(sequence.pos));
    await out.ssm.append(leBytes(ssm));
    out.tokens += sequence.ids.length;
    out.bars += stats.bars;
    out.ssmElements += ssm.length;
    for (const id of sequence.ids) {
      counts[id]++;
    }
    totals.bars += stats.bars;
    totals.notes += stats.notes;
    totals.truncated += stats.truncated ? 1 : 0;
    totals.droppedNotes += stats.droppedNotes;
    totals.offGridNotes += stats.offGridNotes;
    totals.roundedDurations += stats.roundedDurations;
    totals.cappedNotes += stats.cappedNotes;
    totals.droppedChords += stats.droppedChords;
    totals.reducedChords += stats.reducedChords;
  };

  try {
    for (const split of SPLITS) {
      const handles: ChunkWriter[] = [];
      for (const f of BINARY_FILES) {
        const w = new ChunkWriter(await open(partial(split, f), 'w'));
        opened.push(w);
        handles.push(w);
      }
      outputs[split] = { ids: handles[0], bar: handles[1], pos: handles[2], ssm: handles[3], pieces: [], tokens: 0, bars: 0, ssmElements: 0 };
    }

    for (let i = 0; i < files.length && piecesRead < limit; i++) {
      checkAbort();
      const { rel, path } = files[i];
      let bytes: Uint8Array;
      try {
        bytes = await readFile(path);
      } catch {
        skip('file-unreadable');
        piecesRead++;
        options.onProgress?.(i + 1, files.length);
        continue;
      }
      if (/\.abc$/i.test(rel)) {
        let result: ReturnType<typeof readAbc> | undefined;
        try {
          result = readAbc(new TextDecoder('utf-8').decode(bytes));
        } catch (e) {
          if (e instanceof MusicInputError) {
            skip(e.code);
          } else {
            internal(rel, e);
          }
          piecesRead++;
        }
        if (result !== undefined) {
          const items = [
            ...result.tunes.map((t) => ({ index: t.index, score: t.score as Score | undefined, code: '' })),
            ...result.skipped.map((s) => ({ index: s.index, score: undefined, code: s.code })),
          ].sort((a, b) => a.index - b.index);
          for (const item of items) {
            if (piecesRead >= limit) {
              break;
            }
            piecesRead++;
            if (item.score === undefined) {
              skip(item.code);
            } else {
              await addPiece(`${rel}#${item.index}`, item.score);
            }
          }
        }
      } else {
        piecesRead++;
        let score: Score | undefined;
        try {
          score = await readMidiPiece(path, bytes, grid);
        } catch (e) {
          if (e instanceof MusicInputError) {
            skip(e.code);
          } else {
            internal(rel, e);
          }
        }
        if (score !== undefined) {
          await addPiece(`${rel}#0`, score);
        }
      }
      options.onProgress?.(i + 1, files.length);
    }
    checkAbort();
    for (const w of opened) {
      await w.close();
    }
    opened.length = 0;
  } catch (e) {
    await cleanup();
    throw e;
  }

  for (const split of SPLITS) {
    for (const f of BINARY_FILES) {
      await rename(partial(split, f), join(options.outDir, `${split}.${f}`));
    }
    await writeFile(join(options.outDir, `${split}.pieces.json`), `${JSON.stringify(outputs[split].pieces)}\n`);
  }
  const skippedSorted: Record<string, number> = {};
  for (const code of [...skipped.keys()].sort()) {
    skippedSorted[code] = skipped.get(code) as number;
  }
  const splits = {} as Record<SplitName, SplitSummary>;
  for (const s of SPLITS) {
    splits[s] = { pieces: outputs[s].pieces.length, tokens: outputs[s].tokens, bars: outputs[s].bars };
  }
  const meta = {
    format: SHARD_FORMAT,
    vocabVersion: VOCAB_VERSION,
    vocab: VOCAB,
    specials: { pad: PAD_ID, bos: BOS_ID, eos: EOS_ID, bar: BAR_ID, summary: SUM_ID },
    grid,
    seed,
    splitFractions: { valid: fractions.valid, test: fractions.test },
    sources: options.folders,
    splits,
    skipped: skippedSorted,
    options: {
      includeVelocity: options.includeVelocity === true,
      includeChords: options.includeChords !== false,
      maxBars: options.maxBars ?? null,
      maxPieces: options.maxPieces ?? null,
    },
    stats: totals,
    tokenCounts: Array.from(counts),
    createdBy: options.createdBy ?? `refrain-tokens/${VOCAB_VERSION}`,
  };
  await writeFile(join(options.outDir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
  return {
    outDir: options.outDir,
    files: files.length,
    pieces: SPLITS.reduce((a, s) => a + splits[s].pieces, 0),
    splits,
    skipped: skippedSorted,
    errors,
    stats: totals,
    vocabUsed: counts.reduce((a, c) => a + (c > 0 ? 1 : 0), 0),
    tokenCounts: Array.from(counts),
  };
}
