import { readFileSync } from 'node:fs';
import { formatOfPath } from '../music/load';
import { loadPiece } from '../music/select';
import { readAbc } from '../music/abc/reader';
import { analyzeScore, formatReport, reportToJson } from '../structure/pieceReport';
import type { BarFeature } from '../structure/ssm';
import type { CliContext } from './usage';

/** How many tunes an ABC file holds (its tunes are split, not read); 1 for MIDI. */
function tuneCount(file: string, bytes: Uint8Array): number {
  if (formatOfPath(file) !== 'abc') {
    return 1;
  }
  return readAbc(new TextDecoder().decode(bytes), { select: () => [] }).count;
}

/** `refrain analyze FILE`: the structure report of one piece (only that piece of a tune book is read). */
export function runAnalyze(ctx: CliContext, options: { file: string; tune?: number; feature: BarFeature; json: boolean }): number {
  const bytes = readFileSync(options.file);
  const piece = loadPiece(options.file, bytes, options.tune);
  const count = tuneCount(options.file, bytes);
  const report = analyzeScore(piece.score, { feature: options.feature, reference: piece.reference, title: piece.title });
  if (options.json) {
    ctx.out(JSON.stringify({ file: options.file, tunesInFile: count, ...reportToJson(report) }));
  } else {
    if (count > 1) {
      ctx.out(`${options.file}: tune ${piece.index + 1} of ${count}`);
    }
    ctx.out(formatReport(report).join('\n'));
  }
  return 0;
}
