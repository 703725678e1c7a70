/**
 * Preparing a generation request: the melody track, the prompt's tokens split around the bars
 * to write (prefix, and for infill the suffix and the bar headers), the pitch range, the mode
 * lock, the cadence and the template the task asks for. Used by `./generate`.
 *
 * Pure TypeScript.
 */

import type { Note, Score } from '../music/score';
import { finalPitchClass, modeScale } from '../structure/compliance';
import { formBarCount, parseForm } from '../structure/form';
import { encodeScoreDetailed } from '../tokens/encode';
import type { TokenSequence } from '../tokens/encode';
import { BAR_ID, EOS_ID, PITCH_MAX, PITCH_MIN, tokenKind } from '../tokens/vocab';
import { allowedChords, promptChordIndices } from './constraints';
import type { TrackMapping } from './splice';
import { hasPickup } from './template';
import type { GenerateRequest, TemplateSpec } from './types';
import { badRequest } from './validate';

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

/** Whether the tokenizer can write a note (pitch in range, positive length). */
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

/** A request made ready to decode: the token prefix and suffix, the bars to write and the constraints' settings. */
export interface Prepared {
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

/** Tokens `[a, b)` of a sequence. */
function slice(seq: TokenSequence, a: number, b: number): TokenSequence {
  return { ids: seq.ids.slice(a, b), bar: seq.bar.slice(a, b), pos: seq.pos.slice(a, b) };
}

/** Encodes the prompt for the task and derives the constraints' settings (see {@link Prepared}). */
export function prepare(req: GenerateRequest): Prepared {
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
