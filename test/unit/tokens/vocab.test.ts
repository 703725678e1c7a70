import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalChordName, keyOf, parseChordSymbol, spellPitchClass } from '../../../src/tokens/chords';
import {
  BAR_ID,
  BOS_ID,
  DURATION_STEPS,
  EOS_ID,
  PAD_ID,
  SUM_ID,
  TEMPO_BINS,
  TOKEN_KINDS,
  TOKEN_RANGES,
  VOCAB,
  VOCAB_SIZE,
  VOCAB_VERSION,
  durationIndex,
  idOf,
  meterForSteps,
  tempoBin,
  tokenId,
  tokenIndex,
  tokenKind,
  tokenName,
  velocityBin,
  velocityOfBin,
} from '../../../src/tokens/vocab';

describe('vocabulary', () => {
  test('is versioned and pinned (598 tokens), with unique names and contiguous kind ranges', () => {
    // Any change to the vocabulary must bump VOCAB_VERSION and these pinned values.
    assert.equal(VOCAB_VERSION, 1);
    assert.equal(VOCAB_SIZE, 598);
    let h = 0x811c9dc5;
    for (const ch of Buffer.from(VOCAB.join('\n'), 'utf8')) {
      h = Math.imul(h ^ ch, 0x01000193) >>> 0;
    }
    assert.equal(h.toString(16), PINNED_VOCAB_HASH);
    assert.equal(new Set(VOCAB).size, VOCAB_SIZE);
    let next = 0;
    for (const kind of TOKEN_KINDS) {
      assert.equal(TOKEN_RANGES[kind].start, next);
      next += TOKEN_RANGES[kind].count;
    }
    assert.equal(next, VOCAB_SIZE);
  });

  test('names and ids are inverse, specials are where the shard format says', () => {
    for (let id = 0; id < VOCAB_SIZE; id++) {
      assert.equal(tokenId(tokenName(id)), id);
      assert.equal(idOf(tokenKind(id)!, tokenIndex(id)), id);
    }
    assert.deepEqual([PAD_ID, BOS_ID, EOS_ID, BAR_ID, SUM_ID].map(tokenName), ['PAD', 'BOS', 'EOS', 'BAR', 'SUM']);
    assert.equal(tokenName(VOCAB_SIZE), `<unk:${VOCAB_SIZE}>`);
    assert.throws(() => tokenId('PITCH_200'));
    assert.equal(tokenKind(-1), undefined);
    assert.equal(TOKEN_RANGES.pos.count, 96);
    assert.equal(TOKEN_RANGES.chord.count, 145);
    assert.equal(tokenName(idOf('pitch', 39)), 'PITCH_60');
  });

  test('duration tokens: dense to 48 steps, rounding to the nearer, ties to the shorter, capped at 192', () => {
    assert.deepEqual(DURATION_STEPS.slice(0, 3), [1, 2, 3]);
    assert.equal(DURATION_STEPS[47], 48);
    assert.equal(DURATION_STEPS[DURATION_STEPS.length - 1], 192);
    for (let d = 1; d <= 48; d++) {
      assert.equal(DURATION_STEPS[durationIndex(d)], d);
    }
    for (let d = 48; d <= 96; d += 3) {
      assert.equal(DURATION_STEPS[durationIndex(d)], d);
    }
    assert.equal(DURATION_STEPS[durationIndex(49)], 48);
    assert.equal(DURATION_STEPS[durationIndex(50)], 51);
    assert.equal(DURATION_STEPS[durationIndex(99)], 96);
    assert.equal(DURATION_STEPS[durationIndex(1000)], 192);
    assert.equal(DURATION_STEPS[durationIndex(0)], 1);
  });

  test('tempo and velocity bins', () => {
    assert.equal(TEMPO_BINS.length, 16);
    assert.deepEqual([TEMPO_BINS[0], TEMPO_BINS[4], TEMPO_BINS[10], TEMPO_BINS[15]], [38, 60, 120, 214]);
    for (let i = 0; i < TEMPO_BINS.length; i++) {
      assert.equal(tempoBin(TEMPO_BINS[i]), i);
    }
    assert.equal(tempoBin(10), 0);
    assert.equal(tempoBin(400), 15);
    assert.equal(tempoBin(Number.NaN), tempoBin(120));
    assert.deepEqual([1, 16, 17, 64, 127].map(velocityBin), [0, 0, 1, 3, 7]);
    for (let b = 0; b < 8; b++) {
      assert.equal(velocityBin(velocityOfBin(b)), b);
    }
  });

  test('meters without a token get the simplest fraction of their length', () => {
    assert.deepEqual(meterForSteps(30), { num: 5, den: 8 });
    assert.deepEqual(meterForSteps(78), { num: 13, den: 8 });
    assert.deepEqual(meterForSteps(48), { num: 4, den: 4 });
    assert.deepEqual(meterForSteps(21), { num: 7, den: 16 });
  });
});

describe('chord symbols', () => {
  test('lead-sheet and Harte symbols parse to root, quality and bass', () => {
    assert.deepEqual(parseChordSymbol('Am'), { root: 9, quality: 1, exact: true });
    assert.deepEqual(parseChordSymbol('F#m7'), { root: 6, quality: 4, exact: true });
    assert.deepEqual(parseChordSymbol('G/b'), { root: 7, quality: 0, bass: 11, exact: true });
    assert.deepEqual(parseChordSymbol('C#:maj7/5'), { root: 1, quality: 3, bass: 8, exact: true });
    assert.deepEqual(parseChordSymbol('D:hdim7'), { root: 2, quality: 7, exact: true });
    assert.deepEqual(parseChordSymbol('Bb:min6'), { root: 10, quality: 1, exact: false });
    assert.deepEqual(parseChordSymbol('N'), { root: -1, quality: 0, exact: true });
    assert.deepEqual(parseChordSymbol('Dsus'), { root: 2, quality: 10, exact: true });
    assert.deepEqual(parseChordSymbol('C6/9'), { root: 0, quality: 11, exact: false });
    assert.deepEqual(parseChordSymbol('D/f+'), { root: 2, quality: 0, bass: 6, exact: true });
    assert.deepEqual(parseChordSymbol('(E7)'), { root: 4, quality: 2, exact: true });
    assert.deepEqual(parseChordSymbol('E7♭9'), { root: 4, quality: 2, exact: false });
    for (const text of ['Slow', 'D.C.', 'Collected by', '4', 'tr', 'End', '']) {
      assert.equal(parseChordSymbol(text), undefined, text);
    }
  });

  test('canonical names are spelled from the key', () => {
    assert.equal(canonicalChordName('A#', 0), 'Bb');
    assert.equal(canonicalChordName('Bb', 4), 'A#');
    assert.equal(canonicalChordName('Db7', 1), 'C#7');
    assert.equal(canonicalChordName('C#7', -2), 'Db7');
    assert.equal(canonicalChordName('Gb', -6), 'Gb');
    assert.equal(canonicalChordName('F#', -6), 'Gb');
    assert.equal(canonicalChordName('E', -7), 'E');
    assert.equal(canonicalChordName('D/f#', 2), 'D/F#');
    assert.equal(canonicalChordName('NC'), 'N.C.');
    assert.equal(spellPitchClass(8, 3), 'G#');
    assert.equal(spellPitchClass(8, -1), 'Ab');
  });

  test('keys are named from signature and mode', () => {
    assert.deepEqual(keyOf(2, 'dorian'), { tonic: 'E', mode: 'dorian', fifths: 2 });
    assert.deepEqual(keyOf(-3, 'minor'), { tonic: 'C', mode: 'minor', fifths: -3 });
    assert.deepEqual(keyOf(7, 'major'), { tonic: 'C#', mode: 'major', fifths: 7 });
    assert.deepEqual(keyOf(-7, 'lydian'), { tonic: 'Fb', mode: 'lydian', fifths: -7 });
    assert.deepEqual(keyOf(3, 'mixolydian'), { tonic: 'E', mode: 'mixolydian', fifths: 3 });
  });
});

const PINNED_VOCAB_HASH = 'fc323d7a';
