import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CliContext } from './usage';
import { UsageError } from './usage';
import { corpusStats } from './corpusStats';

/** Licences of the corpus folders a model may be trained on (../shared/corpus/README.md). */
const LICENCES: Record<string, string> = {
  'folk-abc/nottingham': 'Nottingham Music Database (jukedeck/nottingham-dataset), GPL-3.0',
  'folk-abc/oneills': "O'Neill's Music of Ireland (1903) via the music21 corpus: tunes public domain; transcriptions distributed with permission (train only, do not redistribute)",
  'folk-abc/ryans': "Ryan's Mammoth Collection (1883) via the music21 corpus: as above",
  'folk-abc/airds': "Aird's Airs (1782-1803) via the music21 corpus: as above",
  'folk-abc/miscfolk': 'misc folk via the music21 corpus: as above',
  pop909: 'POP909 (music-x-lab), MIT; arrangements of commercial songs: train and evaluate only, never ship them or excerpts',
  'chorales/js-fakes': 'JS Fake Chorales, CC BY 4.0 (attribution: Omar Peracha, JS Fake Chorales)',
};

interface Card {
  id: string;
  model: { d: number; heads: number; layers: number; ffn: number; parameters: number; pe: string };
  plan: { relatedOffsets: number[]; layers: { plan: string; windows: (number | null)[]; sing: boolean }[] };
  onnx: { bytes: number; sha256: string; weights?: string };
  training?: {
    config?: string;
    shardSources?: string[];
    shardSplits?: Record<string, { pieces: number; tokens: number }>;
    seed?: number;
    tokensSeen?: number;
    trainSeconds?: number;
    budgetSeconds?: number;
    /** What the budget counted: 'wall time' (default) or 'process CPU time' (`--clock cpu`). */
    budgetClock?: string;
    hardware?: string;
    evals?: { step: number; ppl: number; tag: string }[];
    bestValid?: { ppl: number; step: number } | null;
    test?: { ppl: number; nll: number; tokens: number; step: number; template?: string };
    testNoTemplate?: { ppl: number; nll: number; tokens: number; step: number };
    split?: { train: number; valid: number; test: number; testHash: string };
    condition?: { templateDrop: number; endDrop: number; transposeShifts: number[] };
  };
  corpusLt?: { feature: string; skipEmpty: boolean; values: (number | null)[] };
  data?: unknown;
  evaluation?: Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * `refrain model-card DIR --corpus-dir ../shared/corpus/folk-abc [--eval EVAL.json]`: adds the
 * training corpus's L_t curve (for the SE metric), the data and licence section and any
 * evaluation results to `DIR/card.json`, and writes `DIR/MODEL_CARD.md` from it.
 */
export async function runModelCard(ctx: CliContext, options: { dir: string; corpusDir?: string; evalFile?: string; about?: string }): Promise<number> {
  const cardPath = join(options.dir, 'card.json');
  const card = JSON.parse(readFileSync(cardPath, 'utf8')) as Card;
  if (options.corpusDir) {
    const stats = await corpusStats(resolve(options.corpusDir), { feature: 'jaccard', maxInterval: 40, skipEmpty: true, signal: ctx.signal });
    card.corpusLt = {
      feature: 'jaccard',
      skipEmpty: true,
      values: Array.from(stats.lt, (v, t) => (t === 0 ? 1 : Number.isFinite(v) ? Math.round(v * 1e5) / 1e5 : null)),
    };
  }
  if (options.evalFile) {
    card.evaluation = JSON.parse(readFileSync(options.evalFile, 'utf8')) as Record<string, unknown>;
  }
  if (!card.training) {
    throw new UsageError(`${cardPath} has no "training" section: export it with models/train/train.py --export.`);
  }
  const folders = card.training.shardSources ?? [];
  card.data = {
    corpus: folders,
    licences: Object.fromEntries(Object.entries(LICENCES).filter(([k]) => folders.some((f) => f === k || k.startsWith(`${f}/`)))),
    split: 'by piece, keyed by a transposition-invariant fingerprint of the opening melody (so a tune in two collections stays in one split), seeded hash, 90/5/5',
    splits: card.training.shardSplits,
    seed: card.training.seed,
  };
  const tmp = `${cardPath}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(card, null, 1)}\n`);
  renameSync(tmp, cardPath);
  writeFileSync(join(options.dir, 'MODEL_CARD.md'), renderModelCard(card, options.about));
  ctx.out(`${options.dir}: card.json updated, MODEL_CARD.md written`);
  return 0;
}

/** The model card as Markdown, from card.json. */
export function renderModelCard(card: Card, about?: string): string {
  const t = card.training ?? {};
  const m = card.model;
  const lines: string[] = [];
  lines.push(`# ${card.id}`, '');
  if (about) {
    lines.push(about, '');
  }
  lines.push('A small decoder-only transformer over Refrain\'s REMI-like tokens (one summary token per bar), exported as a single decode-step ONNX graph whose attention operators are functions of the `refrain.attn` domain (see `models/train/README.md`). Trained by this project\'s own pipeline.', '');
  lines.push('## Architecture', '');
  lines.push(`| | |`, `|---|---|`);
  const storage = card.onnx.weights === 'int8' ? 'int8 layer weights, fp32 embedding and norms' : 'fp32';
  lines.push(`| parameters | ${m.parameters.toLocaleString('en-US')} (${(card.onnx.bytes / 2 ** 20).toFixed(1)} MB ONNX, ${storage}) |`);
  lines.push(`| layers x width | ${m.layers} x ${m.d}, ${m.heads} heads, FFN ${m.ffn} |`);
  lines.push(`| positional encoding | ${m.pe} |`);
  lines.push(`| attention per layer | ${card.plan.layers.map((l, i) => `L${i}: ${l.plan}${l.windows.some((w) => w !== null) ? ` windows ${l.windows.map((w) => w ?? 'full').join('/')}` : ''}${l.sing ? ' + SING head' : ''}`).join('; ')} |`);
  lines.push(`| trained related offsets | ${card.plan.relatedOffsets.join(', ')} (random subsets in training) |`);
  lines.push(`| sha256 | \`${card.onnx.sha256}\` |`, '');
  lines.push('## Data', '');
  const folders = t.shardSources ?? [];
  lines.push(`Corpus folders (read from \`../shared/corpus\`, never copied into the repository): ${folders.map((f) => `\`${f}\``).join(', ') || 'unknown'}.`, '');
  if (t.shardSplits) {
    lines.push('| split | pieces | tokens |', '|---|---|---|');
    for (const [name, s] of Object.entries(t.shardSplits)) {
      lines.push(`| ${name} | ${s.pieces} | ${s.tokens.toLocaleString('en-US')} |`);
    }
    lines.push('');
  }
  lines.push('Split by piece with a seeded hash of a transposition-invariant fingerprint of its opening melody, so the same tune transcribed in two collections falls in one split.', '');
  lines.push('Licences of the data:', '');
  for (const [k, v] of Object.entries(LICENCES)) {
    if (folders.some((f) => f === k || k.startsWith(`${f}/`))) {
      lines.push(`- \`${k}\`: ${v}`);
    }
  }
  lines.push('');
  lines.push('## Training', '');
  lines.push(`- config \`models/train/configs/${t.config ?? card.id}.json\`, seed ${t.seed ?? '?'}`);
  if (t.trainSeconds !== undefined) {
    lines.push(`- training time ${(t.trainSeconds / 60).toFixed(1)} min${t.budgetSeconds ? ` (budget ${(t.budgetSeconds / 60).toFixed(0)} min of ${t.budgetClock ?? 'wall time'}, evaluation not counted)` : ''}, ${(t.tokensSeen ?? 0).toLocaleString('en-US')} tokens seen`);
  }
  if (t.hardware) {
    lines.push(`- hardware: ${t.hardware}`);
  }
  lines.push(`- reproduce: \`/usr/bin/python3 models/train/train.py models/train/configs/${t.config ?? card.id}.json --fresh --minutes ${t.budgetSeconds ? Math.round(t.budgetSeconds / 60) : 60} --threads ${/(\d+) torch threads/.exec(t.hardware ?? '')?.[1] ?? 1}${t.budgetClock === 'process CPU time' ? ' --clock cpu' : ''} --eval-test --export\` after \`node bin/refrain.js corpus build --folders ${folders.join(',') || 'folk-abc'} --out .cache/corpus/folk\``, '');
  lines.push('## Held-out metrics', '');
  if (t.test) {
    const own = t.test.template === 'own' ? ', with each piece\'s own structure as the template' : '';
    lines.push(`- test-split perplexity **${t.test.ppl.toFixed(3)}** (${t.test.tokens.toLocaleString('en-US')} target tokens, default plan: all trained offsets, full windows${own})`);
  }
  if (t.testNoTemplate) {
    lines.push(`- test-split perplexity without a template **${t.testNoTemplate.ppl.toFixed(3)}**`);
  }
  if (t.split) {
    lines.push(`- split pinned: ${t.split.train} / ${t.split.valid} / ${t.split.test} pieces, test-split hash \`${t.split.testHash}\` (\`refrain eval\` refuses shards whose test split differs)`);
  }
  if (t.condition) {
    lines.push(`- conditioning in training: each window given its piece's own structure (template dropped in ${Math.round(100 * t.condition.templateDrop)}% of windows, the end unknown in ${Math.round(100 * t.condition.endDrop)}%), transposition by ${t.condition.transposeShifts.join(', ') || 'none'} semitones`);
  }
  if (t.bestValid) {
    lines.push(`- best validation perplexity ${t.bestValid.ppl.toFixed(3)} at step ${t.bestValid.step}`);
  }
  const ev = card.evaluation;
  if (ev) {
    lines.push('', 'Generation (from `refrain eval`):', '', '```json', JSON.stringify(ev, null, 1), '```');
  }
  lines.push('');
  return lines.join('\n');
}
