import { readFileSync } from 'node:fs';
import { loadPieces, selectPiece } from '../music/load';
import { analyzeScore, formatReport, reportToJson } from '../structure/pieceReport';
import type { BarFeature } from '../structure/ssm';
import type { CliContext } from './usage';

/** `refrain analyze FILE`: the structure report of one piece. */
export function runAnalyze(ctx: CliContext, options: { file: string; tune?: number; feature: BarFeature; json: boolean }): number {
  const bytes = readFileSync(options.file);
  const result = loadPieces(options.file, bytes);
  const piece = selectPiece(result, options.tune);
  const report = analyzeScore(piece.score, { feature: options.feature, reference: piece.reference, title: piece.title });
  if (options.json) {
    ctx.out(JSON.stringify({ file: options.file, tunesInFile: result.pieces.length, skippedInFile: result.skipped.length, ...reportToJson(report) }));
  } else {
    if (result.pieces.length + result.skipped.length > 1) {
      ctx.out(`${options.file}: tune ${piece.index + 1} of ${result.pieces.length + result.skipped.length}`);
    }
    ctx.out(formatReport(report).join('\n'));
  }
  return 0;
}
