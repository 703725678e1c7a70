import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MusicInputError, TPQ } from '../../../src/music/score';
import type { Score } from '../../../src/music/score';
import { canonicalChordName } from '../../../src/tokens/chords';
import { decodeTokens } from '../../../src/tokens/decode';
import { encodeScore, encodeScoreDetailed } from '../../../src/tokens/encode';
import {
  BAR_ID,
  EOS_ID,
  HEADER_BAR,
  NO_POS,
  SUM_ID,
  tempoBin,
  tokenId,
  tokenKind,
  tokenName,
  velocityBin,
} from '../../../src/tokens/vocab';
import { makeScore } from '../scoreBuilder';
import { E, Q, S, folkTune, popScore } from './scores';

/** The grid-level content of a score, in a form `deepEqual` can compare. */
function content(score: Score, withVelocity: boolean): unknown {
  const keyAt = (tick: number): number => {
    let f = 0;
    for (const k of score.keys) {
      if (k.tick <= tick) {
        f = k.key.fifths;
      }
    }
    return f;
  };
  return {
    notes: score.notes
      .map((n) => [n.pitch, n.onset, n.duration, n.track, withVelocity ? velocityBin(n.velocity) : 0])
      .sort((a, b) => a[1] - b[1] || a[3] - b[3] || a[0] - b[0] || a[2] - b[2]),
    bars: score.bars.map((b) => [b.start, b.duration, b.meter.num, b.meter.den]),
    meters: score.meters.map((m) => [m.tick, m.meter.num, m.meter.den]),
    keys: score.keys.map((k) => [k.tick, k.key.fifths, k.key.mode, k.key.tonic]),
    chords: score.chords.map((c) => [c.tick, canonicalChordName(c.name, keyAt(c.tick))]),
    tempos: score.tempos.map((t) => [t.tick, tempoBin(t.bpm)]),
    tracks: score.tracks.map((t) => t.isDrum),
    length: score.length,
  };
}

function names(ids: ArrayLike<number>): string[] {
  return Array.from(ids, (id) => tokenName(id));
}

describe('encodeScore / decodeTokens round trip', () => {
  test('a folk tune with a pickup, a triplet, a meter change, a tie and chords is lossless', () => {
    const score = folkTune();
    const seq = encodeScore(score);
    const back = decodeTokens(seq);
    assert.deepEqual(content(back, false), content(score, false));
    assert.equal(back.tracks.length, 1);
    assert.equal(back.tracks[0].name, 'Melody');
  });

  test('the folk tune starts with the expected header and pickup bar', () => {
    const seq = encodeScore(folkTune());
    assert.deepEqual(names(seq.ids.subarray(0, 14)), [
      'BOS',
      'METER_6/8',
      'KEYSIG_+1',
      'MODE_major',
      'TEMPO_120',
      'TRACK_melody',
      'BAR',
      'LEN_6',
      'POS_0',
      'PITCH_62',
      'DUR_6',
      'SUM',
      'BAR',
      'POS_0',
    ]);
    // Bar 5 (the first 2/4 bar) names its meter; bar 7 names 6/8 again.
    const text = names(seq.ids).join(' ');
    assert.match(text, /SUM BAR METER_2\/4 POS_0 CHORD_G\/?\S* BASS_B PITCH_67 DUR_4 POS_4 PITCH_69 DUR_4 POS_8/);
    assert.match(text, /SUM BAR METER_6\/8 POS_0 CHORD_D PITCH_62 DUR_18/);
    assert.equal(seq.ids[seq.ids.length - 1], EOS_ID);
  });

  test('a multi-track pop score with drums, velocities, key and tempo changes is lossless', () => {
    const score = popScore();
    const seq = encodeScore(score, { includeVelocity: true });
    const back = decodeTokens(seq);
    assert.deepEqual(content(back, true), content(score, true));
    assert.deepEqual(
      back.tracks.map((t) => t.name),
      ['Melody', 'Bridge', 'Piano', 'Drums'],
    );
    assert.equal(back.tracks[3].isDrum, true);
    assert.equal(back.tracks[3].channel, 9);
    const text = names(seq.ids).join(' ');
    assert.match(text, /^BOS METER_4\/4 KEYSIG_0 MODE_major TEMPO_95 TRACK_melody TRACK_bridge TRACK_piano TRACK_drums BAR POS_0 CHORD_C /);
    assert.match(text, /POS_0 KEYSIG_\+1 MODE_minor CHORD_Em /);
    assert.match(text, /POS_12 TEMPO_76 /);
    // The note that rings past the end keeps its full length (144 steps) on its onset bar.
    assert.match(text, /TRACK_piano PITCH_60 DUR_144 VEL_2/);
  });

  test('without VEL tokens decoded notes get velocity 80', () => {
    const back = decodeTokens(encodeScore(popScore()));
    assert.ok(back.notes.every((n) => n.velocity === 80));
    assert.deepEqual(content(back, false), content(popScore(), false));
  });

  test('chords can be left out', () => {
    const seq = encodeScore(folkTune(), { includeChords: false });
    assert.ok(!names(seq.ids).some((n) => n.startsWith('CHORD_')));
    assert.deepEqual(decodeTokens(seq).chords, []);
  });

  test('a meter without a token is written METER_other with LEN on every bar and decoded back', () => {
    const m = { num: 13, den: 8 };
    const score = makeScore({
      bars: [{ meter: m }, { meter: m }],
      notes: [
        [60, 0, 13 * E],
        [62, 13 * E, 13 * E],
      ],
    });
    const { sequence, stats } = encodeScoreDetailed(score);
    assert.equal(stats.otherMeterBars, 2);
    assert.deepEqual(names(sequence.ids).filter((n) => n.startsWith('LEN_') || n.startsWith('METER_')), [
      'METER_other',
      'LEN_78',
      'LEN_78',
    ]);
    assert.deepEqual(content(decodeTokens(sequence), false), content(score, false));
  });
});

describe('bar and pos arrays', () => {
  test('one SUM per bar, BAR and SUM carry their bar index, header tokens carry 65535', () => {
    const score = folkTune();
    const seq = encodeScore(score);
    assert.equal(seq.ids.length, seq.bar.length);
    assert.equal(seq.ids.length, seq.pos.length);
    const sums = [...seq.ids.keys()].filter((i) => seq.ids[i] === SUM_ID);
    const barsAt = [...seq.ids.keys()].filter((i) => seq.ids[i] === BAR_ID);
    assert.equal(sums.length, score.bars.length);
    assert.equal(barsAt.length, score.bars.length);
    sums.forEach((i, b) => {
      assert.equal(seq.bar[i], b);
      assert.equal(seq.pos[i], NO_POS);
      assert.equal(seq.bar[barsAt[b]], b);
    });
    for (let i = 0; i < barsAt[0]; i++) {
      assert.equal(seq.bar[i], HEADER_BAR);
      assert.equal(seq.pos[i], NO_POS);
    }
    // Every token between a BAR and its SUM has that bar's index; bars never decrease.
    for (let b = 0; b < barsAt.length; b++) {
      for (let i = barsAt[b]; i <= sums[b]; i++) {
        assert.equal(seq.bar[i], b, `token ${i} ${tokenName(seq.ids[i])}`);
      }
    }
    const last = seq.ids.length - 1;
    assert.equal(seq.ids[last], EOS_ID);
    assert.equal(seq.bar[last], score.bars.length - 1);
    assert.equal(seq.pos[last], NO_POS);
  });

  test('pos is the position of the current POS for its events and 255 for bar-level tokens', () => {
    const seq = encodeScore(popScore(), { includeVelocity: true });
    let current = -1;
    for (let i = 0; i < seq.ids.length; i++) {
      const kind = tokenKind(seq.ids[i]);
      const name = tokenName(seq.ids[i]);
      if (kind === 'pos') {
        current = Number(name.slice(4));
      }
      if (kind === 'bar' || kind === 'sum') {
        current = -1;
      }
      if (['pos', 'pitch', 'dur', 'vel', 'chord', 'bass', 'tempo', 'mode'].includes(kind as string) && seq.bar[i] !== HEADER_BAR) {
        assert.equal(seq.pos[i], current, `token ${i} ${name}`);
      } else if (kind === 'bar' || kind === 'sum' || kind === 'meter' || kind === 'len' || kind === 'bos' || kind === 'eos') {
        assert.equal(seq.pos[i], NO_POS, `token ${i} ${name}`);
      }
    }
  });

  test('a note at beat 3 of bar 2 in 4/4 has pos 24 at the default grid and 8 at grid 4', () => {
    const four = { num: 4, den: 4 };
    const score = makeScore({ bars: [{ meter: four }, { meter: four }], notes: [[60, 4 * Q + 2 * Q, Q]] });
    for (const [grid, pos] of [
      [12, 24],
      [4, 8],
    ]) {
      const seq = encodeScore(score, { grid });
      const i = seq.ids.indexOf(tokenId('PITCH_60'));
      assert.equal(seq.bar[i], 1);
      assert.equal(seq.pos[i], pos);
      assert.deepEqual(content(decodeTokens(seq, { grid }), false), content(score, false));
    }
  });
});

describe('encoder rules', () => {
  test('maxBars keeps the first bars and leaves out EOS', () => {
    const seq = encodeScore(folkTune(), { maxBars: 3 });
    assert.equal(seq.ids.filter((id) => id === SUM_ID).length, 3);
    assert.notEqual(seq.ids[seq.ids.length - 1], EOS_ID);
    assert.equal(decodeTokens(seq).bars.length, 3);
  });

  test('off-grid, out-of-range and over-long notes are reported', () => {
    const four = { num: 4, den: 4 };
    const score = makeScore({
      bars: [{ meter: four }],
      notes: [
        [60, 7, Q], // off the grid by 7 ticks
        [10, Q, Q], // below the piano range
        [62, 2 * Q, 20 * TPQ], // 240 steps: capped at 192
        [64, 3 * Q, 49 * 40 + 40], // 50 steps: rounds to 51
        [65, 9 * Q, Q], // after the last bar
      ],
    });
    const { sequence, stats } = encodeScoreDetailed(score);
    assert.equal(stats.notes, 3);
    assert.equal(stats.droppedNotes, 2);
    assert.equal(stats.offGridNotes, 1);
    assert.equal(stats.cappedNotes, 1);
    assert.equal(stats.roundedDurations, 1);
    const text = names(sequence.ids).join(' ');
    assert.match(text, /PITCH_62 DUR_192/);
    assert.match(text, /PITCH_64 DUR_51/);
    assert.equal(decodeTokens(sequence).notes[0].onset, 0);
  });

  test('text that is not a chord is dropped; extended chords are reduced', () => {
    const four = { num: 4, den: 4 };
    const score = makeScore({
      bars: [{ meter: four }],
      notes: [[60, 0, 4 * Q]],
      chords: [
        { tick: 0, name: 'Slow' },
        { tick: Q, name: 'D9' },
        { tick: 2 * Q, name: 'Bb:min7' },
      ],
    });
    const { sequence, stats } = encodeScoreDetailed(score);
    assert.equal(stats.droppedChords, 1);
    assert.equal(stats.reducedChords, 1);
    assert.deepEqual(
      decodeTokens(sequence).chords.map((c) => c.name),
      ['D7', 'Bbm7'],
    );
  });

  test('bad input is refused with MusicInputError', () => {
    const empty = makeScore({ bars: [], notes: [] });
    assert.throws(() => encodeScore(empty), (e: unknown) => e instanceof MusicInputError && e.code === 'tokens-no-bars');
    const long = makeScore({ bars: [{ meter: { num: 9, den: 4 } }], notes: [[60, 0, Q]] });
    assert.throws(() => encodeScore(long), (e: unknown) => e instanceof MusicInputError && e.code === 'tokens-bar-length');
    assert.throws(
      () => encodeScore(folkTune(), { grid: 7 }),
      (e: unknown) => e instanceof MusicInputError && e.code === 'tokens-bad-grid',
    );
    const nine = makeScore({
      bars: [{ meter: { num: 4, den: 4 } }],
      notes: Array.from({ length: 9 }, (_, k) => [60 + k, 0, Q, k] as [number, number, number, number]),
      tracks: Array.from({ length: 9 }, (_, k) => ({ name: `Track ${k}`, channel: k, program: 40, isDrum: false })),
    });
    assert.throws(() => encodeScore(nine), (e: unknown) => e instanceof MusicInputError && e.code === 'tokens-too-many-tracks');
  });

  test('key and tempo changes that restate what is in force are left out', () => {
    const four = { num: 4, den: 4 };
    const g = { tonic: 'G', mode: 'major' as const, fifths: 1 };
    const c = { tonic: 'C', mode: 'major' as const, fifths: 0 };
    const score = makeScore({
      bars: [{ meter: four }, { meter: four }],
      notes: [[60, 0, 8 * Q]],
      keys: [
        { tick: 0, key: c },
        { tick: 4 * Q, key: g },
        { tick: 4 * Q, key: c },
        { tick: 6 * Q, key: c },
      ],
      tempos: [
        { tick: 0, bpm: 120 },
        { tick: 4 * Q + E, bpm: 60 },
        { tick: 4 * Q + E, bpm: 121 },
      ],
    });
    const seq = encodeScore(score);
    assert.deepEqual(names(seq.ids).slice(6), ['BAR', 'POS_0', 'PITCH_60', 'DUR_96', 'SUM', 'BAR', 'SUM', 'EOS']);
  });

  test('encoding is deterministic and does not change the score', () => {
    const score = popScore();
    const before = JSON.stringify(score);
    const a = encodeScore(score, { includeVelocity: true });
    const b = encodeScore(score, { includeVelocity: true });
    assert.deepEqual(a, b);
    assert.equal(JSON.stringify(score), before);
  });

  test('chorale tracks without names become melody, alto, tenor, bass', () => {
    const four = { num: 4, den: 4 };
    const score = makeScore({
      bars: [{ meter: four }],
      notes: [
        [72, 0, 4 * Q, 0],
        [67, 0, 4 * Q, 1],
        [64, 0, 4 * Q, 2],
        [48, 0, 4 * Q, 3],
      ],
      tracks: [0, 1, 2, 3].map(() => ({ name: '', channel: 0, program: 0, isDrum: false })),
    });
    assert.deepEqual(encodeScoreDetailed(score).stats.roles, ['melody', 'alto', 'tenor', 'bass']);
  });
});

describe('decodeTokens on truncated and malformed input', () => {
  test('a truncated sequence keeps its last bar by default, or drops it', () => {
    const score = folkTune();
    const seq = encodeScore(score);
    const sums = [...seq.ids.keys()].filter((i) => seq.ids[i] === SUM_ID);
    // Cut in the middle of bar 2 (index 1), after its third note's PITCH (before its DUR).
    const start = sums[0] + 1;
    const pitches = [...seq.ids.keys()].filter((i) => i > start && tokenKind(seq.ids[i]) === 'pitch');
    const cut = seq.ids.subarray(0, pitches[2] + 1);
    const completed = decodeTokens({ ids: cut });
    assert.equal(completed.bars.length, 2);
    assert.equal(completed.bars[1].duration, 6 * E);
    assert.deepEqual(
      completed.notes.map((n) => n.pitch),
      [62, 67, 71],
    );
    assert.equal(completed.length, 7 * E);
    const dropped = decodeTokens({ ids: cut }, { partialBar: 'drop' });
    assert.equal(dropped.bars.length, 1);
    assert.deepEqual(
      dropped.notes.map((n) => n.pitch),
      [62],
    );
  });

  test('garbage never throws and still gives contiguous bars', () => {
    let x = 12345;
    const rand = (): number => {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      return x;
    };
    for (let trial = 0; trial < 50; trial++) {
      const ids = Array.from({ length: 300 }, () => rand() % 700);
      const s = decodeTokens({ ids });
      let t = 0;
      for (const b of s.bars) {
        assert.equal(b.start, t);
        assert.ok(b.duration > 0);
        t += b.duration;
      }
      assert.equal(s.length, t);
      assert.ok(s.tracks.length >= 1);
      for (const n of s.notes) {
        assert.ok(n.track >= 0 && n.track < s.tracks.length);
      }
    }
  });

  test('an empty sequence decodes to an empty score', () => {
    const s = decodeTokens({ ids: [] });
    assert.equal(s.bars.length, 0);
    assert.equal(s.notes.length, 0);
    assert.equal(s.length, 0);
  });

  test('sixteenth notes survive at grid 4', () => {
    const four = { num: 2, den: 4 };
    const score = makeScore({ bars: [{ meter: four }], notes: [[60, 0, S], [62, S, S], [64, 2 * S, 2 * S]] });
    assert.deepEqual(content(decodeTokens(encodeScore(score, { grid: 4 }), { grid: 4 }), false), content(score, false));
  });
});
