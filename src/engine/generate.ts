/**
 * Generation: turns a {@link GenerateRequest} into candidates with a decode-step model.
 * Encodes the prompt, builds the structure plan (related bars, per-layer windows, template
 * SSM), prefills the prompt once, then samples every candidate's new bars side by side (one
 * model step carries one new token of each candidate, see ./batch) under the grammar and
 * target constraints with a seeded PRNG per candidate (candidate c uses seed + c; its tokens
 * do not depend on the other candidates), decodes the tokens and splices the bars into the
 * prompt's Score. Infill samples a pool of spans, rescores each by the model's log-likelihood
 * of the unchanged bars after the span (the pool's rescoring steps shared the same way) and
 * keeps the best. Candidates get the SE and template-distance metrics.
 *
 * Pure TypeScript: no vscode, no onnxruntime (the caller passes the {@link StepModel}).
 */

import type { Score } from '../music/score';
import type { Logger } from '../platform/logger';
import { DEFAULT_MAX_INTERVAL, barSsm, similarityByInterval, similarityError, ssmDistance } from '../structure/ssm';
import type { Ssm } from '../structure/ssm';
import { decodeTokens } from '../tokens/decode';
import { TokenGrammar } from '../tokens/grammar';
import type { ModelCard } from './card';
import { TokenCoordinates } from './constraints';
import { BATCH_WIDTH, BatchDecoder } from './batch';
import type { StepModel } from './decoder';
import { decodePool } from './decodeLanes';
import type { RawCandidate } from './decodeLanes';
import type { PromptCache } from './promptCache';
import type { KvCache } from './kvCache';
import { EngineError } from './errors';
import { offsetRelatedBars } from './plan';
import type { LayerPlan, RelatedBars, StepPlanOptions } from './plan';
import { prepare } from './prepare';
import type { Prepared } from './prepare';
import { createSampler, generationConfigOf } from './sampler';
import { appendBars, replaceBars } from './splice';
import { corpusBackground, templateRelatedBars, templateSsm } from './template';
import { DEFAULT_VARIATION, MAX_CANDIDATES, MAX_NEW_BARS } from './limits';
import { NO_SOURCE, barStructure } from './structure';
import type { BarStructure } from './structure';
import { followsForm } from '../structure/compliance';
import { poolOf, validateRequest } from './validate';
import type { Candidate, GenerateProgress, GenerateRequest, LayerScale } from './types';

export { melodyTrack } from './prepare';
export { validateRequest };
// The request limits are decided in one place (`./limits`), shared with the protocol, the settings and the CLI.
export { MAX_CANDIDATES, MAX_NEW_BARS };
/** Guard against a runaway bar: most tokens one new bar may take. */
export const MAX_TOKENS_PER_BAR = 1200;

/** What {@link generate} needs besides the request. */
export interface GenerateContext {
  model: StepModel;
  card: ModelCard;
  /** Path of the card (for messages). */
  cardPath: string;
  /** Whether the card's vocabulary is Refrain's (see `card.isRefrainVocab`). */
  refrainVocab: boolean;
  /** Throws a cancellation error when the request was cancelled; called before every step. */
  checkCancelled?: () => void;
  onProgress?: (p: GenerateProgress) => void;
  log?: Logger;
  /** Prefill chunk size in tokens (default 256). */
  chunk?: number;
  /** K/V rows of the model's last prompt, reused for the prompt's unchanged prefix (see ./promptCache). */
  promptCache?: PromptCache;
  /** A KV cache to decode into (reused request after request) instead of a new one. */
  kvCache?: KvCache;
}

/** The per-layer plans for the requested scales over the model's trained layer plans. */
export function layerPlansOf(card: ModelCard, scales: readonly LayerScale[], summaryHorizon: number | null = DEFAULT_SUMMARY_HORIZON): LayerPlan[] {
  return card.plan.layers.map((l, k) => {
    const s: LayerScale | undefined = scales.length === 0 ? undefined : scales[Math.min(k, scales.length - 1)];
    const w = s === undefined ? l.windows[0] : s === 'full' ? null : s;
    return { plan: l.plan, window: w ?? null, summaryHorizon };
  });
}

/**
 * Default coarse horizon in bars: the summaries of the last 64 bars. The models are trained on
 * windows of 1,024 tokens (about 54 folk bars), so they never attend to more summaries than that;
 * beyond it the step would only grow with the piece (O(k*m + b)) and leave the training
 * distribution. With the horizon a decode step costs O(k*m + 64) at any length.
 */
export const DEFAULT_SUMMARY_HORIZON = 64;

function nextPow2(n: number): number {
  let c = 256;
  while (c < n) {
    c *= 2;
  }
  return c;
}

/** SE against the card's corpus curve, or undefined without one. */
export function seAgainstCard(ssm: Ssm, card: ModelCard): number | undefined {
  const ref = card.corpusLt?.values;
  if (!Array.isArray(ref) || ref.length < 2) {
    return undefined;
  }
  const t = Math.min(DEFAULT_MAX_INTERVAL, ref.length - 1);
  const lt = similarityByInterval(ssm, t, { skipEmpty: card.corpusLt?.skipEmpty !== false });
  const se = similarityError(lt, Float64Array.from(ref, (v) => (typeof v === 'number' ? v : Number.NaN)), t);
  return Number.isFinite(se) ? se : undefined;
}

/** The structure a request's new bars follow: the template, the bar structure, the copy prior's variation and the step plan. */
interface StructurePlan {
  template: Ssm;
  structure: BarStructure;
  variation: number;
  plan: StepPlanOptions;
}

/** Resolves the template (one rule for every source, see ./template) and the related bars and layer plans around it. */
function structurePlan(ctx: GenerateContext, req: GenerateRequest, prep: Prepared): StructurePlan {
  const template = templateSsm(prep.templateSpec, prep.encScore, prep.totalBars, corpusBackground(ctx.card.corpusLt?.values));
  const offsets = offsetRelatedBars(req.controls.relatedOffsets);
  // Regenerated bars take no structure from their own old notes (else they would come back as they were).
  const structTemplate = req.task.kind === 'infill' && prep.templateSpec.kind === 'piece' ? withoutBars(template, req.task.fromBar, req.task.toBar) : template;
  const structure: BarStructure = barStructure(prep.explicitTemplate ? structTemplate : undefined, prep.totalBars, prep.knownEnd);
  const chosenRelated: RelatedBars = req.controls.relatedFromTemplate
    ? templateRelatedBars(template, req.controls.relatedCount ?? Math.max(1, req.controls.relatedOffsets.length), offsets)
    : offsets;
  // Models trained with structure-related bars also see in full the bars the template marks the same.
  const related: RelatedBars = ctx.card.model.structRelated && req.controls.templateRelated !== false ? (bar) => [...chosenRelated(bar), ...structure.sameAs(bar)] : chosenRelated;
  const variation = prep.explicitTemplate ? (req.controls.variation ?? DEFAULT_VARIATION) : 1;
  const layers = layerPlansOf(ctx.card, req.controls.scales, req.controls.summaryHorizon === 0 ? null : (req.controls.summaryHorizon ?? DEFAULT_SUMMARY_HORIZON));
  const plan: StepPlanOptions = { layers, related, sing: ctx.model.shape.sing, template: req.controls.templateHead === false ? undefined : template };
  ctx.log?.debug(
    `plan: layers ${layers.map((l) => `${l.plan}/${l.window ?? 'full'}`).join(', ')}; ` +
      `${req.controls.relatedFromTemplate ? 'template-related bars' : `offsets ${req.controls.relatedOffsets.join(',')}`}; template ${prep.templateSpec.kind} (${template.size} bars)`,
  );
  return { template, structure, variation, plan };
}

/**
 * Runs a request on a model. Rejects with `EngineError('bad-request')` for a malformed
 * request, `EngineError('model-card')` for a model that cannot make music, `MusicInputError`
 * for a prompt the tokenizer cannot encode, and a cancellation error when `checkCancelled`
 * throws one (no partial result).
 */
export async function generate(ctx: GenerateContext, req: GenerateRequest): Promise<Candidate[]> {
  validateRequest(req);
  if (!ctx.refrainVocab) {
    throw new EngineError(
      'model-card',
      `${ctx.cardPath}: this model's vocabulary (${ctx.card.vocab?.size ?? 'unknown'} tokens) is not Refrain's token vocabulary, so it cannot write music.`,
    );
  }
  const shape = ctx.model.shape;
  const prep = prepare(req);
  const { template, structure, variation, plan } = structurePlan(ctx, req, prep);
  const check = (): void => {
    ctx.checkCancelled?.();
  };
  const suffixLen = prep.suffix?.ids.length ?? 0;
  const part = req.poolPart ?? { from: 0, count: poolOf(req) };
  const pool = part.count;
  const width = Math.min(pool, BATCH_WIDTH);
  const decoder = new BatchDecoder(ctx.model, {
    plan,
    capacity: nextPow2(prep.prefix.ids.length + width * (prep.bars * 32 + suffixLen)),
    chunk: ctx.chunk,
    beforeStep: check,
    promptCache: ctx.promptCache,
    cache: ctx.kvCache,
    structure: req.controls.templatePositions === false ? { ...structure, source: () => NO_SOURCE } : structure,
  });
  const progress = (p: GenerateProgress): void => ctx.onProgress?.(p);
  progress({ candidate: 0, bars: 0, tokens: 0, phase: 'prefill' });
  const prefixLogits = Float32Array.from(
    lastRow(await decoder.append(0, prep.prefix.ids, prep.prefix.bar, prep.prefix.pos), shape.vocabSize),
  );
  if (decoder.reusedTokens > 0) {
    ctx.log?.debug(`prompt: ${decoder.reusedTokens} of ${prep.prefix.ids.length} tokens' rows reused`);
  }
  const raws = await decodePool(decoder, {
    req,
    prep,
    structure,
    template,
    variation,
    grammar: TokenGrammar.fromPrefix(prep.prefix.ids),
    coords: TokenCoordinates.after(prep.prefix.ids),
    prefixLogits,
    sampler: createSampler(generationConfigOf(req.sampling)),
    vocabSize: shape.vocabSize,
    limit: prep.bars * MAX_TOKENS_PER_BAR,
    pool,
    first: part.from,
    width,
    check,
    progress,
  });
  let chosen = raws;
  if (req.task.kind === 'infill') {
    // By the likelihood of the kept bars after the span; a span at the end has none: by its own.
    const key = (r: RawCandidate): number => r.suffixLogLikelihood ?? r.logLikelihood;
    chosen = [...raws].sort((a, b) => key(b) - key(a) || a.seed - b.seed).slice(0, Math.min(req.candidates, pool));
  }
  return chosen.map((r) => finish(ctx, req, prep, template, r));
}

/** The template with bars [from, to) like no other bar (their rows and columns cleared, diagonal kept). */
function withoutBars(t: Ssm, from: number, to: number): Ssm {
  const n = t.size;
  const data = Float32Array.from(t.data);
  for (let b = from; b < Math.min(to, n); b++) {
    for (let c = 0; c < n; c++) {
      if (c !== b) {
        data[b * n + c] = 0;
        data[c * n + b] = 0;
      }
    }
  }
  return { size: n, data };
}

/** The logits of the last position. */
function lastRow(logits: Float32Array, v: number): Float32Array {
  return logits.subarray(logits.length - v);
}

/** A raw candidate as music: its bars put into the prompt, with its SE, template distance and form compliance. */
function finish(ctx: GenerateContext, req: GenerateRequest, prep: Prepared, template: Ssm, raw: RawCandidate): Candidate {
  const decoded = decodeTokens({ ids: raw.ids });
  let score: Score;
  let from: number;
  const task = req.task;
  if (task.kind === 'infill') {
    score = replaceBars(req.prompt, decoded, task.fromBar, prep.bars, prep.mapping, prep.allowChords);
    from = task.fromBar;
  } else {
    from = req.prompt.bars.length;
    score = appendBars(req.prompt, decoded, from, prep.bars, prep.mapping);
  }
  const ssm = barSsm(score);
  const se = seAgainstCard(ssm, ctx.card);
  const templateDistance = template.size > 0 ? ssmDistance(ssm, template, { sizeMismatch: 'leading-block' }) : undefined;
  const newBars = { from, to: from + prep.bars };
  const compliance = prep.explicitTemplate && template.size > 0 ? followsForm(score, template, newBars, ssm) : undefined;
  return {
    score,
    newBars,
    tokens: raw.tokens,
    logLikelihood: raw.logLikelihood,
    metrics: { se, templateDistance, suffixLogLikelihood: raw.suffixLogLikelihood, followsForm: compliance },
    seed: raw.seed,
  };
}
