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
 * the keys of `key_audio.txt` (`./corpusFiles`, `./pop909`). Other MIDI files are read quantised to the grid.
 *
 * Node-only (fs): used by the CLI and the corpus build, never by the extension's pure layers.
 */

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readAbc } from '../music/abc/reader';
import { MusicInputError } from '../music/score';
import type { Score } from '../music/score';
import { CancellationError } from '../platform/cancellation';
import { barSsm } from '../structure/ssm';
import { listCorpusFiles, readMidiPiece } from './corpusFiles';
import type { CorpusFile } from './corpusFiles';
import { decodeTokens } from './decode';
import { encodeScoreDetailed } from './encode';
import type { EncodeStats, TokenSequence } from './encode';
import { SPLITS, contentKey, splitOf } from './pieceSplit';
import type { SplitName } from './pieceSplit';
import { ShardWriter } from './shardWriter';
import type { SplitSummary } from './shardWriter';
import { BAR_ID, BOS_ID, DEFAULT_GRID, EOS_ID, PAD_ID, SUM_ID, VOCAB, VOCAB_SIZE, VOCAB_VERSION, ticksPerStep } from './vocab';

/** Shard format version written to `meta.json`. */
export const SHARD_FORMAT = 1;

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

/** The checked settings of one build. */
interface BuildSettings {
  seed: number;
  fractions: { valid: number; test: number };
  grid: number;
  /** Pieces to read at most. */
  limit: number;
  includeVelocity: boolean;
  includeChords: boolean;
  maxBars: number | undefined;
}

function badOption(message: string): MusicInputError {
  return new MusicInputError('shards-bad-option', message);
}

/** The options with their defaults, or `shards-bad-option` for a bad one. */
function checkOptions(options: BuildShardsOptions): BuildSettings {
  const seed = options.seed ?? 1;
  const fractions = options.splits ?? { valid: 0.05, test: 0.05 };
  const grid = options.grid ?? DEFAULT_GRID;
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
  return {
    seed,
    fractions,
    grid,
    limit: options.maxPieces ?? Number.POSITIVE_INFINITY,
    includeVelocity: options.includeVelocity === true,
    includeChords: options.includeChords !== false,
    maxBars: options.maxBars,
  };
}

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new CancellationError('The corpus build was cancelled.');
  }
}

/** A piece ready to write: its tokens, encoder counts, bar SSM and split key. */
interface EncodedPiece {
  sequence: TokenSequence;
  stats: EncodeStats;
  ssm: Float32Array;
  key: string | undefined;
}

/** One build in progress: reads files into pieces, writes them and counts what it skips. */
class ShardBuild {
  piecesRead = 0;
  readonly skipped = new Map<string, number>();
  readonly errors: string[] = [];
  readonly totals = {
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
  readonly counts = new Float64Array(VOCAB_SIZE);

  constructor(
    private readonly _settings: BuildSettings,
    private readonly _writer: ShardWriter,
  ) {}

  private _skip(code: string): void {
    this.skipped.set(code, (this.skipped.get(code) ?? 0) + 1);
  }

  private _internal(where: string, e: unknown): void {
    this._skip('internal-error');
    if (this.errors.length < 20) {
      this.errors.push(`${where}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Skips by the reader's or tokenizer's code, or as an internal error. */
  private _failed(where: string, e: unknown): void {
    if (e instanceof MusicInputError) {
      this._skip(e.code);
    } else {
      this._internal(where, e);
    }
  }

  /** Reads one file and adds its pieces (an ABC file may hold many). */
  async addFile({ rel, path }: CorpusFile): Promise<void> {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch {
      this._skip('file-unreadable');
      this.piecesRead++;
      return;
    }
    if (/\.abc$/i.test(rel)) {
      await this._addAbc(rel, bytes);
    } else {
      await this._addMidi(rel, path, bytes);
    }
  }

  private async _addAbc(rel: string, bytes: Uint8Array): Promise<void> {
    let result: ReturnType<typeof readAbc>;
    try {
      result = readAbc(new TextDecoder('utf-8').decode(bytes));
    } catch (e) {
      this._failed(rel, e);
      this.piecesRead++;
      return;
    }
    const items = [
      ...result.tunes.map((t) => ({ index: t.index, score: t.score as Score | undefined, code: '' })),
      ...result.skipped.map((s) => ({ index: s.index, score: undefined, code: s.code })),
    ].sort((a, b) => a.index - b.index);
    for (const item of items) {
      if (this.piecesRead >= this._settings.limit) {
        break;
      }
      this.piecesRead++;
      if (item.score === undefined) {
        this._skip(item.code);
      } else {
        await this._addPiece(`${rel}#${item.index}`, item.score);
      }
    }
  }

  private async _addMidi(rel: string, path: string, bytes: Uint8Array): Promise<void> {
    this.piecesRead++;
    let score: Score | undefined;
    try {
      score = await readMidiPiece(path, bytes, this._settings.grid);
    } catch (e) {
      this._failed(rel, e);
    }
    if (score !== undefined) {
      await this._addPiece(`${rel}#0`, score);
    }
  }

  /** Tokenises a piece and computes its SSM and split key, or skips it (undefined). */
  private _encode(source: string, score: Score): EncodedPiece | undefined {
    const { grid } = this._settings;
    let encoded: { sequence: TokenSequence; stats: EncodeStats };
    try {
      encoded = encodeScoreDetailed(score, {
        grid,
        includeVelocity: this._settings.includeVelocity,
        includeChords: this._settings.includeChords,
        maxBars: this._settings.maxBars,
      });
    } catch (e) {
      this._failed(source, e);
      return undefined;
    }
    const { sequence, stats } = encoded;
    if (stats.otherMeterBars > 0) {
      this._skip('tokens-meter-unsupported');
      return undefined;
    }
    if (stats.notes === 0) {
      this._skip('tokens-no-notes');
      return undefined;
    }
    try {
      const decoded = decodeTokens(sequence, { grid });
      const key = contentKey(decoded);
      const s = barSsm(decoded, 'jaccard');
      if (s.size !== stats.bars) {
        throw new Error(`SSM has ${s.size} rows for ${stats.bars} bars`);
      }
      return { sequence, stats, ssm: s.data, key };
    } catch (e) {
      this._internal(source, e);
      return undefined;
    }
  }

  private async _addPiece(source: string, score: Score): Promise<void> {
    const piece = this._encode(source, score);
    if (piece === undefined) {
      return;
    }
    const { sequence, stats, ssm, key } = piece;
    // Split by what the music is, not where it was found: the same tune transcribed in two
    // collections (O'Neill's and Ryan's share many) lands in one split, so held-out figures
    // are not inflated by tunes the model saw in training.
    const split = splitOf(key ?? source, this._settings.seed, this._settings.fractions);
    await this._writer.append(split, source, sequence, stats.bars, ssm);
    for (const id of sequence.ids) {
      this.counts[id]++;
    }
    const totals = this.totals;
    totals.bars += stats.bars;
    totals.notes += stats.notes;
    totals.truncated += stats.truncated ? 1 : 0;
    totals.droppedNotes += stats.droppedNotes;
    totals.offGridNotes += stats.offGridNotes;
    totals.roundedDurations += stats.roundedDurations;
    totals.cappedNotes += stats.cappedNotes;
    totals.droppedChords += stats.droppedChords;
    totals.reducedChords += stats.reducedChords;
  }

  /** Skip counts sorted by code. */
  skippedSorted(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const code of [...this.skipped.keys()].sort()) {
      out[code] = this.skipped.get(code) as number;
    }
    return out;
  }
}

/** The contents of `meta.json`. */
function shardMeta(options: BuildShardsOptions, settings: BuildSettings, build: ShardBuild, splits: Record<SplitName, SplitSummary>): object {
  return {
    format: SHARD_FORMAT,
    vocabVersion: VOCAB_VERSION,
    vocab: VOCAB,
    specials: { pad: PAD_ID, bos: BOS_ID, eos: EOS_ID, bar: BAR_ID, summary: SUM_ID },
    grid: settings.grid,
    seed: settings.seed,
    splitFractions: { valid: settings.fractions.valid, test: settings.fractions.test },
    sources: options.folders,
    splits,
    skipped: build.skippedSorted(),
    options: {
      includeVelocity: settings.includeVelocity,
      includeChords: settings.includeChords,
      maxBars: options.maxBars ?? null,
      maxPieces: options.maxPieces ?? null,
    },
    stats: build.totals,
    tokenCounts: Array.from(build.counts),
    createdBy: options.createdBy ?? `refrain-tokens/${VOCAB_VERSION}`,
  };
}

/**
 * Builds the token shards of `docs/shard-format.md` from corpus folders. See the module
 * comment. Throws `MusicInputError('shards-bad-option')` for bad options, and
 * `CancellationError` when `signal` aborts (the partial files are removed).
 */
export async function buildShards(options: BuildShardsOptions): Promise<ShardSummary> {
  const settings = checkOptions(options);
  const files = await listCorpusFiles(options.corpusRoot, options.folders, badOption);
  checkAbort(options.signal);

  await mkdir(options.outDir, { recursive: true });
  const writer = new ShardWriter(options.outDir);
  const build = new ShardBuild(settings, writer);
  try {
    await writer.open();
    for (let i = 0; i < files.length && build.piecesRead < settings.limit; i++) {
      checkAbort(options.signal);
      await build.addFile(files[i]);
      options.onProgress?.(i + 1, files.length);
    }
    checkAbort(options.signal);
    await writer.close();
  } catch (e) {
    await writer.discard();
    throw e;
  }

  await writer.finish();
  const splits = writer.summary();
  await writeFile(join(options.outDir, 'meta.json'), `${JSON.stringify(shardMeta(options, settings, build, splits), null, 2)}\n`);
  return {
    outDir: options.outDir,
    files: files.length,
    pieces: SPLITS.reduce((a, s) => a + splits[s].pieces, 0),
    splits,
    skipped: build.skippedSorted(),
    errors: build.errors,
    stats: build.totals,
    vocabUsed: build.counts.reduce((a, c) => a + (c > 0 ? 1 : 0), 0),
    tokenCounts: Array.from(build.counts),
  };
}
