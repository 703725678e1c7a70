/**
 * Held-out scoring: the model's negative log-likelihood of whole token sequences (shard
 * pieces), under the default plan (trained offsets, each layer's first window, every bar's
 * summary) and either the piece's own structure as the template or none. The same numbers for
 * any exported model (ONNX), so shipped and new models compare on one split.
 *
 * Pure TypeScript: the worker passes the {@link StepModel}.
 */

import type { ModelCard } from './card';
import { Decoder } from './decoder';
import type { StepModel } from './decoder';
import { layerPlansOf } from './generate';
import { offsetRelatedBars } from './plan';
import type { RelatedBars } from './plan';
import { logProbAt } from './sampler';
import { barStructure } from './structure';

/** One piece to score: its tokens as the shard holds them, and its bar SSM. */
export interface ScorePiece {
  ids: number[];
  bar: number[];
  pos: number[];
  bars: number;
  /** The piece's bars x bars note-set Jaccard SSM, row-major. */
  ssm: number[];
}

/** What to score and how. */
export interface ScoreSpec {
  pieces: ScorePiece[];
  /** 'own': the piece's own SSM is the template (structure inputs, same-source bars); 'none': no template. */
  template: 'own' | 'none';
  /** Prefill chunk (tokens per step). */
  chunk: number;
}

/** Summed negative log-likelihood of every target token (each piece's tokens after its first). */
export interface ScoreResult {
  pieces: number;
  tokens: number;
  nll: number;
  perplexity: number;
}

function nextPow2(n: number): number {
  let c = 256;
  while (c < n) {
    c *= 2;
  }
  return c;
}

/** Scores the pieces; `check` throws to cancel between steps. */
export async function scorePieces(model: StepModel, card: ModelCard, spec: ScoreSpec, check: () => void): Promise<ScoreResult> {
  const v = model.shape.vocabSize;
  let nll = 0;
  let tokens = 0;
  for (const p of spec.pieces) {
    const ssm = { size: p.bars, data: Float32Array.from(p.ssm) };
    const structure = barStructure(spec.template === 'own' ? ssm : undefined, p.bars, true);
    const offsets = offsetRelatedBars(card.plan.relatedOffsets);
    const related: RelatedBars = card.model.structRelated ? (b) => [...offsets(b), ...structure.sameAs(b)] : offsets;
    const decoder = new Decoder(model, {
      plan: { layers: layerPlansOf(card, [], null), related, sing: model.shape.sing, template: ssm },
      capacity: nextPow2(p.ids.length),
      chunk: spec.chunk,
      beforeStep: check,
      structure,
    });
    await decoder.append(p.ids, p.bar, p.pos, (rows, first, count) => {
      for (let r = 0; r < count; r++) {
        const target = first + r + 1;
        if (target < p.ids.length) {
          nll -= logProbAt(rows, r * v, v, p.ids[target]);
          tokens++;
        }
      }
    });
  }
  return { pieces: spec.pieces.length, tokens, nll, perplexity: Math.exp(nll / Math.max(1, tokens)) };
}
