/**
 * Defaults of the structure controls that the engine, the CLI and the views share.
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
