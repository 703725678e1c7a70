/**
 * The files of one shard directory (`docs/shard-format.md`) as the builder writes them: for each
 * split, `S.ids.u16`, `S.bar.u16`, `S.pos.u8` and `S.ssm.f32` (little-endian, written as
 * `.partial` files and renamed into place once all pieces are in) and `S.pieces.json`.
 *
 * Node-only (fs). Used by `./shards`.
 */

import { open, rename, rm, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { TokenSequence } from './encode';
import { SPLITS } from './pieceSplit';
import type { SplitName } from './pieceSplit';

/** One entry of `S.pieces.json`. */
export interface PieceEntry {
  source: string;
  tokenOffset: number;
  tokenCount: number;
  bars: number;
  ssmOffset: number;
}

/** Pieces, tokens and bars of one split. */
export interface SplitSummary {
  pieces: number;
  tokens: number;
  bars: number;
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

/** The shard files of every split in one directory, from open to the final rename. */
export class ShardWriter {
  private readonly _outputs = {} as Record<SplitName, SplitOutput>;
  private readonly _opened: ChunkWriter[] = [];

  constructor(private readonly _outDir: string) {}

  private _partial(split: SplitName, file: string): string {
    return join(this._outDir, `${split}.${file}.partial`);
  }

  /** Opens (truncating) the partial binary files of every split. */
  async open(): Promise<void> {
    for (const split of SPLITS) {
      const handles: ChunkWriter[] = [];
      for (const f of BINARY_FILES) {
        const w = new ChunkWriter(await open(this._partial(split, f), 'w'));
        this._opened.push(w);
        handles.push(w);
      }
      this._outputs[split] = { ids: handles[0], bar: handles[1], pos: handles[2], ssm: handles[3], pieces: [], tokens: 0, bars: 0, ssmElements: 0 };
    }
  }

  /** Appends one piece (its tokens and its bar SSM) to a split. */
  async append(split: SplitName, source: string, sequence: TokenSequence, bars: number, ssm: Float32Array): Promise<void> {
    const out = this._outputs[split];
    out.pieces.push({
      source,
      tokenOffset: out.tokens,
      tokenCount: sequence.ids.length,
      bars,
      ssmOffset: out.ssmElements,
    });
    await out.ids.append(leBytes(sequence.ids));
    await out.bar.append(leBytes(sequence.bar));
    await out.pos.append(leBytes(sequence.pos));
    await out.ssm.append(leBytes(ssm));
    out.tokens += sequence.ids.length;
    out.bars += bars;
    out.ssmElements += ssm.length;
  }

  /** Flushes and closes every open file. */
  async close(): Promise<void> {
    for (const w of this._opened) {
      await w.close();
    }
    this._opened.length = 0;
  }

  /** Closes what is open and removes every partial file (after a failure or a cancel). */
  async discard(): Promise<void> {
    await Promise.allSettled(this._opened.map((w) => w.close()));
    await Promise.allSettled(SPLITS.flatMap((s) => BINARY_FILES.map((f) => rm(this._partial(s, f), { force: true }))));
  }

  /** Renames the closed partial files into place and writes each split's `pieces.json`. */
  async finish(): Promise<void> {
    for (const split of SPLITS) {
      for (const f of BINARY_FILES) {
        await rename(this._partial(split, f), join(this._outDir, `${split}.${f}`));
      }
      await writeFile(join(this._outDir, `${split}.pieces.json`), `${JSON.stringify(this._outputs[split].pieces)}\n`);
    }
  }

  /** Pieces, tokens and bars written to each split. */
  summary(): Record<SplitName, SplitSummary> {
    const splits = {} as Record<SplitName, SplitSummary>;
    for (const s of SPLITS) {
      const out = this._outputs[s];
      splits[s] = { pieces: out.pieces.length, tokens: out.tokens, bars: out.bars };
    }
    return splits;
  }
}
