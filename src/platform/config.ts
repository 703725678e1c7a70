import * as vscode from 'vscode';
import type { ExecutionProviderChoice, LayerScale } from '../engine/types';

/** Museformer's default related-bar offsets. */
export const DEFAULT_OFFSETS: readonly number[] = [1, 2, 4, 8, 12, 16, 24, 32];

/** Refrain's settings, read once per use through {@link readConfig}; values out of range are clamped. */
export interface RefrainConfig {
  /** Model id to generate with; empty = the first bundled model. */
  readonly model: string;
  /** Extra folder of models (machine scope; honoured only in a trusted workspace). */
  readonly modelPath: string | undefined;
  readonly executionProvider: ExecutionProviderChoice;
  /** Intra-op threads; undefined = onnxruntime's choice. */
  readonly threads: number | undefined;
  readonly generation: {
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
  };
  readonly inline: {
    readonly enabled: boolean;
    readonly bars: number;
    readonly debounceMs: number;
    readonly timeBudgetMs: number;
  };
}

/** Settings whose change needs the engine (worker and sessions) rebuilt. */
export const ENGINE_SECTIONS = ['refrain.model', 'refrain.modelPath', 'refrain.executionProvider', 'refrain.threads'];

const EPS: readonly ExecutionProviderChoice[] = ['auto', 'cpu', 'webgpu', 'cuda'];

function int(v: unknown, min: number, max: number, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.max(min, Math.min(max, Math.round(v))) : fallback;
}

function num(v: unknown, min: number, max: number, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.max(min, Math.min(max, v)) : fallback;
}

/** Cleans a list of related offsets: whole numbers 1..256, unique, ascending, at most 16. */
export function cleanOffsets(v: unknown): number[] {
  if (!Array.isArray(v)) {
    return [...DEFAULT_OFFSETS];
  }
  return [...new Set(v.filter((o): o is number => Number.isInteger(o) && o >= 1 && o <= 256))].sort((a, b) => a - b).slice(0, 16);
}

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

/** Reads Refrain's settings. */
export function readConfig(): RefrainConfig {
  const c = vscode.workspace.getConfiguration('refrain');
  const ep = c.get<string>('executionProvider', 'cpu');
  const threads = c.get<number>('threads', 0);
  const seed = c.get<number | null>('generation.seed', null);
  const modelPath = c.get<string>('modelPath', '').trim();
  return {
    model: c.get<string>('model', '').trim(),
    // A model path outside the extension runs code-like content (an ONNX graph): only in trusted workspaces.
    modelPath: modelPath && vscode.workspace.isTrusted ? modelPath : undefined,
    executionProvider: (EPS as readonly string[]).includes(ep) ? (ep as ExecutionProviderChoice) : 'cpu',
    threads: typeof threads === 'number' && threads > 0 ? Math.min(64, Math.round(threads)) : undefined,
    generation: {
      bars: int(c.get('generation.bars'), 1, 64, 8),
      candidates: int(c.get('generation.candidates'), 1, 8, 3),
      relatedOffsets: cleanOffsets(c.get('generation.relatedOffsets', DEFAULT_OFFSETS)),
      relatedFromTemplate: c.get<boolean>('generation.relatedFromTemplate', false) === true,
      scales: cleanScales(c.get('generation.scales', [])),
      temperature: num(c.get('generation.temperature'), 0.05, 5, 1),
      topP: num(c.get('generation.topP'), 0.01, 1, 0.95),
      topK: int(c.get('generation.topK'), 0, 1000, 0),
      seed: typeof seed === 'number' && Number.isInteger(seed) ? seed : undefined,
    },
    inline: {
      enabled: c.get<boolean>('inline.enabled', true) === true,
      bars: int(c.get('inline.bars'), 1, 8, 1),
      debounceMs: int(c.get('inline.debounceMs'), 50, 5000, 350),
      timeBudgetMs: int(c.get('inline.timeBudgetMs'), 200, 30000, 3000),
    },
  };
}
