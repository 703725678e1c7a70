/**
 * The view's UI state, kept with `getState/setState` so a reloaded webview (hidden, then shown
 * again) comes back as the user left it: the controls, the selected bars, painted template
 * cells. Free of the DOM: restoring validates whatever was stored and falls back to defaults.
 */

import {
  DEFAULT_RELATED_OFFSETS,
  DEFAULT_VARIATION,
  MAX_CANDIDATES,
  MAX_FORM_LENGTH,
  MAX_GENERATE_BARS,
  MAX_LAYERS,
  MAX_LAYER_WINDOW,
  MAX_RELATED_OFFSET,
  MAX_SSM_SIDE,
  TEMPLATE_KINDS,
  cleanRelatedOffsets,
  isRelatedOffset,
} from '../src/protocol/messages';
import type { GenerateParams, NotificationMap, TemplateChoice } from '../src/protocol/messages';

/** Bumped when the stored shape changes (older states are dropped). */
export const STATE_VERSION = 1;
/** Most painted cells kept. */
export const MAX_PAINTED_CELLS = 4096;
/** The window sizes a layer can be set to, in tokens (0 = the whole context). */
export const LAYER_WINDOW_CHOICES: readonly number[] = [0, 4096, 1024, 512, 256, 128, 64];
/** Layers shown when no model says how many it has. */
export const DEFAULT_LAYERS = 4;

/** Everything the controls hold. */
export interface UiState {
  readonly version: number;
  /** Offsets offered as toggles (defaults plus any the user added), ascending. */
  readonly offsetChoices: readonly number[];
  /** Offsets switched on, ascending. */
  readonly offsets: readonly number[];
  /** Window per layer, 0 = full. */
  readonly layerWindows: readonly number[];
  readonly modelId: string;
  /** Positional-encoding filter of the model picker, `''` for any. */
  readonly positionalEncoding: string;
  readonly templateKind: TemplateChoice['kind'];
  readonly form: string;
  readonly templateFile?: { readonly uri: string; readonly name: string };
  /** Painted template cells `[i, j]` with i > j (bars, 0-based), set to similar. */
  readonly painted: readonly (readonly [number, number])[];
  readonly temperature: number;
  readonly topP: number;
  /** The seed of the latest (or next, when fixed) generation: shown so a run can be reproduced. */
  readonly seed: number;
  /** True when the user fixed the seed (typed one, or set `refrain.generation.seed`); else each Generate draws a fresh one. */
  readonly seedFixed: boolean;
  readonly bars: number;
  readonly candidates: number;
  /** 0 = sections the template marks the same come back as written, 1 = free. */
  readonly variation: number;
  /** Whether the research section (related bars, mask scales, model, L_t) is open. */
  readonly researchOpen: boolean;
  /** Bars selected on the heatmap or roll. */
  readonly selection?: { readonly i: number; readonly j: number };
  /** The piece key the selection and painting belong to. */
  readonly pieceKey?: string;
  /** Whether the host's defaults were applied once (later replays must not undo user changes). */
  readonly configApplied: boolean;
}

/** The state of a fresh view. */
export function defaultState(): UiState {
  return {
    version: STATE_VERSION,
    offsetChoices: [...DEFAULT_RELATED_OFFSETS],
    offsets: [...DEFAULT_RELATED_OFFSETS],
    layerWindows: new Array<number>(DEFAULT_LAYERS).fill(0),
    modelId: '',
    positionalEncoding: '',
    templateKind: 'piece',
    form: 'A8 A8 B8 A8',
    painted: [],
    temperature: 1,
    topP: 0.95,
    seed: 1,
    seedFixed: false,
    bars: 8,
    candidates: 3,
    variation: DEFAULT_VARIATION,
    researchOpen: false,
    configApplied: false,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function intIn(value: unknown, min: number, max: number, fallback: number): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? value : fallback;
}

function numIn(value: unknown, min: number, max: number, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > min && value <= max ? value : fallback;
}

function intList(value: unknown, min: number, max: number, maxItems: number): number[] | undefined {
  if (!Array.isArray(value) || value.length > maxItems) {
    return undefined;
  }
  const out = value.filter((v): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max);
  return [...new Set(out)].sort((a, b) => a - b);
}

/** Restores a stored state; any field that is missing or malformed takes its default. */
export function restoreState(raw: unknown): UiState {
  const d = defaultState();
  if (!isRecord(raw) || raw.version !== STATE_VERSION) {
    return d;
  }
  const offsetChoices = intList(raw.offsetChoices, 1, MAX_RELATED_OFFSET, 64) ?? d.offsetChoices;
  const offsets = (Array.isArray(raw.offsets) ? cleanRelatedOffsets(raw.offsets) : d.offsets).filter((o) => offsetChoices.includes(o));
  const windows = Array.isArray(raw.layerWindows) && raw.layerWindows.length >= 1 && raw.layerWindows.length <= MAX_LAYERS
    ? raw.layerWindows.map((w) => intIn(w, 0, MAX_LAYER_WINDOW, 0))
    : d.layerWindows;
  const kind = typeof raw.templateKind === 'string' && (TEMPLATE_KINDS as readonly string[]).includes(raw.templateKind) ? (raw.templateKind as TemplateChoice['kind']) : d.templateKind;
  const file = isRecord(raw.templateFile) && typeof raw.templateFile.uri === 'string' && typeof raw.templateFile.name === 'string'
    ? { uri: raw.templateFile.uri, name: raw.templateFile.name }
    : undefined;
  const painted: [number, number][] = [];
  if (Array.isArray(raw.painted)) {
    for (const cell of raw.painted.slice(0, MAX_PAINTED_CELLS)) {
      if (Array.isArray(cell) && cell.length === 2) {
        const i = intIn(cell[0], 0, MAX_SSM_SIDE - 1, -1);
        const j = intIn(cell[1], 0, MAX_SSM_SIDE - 1, -1);
        if (i > j && j >= 0) {
          painted.push([i, j]);
        }
      }
    }
  }
  const selection = isRecord(raw.selection) ? { i: intIn(raw.selection.i, 0, 1_000_000, -1), j: intIn(raw.selection.j, 0, 1_000_000, -1) } : undefined;
  return {
    version: STATE_VERSION,
    offsetChoices,
    offsets,
    layerWindows: windows,
    modelId: typeof raw.modelId === 'string' ? raw.modelId.slice(0, 200) : d.modelId,
    positionalEncoding: typeof raw.positionalEncoding === 'string' ? raw.positionalEncoding.slice(0, 100) : d.positionalEncoding,
    templateKind: kind,
    form: typeof raw.form === 'string' ? raw.form.slice(0, MAX_FORM_LENGTH) : d.form,
    ...(file ? { templateFile: file } : {}),
    painted,
    temperature: numIn(raw.temperature, 0, 5, d.temperature),
    topP: numIn(raw.topP, 0, 1, d.topP),
    seed: intIn(raw.seed, 0, 0xffffffff, d.seed),
    seedFixed: raw.seedFixed === true,
    bars: intIn(raw.bars, 1, MAX_GENERATE_BARS, d.bars),
    candidates: intIn(raw.candidates, 1, MAX_CANDIDATES, d.candidates),
    variation: typeof raw.variation === 'number' && Number.isFinite(raw.variation) && raw.variation >= 0 && raw.variation <= 1 ? raw.variation : d.variation,
    researchOpen: raw.researchOpen === true,
    ...(selection && selection.i >= 0 && selection.j >= 0 ? { selection } : {}),
    ...(typeof raw.pieceKey === 'string' ? { pieceKey: raw.pieceKey.slice(0, 4000) } : {}),
    configApplied: raw.configApplied === true,
  };
}

/** Applies the host's defaults once (the first `config` a fresh view receives). */
export function applyConfig(state: UiState, config: NotificationMap['config']): UiState {
  if (state.configApplied) {
    return state;
  }
  const choices = [...new Set([...state.offsetChoices, ...config.relatedOffsets])].sort((a, b) => a - b);
  return {
    ...state,
    offsetChoices: choices,
    offsets: [...config.relatedOffsets].sort((a, b) => a - b),
    bars: config.bars,
    candidates: config.candidates,
    temperature: config.temperature,
    topP: config.topP,
    ...(config.seed !== undefined ? { seed: config.seed, seedFixed: true } : {}),
    configApplied: true,
  };
}

/**
 * The state a Generate runs with: a fresh seed from `draw` unless the user fixed one (the same
 * rule as the commands, which draw one per run unless `refrain.generation.seed` is set). The
 * seed used stays in the state, shown in the seed field, so the run can be reproduced.
 */
export function withRunSeed(state: UiState, draw: () => number): UiState {
  if (state.seedFixed) {
    return state;
  }
  const seed = Math.floor(draw()) >>> 0;
  return { ...state, seed };
}

/** Turns an offset on or off. */
export function toggleOffset(state: UiState, offset: number, on: boolean): UiState {
  const set = new Set(state.offsets);
  if (on) {
    set.add(offset);
  } else {
    set.delete(offset);
  }
  return { ...state, offsets: cleanRelatedOffsets([...set].filter((o) => state.offsetChoices.includes(o))) };
}

/** Adds offsets to the choices and switches them on (e.g. the piece's own L_t peaks). */
export function addOffsets(state: UiState, offsets: readonly number[]): UiState {
  const valid = offsets.filter(isRelatedOffset);
  const choices = [...new Set([...state.offsetChoices, ...valid])].sort((a, b) => a - b);
  const on = cleanRelatedOffsets([...state.offsets, ...valid]);
  return { ...state, offsetChoices: choices, offsets: on };
}

/** Offsets suggested by a piece's L_t peaks: the strongest `count`, ascending, within 1..max. */
export function suggestOffsets(peaks: readonly { interval: number; value: number }[], count = 4, max = MAX_RELATED_OFFSET): number[] {
  return [...new Set(peaks.slice(0, count).map((p) => p.interval))].filter((t) => t >= 1 && t <= max).sort((a, b) => a - b);
}

/** Sets the number of layers, keeping the windows already chosen. */
export function withLayers(state: UiState, layers: number): UiState {
  const n = Math.max(1, Math.min(MAX_LAYERS, Math.floor(layers)));
  const windows = state.layerWindows.slice(0, n);
  while (windows.length < n) {
    windows.push(0);
  }
  return { ...state, layerWindows: windows };
}

/** Toggles painted cell (i, j) (order-free); the diagonal cannot be painted. */
export function togglePainted(state: UiState, i: number, j: number, on?: boolean): UiState {
  if (i === j) {
    return state;
  }
  const a = Math.max(i, j);
  const b = Math.min(i, j);
  const has = state.painted.some(([x, y]) => x === a && y === b);
  const want = on ?? !has;
  if (want === has) {
    return state;
  }
  const painted = want ? [...state.painted, [a, b] as const].slice(-MAX_PAINTED_CELLS) : state.painted.filter(([x, y]) => !(x === a && y === b));
  return { ...state, painted };
}

/** Whether cell (i, j) is painted. */
export function isPainted(state: UiState, i: number, j: number): boolean {
  const a = Math.max(i, j);
  const b = Math.min(i, j);
  return state.painted.some(([x, y]) => x === a && y === b);
}

/**
 * The painted template matrix of `size` bars: the piece's SSM (`base`, `baseBars` square) in its
 * top-left block, 1 on the diagonal and on painted cells, 0 elsewhere. Cells beyond `size` are
 * ignored.
 */
export function paintedMatrix(size: number, painted: readonly (readonly [number, number])[], base?: { readonly bars: number; readonly data: ArrayLike<number> }): Float32Array {
  const out = new Float32Array(size * size);
  if (base && base.data.length === base.bars * base.bars) {
    const n = Math.min(size, base.bars);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const v = base.data[i * base.bars + j];
        out[i * size + j] = Number.isFinite(v) ? Math.max(0, Math.min(1, v)) : 0;
      }
    }
  }
  for (const [i, j] of painted) {
    if (i < size && j < size) {
      out[i * size + j] = 1;
      out[j * size + i] = 1;
    }
  }
  for (let i = 0; i < size; i++) {
    out[i * size + i] = 1;
  }
  return out;
}

/** Parses a whole number typed into a field; undefined when it is not one in range. */
export function parseIntField(text: string, min: number, max: number): number | undefined {
  const t = text.trim();
  if (!/^-?\d+$/.test(t)) {
    return undefined;
  }
  const v = Number(t);
  return Number.isSafeInteger(v) && v >= min && v <= max ? v : undefined;
}

/** Parses a number typed into a field (exclusive minimum); undefined when out of range. */
export function parseNumberField(text: string, minExclusive: number, max: number): number | undefined {
  const t = text.trim();
  if (t === '' || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) {
    return undefined;
  }
  const v = Number(t);
  return Number.isFinite(v) && v > minExclusive && v <= max ? v : undefined;
}

/**
 * The template the request carries: the painted matrix is built here (`pieceBars` of the piece
 * plus the bars to generate, at most {@link MAX_SSM_SIDE}).
 */
export function templateChoice(state: UiState, piece: { readonly bars: number; readonly ssm?: { readonly bars: number; readonly size: number; readonly data: Float32Array } } | undefined): TemplateChoice {
  switch (state.templateKind) {
    case 'none':
      return { kind: 'none' };
    case 'piece':
      return { kind: 'piece' };
    case 'file':
      return state.templateFile ? { kind: 'file', uri: state.templateFile.uri } : { kind: 'none' };
    case 'form':
      return { kind: 'form', form: state.form };
    case 'painted': {
      const size = Math.max(1, Math.min(MAX_SSM_SIDE, (piece?.bars ?? 0) + state.bars));
      const base = piece?.ssm && piece.ssm.size === piece.ssm.bars ? { bars: piece.ssm.bars, data: piece.ssm.data } : undefined;
      return { kind: 'painted', size, data: paintedMatrix(size, state.painted, base) };
    }
    default: {
      const never: never = state.templateKind;
      return never;
    }
  }
}

/** The generate request of the current controls. */
export function generateParams(state: UiState, template: TemplateChoice): GenerateParams {
  return {
    bars: state.bars,
    candidates: state.candidates,
    temperature: state.temperature,
    topP: state.topP,
    seed: state.seed,
    relatedOffsets: [...state.offsets],
    layerWindows: [...state.layerWindows],
    variation: state.variation,
    modelId: state.modelId,
    template,
  };
}
