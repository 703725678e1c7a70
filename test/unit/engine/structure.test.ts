// The template steers: structural source bars (shared with models/train/structure.py), the
// structure fed to the model, the variation control (copy prior), cadence and mode lock.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readModelEntry } from '../../../src/engine/card';
import type { ModelEntry } from '../../../src/engine/card';
import type { StepModel } from '../../../src/engine/decoder';
import { generate } from '../../../src/engine/generate';
import type { GenerateContext } from '../../../src/engine/generate';
import { END_UNKNOWN, NO_SOURCE, barStructure, sourceBars } from '../../../src/engine/structure';
import type { GenerateRequest } from '../../../src/engine/types';
import { readAbc } from '../../../src/music/abc/reader';
import { barIndexAt, scoreHead } from '../../../src/music/score';
import type { Score } from '../../../src/music/score';
import { formToTemplate, parseForm } from '../../../src/structure/form';
import { finalPitchClass as tonicPitchClass, modeScale } from '../../../src/structure/compliance';
import { HEADER_BAR } from '../../../src/tokens/vocab';
import { REEL_ABC, fixtureModelsDir } from './helpers';
import { RandomModel } from './standInModel';

let entry: ModelEntry | undefined;
async function context(model: StepModel): Promise<GenerateContext> {
  entry ??= await readModelEntry(join(fixtureModelsDir(), 'tiny-folk'));
  return { model, card: entry.card, cardPath: 'card.json', refrainVocab: true };
}

function prompt(bars = 2): Score {
  return scoreHead(readAbc(REEL_ABC).tunes[0].score, bars);
}

function fromForm(over: Partial<GenerateRequest['controls']> = {}, seed = 3): GenerateRequest {
  return {
    model: 'x',
    prompt: prompt(),
    task: { kind: 'fromForm', form: 'A4 A4 B4 B4' },
    controls: { relatedOffsets: [1, 2, 4], scales: [], ...over },
    sampling: { temperature: 1, seed },
    candidates: 1,
    target: 'abc-folk',
  };
}

/** Notes of bar b as (onset in bar, pitch, duration) strings. */
function barNotes(score: Score, b: number): string[] {
  const bar = score.bars[b];
  return score.notes
    .filter((n) => barIndexAt(score.bars, n.onset) === b)
    .map((n) => `${n.onset - bar.start}:${n.pitch}:${n.duration}`)
    .sort();
}

describe('structural source bars', () => {
  test('A8 A8 B8 B8: the second A sits where the first sat, and so does the second B', () => {
    const src = sourceBars(formToTemplate(parseForm('A8 A8 B8 B8')));
    const want = [...Array(32).keys()].map((b) => (b >= 8 && b < 16 ? b - 8 : b >= 24 ? b - 8 : b));
    assert.deepEqual([...src], want);
  });

  test('A8 B8 C8 D8: every bar is its own source', () => {
    assert.deepEqual([...sourceBars(formToTemplate(parseForm('A8 B8 C8 D8')))], [...Array(32).keys()]);
  });

  test('a chain follows to the first occurrence (A A A)', () => {
    const src = sourceBars(formToTemplate(parseForm('A2 A2 A2')));
    assert.deepEqual([...src], [0, 1, 0, 1, 0, 1]);
  });

  test('barStructure: header and bars past the template have no source; bars to the end', () => {
    const st = barStructure(formToTemplate(parseForm('A2 A2')), 4, true);
    assert.equal(st.source(HEADER_BAR), NO_SOURCE);
    assert.equal(st.source(7), NO_SOURCE);
    assert.deepEqual([0, 1, 2, 3].map((b) => st.toEnd(b)), [3, 2, 1, 0]);
    assert.deepEqual(st.sameAs(2), [0]);
    assert.deepEqual(st.sameAs(1), []);
    const open = barStructure(undefined, 4, false);
    assert.equal(open.source(2), NO_SOURCE);
    assert.equal(open.toEnd(3), END_UNKNOWN);
  });
});

describe('the template steers generation', () => {
  test('the model is fed each token\'s source bar and bars to the end', async () => {
    const m = new RandomModel(true);
    await generate(await context(m), fromForm({ variation: 1 }));
    const bar5 = m.fed.filter((f) => f.bar === 5);
    assert.ok(bar5.length > 0);
    assert.ok(bar5.every((f) => f.sbar === 1 && f.toend === 3), JSON.stringify(bar5[0]));
    // The last bar is a second-time ending: it closes as the A part's second ending (bar 8) does, not as the first endings.
    const last = m.fed.filter((f) => f.bar === 15);
    assert.ok(last.length > 0 && last.every((f) => f.sbar === 7 && f.toend === 0), JSON.stringify(last[0]));
    const b2 = m.fed.filter((f) => f.bar === 13);
    assert.ok(b2.length > 0 && b2.every((f) => f.sbar === 9), 'bar 2 of the second B part comes from bar 2 of the first');
    assert.ok(m.fed.filter((f) => f.bar === HEADER_BAR).every((f) => f.sbar === NO_SOURCE && f.toend === END_UNKNOWN));
  });

  test('variation 0: a section marked the same comes back as written; variation 1: it does not', async () => {
    const [copy] = await generate(await context(new RandomModel(true)), fromForm({ variation: 0 }));
    for (let b = 4; b < 7; b++) {
      assert.deepEqual(barNotes(copy.score, b), barNotes(copy.score, b - 4), `bar ${b + 1} repeats bar ${b - 3}`);
    }
    // bar 8 is the A part's second-time ending: it closes on the final instead of leading back as bar 4 does
    for (let b = 12; b < 15; b++) {
      assert.deepEqual(barNotes(copy.score, b), barNotes(copy.score, b - 4), `bar ${b + 1} repeats bar ${b - 3}`);
    }
    const [free] = await generate(await context(new RandomModel(true)), fromForm({ variation: 1 }));
    let same = 0;
    for (let b = 4; b < 8; b++) {
      same += JSON.stringify(barNotes(free.score, b)) === JSON.stringify(barNotes(free.score, b - 4)) ? 1 : 0;
    }
    assert.ok(same < 4, 'random logits with no copy prior should not repeat the whole section');
  });

  test('cadence: the piece ends on the key\'s final; mode lock keeps new notes in the key', async () => {
    const key = prompt().keys[0].key;
    const set = modeScale(key);
    const scale = Array.from({ length: 12 }, (_, pc) => set.has(pc));
    const used = new Set(prompt().notes.map((n) => n.pitch % 12));
    let offTonicWithout = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const [c] = await generate(await context(new RandomModel(true)), fromForm({ variation: 1 }, seed));
      const notes = [...c.score.notes].sort((a, b) => a.onset - b.onset);
      assert.equal(notes[notes.length - 1].pitch % 12, tonicPitchClass(key), `seed ${seed}`);
      const fresh = notes.filter((n) => n.onset >= c.score.bars[c.newBars.from].start);
      assert.ok(fresh.every((n) => scale[n.pitch % 12] || used.has(n.pitch % 12)), `seed ${seed}: a note outside the mode`);
      const [free] = await generate(await context(new RandomModel(true)), fromForm({ variation: 1, cadence: false, modeLock: false }, seed));
      const fn = [...free.score.notes].sort((a, b) => a.onset - b.onset);
      offTonicWithout += fn[fn.length - 1].pitch % 12 === tonicPitchClass(key) ? 0 : 1;
    }
    assert.ok(offTonicWithout > 0, 'without the cadence rule random logits should end off the final at least once');
  });

  test('cadence: second-time endings close on the final too; first-time endings are left free', async () => {
    const key = prompt().keys[0].key;
    for (let seed = 1; seed <= 4; seed++) {
      const [c] = await generate(await context(new RandomModel(true)), fromForm({ variation: 1 }, seed));
      const lastPitchOf = (bar: number): number => {
        const b = c.score.bars[bar];
        const ns = c.score.notes.filter((n) => n.onset >= b.start && n.onset < b.start + b.duration).sort((x, y) => x.onset - y.onset);
        return ns[ns.length - 1].pitch % 12;
      };
      assert.equal(lastPitchOf(7), tonicPitchClass(key), `seed ${seed}: the A part's second ending (bar 8)`);
      assert.equal(lastPitchOf(15), tonicPitchClass(key), `seed ${seed}: the tune's last bar`);
    }
  });

  test('an open-ended continuation is not told where the piece ends and gets no cadence', async () => {
    const m = new RandomModel(true);
    await generate(await context(m), { ...fromForm(), task: { kind: 'continue', bars: 3, openEnded: true } });
    assert.ok(m.fed.every((f) => f.toend === END_UNKNOWN));
  });

  test('variation out of range is refused', async () => {
    await assert.rejects(generate(await context(new RandomModel(true)), fromForm({ variation: 1.5 })), /variation must be a number from 0/);
  });
});
