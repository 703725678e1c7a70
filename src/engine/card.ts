/**
 * Model cards (`models/<id>/card.json`, written by `models/train/export.py`) and the model
 * catalog: which models exist, what they take, and the checks that turn a missing or broken
 * file into an error naming it.
 *
 * Uses Node's file system (the catalog is read by the engine client and the CLI); no vscode.
 */

import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { VOCAB, VOCAB_VERSION } from '../tokens/vocab';
import { EngineError } from './errors';
import { DEFAULT_MODEL } from './limits';
import type { LayerScale, ModelInfo } from './types';

/** The decode-step format this engine runs. */
export const DECODE_FORMAT = 'refrain-decode-1';


/** The parts of card.json the engine reads. */
export interface ModelCard {
  id: string;
  format: string;
  title?: string;
  onnx: { file: string; sha256?: string; bytes?: number };
  io: { inputs: { name: string; dtype: string; shape: (string | number)[] }[]; outputs: { name: string; dtype: string; shape: (string | number)[] }[] };
  vocab: {
    size: number;
    tokens?: string[];
    specials: { pad: number; bos: number; eos: number; bar: number; summary: number };
    grid?: number | null;
    version?: number;
    options?: { includeVelocity?: boolean; includeChords?: boolean };
  } | null;
  model: { d: number; heads: number; headDim: number; ffn?: number; layers: number; parameters?: number; pe: string; singScale?: number; structRelated?: boolean; endEmbed?: boolean; templateSame?: number };
  plan: {
    headerBar: number;
    noPos: number;
    relatedOffsets: number[];
    layers: { plan: 'fc' | 'dense'; windows: (number | null)[]; sing: boolean }[];
    summaryId: number;
  };
  /** The training corpus's similarity-by-interval curve, index t = 0..T (for the SE metric). */
  corpusLt?: { feature?: string; skipEmpty?: boolean; values: (number | null)[] };
  /**
   * Measured form compliance (`refrain eval --forms`, default settings): the share in [0, 1]
   * shown in the model pickers as "follows the form: N%", with the form and command that measured it.
   */
  evaluation?: { followsForm?: number; followsFormForm?: string; followsFormPieces?: number; followsFormCommand?: string; [key: string]: unknown };
  /** Shown in pickers as experimental (a variant kept for research, not recommended for writing). */
  experimental?: boolean;
}

/** A model found on disk: its folder, card and ONNX file. */
export interface ModelEntry {
  id: string;
  dir: string;
  card: ModelCard;
  onnxPath: string;
  bytes: number;
  /** Whether the vocabulary is Refrain's own (`src/tokens/vocab.ts`); only then can it make music. */
  refrainVocab: boolean;
}

function fail(code: 'model-card' | 'model-file', file: string, why: string): never {
  throw new EngineError(code, `${file}: ${why}`);
}

/** Checks the fields of a parsed card; throws `EngineError('model-card')` naming the file. */
export function validateCard(raw: unknown, file: string): ModelCard {
  if (typeof raw !== 'object' || raw === null) {
    fail('model-card', file, 'not a JSON object.');
  }
  const c = raw as Partial<ModelCard>;
  if (c.format !== DECODE_FORMAT) {
    fail('model-card', file, `format is ${JSON.stringify(c.format)}; this engine runs '${DECODE_FORMAT}' models.`);
  }
  if (typeof c.onnx?.file !== 'string' || c.onnx.file.includes('/') || c.onnx.file.includes('\\')) {
    fail('model-card', file, 'onnx.file must name the model file in the card\'s folder.');
  }
  const m = c.model;
  if (!m || ![m.d, m.heads, m.headDim, m.layers].every((v) => Number.isInteger(v) && (v as number) > 0)) {
    fail('model-card', file, 'model.d, heads, headDim and layers must be positive whole numbers.');
  }
  const p = c.plan;
  if (!p || !Array.isArray(p.layers) || p.layers.length !== m.layers || !Array.isArray(p.relatedOffsets)) {
    fail('model-card', file, 'plan.layers must list one entry per layer, and plan.relatedOffsets the trained offsets.');
  }
  for (const l of p.layers) {
    if ((l.plan !== 'fc' && l.plan !== 'dense') || !Array.isArray(l.windows) || l.windows.length === 0) {
      fail('model-card', file, `plan layer ${JSON.stringify(l)} is not {plan: 'fc'|'dense', windows: [...]}.`);
    }
  }
  if (!c.io || !Array.isArray(c.io.inputs) || !Array.isArray(c.io.outputs)) {
    fail('model-card', file, 'io.inputs and io.outputs are missing.');
  }
  if (c.vocab !== null && (typeof c.vocab !== 'object' || !Number.isInteger(c.vocab.size) || typeof c.vocab.specials !== 'object')) {
    fail('model-card', file, 'vocab must give size and specials.');
  }
  return c as ModelCard;
}

/** Whether a card's vocabulary is this build's token list. */
export function isRefrainVocab(card: ModelCard): boolean {
  const v = card.vocab;
  if (!v || v.size !== VOCAB.length || !Array.isArray(v.tokens) || v.tokens.length !== VOCAB.length) {
    return false;
  }
  for (let i = 0; i < VOCAB.length; i++) {
    if (v.tokens[i] !== VOCAB[i]) {
      return false;
    }
  }
  return (v.grid ?? 12) === 12 && v.specials.summary === 4 && card.plan.summaryId === 4;
}

/**
 * Optional file next to card.json with the training corpus's L_t, when the card has no
 * `corpusLt`: the output of `refrain corpus-stats CORPUS --json` (`{feature, skipEmpty, lt: {"1": v, ...}}`).
 */
export const CORPUS_LT_FILE = 'corpus-lt.json';

async function readCorpusLtSidecar(path: string): Promise<ModelCard['corpusLt']> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  let raw: { feature?: unknown; skipEmpty?: unknown; lt?: unknown };
  try {
    raw = JSON.parse(text) as typeof raw;
  } catch (e) {
    fail('model-card', path, `is not valid JSON (${(e as Error).message}).`);
  }
  const lt = raw.lt;
  if (typeof lt !== 'object' || lt === null) {
    fail('model-card', path, 'has no "lt" object (write it with `refrain corpus-stats CORPUS --json`).');
  }
  const entries = lt as Record<string, unknown>;
  const max = Math.max(0, ...Object.keys(entries).map(Number).filter((t) => Number.isInteger(t)));
  const values: (number | null)[] = [1];
  for (let t = 1; t <= max; t++) {
    const v = entries[String(t)];
    values.push(typeof v === 'number' && Number.isFinite(v) ? v : null);
  }
  return {
    feature: typeof raw.feature === 'string' ? raw.feature : undefined,
    skipEmpty: typeof raw.skipEmpty === 'boolean' ? raw.skipEmpty : undefined,
    values,
  };
}

/** Reads one model folder; throws `EngineError` naming the missing or broken file. */
export async function readModelEntry(dir: string): Promise<ModelEntry> {
  const cardPath = join(dir, 'card.json');
  let text: string;
  try {
    text = await readFile(cardPath, 'utf8');
  } catch (e) {
    fail('model-file', cardPath, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    fail('model-card', cardPath, `is not valid JSON (${(e as Error).message}).`);
  }
  const card = validateCard(raw, cardPath);
  if (card.corpusLt === undefined) {
    card.corpusLt = await readCorpusLtSidecar(join(dir, CORPUS_LT_FILE));
  }
  const onnxPath = join(dir, card.onnx.file);
  let bytes: number;
  try {
    const st = await stat(onnxPath);
    if (!st.isFile()) {
      fail('model-file', onnxPath, 'is not a file.');
    }
    bytes = st.size;
  } catch (e) {
    if (e instanceof EngineError) {
      throw e;
    }
    fail('model-file', onnxPath, `is missing (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
  }
  if (card.onnx.bytes !== undefined && card.onnx.bytes !== bytes) {
    fail('model-file', onnxPath, `is ${bytes} bytes but its card says ${card.onnx.bytes}: the file is damaged or does not belong to this card.`);
  }
  const id = typeof card.id === 'string' && card.id.length > 0 ? card.id : (dir.split(/[\\/]/).pop() ?? dir);
  return { id, dir: resolve(dir), card, onnxPath: resolve(onnxPath), bytes, refrainVocab: isRefrainVocab(card) };
}

/** What a directory scan found: usable models and folders that look like models but are broken. */
export interface CatalogScan {
  models: ModelEntry[];
  broken: { dir: string; error: EngineError }[];
}

/**
 * Every model folder (a child folder with a `card.json`, or the directory itself when it has
 * one) of the given directories, in
 * order: {@link DEFAULT_MODEL} first, then by id. When two cards give the same id,
 * the later folder goes by its folder name (or is skipped if that is taken too). Missing
 * directories are skipped.
 */
export async function scanModels(dirs: readonly string[]): Promise<CatalogScan> {
  const models: ModelEntry[] = [];
  const broken: { dir: string; error: EngineError }[] = [];
  const seen = new Set<string>();
  for (const root of dirs) {
    let folders: { dir: string; name: string }[];
    try {
      await stat(join(root, 'card.json'));
      // The directory is itself a model folder (e.g. a user's model path).
      folders = [{ dir: root, name: basename(resolve(root)) }];
    } catch {
      try {
        folders = (await readdir(root, { withFileTypes: true }))
          .filter((d) => d.isDirectory())
          .map((d) => ({ dir: join(root, d.name), name: d.name }))
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      } catch {
        continue;
      }
    }
    for (const { dir, name } of folders) {
      try {
        await stat(join(dir, 'card.json'));
      } catch {
        if (await hasFile(join(dir, 'model.onnx'))) {
          // A model folder that lost its card: say so when this model is asked for.
          broken.push({ dir, error: missingCard(dir) });
        }
        continue;
      }
      try {
        const entry = await readModelEntry(dir);
        if (seen.has(entry.id) && !seen.has(name)) {
          // Two cards with one id: the later folder is known by its folder name.
          entry.id = name;
        }
        if (!seen.has(entry.id)) {
          seen.add(entry.id);
          models.push(entry);
        }
      } catch (e) {
        broken.push({ dir, error: e instanceof EngineError ? e : new EngineError('model-card', String(e)) });
      }
    }
  }
  models.sort((a, b) => Number(b.id === DEFAULT_MODEL) - Number(a.id === DEFAULT_MODEL) || a.id.localeCompare(b.id));
  return { models, broken };
}

async function hasFile(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function missingCard(dir: string): EngineError {
  return new EngineError(
    'model-card',
    `The model folder ${dir} has model.onnx but no card.json, which describes the model (inputs, vocabulary, settings). Restore card.json from the model's release, or reinstall the extension.`,
  );
}

/**
 * The model with this id (or the default, the first of the scan, when id is undefined);
 * throws `EngineError('model-not-found')` listing the available ids, or the error of a broken
 * folder with that name.
 */
export function pickModel(scan: CatalogScan, id: string | undefined): ModelEntry {
  if (id === undefined) {
    if (scan.models.length === 0) {
      const why = scan.broken.length > 0 ? ` (${scan.broken.map((b) => b.error.message).join('; ')})` : '';
      throw new EngineError('model-not-found', `No usable model found${why}.`);
    }
    return scan.models[0];
  }
  const found = scan.models.find((m) => m.id === id) ?? scan.models.find((m) => m.dir.split(/[\\/]/).pop() === id);
  if (found) {
    return found;
  }
  const broken = scan.broken.find((b) => b.dir.split(/[\\/]/).pop() === id);
  if (broken) {
    throw broken.error;
  }
  const list = scan.models.map((m) => m.id);
  throw new EngineError(
    'model-not-found',
    `Unknown model '${id}'. ${list.length > 0 ? `Available: ${list.join(', ')}.` : 'No models are installed.'}`,
  );
}

function scaleOf(w: number | null): LayerScale {
  return w === null ? 'full' : w;
}

/** The public description of a model. */
export function modelInfoOf(entry: ModelEntry): ModelInfo {
  const c = entry.card;
  return {
    id: entry.id,
    title: c.title ?? entry.id,
    pe: c.model.pe,
    trainedOffsets: [...c.plan.relatedOffsets],
    trainedScales: c.plan.layers.map((l) => l.windows.map(scaleOf)),
    layers: c.model.layers,
    sing: c.plan.layers.some((l) => l.sing),
    plans: c.plan.layers.map((l) => l.plan),
    vocabVersion: entry.refrainVocab ? (c.vocab?.version ?? VOCAB_VERSION) : undefined,
    hasCorpusCurve: Array.isArray(c.corpusLt?.values) && c.corpusLt.values.length > 1,
    corpusLt: Array.isArray(c.corpusLt?.values) ? [...c.corpusLt.values] : undefined,
    parameters: c.model.parameters,
    followsForm: typeof c.evaluation?.followsForm === 'number' ? c.evaluation.followsForm : undefined,
    experimental: c.experimental === true,
    path: entry.onnxPath,
    bytes: entry.bytes,
  };
}
