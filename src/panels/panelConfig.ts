import * as vscode from 'vscode';
import { DEFAULT_RELATED_OFFSETS, MAX_CANDIDATES, MAX_GENERATE_BARS, MAX_RELATED_OFFSET, MAX_RELATED_OFFSETS } from '../protocol/messages';
import type { NotificationMap } from '../protocol/messages';
import { isBarFeature } from '../structure/ssm';
import type { BarFeature } from '../structure/ssm';

/** The settings Refrain's views read (`refrain.panel.updateDelay`, the `refrain.generation.*` defaults and the analysis feature). */
export interface PanelConfig {
  /** Bar similarity of the SSM (`refrain.analysis.feature`). */
  readonly feature: BarFeature;
  /** Delay before the panel recomputes after an edit, in ms. */
  readonly updateDelayMs: number;
  /** What the webview's controls start from. */
  readonly defaults: NotificationMap['config'];
}

/** Settings sections whose change the views react to. */
export const PANEL_CONFIG_SECTIONS = ['refrain.panel', 'refrain.generation', 'refrain.analysis.feature'];

function clampInt(value: unknown, min: number, max: number, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.max(min, Math.min(max, Math.round(value))) : fallback;
}

function clampNumber(value: unknown, min: number, max: number, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.max(min, Math.min(max, value)) : fallback;
}

/** A fixed seed from the settings (a whole number 0..2^32-1), else undefined (a fresh seed per Generate). */
function seedOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff ? value : undefined;
}

/** Reads the views' settings, replacing values out of range by the nearest allowed one. */
export function readPanelConfig(): PanelConfig {
  const c = vscode.workspace.getConfiguration('refrain');
  const feature = c.get<string>('analysis.feature', 'jaccard');
  // The controls start from the same generation defaults the commands use (`refrain.generation.*`).
  const offsets = c.get<unknown>('generation.relatedOffsets', DEFAULT_RELATED_OFFSETS);
  const cleanOffsets = Array.isArray(offsets)
    ? [...new Set(offsets.filter((o): o is number => Number.isInteger(o) && o >= 1 && o <= MAX_RELATED_OFFSET))].sort((a, b) => a - b).slice(0, MAX_RELATED_OFFSETS)
    : [...DEFAULT_RELATED_OFFSETS];
  return {
    feature: isBarFeature(feature) ? feature : 'jaccard',
    updateDelayMs: clampInt(c.get('panel.updateDelay'), 50, 5000, 300),
    defaults: {
      relatedOffsets: cleanOffsets.length > 0 ? cleanOffsets : [...DEFAULT_RELATED_OFFSETS],
      bars: clampInt(c.get('generation.bars'), 1, MAX_GENERATE_BARS, 8),
      candidates: clampInt(c.get('generation.candidates'), 1, MAX_CANDIDATES, 3),
      temperature: clampNumber(c.get('generation.temperature'), 0.05, 5, 1),
      topP: clampNumber(c.get('generation.topP'), 0.01, 1, 0.95),
      ...(seedOf(c.get('generation.seed')) !== undefined ? { seed: seedOf(c.get('generation.seed')) } : {}),
    },
  };
}
