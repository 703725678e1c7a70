import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ModelInfo } from '../engine/types';
import { readAbc } from '../music/abc/reader';
import { writeAbc } from '../music/abc/writer';
import { barTicks, scoreHead } from '../music/score';
import type { Score } from '../music/score';
import { throwIfAborted } from '../platform/cancellation';
import { IntervalSimilarityAccumulator, barSsm, similarityError } from '../structure/ssm';
import { defaultCorpusRoot } from './corpusBuild';
import { evalEngineClient } from './compose';
import { guardTestSplit } from './evalSplit';
import type { CliContext } from './usage';
import { UsageError } from './usage';

/** Checks of one generated bar. */
export interface BarCheck {
  /** The bar's length equals its meter's. */
  fullLength: boolean;
  /** Every note starting in the bar ends by the bar's end, or continues as a tie into the next bar. */
  contained: boolean;
  /** No two notes of the bar sound at once (folk ABC is one voice). */
  monophonic: boolean;
}

/** Whether each bar in [from, to) is metrically complete and well formed. */
export function checkBars(score: Score, from: number, to: number): BarCheck[] {
  const out: BarCheck[] = [];
  for (let b = from; b < to; b++) {
    const bar = score.bars[b];
    const end = bar.start + bar.duration;
    const notes = score.notes.filter((n) => n.onset >= bar.start && n.onset < end).sort((x, y) => x.onset - y.onset);
    const pieceEnd = score.bars[score.bars.length - 1].start + score.bars[score.bars.length - 1].duration;
    let monophonic = true;
    for (let i = 1; i < notes.length; i++) {
      if (notes[i].onset < notes[i - 1].onset + notes[i - 1].duration) {
        monophonic = false;
      }
    }
    out.push({
      fullLength: bar.duration === barTicks(bar.meter),
      contained: notes.every((n) => n.onset + n.duration <= pieceEnd),
      monophonic,
    });
  }
  return out;
}

/**
 * `refrain eval --model ID`: continues held-out tunes and measures what came out. For each of
 * the first `--pieces` tunes of a shard split that have at least `--prompt-bars` bars, the model
 * continues the first `--prompt-bars` bars by `--bars` bars (seed + i). Reports the share of
 * metrically complete bars, that the written ABC reads back with the same bars, and the
 * similarity error SE (Museformer eq. 6, T = 40) of the generated set against the model's
 * training-corpus L_t, next to the SE of the same held-out tunes themselves.
 */
export async function runEval(
  ctx: CliContext,
  options: { model?: string; models?: string; shards: string; corpus?: string; split: string; pieces: number; promptBars: number; bars: number; seed: number; json: boolean; out?: string },
): Promise<number> {
  const corpusRoot = resolve(options.corpus ?? defaultCorpusRoot());
  const entries = JSON.parse(readFileSync(join(options.shards, `${options.split}.pieces.json`), 'utf8')) as { source: string; bars: number }[];
  const client = evalEngineClient(ctx, options.models);
  try {
    const models = await client.listModels();
    const model: ModelInfo | undefined = options.model ? models.find((m) => m.id === options.model) : models[0];
    if (!model) {
      throw new UsageError(`No model "${options.model}". Installed: ${models.map((m) => m.id).join(', ') || 'none'}.`);
    }
    const card = JSON.parse(readFileSync(join(model.path, '..', 'card.json'), 'utf8')) as { corpusLt?: { values: (number | null)[] } };
    const split = guardTestSplit(ctx, model.id, card, options.shards);
    const reference = card.corpusLt ? Float64Array.from(card.corpusLt.values, (v) => (v === null ? Number.NaN : v)) : undefined;
    const generatedLt = new IntervalSimilarityAccumulator(40, { skipEmpty: true });
    const heldOutLt = new IntervalSimilarityAccumulator(40, { skipEmpty: true });
    const fileCache = new Map<string, ReturnType<typeof readAbc>>();
    let barsChecked = 0;
    let barsComplete = 0;
    let monophonicBars = 0;
    let abcValid = 0;
    let samples = 0;
    let seconds = 0;
    let tokens = 0;
    for (const entry of entries) {
      if (samples >= options.pieces) {
        break;
      }
      throwIfAborted(ctx.signal);
      if (entry.bars < options.promptBars + 1) {
        continue;
      }
      const [rel, idx] = entry.source.split('#');
      if (!rel.endsWith('.abc')) {
        continue;
      }
      let file = fileCache.get(rel);
      if (!file) {
        file = readAbc(readFileSync(join(corpusRoot, rel), 'utf8'));
        fileCache.set(rel, file);
      }
      const tune = file.tunes.find((t) => t.index === Number(idx));
      if (!tune || tune.score.tracks.length !== 1) {
        continue;
      }
      const prompt = scoreHead(tune.score, options.promptBars);
      const started = Date.now();
      const [cand] = await client.generate(
        {
          model: model.id,
          prompt,
          task: { kind: 'continue', bars: options.bars },
          controls: { relatedOffsets: model.trainedOffsets, scales: [], template: { kind: 'piece' } },
          sampling: { temperature: 1, topP: 0.95, seed: options.seed + samples },
          candidates: 1,
          target: 'abc-folk',
        },
        { signal: ctx.signal },
      );
      seconds += (Date.now() - started) / 1000;
      tokens += cand.tokens;
      samples++;
      const checks = checkBars(cand.score, cand.newBars.from, cand.newBars.to);
      barsChecked += checks.length;
      barsComplete += checks.filter((c) => c.fullLength && c.contained).length;
      monophonicBars += checks.filter((c) => c.monophonic).length;
      const reread = readAbc(writeAbc(cand.score)).tunes[0];
      if (reread && reread.score.bars.length === cand.score.bars.length) {
        abcValid++;
      }
      generatedLt.add(barSsm(cand.score, 'jaccard'));
      heldOutLt.add(barSsm(scoreHead(tune.score, options.promptBars + options.bars), 'jaccard'));
      ctx.progress(`${samples}/${options.pieces} samples`);
    }
    ctx.progress('');
    const gen = generatedLt.result().lt;
    const held = heldOutLt.result().lt;
    const result = {
      model: model.id,
      split: options.split,
      splitHash: split.shardsHash,
      samples,
      promptBars: options.promptBars,
      bars: options.bars,
      seed: options.seed,
      sampling: 'temperature 1, top-p 0.95, all trained offsets, template = the prompt',
      barsGenerated: barsChecked,
      barsMetricallyComplete: barsComplete,
      completePercent: barsChecked > 0 ? Math.round((10000 * barsComplete) / barsChecked) / 100 : 0,
      monophonicPercent: barsChecked > 0 ? Math.round((10000 * monophonicBars) / barsChecked) / 100 : 0,
      abcReadsBackPercent: samples > 0 ? Math.round((10000 * abcValid) / samples) / 100 : 0,
      seGenerated: reference ? round4(similarityError(gen, reference, 40)) : null,
      seHeldOutTunes: reference ? round4(similarityError(held, reference, 40)) : null,
      secondsPerSample: samples > 0 ? Math.round((100 * seconds) / samples) / 100 : 0,
      tokensPerSecond: seconds > 0 ? Math.round(tokens / seconds) : 0,
    };
    if (options.out) {
      writeFileSync(options.out, `${JSON.stringify(result, null, 1)}\n`);
    }
    ctx.out(options.json ? JSON.stringify(result) : Object.entries(result).map(([k, v]) => `${k.padEnd(22)} ${String(v)}`).join('\n'));
    return 0;
  } finally {
    await client.dispose();
  }
}

function round4(x: number): number | null {
  return Number.isFinite(x) ? Math.round(x * 1e4) / 1e4 : null;
}
