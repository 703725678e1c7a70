// The browser checks of Refrain's webviews, in the order a user meets them: the structure panel on
// an AABB reel (drawing, structure controls, Generate, Insert), the MIDI editor, the inline ghost
// text, then the same views in a light and a high-contrast theme. Run by test/e2e/run.mjs, which
// owns code-server, Chromium, the scratch workspace and the settings.
import { PANEL_CHECKS } from './checks/panel.mjs';
import { VIEW_CHECKS } from './checks/views.mjs';

export { EXAMPLES, FIXTURES, GENERATION } from './lib/fixtures.mjs';

/** @type {{ name: string, needs?: string[], run: (ctx: object) => Promise<void> }[]} */
export const CHECKS = [...PANEL_CHECKS, ...VIEW_CHECKS];
