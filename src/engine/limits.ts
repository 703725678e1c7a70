/**
 * The limits and defaults of a generation request, decided here once: the engine validates
 * against them, the webview protocol checks what a view sends against them, the settings
 * reader clamps to them, the views bound their controls by them, and the CLI checks its flags
 * by them.
 *
 * Pure TypeScript.
 */

/**
 * Default variation (see `StructureControls.variation`): a bar the template marks as the same
 * as an earlier bar comes back close to it, with the small departures a player makes. Chosen by
 * `refrain eval --forms` (docs/EVALUATION.md): at this value `A8 A8 B8 B8` repeats as the
 * tradition does (repeat fidelity ~0.9 in real tunes).
 */
export const DEFAULT_VARIATION = 0.25;

/** The model used when none is chosen (the catalog lists it first when it is installed). */
export const DEFAULT_MODEL = 'folk-tsrope';

/** Museformer's related-bar offsets (bars back from the bar being written): the default of every front. */
export const DEFAULT_RELATED_OFFSETS: readonly number[] = [1, 2, 4, 8, 12, 16, 24, 32];

/** Most candidates one request may return (`refrain.generation.candidates` has the same maximum). */
export const MAX_CANDIDATES = 16;

/** Most bars one request may add (`refrain.generation.bars` has the same maximum). */
export const MAX_NEW_BARS = 512;

/** Largest related-bar offset (the setting's items have the same maximum). */
export const MAX_RELATED_OFFSET = 256;

/** Most related-bar offsets in one request. */
export const MAX_RELATED_OFFSETS = 32;

/** Most layers whose attention window can be set. */
export const MAX_LAYERS = 48;

/** Largest per-layer attention window in tokens. */
export const MAX_LAYER_WINDOW = 1 << 20;

/** Sampling temperature bounds: above 0 (exclusive) up to this. */
export const MAX_TEMPERATURE = 5;

/** Largest sampler seed (seeds are whole numbers 0..2^32-1). */
export const MAX_SEED = 0xffffffff;

/** Whether a value is a related-bar offset: a whole number of bars 1..{@link MAX_RELATED_OFFSET}. */
export function isRelatedOffset(o: unknown): o is number {
  return typeof o === 'number' && Number.isInteger(o) && o >= 1 && o <= MAX_RELATED_OFFSET;
}

/**
 * A list of related offsets made valid: whole numbers 1..{@link MAX_RELATED_OFFSET}, unique,
 * ascending, at most {@link MAX_RELATED_OFFSETS}. Not a list, or nothing valid left: the defaults.
 */
export function cleanRelatedOffsets(value: unknown): number[] {
  if (!Array.isArray(value)) {
    return [...DEFAULT_RELATED_OFFSETS];
  }
  const valid = value.filter(isRelatedOffset);
  const out = [...new Set(valid)].sort((a, b) => a - b).slice(0, MAX_RELATED_OFFSETS);
  return out.length > 0 || value.length === 0 ? out : [...DEFAULT_RELATED_OFFSETS];
}

/** `value` as a number within [min, max] (rounded when `integer`), or `fallback` when it is not a finite number. */
export function clampNumber(value: unknown, min: number, max: number, fallback: number, integer = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    return fallback;
  }
  return Math.max(min, Math.min(max, integer ? Math.round(value) : value));
}
