import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MusicInputError } from '../../../src/music/score';
import { decodeTokens } from '../../../src/tokens/decode';
import { encodeScore } from '../../../src/tokens/encode';
import { TokenGrammar, findGrammarError, nextTokenKinds, stepsLeftInBar } from '../../../src/tokens/grammar';
import { EOS_ID, SUM_ID, tokenId, tokenKind, tokenName } from '../../../src/tokens/vocab';
import { folkTune, popScore } from './scores';

const ids = (...names: string[]): number[] => names.map(tokenId);

describe('token grammar', () => {
  test('accepts every encoded sequence, token by token, and ends done', () => {
    for (const [score, includeVelocity] of [
      [folkTune(), false],
      [popScore(), true],
      [popScore(), false],
    ] as const) {
      const seq = encodeScore(score, { includeVelocity });
      assert.equal(findGrammarError(seq.ids, { includeVelocity }), undefined);
      const g = TokenGrammar.fromPrefix(seq.ids, { includeVelocity });
      assert.equal(g.done, true);
      assert.deepEqual(g.allowedKinds(), []);
    }
  });

  test('next kinds follow BAR -> POS|SUM, POS -> PITCH|CHORD, PITCH -> DUR on a real sequence', () => {
    const seq = Array.from(encodeScore(folkTune()).ids);
    const after = (name: string, nth = 0): string[] => {
      let seen = -1;
      const i = seq.findIndex((id) => tokenName(id) === name && ++seen === nth);
      assert.ok(i >= 0, name);
      return nextTokenKinds(seq.slice(0, i + 1));
    };
    assert.deepEqual(nextTokenKinds([]), ['bos']);
    assert.deepEqual(after('BOS'), ['meter']);
    assert.deepEqual(after('TRACK_melody'), ['track', 'bar']);
    // Second BAR (bar 1, a full 6/8 bar): meter change, LEN, a position or an empty bar.
    assert.deepEqual(after('BAR', 1), ['meter', 'len', 'pos', 'sum']);
    // A POS needs an event; with one track there is no TRACK switch.
    assert.deepEqual(after('POS_0', 1), ['keySig', 'tempo', 'chord', 'pitch']);
    assert.deepEqual(after('PITCH_67'), ['dur']);
    assert.deepEqual(after('DUR_6'), ['pitch', 'pos', 'sum']);
    assert.deepEqual(after('CHORD_D7'), ['bass', 'pitch', 'pos', 'sum']);
    assert.deepEqual(after('SUM'), ['bar', 'eos']);
  });

  test('header track declarations: any role not yet declared, then BAR', () => {
    const g = TokenGrammar.fromPrefix(ids('BOS', 'METER_4/4', 'KEYSIG_0', 'MODE_major', 'TEMPO_120', 'TRACK_melody'));
    assert.deepEqual(g.allowedKinds(), ['track', 'bar']);
    assert.equal(g.accepts(tokenId('TRACK_melody')), false);
    assert.equal(g.accepts(tokenId('TRACK_piano')), true);
  });

  test('positions increase and stay inside the bar; stepsLeft counts down', () => {
    const head = ids('BOS', 'METER_6/8', 'KEYSIG_+1', 'MODE_major', 'TEMPO_120', 'TRACK_melody', 'TRACK_bass', 'BAR');
    const g = TokenGrammar.fromPrefix(head);
    assert.equal(g.barLength, 36);
    assert.equal(g.stepsLeft(), 36);
    assert.equal(g.accepts(tokenId('POS_36')), false);
    assert.equal(g.accepts(tokenId('POS_35')), true);
    assert.equal(g.accepts(tokenId('LEN_36')), false); // the meter's own length is never written
    g.push(tokenId('POS_12'));
    assert.equal(g.stepsLeft(), 24);
    assert.equal(stepsLeftInBar([...head, tokenId('POS_12')]), 24);
    assert.equal(g.accepts(tokenId('POS_12')), false);
    assert.equal(g.accepts(tokenId('SUM')), false); // a position must hold an event
    assert.equal(g.accepts(tokenId('TRACK_melody')), false); // already the current track
    g.push(tokenId('TRACK_bass'));
    g.push(tokenId('PITCH_40'));
    g.push(tokenId('DUR_24'));
    assert.equal(g.accepts(tokenId('TRACK_melody')), true);
    assert.equal(g.accepts(tokenId('TRACK_bass')), false);
    g.push(tokenId('POS_35'));
    g.push(tokenId('PITCH_62'));
    g.push(tokenId('DUR_1'));
    assert.deepEqual(g.allowedKinds(), ['track', 'pitch', 'sum']); // no position left after 35
    g.push(SUM_ID);
    assert.equal(g.stepsLeft(), 0);
    assert.equal(g.atBarBoundary, true);
    // A pickup bar: LEN shortens it.
    g.push(tokenId('BAR'));
    g.push(tokenId('LEN_6'));
    assert.equal(g.barLength, 6);
    assert.deepEqual(
      g.allowedIds().filter((id) => tokenKind(id) === 'pos').map(tokenName),
      ['POS_0', 'POS_1', 'POS_2', 'POS_3', 'POS_4', 'POS_5'],
    );
  });

  test('METER_other needs a LEN; VEL is required with velocity and refused without', () => {
    const g = TokenGrammar.fromPrefix(ids('BOS', 'METER_other', 'KEYSIG_0', 'MODE_major', 'TEMPO_120', 'TRACK_melody', 'BAR'));
    assert.deepEqual(g.allowedKinds(), ['meter', 'len']);
    const withVel = TokenGrammar.fromPrefix(
      ids('BOS', 'METER_4/4', 'KEYSIG_0', 'MODE_major', 'TEMPO_120', 'TRACK_melody', 'BAR', 'POS_0', 'PITCH_60', 'DUR_12'),
      { includeVelocity: true },
    );
    assert.deepEqual(withVel.allowedKinds(), ['vel']);
    const noVel = TokenGrammar.fromPrefix(
      ids('BOS', 'METER_4/4', 'KEYSIG_0', 'MODE_major', 'TEMPO_120', 'TRACK_melody', 'BAR', 'POS_0', 'PITCH_60', 'DUR_12'),
    );
    assert.equal(noVel.accepts(tokenId('VEL_3')), false);
  });

  test('a token out of place is refused with a readable error', () => {
    const g = TokenGrammar.fromPrefix(ids('BOS', 'METER_4/4', 'KEYSIG_0', 'MODE_major', 'TEMPO_120', 'TRACK_melody', 'BAR', 'POS_0', 'PITCH_60'));
    assert.throws(
      () => g.push(tokenId('POS_3')),
      (e: unknown) => e instanceof MusicInputError && e.code === 'tokens-grammar' && /expected dur/.test(e.message),
    );
    const err = findGrammarError(ids('BOS', 'BAR'));
    assert.equal(err?.index, 1);
  });

  test('sampling only allowed tokens always gives well-formed bars of the right length', () => {
    let x = 987654321;
    const rand = (n: number): number => {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      return x % n;
    };
    for (let trial = 0; trial < 30; trial++) {
      const g = new TokenGrammar({ includeVelocity: trial % 2 === 0 });
      const seq: number[] = [];
      const expectedLengths: number[] = [];
      while (!g.done && seq.length < 3000) {
        let allowed = g.allowedIds();
        // Lean towards closing bars and the piece so sequences end.
        if (allowed.includes(SUM_ID) && rand(4) === 0) {
          allowed = [SUM_ID];
        }
        if (allowed.includes(EOS_ID) && g.barIndex >= 7) {
          allowed = [EOS_ID];
        }
        const id = allowed[rand(allowed.length)];
        if (id === SUM_ID) {
          expectedLengths.push(g.barLength);
        }
        assert.ok(g.accepts(id));
        g.push(id);
        seq.push(id);
      }
      assert.ok(g.done, `trial ${trial} did not finish`);
      const score = decodeTokens({ ids: seq });
      assert.deepEqual(
        score.bars.map((b) => b.duration / 40),
        expectedLengths,
      );
      for (const n of score.notes) {
        const b = score.bars.findIndex((bar) => n.onset >= bar.start && n.onset < bar.start + bar.duration);
        assert.ok(b >= 0, 'every note starts inside a bar');
      }
      // Re-encoding what was decoded gives a sequence the grammar accepts too.
      const again = encodeScore(score, { includeVelocity: trial % 2 === 0 });
      assert.equal(findGrammarError(again.ids, { includeVelocity: trial % 2 === 0 }), undefined);
    }
  });
});
