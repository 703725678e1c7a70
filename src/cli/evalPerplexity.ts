/**
 * `refrain eval --perplexity`: held-out perplexity of one or more exported models on a shard
 * split, with the piece's own structure as the template and with none. Every model runs through
 * the same engine (ONNX), so shipped and new models compare on the same pieces.
 */

import { openSync, readFileSync, readSync, closeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ScorePiece, ScoreResult } from '../engine/scoring';
import { evalEngineClient } from './compose';
import { guardTestSplit } from './evalSplit';
import type { CliContext } from './usage';
import { UsageError } from './usage';

export const EVAL_PERPLEXITY_HELP = `  refrain eval --perplexity [--model ID[,ID...]] [--shards DIR] [--split test] [--pieces N] [--json] [-o FILE]
      Held-out perplexity of each model on the shard split (every target token of every piece),
      with the piece's own structure as the template and with none (default plan).
`;

interface PieceEntry {
  source: string;
  tokenOffset: number;
  tokenCount: number;
  bars: number;
  ssmOffset: number;
}

function readSlice(path: string, byteOffset: number, bytes: number): Buffer {
  const buf = Buffer.alloc(bytes);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buf, 0, bytes, byteOffset);
  } finally {
    closeSync(fd);
  }
  return buf;
}

/** The first `limit` pieces of a shard split as {@link ScorePiece}s. */
export function readShardPieces(dir: string, split: string, limit = Infinity): ScorePiece[] {
  const entries = JSON.parse(readFileSync(join(dir, `${split}.pieces.json`), 'utf8')) as PieceEntry[];
  const ids = readFileSync(join(dir, `${split}.ids.u16`));
  const bar = readFileSync(join(dir, `${split}.bar.u16`));
  const pos = readFileSync(join(dir, `${split}.pos.u8`));
  const out: ScorePiece[] = [];
  for (const e of entries.slice(0, Math.min(entries.length, limit))) {
    const a = e.tokenOffset;
    const n = e.tokenCount;
    const ssmBuf = readSlice(join(dir, `${split}.ssm.f32`), e.ssmOffset * 4, e.bars * e.bars * 4);
    out.push({
      ids: Array.from({ length: n }, (_, i) => ids.readUInt16LE(2 * (a + i))),
      bar: Array.from({ length: n }, (_, i) => bar.readUInt16LE(2 * (a + i))),
      pos: Array.from({ length: n }, (_, i) => pos[a + i]),
      bars: e.bars,
      ssm: Array.from({ length: e.bars * e.bars }, (_, i) => ssmBuf.readFloatLE(4 * i)),
    });
  }
  return out;
}

export async function runPerplexityEvalCli(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      perplexity: { type: 'boolean' },
      model: { type: 'string' },
      models: { type: 'string' },
      shards: { type: 'string', default: '.cache/corpus/folk' },
      split: { type: 'string', default: 'test' },
      pieces: { type: 'string' },
      json: { type: 'boolean', default: false },
      o: { type: 'string', short: 'o' },
    },
  });
  const limit = values.pieces === undefined ? Infinity : Number(values.pieces);
  if (!(limit >= 1)) {
    throw new UsageError(`--pieces must be a whole number >= 1, got ${values.pieces}.`);
  }
  const pieces = readShardPieces(values.shards, values.split, limit);
  const client = evalEngineClient(ctx, values.models);
  const rows: { model: string; template: string; result: ScoreResult; split: string; splitStatus: string; seconds: number }[] = [];
  try {
    const all = await client.listModels();
    const ids = values.model ? values.model.split(',').map((s) => s.trim()) : all.map((m) => m.id);
    for (const id of ids) {
      const info = all.find((m) => m.id === id);
      if (!info) {
        throw new UsageError(`No model "${id}". Installed: ${all.map((m) => m.id).join(', ')}.`);
      }
      const card = JSON.parse(readFileSync(join(info.path, '..', 'card.json'), 'utf8')) as unknown;
      let splitStatus: string;
      try {
        splitStatus = guardTestSplit(ctx, id, card, values.shards).status;
      } catch (e) {
        splitStatus = `mismatch: ${(e as Error).message.split(';')[0]}`;
        ctx.err(`warning: ${id}: ${splitStatus} (scored anyway; its figures are not held out)`);
      }
      for (const template of ['own', 'none'] as const) {
        const t0 = Date.now();
        ctx.progress(`${id}: ${template} template, ${pieces.length} pieces`);
        const result = await client.score(id, { pieces, template, chunk: 256 }, ctx.signal);
        rows.push({ model: id, template, result, split: values.split, splitStatus, seconds: (Date.now() - t0) / 1000 });
      }
    }
  } finally {
    ctx.progress('');
    await client.dispose();
  }
  const out = { shards: values.shards, split: values.split, pieces: pieces.length, rows };
  if (values.o) {
    writeFileSync(values.o, `${JSON.stringify(out, null, 1)}\n`);
  }
  if (values.json) {
    ctx.out(JSON.stringify(out));
  } else {
    ctx.out(`held-out perplexity, ${values.split} split of ${values.shards} (${pieces.length} pieces)`);
    ctx.out(`${'model'.padEnd(22)} ${'template'.padEnd(9)} ${'tokens'.padStart(8)} ${'ppl'.padStart(7)}  split`);
    for (const r of rows) {
      ctx.out(`${r.model.padEnd(22)} ${r.template.padEnd(9)} ${String(r.result.tokens).padStart(8)} ${r.result.perplexity.toFixed(3).padStart(7)}  ${r.splitStatus}`);
    }
  }
  return 0;
}
