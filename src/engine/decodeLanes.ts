/**
 * Decoding a request's candidates side by side: each candidate is a lane of the batch decoder
 * (`./batch`) with its own seeded sampler, constraints and copy prior; one model step carries one
 * new token of each lane, and infill candidates then rescore the kept bars after the span in
 * chunks that share steps too. Used by `./generate`.
 *
 * Pure TypeScript.
 */

import type { Score } from '../music/score';
import type { Ssm } from '../structure/ssm';
import type { TokenGrammar } from '../tokens/grammar';
import type { BatchDecoder, LaneAppend } from './batch';
import { GenerationConstraints } from './constraints';
import type { TokenCoordinates } from './constraints';
import { CopyPrior } from './copyPrior';
import { cadenceBars } from './template';
import { EngineError } from './errors';
import type { Prepared } from './prepare';
import { Prng, logProbAt } from './sampler';
import type { createSampler } from './sampler';
import type { BarStructure } from './structure';
import type { GenerateProgress, GenerateRequest } from './types';

/** A candidate being decoded: its lane of the batch and its own sampler, constraints and copy prior. */
interface CandidateLane {
  c: number;
  seed: number;
  lane: number;
  rng: Prng;
  cons: GenerationConstraints;
  prior: CopyPrior;
  biased: Float32Array;
  coords: TokenCoordinates;
  /** Logits after the candidate's last token. */
  logits: Float32Array;
  ll: number;
  tokens: number;
  /** Rescoring: suffix tokens appended so far, or -1 while sampling. */
  suffixAt: number;
  suffixLL: number;
  done: boolean;
}

/** Bars written so far by the lanes. */
function barsDone(lanes: readonly CandidateLane[]): number {
  let n = 0;
  for (const l of lanes) {
    n += l.cons.barsDone;
  }
  return n;
}

/**
 * Progress of candidates decoded side by side, in the one-candidate-after-another shape:
 * `candidate * bars + bars done` is the bars done over all candidates of the request.
 */
function report(lanes: readonly CandidateLane[], first: number, pool: number, bars: number, progress: (p: GenerateProgress) => void): void {
  let done = (lanes[0].c - first) * bars;
  let tokens = 0;
  let rescoring = false;
  for (const l of lanes) {
    done += l.cons.barsDone;
    tokens += l.tokens;
    rescoring ||= l.suffixAt >= 0 && !l.done;
  }
  const candidate = Math.min(pool - 1, Math.floor(done / Math.max(1, bars)));
  progress({ candidate, bars: done - candidate * bars, tokens, phase: rescoring ? 'rescore' : 'decode' });
}

/** A decoded candidate before it is turned into music. */
export interface RawCandidate {
  ids: Int32Array;
  tokens: number;
  logLikelihood: number;
  suffixLogLikelihood?: number;
  seed: number;
}

/** What every lane of a request shares. */
export interface PoolSetup {
  req: GenerateRequest;
  prep: Prepared;
  structure: BarStructure;
  template: Ssm;
  variation: number;
  /** The grammar state and token coordinates after the prefix. */
  grammar: TokenGrammar;
  coords: TokenCoordinates;
  /** Logits after the prefix. */
  prefixLogits: Float32Array;
  sampler: ReturnType<typeof createSampler>;
  vocabSize: number;
  /** Most tokens one candidate may take. */
  limit: number;
  /** Candidates to decode (members `first .. first + pool - 1` of the request's pool), and how many side by side. */
  pool: number;
  first: number;
  width: number;
  check: () => void;
  progress: (p: GenerateProgress) => void;
}

/**
 * Decodes the pool's candidates, `width` at a time, each new token of each candidate in one
 * shared model step (see ./batch); candidate c's tokens depend only on its seed (seed + c).
 */
export async function decodePool(decoder: BatchDecoder, s: PoolSetup): Promise<RawCandidate[]> {
  const raws: RawCandidate[] = [];
  const suf = s.prep.suffix;
  const end = s.first + s.pool;
  for (let first = s.first; first < end; first += s.width) {
    s.check();
    decoder.restart();
    const lanes: CandidateLane[] = [];
    for (let c = first; c < Math.min(end, first + s.width); c++) {
      lanes.push(newLane(decoder, s, c));
    }
    await runLanes(decoder, s, lanes);
    for (const l of lanes) {
      raws.push({
        ids: Int32Array.from(decoder.layout(l.lane).ids()),
        tokens: l.tokens,
        logLikelihood: l.ll,
        suffixLogLikelihood: suf ? l.suffixLL : undefined,
        seed: l.seed,
      });
    }
  }
  return raws;
}

/** Candidate c's lane, forked from the prefix, with its sampler (seed + c), constraints and copy prior. */
function newLane(decoder: BatchDecoder, s: PoolSetup, c: number): CandidateLane {
  const { req, prep } = s;
  const lane = decoder.fork(0);
  const seed = (req.sampling.seed + c) | 0;
  return {
    c,
    seed,
    lane,
    rng: new Prng(seed),
    cons: new GenerationConstraints(s.grammar, {
      target: req.target,
      bars: prep.bars,
      pitchLow: prep.pitchLow,
      pitchHigh: prep.pitchHigh,
      allowChords: prep.allowChords,
      barHeaders: prep.barHeaders,
      pitchClasses: prep.pitchClasses,
      chords: prep.chords,
      finalPitchClass: prep.cadence ? prep.finalPc : undefined,
      cadenceBars: prep.cadence ? cadenceBars(s.template, prep.totalBars, prep.bars) : undefined,
      finalMinSteps: beatSteps(prep.encScore),
    }),
    prior: new CopyPrior(decoder.layout(lane), s.structure, s.template, s.variation),
    biased: new Float32Array(s.vocabSize),
    coords: s.coords.clone(),
    logits: s.prefixLogits,
    ll: 0,
    tokens: 0,
    suffixAt: -1,
    suffixLL: 0,
    done: false,
  };
}

/** Steps the lanes until every one has written its bars (and, for infill, rescored the suffix). */
async function runLanes(decoder: BatchDecoder, s: PoolSetup, lanes: CandidateLane[]): Promise<void> {
  const v = s.vocabSize;
  // Rescoring appends each candidate's kept bars in chunks that share steps with the others.
  const rescoreChunk = Math.max(16, Math.floor(decoder.chunk / lanes.length));
  const suf = s.prep.suffix;
  let steps = 0;
  let reported = 0;
  while (lanes.some((l) => !l.done)) {
    s.check();
    const appends: LaneAppend[] = [];
    const stepping: CandidateLane[] = [];
    const picked: { id: number; bar: number }[] = [];
    for (const l of lanes) {
      if (l.done) {
        continue;
      }
      if (l.suffixAt >= 0 && suf) {
        const e = Math.min(suf.ids.length, l.suffixAt + rescoreChunk);
        appends.push({ lane: l.lane, ids: suf.ids.slice(l.suffixAt, e), bars: suf.bar.slice(l.suffixAt, e), pos: suf.pos.slice(l.suffixAt, e) });
      } else {
        const id = pick(l.cons, l.prior, l.logits, l.biased, s.sampler, l.rng);
        l.ll += logProbAt(l.logits, 0, v, id);
        l.cons.push(id);
        const at = l.coords.next(id);
        appends.push({ lane: l.lane, ids: [id], bars: [at.bar], pos: [at.pos] });
        picked.push({ id, bar: at.bar });
      }
      stepping.push(l);
    }
    const outs = await decoder.step(appends);
    let k = 0;
    for (let i = 0; i < stepping.length; i++) {
      const l = stepping[i];
      if (l.suffixAt >= 0 && suf) {
        rescored(l, outs[i], appends[i].ids.length, suf.ids, v);
      } else {
        sampled(l, outs[i], picked[k++], s);
      }
    }
    if (++steps % 32 === 0 || barsDone(lanes) !== reported) {
      reported = barsDone(lanes);
      report(lanes, s.first, s.pool, s.prep.bars, s.progress);
    }
  }
}

/** Adds the log-likelihood of `count` suffix tokens a rescoring step appended. */
function rescored(l: CandidateLane, rows: Float32Array, count: number, suffix: ArrayLike<number>, v: number): void {
  for (let r = 0; r < count; r++) {
    const j = l.suffixAt + r + 1;
    if (j < suffix.length) {
      l.suffixLL += logProbAt(rows, r * v, v, suffix[j]);
    }
  }
  l.suffixAt += count;
  l.done = l.suffixAt >= suffix.length;
}

/** Takes the logits after a sampled token; a lane whose bars are written starts rescoring (infill) or is done. */
function sampled(l: CandidateLane, rows: Float32Array, { id, bar }: { id: number; bar: number }, s: PoolSetup): void {
  const suf = s.prep.suffix;
  l.logits = rows;
  l.prior.push(id, bar);
  l.tokens++;
  if (l.tokens > s.limit) {
    throw new EngineError('runtime', `Candidate ${l.c + 1} took more than ${s.limit} tokens for ${s.prep.bars} bars; stopped.`);
  }
  if (l.cons.done) {
    if (suf) {
      l.suffixAt = 0;
      l.suffixLL = logProbAt(l.logits, 0, s.vocabSize, suf.ids[0]);
    } else {
      l.done = true;
    }
  }
}

/** One beat of the piece's last meter in grid steps (12 per quarter): a dotted quarter in 6/8, 9/8, 12/8; else a quarter at most. */
function beatSteps(score: Score): number {
  const m = score.bars[score.bars.length - 1]?.meter ?? score.meters[score.meters.length - 1]?.meter ?? { num: 4, den: 4 };
  if (m.den === 8 && m.num % 3 === 0 && m.num > 3) {
    return 18;
  }
  return Math.min(12, Math.round(48 / m.den));
}

/** The next token: forced by the grammar, else sampled from the logits raised by the copy prior. */
function pick(
  cons: GenerationConstraints,
  prior: CopyPrior,
  logits: Float32Array,
  biased: Float32Array,
  sampler: ReturnType<typeof createSampler>,
  rng: Prng,
): number {
  const forced = cons.forced();
  if (forced !== undefined) {
    return forced;
  }
  const mask = cons.mask();
  const t = prior.target();
  if (t === undefined || mask[t.id] !== 1) {
    return sampler.sampleIds(logits, cons.maskIds(), rng);
  }
  if (t.force) {
    return t.id;
  }
  biased.set(logits.length === biased.length ? logits : logits.subarray(0, biased.length));
  biased[t.id] += t.bias;
  return sampler.sampleIds(biased, cons.maskIds(), rng);
}
