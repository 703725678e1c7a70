/**
 * Repeat folding: bars written out twice become one section between repeat signs, as the
 * tradition writes a tune. A run of bars followed at once by the same run (bar text equal) is
 * written `|: ... :|`; a run whose repeat differs only in its last one or two bars is written with
 * first and second endings, `|: ... |1 ... :|2 ... |`. Reading the folded text back plays the same
 * bars in the same order (test/unit/abc/folding.test.ts).
 *
 * Sections with inline fields (`[M:]`, `[K:]`) or a tie out of their last bar are left unfolded.
 *
 * Pure TypeScript.
 */

/** One bar of ABC body text: inline fields, then the notes (no bar line). */
export interface BarText {
  fields: string;
  body: string;
}

/** A bar to write: the text before it (a start repeat on the fragment's first bar), its text and its closing bar line. */
export interface PlacedBar {
  pre: string;
  text: string;
  post: string;
}

const MIN_EXACT = 2;
const MIN_WITH_ENDINGS = 4;

function same(bars: readonly BarText[], a: number, b: number, count: number): boolean {
  for (let k = 0; k < count; k++) {
    if (bars[a + k].fields !== '' || bars[b + k].fields !== '' || bars[a + k].body !== bars[b + k].body) {
      return false;
    }
  }
  return true;
}

function foldable(bars: readonly BarText[], from: number, to: number): boolean {
  for (let k = from; k < to; k++) {
    if (bars[k].fields !== '' || /-\s*$/.test(bars[k].body)) {
      return false;
    }
  }
  return true;
}

/** A fold found at bar i: section length and ending length (0 = exact repeat). */
function findFold(bars: readonly BarText[], i: number): { len: number; ending: number } | undefined {
  const n = bars.length;
  for (let len = Math.floor((n - i) / 2); len >= MIN_EXACT; len--) {
    if (same(bars, i, i + len, len) && foldable(bars, i, i + 2 * len)) {
      return { len, ending: 0 };
    }
    if (len >= MIN_WITH_ENDINGS) {
      for (const ending of [1, 2]) {
        if (ending * 4 <= len && same(bars, i, i + len, len - ending) && !same(bars, i + len - ending, i + 2 * len - ending, ending) && foldable(bars, i, i + 2 * len)) {
          return { len, ending };
        }
      }
    }
  }
  return undefined;
}

/**
 * The bars to write with repeats folded (greedy from the first bar, longest section first). With
 * nothing to fold the result is every bar closed by `|`.
 */
export function foldRepeats(bars: readonly BarText[]): PlacedBar[] {
  const out: PlacedBar[] = [];
  const text = (b: BarText): string => `${b.fields}${b.body}`;
  const open = (): void => {
    if (out.length === 0) {
      return;
    }
    const prev = out[out.length - 1];
    prev.post = prev.post === ':|' ? ':||:' : `${prev.post}:`;
  };
  let i = 0;
  while (i < bars.length) {
    const fold = findFold(bars, i);
    if (!fold) {
      out.push({ pre: '', text: text(bars[i]), post: '|' });
      i++;
      continue;
    }
    const { len, ending } = fold;
    open();
    for (let k = 0; k < len; k++) {
      out.push({ pre: out.length === 0 && k === 0 ? '|:' : '', text: text(bars[i + k]), post: '|' });
    }
    if (ending === 0) {
      out[out.length - 1].post = ':|';
    } else {
      out[out.length - 1 - ending].post = '|1 ';
      out[out.length - 1].post = ':|2 ';
      for (let k = 0; k < ending; k++) {
        out.push({ pre: '', text: text(bars[i + 2 * len - ending + k]), post: '|' });
      }
    }
    i += 2 * len;
  }
  return out;
}
