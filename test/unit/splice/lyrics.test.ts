// New bars never come between a music line and its w: lyrics (issue 10): the lyrics stay with
// the bars they were written under, and the new bars follow them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyTextEdit, planAbcContinuation } from '../../../src/music/splice';
import { E, appendBars, tunesOf } from './helpers';

const SONG = `X:4
T:Lantern Song
M:3/4
L:1/8
K:G
G2 A2 B2|c4 B2|
w: Light the lan-tern, light it
A2 G2 F2|G6|]
w: high and bright now
s: !p! * * * *
W:A verse after the tune.
`;

test('continuing a song puts the new bars after the last line\'s w: and s: lines', () => {
  const original = tunesOf(SONG)[0].score;
  const generated = appendBars(original, [{ notes: [[67, 0, 2 * E], [71, 2 * E, 4 * E]] }]);
  const edit = planAbcContinuation(SONG, original.source!, original, generated, { from: original.bars.length, to: generated.bars.length });
  const out = applyTextEdit(SONG, edit);
  const lines = out.split('\n');
  const at = (prefix: string): number => lines.findIndex((l) => l.startsWith(prefix));
  assert.equal(lines[at('A2 G2')], 'A2 G2 F2|G6|', 'the final |] becomes |');
  assert.equal(lines[at('A2 G2') + 1], 'w: high and bright now');
  assert.equal(lines[at('A2 G2') + 2], 's: !p! * * * *');
  assert.match(lines[at('A2 G2') + 3], /^G2 B4\|\]$/, 'the new bar follows the lyrics');
  assert.equal(lines[at('A2 G2') + 4], 'W:A verse after the tune.');
  assert.equal(tunesOf(out)[0].score.bars.length, original.bars.length + 1);
});
