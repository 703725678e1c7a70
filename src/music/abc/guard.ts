/**
 * Text guards applied to a tune before abcjs parses it. Each keeps the text's length and line
 * breaks, so abcjs's character offsets still point into the user's text.
 */

/** Field letters abcjs understands on a line of their own; it reads any other `Y:`-style line as notes. */
const KNOWN_FIELD_LETTERS = new Set('ABCDEFGHIKLMNOPQRSTUVWXZmsw'.split(''));

/** A PostScript block opens (`%%beginps`, `I:beginps`, with any options after it). */
const BEGIN_PS = /^[ \t]*(?:%%|I:)[ \t]*beginps\b/;
/** A PostScript block closes. */
const END_PS = /^[ \t]*(?:%%|I:)[ \t]*endps\b/;

/** Same-length comment in place of a line: `%` then spaces. */
function blankLine(line: string): string {
  return line.length === 0 ? line : '%' + ' '.repeat(line.length - 1);
}

/**
 * Turns lines that start with an unknown field letter (`Y:AB`, `r:...`, `+:...`) into comments of the
 * same length, so abcjs does not read them as music. `warn` hears one message per letter.
 */
export function hideUnknownFields(tuneText: string, warn: (message: string) => void): string {
  return tuneText.replace(/^([A-Za-z+]):/gm, (all: string, letter: string) => {
    if (KNOWN_FIELD_LETTERS.has(letter)) {
      return all;
    }
    warn(`Unknown field ${letter}: ignored.`);
    return '%:';
  });
}

/**
 * Turns every PostScript block (`%%beginps` up to and including `%%endps`, or to the end of the
 * tune when it is never closed) into comment lines. abcjs 6.7.2 never returns from a `%%beginps`
 * block: its directive parser reads the next line without moving on. Refrain has no use for
 * PostScript, so the block is skipped and `warn` says so.
 */
export function hidePostScript(tuneText: string, warn: (message: string) => void): string {
  if (!/beginps/.test(tuneText)) {
    return tuneText;
  }
  const lines = tuneText.split('\n');
  let inBlock = false;
  let hidden = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!inBlock && BEGIN_PS.test(line)) {
      inBlock = true;
      hidden = true;
    }
    if (inBlock) {
      lines[i] = blankLine(line);
      if (END_PS.test(line)) {
        inBlock = false;
      }
    }
  }
  if (hidden) {
    warn('PostScript block (%%beginps ... %%endps) skipped: Refrain does not read PostScript.');
  }
  return lines.join('\n');
}

/** Both guards: the text abcjs may safely parse. */
export function guardForAbcjs(tuneText: string, warn: (message: string) => void): string {
  return hidePostScript(hideUnknownFields(tuneText, warn), warn);
}
