/**
 * Line ends: Refrain reads and plans ABC on an LF copy of the text (abcjs counts characters after
 * turning CRLF into LF), and maps offsets back to the real text with {@link lfText}'s table.
 *
 * Pure TypeScript.
 */

/** An LF-only copy of a text and, for each of its offsets (end included), the offset in the original. */
export interface LfText {
  readonly text: string;
  readonly toOriginal: Int32Array;
}

/** The LF copy of `text`: CRLF and a lone CR become LF. */
export function lfText(text: string): LfText {
  const normalized = text.replace(/\r\n?/g, '\n');
  const toOriginal = new Int32Array(normalized.length + 1);
  let o = 0;
  for (let i = 0; i < normalized.length; i++) {
    toOriginal[i] = o;
    o += text[o] === '\r' && text[o + 1] === '\n' ? 2 : 1;
  }
  toOriginal[normalized.length] = o;
  return { text: normalized, toOriginal };
}

/** The LF-copy offset of an original offset (the first one at or after it). */
export function lfOffset(lf: LfText, original: number): number {
  let lo = 0;
  let hi = lf.toOriginal.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (lf.toOriginal[mid] < original) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}
