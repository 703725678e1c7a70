import * as vscode from 'vscode';
import { DEFAULT_RELATED_OFFSETS, MAX_CANDIDATES, MAX_NEW_BARS, MAX_SEED, MAX_TEMPERATURE, clampNumber, cleanRelatedOffsets } from '../engine/limits';
import type { ExecutionProviderChoice, LayerScale } from '../engine/types';
import { isBarFeature } from '../structure/ssm';
import type { BarFeature } from '../structure/ssm';

/** The generation settings (`refrain.generation.*`): what every front starts a request from. */
export interface GenerationSettings {
  readonly bars: number;
  readonly candidates: number;
  readonly relatedOffsets: readonly number[];
  readonly relatedFromTemplate: boolean;
  readonly scales: readonly LayerScale[];
  readonly temperature: number;
  readonly topP: number;
  readonly topK: number;
  /** Fixed seed, or undefined for a fresh one each run (logged, so a run can be reproduced). */
  readonly seed: number | undefined;
}

/**
 * Refrain's settings, read once per use through {@link readConfig}; values out of range are
 * replaced by the nearest allowed one (the bounds are `engine/limits.ts`'s).
 */
export interface RefrainConfig {
  /** Model id to generate with; empty = the default model (`DEFAULT_MODEL`, else the first installed). */
  readonly model: string;
  /** Extra folder of models (machine scope; honoured only in a trusted workspace). */
  readonly modelPath: string | undefined;
  readonly executionProvider: ExecutionProviderChoice;
  /** Intra-op threads; undefined = onnxruntime's choice (one per engine thread when candidates are split). */
  readonly threads: number | undefined;
  /** Split a request's candidates over two engine threads (CPU). */
  readonly parallelCandidates: boolean;
  readonly generation: GenerationSettings;
  readonly inline: {
    readonly enabled: boolean;
    readonly bars: number;
    readonly debounceMs: number;
    readonly timeBudgetMs: number;
  };
  /** Bar similarity of the SSMs the analysis and the views show (`refrain.analysis.feature`). */
  readonly feature: BarFeature;
  /** Delay before the panel analyses the tune again after an edit, in ms (`refrain.panel.updateDelay`). */
  readonly updateDelayMs: number;
}

/** Settings whose change needs the engine (worker and sessions) rebuilt. */
export const ENGINE_SECTIONS = ['refrain.model', 'refrain.modelPath', 'refrain.executionProvider', 'refrain.threads', 'refrain.parallelCandidates'];

/** Settings sections whose change the views react to (their controls' defaults and the SSM feature). */
export const VIEW_SECTIONS = ['refrain.panel', 'refrain.generation', 'refrain.analysis.feature'];

const EPS: readonly ExecutionProviderChoice[] = ['auto', 'cpu', 'webgpu', 'cuda'];

/** Cleans per-layer scales: `'full'` or a window of 16..65536 tokens. */
export function cleanScales(v: unknown): LayerScale[] {
  if (!Array.isArray(v)) {
    return [];
  }
  const out: LayerScale[] = [];
  for (const s of v) {
    if (s === 'full' || s === 0) {
      out.push('full');
    } else if (typeof s === 'number' && Number.isInteger(s) && s >= 16 && s <= 65536) {
      out.push(s);
    }
  }
  return out;
}

/** A fixed seed (a whole number 0..2^32-1), else undefined (a fresh seed per run). */
export function seedOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_SEED ? value : undefined;
}

/** Reads the generation settings from any `get` (the settings object, or plain values in tests). */
export function generationSettingsOf(get: (key: string) => unknown): GenerationSettings {
  return {
    bars: clampNumber(get('generation.bars'), 1, MAX_NEW_BARS, 8, true),
    candidates: clampNumber(get('generation.candidates'), 1, MAX_CANDIDATES, 3, true),
    relatedOffsets: cleanRelatedOffsets(get('generation.relatedOffsets') ?? DEFAULT_RELATED_OFFSETS),
    relatedFromTemplate: get('generation.relatedFromTemplate') === true,
    scales: cleanScales(get('generation.scales')),
    temperature: clampNumber(get('generation.temperature'), 0.05, MAX_TEMPERATURE, 1),
    topP: clampNumber(get('generation.topP'), 0.01, 1, 0.95),
    topK: clampNumber(get('generation.topK'), 0, 1000, 0, true),
    seed: seedOf(get('generation.seed')),
  };
}

/** Reads Refrain's settings. */
export function readConfig(): RefrainConfig {
  const c = vscode.workspace.getConfiguration('refrain');
  const get = (key: string): unknown => c.get(key);
  const ep = c.get<string>('executionProvider', 'cpu');
  const threads = c.get<number>('threads', 0);
  const modelPath = c.get<string>('modelPath', '').trim();
  const feature = c.get<string>('analysis.feature', 'jaccard');
  return {
    model: c.get<string>('model', '').trim(),
    // A model path outside the extension runs code-like content (an ONNX graph): only in trusted workspaces.
    modelPath: modelPath && vscode.workspace.isTrusted ? modelPath : undefined,
    executionProvider: (EPS as readonly string[]).includes(ep) ? (ep as ExecutionProviderChoice) : 'cpu',
    threads: typeof threads === 'number' && threads > 0 ? Math.min(64, Math.round(threads)) : undefined,
    parallelCandidates: c.get<boolean>('parallelCandidates', true) !== false,
    generation: generationSettingsOf(get),
    inline: {
      enabled: c.get<boolean>('inline.enabled', true) === true,
      bars: clampNumber(get('inline.bars'), 1, 8, 1, true),
      debounceMs: clampNumber(get('inline.debounceMs'), 50, 5000, 150, true),
      timeBudgetMs: clampNumber(get('inline.timeBudgetMs'), 200, 30000, 3000, true),
    },
    feature: isBarFeature(feature) ? feature : 'jaccard',
    updateDelayMs: clampNumber(get('panel.updateDelay'), 50, 5000, 300, true),
  };
}
