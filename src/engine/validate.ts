/** Request validation of the engine: the shape and limits of a {@link GenerateRequest} (`./limits`). */

import { EngineError } from './errors';
import { MAX_CANDIDATES, MAX_NEW_BARS, MAX_RELATED_OFFSET } from './limits';
import { generationConfigOf } from './sampler';
import type { GenerateRequest } from './types';

/** Throws `EngineError('bad-request')` with `message`. */
export function badRequest(message: string): never {
  throw new EngineError('bad-request', message);
}

/**
 * The candidates a request decodes: its `candidates`, or for infill the spans it samples before
 * keeping the best (`infillSamples`, default max(4, 2 x candidates), at most 32; never fewer than
 * `candidates`).
 */
export function poolOf(req: GenerateRequest): number {
  if (req.task.kind !== 'infill') {
    return req.candidates;
  }
  return Math.max(req.candidates, req.infillSamples ?? Math.min(32, Math.max(4, 2 * req.candidates)));
}

/** Throws `EngineError('bad-request')` for a malformed request. */
export function validateRequest(req: GenerateRequest): void {
  if (typeof req !== 'object' || req === null) {
    badRequest('The request is empty.');
  }
  const p = req.prompt;
  if (!p || !Array.isArray(p.notes) || !Array.isArray(p.bars) || !Array.isArray(p.tracks)) {
    badRequest('The prompt is not a Score.');
  }
  if (!Number.isInteger(req.candidates) || req.candidates < 1 || req.candidates > MAX_CANDIDATES) {
    badRequest(`candidates must be a whole number from 1 to ${MAX_CANDIDATES}, got ${req.candidates}.`);
  }
  if (req.target !== 'abc-folk' && req.target !== 'midi') {
    badRequest(`target must be 'abc-folk' or 'midi', got ${JSON.stringify(req.target)}.`);
  }
  const s = req.sampling;
  if (!s || !Number.isInteger(s.seed)) {
    badRequest(`sampling.seed must be a whole number, got ${JSON.stringify(s?.seed)}.`);
  }
  try {
    generationConfigOf(s);
  } catch (e) {
    badRequest(`sampling: ${(e as Error).message}`);
  }
  const c = req.controls;
  if (!c || !Array.isArray(c.relatedOffsets) || !Array.isArray(c.scales)) {
    badRequest('controls need relatedOffsets and scales arrays.');
  }
  for (const o of c.relatedOffsets) {
    if (!Number.isInteger(o) || o < 1 || o > MAX_RELATED_OFFSET) {
      badRequest(`Related offsets must be whole numbers of bars from 1 to ${MAX_RELATED_OFFSET}, got ${o}.`);
    }
  }
  for (const w of c.scales) {
    if (w !== 'full' && (!Number.isInteger(w) || w < 1)) {
      badRequest(`A layer scale is 'full' or a whole number of tokens >= 1, got ${JSON.stringify(w)}.`);
    }
  }
  if (c.summaryHorizon !== undefined && (!Number.isInteger(c.summaryHorizon) || c.summaryHorizon < 0)) {
    badRequest(`summaryHorizon must be a whole number of bars >= 0 (0 = all), got ${c.summaryHorizon}.`);
  }
  if (c.variation !== undefined && !(typeof c.variation === 'number' && c.variation >= 0 && c.variation <= 1)) {
    badRequest(`variation must be a number from 0 (repeat as written) to 1 (free), got ${JSON.stringify(c.variation)}.`);
  }
  if (c.relatedCount !== undefined && (!Number.isInteger(c.relatedCount) || c.relatedCount < 1)) {
    badRequest(`relatedCount must be a whole number >= 1, got ${c.relatedCount}.`);
  }
  const t = req.task;
  switch (t?.kind) {
    case 'continue':
      if (!Number.isInteger(t.bars) || t.bars < 1 || t.bars > MAX_NEW_BARS) {
        badRequest(`Bars to add must be a whole number from 1 to ${MAX_NEW_BARS}, got ${t.bars}.`);
      }
      break;
    case 'infill':
      if (!Number.isInteger(t.fromBar) || !Number.isInteger(t.toBar) || t.fromBar < 0 || t.toBar <= t.fromBar || t.toBar > p.bars.length) {
        badRequest(
          `Infill bars ${t.fromBar + 1}..${t.toBar} are not a range inside the piece's ${p.bars.length} bars (give 0-based fromBar < toBar <= bars).`,
        );
      }
      break;
    case 'fromForm':
      if (typeof t.form !== 'string') {
        badRequest('fromForm needs a form string.');
      }
      break;
    default:
      badRequest(`Unknown task ${JSON.stringify((t as { kind?: unknown })?.kind)}.`);
  }
  if (req.infillSamples !== undefined && (!Number.isInteger(req.infillSamples) || req.infillSamples < 1 || req.infillSamples > 64)) {
    badRequest(`infillSamples must be a whole number from 1 to 64, got ${req.infillSamples}.`);
  }
  const part = req.poolPart;
  if (part !== undefined) {
    const pool = poolOf(req);
    if (!Number.isInteger(part.from) || !Number.isInteger(part.count) || part.from < 0 || part.count < 1 || part.from + part.count > pool) {
      badRequest(`poolPart must lie within the request's ${pool} candidate(s), got ${JSON.stringify(part)}.`);
    }
  }
}
