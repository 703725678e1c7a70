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

import type { Note, Score } from '../music/score';
import type { Logger } from '../platform/logger';
import { formBarCount, parseForm } from '../structure/form';
import { DEFAULT_MAX_INTERVAL, barSsm, similarityByInterval, similarityError, ssmDistance } from '../structure/ssm';
import type { Ssm } from '../structure/ssm';
import { decodeTokens } from '../tokens/decode';
import { encodeScoreDetailed } from '../tokens/encode';
import type { TokenSequence } from '../tokens/encode';
import { TokenGrammar } from '../tokens/grammar';
import { BAR_ID, EOS_ID, PITCH_MAX, PITCH_MIN, tokenKind } from '../tokens/vocab';
import type { ModelCard } from './card';
import { GenerationConstraints, TokenCoordinates, allowedChords, promptChordIndices } from './constraints';
import { BATCH_WIDTH, BatchDecoder } from './batch';
import type { LaneAppend } from './batch';
import type { StepModel } from './decoder';
import type { PromptCache } from './promptCache';
import { EngineError } from './errors';
import { offsetRelatedBars } from './plan';
import type { LayerPlan, RelatedBars, StepPlanOptions } from './plan';
import { Prng, createSampler, generationConfigOf, logProbAt } from './sampler';
import { appendBars, replaceBars } from './splice';
import type { TrackMapping } from './splice';
import { corpusBackground, hasPickup, templateRelatedBars, templateSsm } from './template';
import { CopyPrior } from './copyPrior';
import { DEFAULT_VARIATION, MAX_CANDIDATES, MAX_NEW_BARS, MAX_RELATED_OFFSET } from './limits';
import { NO_SOURCE, barStructure } from './structure';
import type { BarStructure } from './structure';
import { finalPitchClass, followsForm, modeScale } from '../structure/compliance';
import type { Candidate, GenerateProgress, GenerateRequest, LayerScale, TemplateSpec } from './types';

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
}

function badRequest(message: string): never {
  throw new EngineError('bad-request', message);
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

/** The track an 'abc-folk' request continues: the non-drum track with most notes (lowest index on ties). */
export function melodyTrack(score: Score): number {
  const counts = new Map<number, number>();
  for (const n of score.notes) {
    if (!score.tracks[n.track]?.isDrum) {
      counts.set(n.track, (counts.get(n.track) ?? 0) + 1);
    }
  }
  let best = 0;
  let bestN = -1;
  for (const [t, n] of [...counts].sort((a, b) => a[0] - b[0])) {
    if (n > bestN) {
      best = t;
      bestN = n;
    }
  }
  return bestN < 0 ? Math.max(0, score.tracks.findIndex((t) => !t.isDrum)) : best;
}

function encodable(n: Note): boolean {
  return Number.isInteger(n.pitch) && n.pitch >= PITCH_MIN && n.pitch <= PITCH_MAX && n.duration > 0;
}

/** The header tokens (BOS .. TRACK) the encoder writes for a score, even one without bars. */
function headerOf(score: Score): TokenSequence {
  let seq: TokenSequence;
  if (score.bars.length > 0) {
    seq = encodeScoreDetailed(score, { maxBars: 1 }).sequence;
  } else {
    const meter = score.meters[0]?.meter ?? { num: 4, den: 4 };
    const dur = Math.round((480 * 4 * meter.num) / meter.den);
    seq = encodeScoreDetailed({ ...score, notes: [], chords: [], bars: [{ start: 0, duration: dur, meter, written: 0 }], length: dur }, { maxBars: 1 })
      .sequence;
  }
  let h = 0;
  while (h < seq.ids.length && seq.ids[h] !== BAR_ID) {
    h++;
  }
  return { ids: seq.ids.slice(0, h), bar: seq.bar.slice(0, h), pos: seq.pos.slice(0, h) };
}

interface Prepared {
  prefix: TokenSequence;
  suffix: TokenSequence | undefined;
  bars: number;
  barHeaders: number[][] | undefined;
  encScore: Score;
  templateSpec: TemplateSpec;
  totalBars: number;
  mapping: TrackMapping;
  pitchLow: number;
  pitchHigh: number;
  allowChords: boolean;
  /** Whether the template was asked for (a template spec, or a fromForm task): only then does it steer structure. */
  explicitTemplate: boolean;
  /** Whether the model is told where the piece ends. */
  knownEnd: boolean;
  /** Whether the last note must land on the key's final. */
  cadence: boolean;
  /** Mode lock: pitch classes new notes may use, or undefined. */
  pitchClasses: boolean[] | undefined;
  /** Mode lock: chord-kind token indices new chord symbols may use, or undefined. */
  chords: boolean[] | undefined;
  /** The key's final pitch class. */
  finalPc: number;
}

function slice(seq: TokenSequence, a: number, b: number): TokenSequence {
  return { ids: seq.ids.slice(a, b), bar: seq.bar.slice(a, b), pos: seq.pos.slice(a, b) };
}

function prepare(req: GenerateRequest): Prepared {
  const prompt = req.prompt;
  const folk = req.target === 'abc-folk';
  const melody = melodyTrack(prompt);
  const encScore: Score = folk ? { ...prompt, notes: prompt.notes.filter((n) => n.track === melody) } : prompt;
  const tracksEncoded = [...new Set(encScore.notes.filter(encodable).map((n) => n.track))].sort((a, b) => a - b);
  const mapping: TrackMapping = folk
    ? { toPrompt: [melody], replaced: [melody] }
    : { toPrompt: tracksEncoded.length > 0 ? tracksEncoded : [melody], replaced: 'all' };
  const pitches = encScore.notes.filter(encodable).map((n) => n.pitch);
  const lo = pitches.length > 0 ? Math.min(...pitches) : 60;
  const hi = pitches.length > 0 ? Math.max(...pitches) : 72;
  const pitchLow = folk ? Math.max(PITCH_MIN, lo - 12) : PITCH_MIN;
  const pitchHigh = folk ? Math.min(PITCH_MAX, hi + 12) : PITCH_MAX;
  const allowChords = prompt.chords.length > 0;
  const p = prompt.bars.length;
  const task0 = req.task;
  const openEnded = task0.kind === 'continue' && task0.openEnded === true;
  const key = prompt.keys[prompt.keys.length - 1]?.key ?? { tonic: 'C', mode: 'major' as const, fifths: 0 };
  const modeLock = folk && (req.controls.modeLock ?? true);
  let pitchClasses: boolean[] | undefined;
  if (modeLock) {
    const scale = modeScale(key);
    pitchClasses = Array.from({ length: 12 }, (_, pc) => scale.has(pc));
    for (const pitch of pitches) {
      pitchClasses[pitch % 12] = true; // the prompt's own accidentals stay allowed
    }
  }
  const chords = pitchClasses && allowChords ? allowedChords(pitchClasses, finalPitchClass(key), promptChordIndices(prompt)) : undefined;
  const structureOpts = {
    explicitTemplate: req.controls.template !== undefined || task0.kind === 'fromForm',
    knownEnd: !openEnded,
    cadence: folk && task0.kind !== 'infill' && !openEnded && (req.controls.cadence ?? true),
    pitchClasses,
    chords,
    finalPc: finalPitchClass(key),
  };
  let full: TokenSequence | undefined;
  if (p > 0) {
    full = encodeScoreDetailed(encScore).sequence;
  }
  const withoutEos = (s: TokenSequence): TokenSequence => (s.ids.length > 0 && s.ids[s.ids.length - 1] === EOS_ID ? slice(s, 0, s.ids.length - 1) : s);
  const task = req.task;
  const base = { encScore, mapping, pitchLow, pitchHigh, allowChords, ...structureOpts };
  if (task.kind === 'continue') {
    return {
      ...base,
      prefix: full ? withoutEos(full) : headerOf(encScore),
      suffix: undefined,
      bars: task.bars,
      barHeaders: undefined,
      templateSpec: req.controls.template ?? { kind: 'piece' },
      totalBars: p + task.bars,
    };
  }
  if (task.kind === 'fromForm') {
    const total = formBarCount(parseForm(task.form)) + (hasPickup(prompt) ? 1 : 0);
    if (p >= total) {
      badRequest(`The form '${task.form}' has ${total} bars and the prompt already has ${p}: nothing to generate.`);
    }
    return {
      ...base,
      prefix: full ? withoutEos(full) : headerOf(encScore),
      suffix: undefined,
      bars: total - p,
      barHeaders: undefined,
      templateSpec: req.controls.template ?? { kind: 'form', form: task.form },
      totalBars: total,
    };
  }
  // Infill: prefix = header + bars before the span, suffix = bars after it (and EOS).
  const seq = full as TokenSequence;
  const firstOf = (b: number): number => {
    for (let i = 0; i < seq.ids.length; i++) {
      if (seq.bar[i] !== 0xffff && seq.bar[i] >= b && seq.ids[i] === BAR_ID) {
        return i;
      }
    }
    return seq.ids.length;
  };
  const a = firstOf(task.fromBar);
  const b = firstOf(task.toBar);
  const barHeaders: number[][] = [];
  for (let bar = task.fromBar; bar < task.toBar; bar++) {
    const h: number[] = [];
    for (let i = firstOf(bar) + 1; i < seq.ids.length; i++) {
      const k = tokenKind(seq.ids[i]);
      if (k !== 'meter' && k !== 'len') {
        break;
      }
      h.push(seq.ids[i]);
    }
    barHeaders.push(h);
  }
  return {
    ...base,
    prefix: slice(seq, 0, a),
    suffix: b < seq.ids.length ? slice(seq, b, seq.ids.length) : undefined,
    bars: task.toBar - task.fromBar,
    barHeaders,
    templateSpec: req.controls.template ?? { kind: 'piece' },
    totalBars: p,
  };
}

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
function report(lanes: readonly CandidateLane[], pool: number, bars: number, progress: (p: GenerateProgress) => void): void {
  let done = lanes[0].c * bars;
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

interface RawCandidate {
  ids: Int32Array;
  tokens: number;
  logLikelihood: number;
  suffixLogLikelihood?: number;
  seed: number;
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
  const plan: StepPlanOptions = { layers, related, sing: shape.sing, template: req.controls.templateHead === false ? undefined : template };
  ctx.log?.debug(
    `plan: layers ${layers.map((l) => `${l.plan}/${l.window ?? 'full'}`).join(', ')}; ` +
      `${req.controls.relatedFromTemplate ? 'template-related bars' : `offsets ${req.controls.relatedOffsets.join(',')}`}; template ${prep.templateSpec.kind} (${template.size} bars)`,
  );
  const check = (): void => {
    ctx.checkCancelled?.();
  };
  const suffixLen = prep.suffix?.ids.length ?? 0;
  const pool = req.task.kind === 'infill' ? Math.max(req.candidates, req.infillSamples ?? Math.min(32, Math.max(4, 2 * req.candidates))) : req.candidates;
  const width = Math.min(pool, BATCH_WIDTH);
  const decoder = new BatchDecoder(ctx.model, {
    plan,
    capacity: nextPow2(prep.prefix.ids.length + width * (prep.bars * 32 + suffixLen)),
    chunk: ctx.chunk,
    beforeStep: check,
    promptCache: ctx.promptCache,
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
  const grammar = TokenGrammar.fromPrefix(prep.prefix.ids);
  const coords0 = TokenCoordinates.after(prep.prefix.ids);
  const sampler = createSampler(generationConfigOf(req.sampling));
  const raws: RawCandidate[] = [];
  const v = shape.vocabSize;
  const limit = prep.bars * MAX_TOKENS_PER_BAR;
  // Candidates decode side by side, `width` at a time, each new token of each candidate in one
  // shared model step (see ./batch); candidate c's tokens depend only on its seed (seed + c).
  for (let first = 0; first < pool; first += width) {
    check();
    decoder.restart();
    const lanes: CandidateLane[] = [];
    for (let c = first; c < Math.min(pool, first + width); c++) {
      const lane = decoder.fork(0);
      const seed = (req.sampling.seed + c) | 0;
      lanes.push({
        c,
        seed,
        lane,
        rng: new Prng(seed),
        cons: new GenerationConstraints(grammar, {
          target: req.target,
          bars: prep.bars,
          pitchLow: prep.pitchLow,
          pitchHigh: prep.pitchHigh,
          allowChords: prep.allowChords,
          barHeaders: prep.barHeaders,
          pitchClasses: prep.pitchClasses,
          chords: prep.chords,
          finalPitchClass: prep.cadence ? prep.finalPc : undefined,
          finalMinSteps: beatSteps(prep.encScore),
        }),
        prior: new CopyPrior(decoder.layout(lane), structure, template, variation),
        biased: new Float32Array(v),
        coords: coords0.clone(),
        logits: prefixLogits,
        ll: 0,
        tokens: 0,
        suffixAt: -1,
        suffixLL: 0,
        done: false,
      });
    }
    // Rescoring appends each candidate's kept bars in chunks that share steps with the others.
    const rescoreChunk = Math.max(16, Math.floor(decoder.chunk / lanes.length));
    const suf = prep.suffix;
    let steps = 0;
    let reported = 0;
    while (lanes.some((l) => !l.done)) {
      check();
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
          const id = pick(l.cons, l.prior, l.logits, l.biased, sampler, l.rng);
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
        const rows = outs[i];
        if (l.suffixAt >= 0 && suf) {
          const count = appends[i].ids.length;
          for (let r = 0; r < count; r++) {
            const j = l.suffixAt + r + 1;
            if (j < suf.ids.length) {
              l.suffixLL += logProbAt(rows, r * v, v, suf.ids[j]);
            }
          }
          l.suffixAt += count;
          l.done = l.suffixAt >= suf.ids.length;
          continue;
        }
        const { id, bar } = picked[k++];
        l.logits = rows;
        l.prior.push(id, bar);
        l.tokens++;
        if (l.tokens > limit) {
          throw new EngineError('runtime', `Candidate ${l.c + 1} took more than ${limit} tokens for ${prep.bars} bars; stopped.`);
        }
        if (l.cons.done) {
          if (suf) {
            l.suffixAt = 0;
            l.suffixLL = logProbAt(l.logits, 0, v, suf.ids[0]);
          } else {
            l.done = true;
          }
        }
      }
      if (++steps % 32 === 0 || barsDone(lanes) !== reported) {
        reported = barsDone(lanes);
        report(lanes, pool, prep.bars, progress);
      }
    }
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
  let chosen = raws;
  if (req.task.kind === 'infill') {
    // By the likelihood of the kept bars after the span; a span at the end has none: by its own.
    const key = (r: RawCandidate): number => r.suffixLogLikelihood ?? r.logLikelihood;
    chosen = [...raws].sort((a, b) => key(b) - key(a) || a.seed - b.seed).slice(0, req.candidates);
  }
  return chosen.map((r) => finish(ctx, req, prep, template, r));
}

/** One beat of the piece's last meter in grid steps (12 per quarter): a dotted quarter in 6/8, 9/8, 12/8; else a quarter at most. */
function beatSteps(score: Score): number {
  const m = score.bars[score.bars.length - 1]?.meter ?? score.meters[score.meters.length - 1]?.meter ?? { num: 4, den: 4 };
  if (m.den === 8 && m.num % 3 === 0 && m.num > 3) {
    return 18;
  }
  return Math.min(12, Math.round(48 / m.den));
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
    return sampler.sample(logits, mask, rng);
  }
  if (t.force) {
    return t.id;
  }
  biased.set(logits.subarray(0, biased.length));
  biased[t.id] += t.bias;
  return sampler.sample(biased, mask, rng);
}

function lastRow(logits: Float32Array, v: number): Float32Array {
  return logits.subarray(logits.length - v);
}

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
