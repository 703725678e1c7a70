// What the browser checks (test/e2e/webviews.e2e.mjs) and their runner (test/e2e/run.mjs) share:
// the fixture files, the bundled model, the generation settings and the defaults the views start with.

/** The fixture tunes (test/e2e/fixtures), copied into the scratch workspace. */
export const FIXTURES = {
  reel: 'harbourWall.abc',
  air: 'ghost.abc',
};

/** The bundled example tunes (examples/), copied unmodified into the scratch workspace. */
export const EXAMPLES = 'refrain-tunes.abc';

/** The bundled model the checks that need real music use (the extension's default). */
export const BUNDLED_MODEL = 'folk-tsrope';

/**
 * Generation settings the checks expect (run.mjs writes them into the user settings). The seed
 * makes the commands and the inline proposal repeatable; the panel has its own Seed field.
 */
export const GENERATION = { candidates: 2, bars: 4, seed: 11 };

/** The related-bar offsets the panel starts with (the extension's default setting). */
export const DEFAULT_OFFSETS = [1, 2, 4, 8, 12, 16, 24, 32];

/** Layers of the tiny test model (test/fixtures/engine/models/tiny-folk/card.json). */
export const TINY_LAYERS = 2;
