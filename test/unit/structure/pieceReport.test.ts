import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readMidi } from '../../../src/music/midi/reader';
import { writeMidi } from '../../../src/music/midi/writer';
import { readAbc } from '../../../src/music/abc/reader';
import { analyzeScore, formatBpm, formatReport, reportToJson } from '../../../src/structure/pieceReport';

test('tempo is printed as written, not as MIDI microseconds read back (180, not 180.00018000018)', () => {
  assert.equal(formatBpm(180.00018000018), '180');
  assert.equal(formatBpm(97.5), '97.5');
  assert.equal(formatBpm(112.3333333), '112.33');
  const abc = readAbc('X:1\nT:Fast\nM:4/4\nL:1/8\nQ:1/4=180\nK:G\nGABc dedB|GABc d4|]\n').tunes[0].score;
  const back = readMidi(writeMidi(abc));
  const report = analyzeScore(back);
  const line = formatReport(report).find((l) => l.includes('tempo:'));
  assert.ok(line?.includes('tempo: 180 bpm'), line);
  assert.equal(reportToJson(report).tempoBpm, 180);
});

test('the most structure-related intervals of a piece rest on at least 4 pairs of bars', () => {
  const bars = Array.from({ length: 32 }, (_, i) => (i === 0 || i === 31 ? 'CDEF GABc' : `${'CDEFGAB'[i % 7]}8`));
  const text = `X:1\nM:4/4\nL:1/8\nK:C\n${bars.join('|')}|]\n`;
  const report = analyzeScore(readAbc(text).tunes[0].score, { maxInterval: 40 });
  assert.equal(report.bars, 32);
  assert.ok(report.top.every((t) => t.interval <= 28), JSON.stringify(report.top));
  assert.ok(report.top.some((t) => t.interval === 7), JSON.stringify(report.top));
});
