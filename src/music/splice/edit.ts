/** The edit the splice planners return, and the spans and options they take. */

/** A replacement of `text[start, end)` by `newText` (character offsets into the file's text). */
export interface TextEdit {
  start: number;
  end: number;
  newText: string;
}

/** A half-open range of performed bars. */
export interface BarSpan {
  from: number;
  to: number;
}

/** Applies one {@link TextEdit} to a text. */
export function applyTextEdit(text: string, edit: TextEdit): string {
  return text.slice(0, edit.start) + edit.newText + text.slice(edit.end);
}

/** Options of {@link planAbcContinuation}. */
export interface ContinuationOptions {
  /** Fold sections that come back exactly into repeat signs (default true; false for bar-by-bar ghost text). */
  foldRepeats?: boolean;
  /**
   * Continue the tune's last line while it has fewer bars than a line holds (4, or 8 for bars
   * shorter than a half note), as a writer typing bar by bar would; default false (new bars
   * start a new line).
   */
  continueLine?: boolean;
}
