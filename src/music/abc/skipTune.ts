/** How the per-tune ABC reader gives up on one tune (with a code) and words what abcjs warns of. */

/** Most warnings kept per tune. */
export const MAX_WARNINGS = 20;

/** Thrown inside the per-tune reader to skip the tune with a code. */
export class SkipTune extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/** Removes abcjs's HTML markup from a warning. */
export function cleanWarning(w: string): string {
  return w
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 240);
}
