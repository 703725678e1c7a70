/**
 * Corpus-wide agreement with abc2midi. Runs only when REFRAIN_DIFF_CORPUS names a folder of .abc
 * files (it reads no corpus otherwise): `REFRAIN_DIFF_CORPUS=../shared/corpus/folk-abc
 * node --test out/test/unit/abc/abc2midiCorpus.test.js`. Prints the agreement and, per class of
 * disagreement, its count and first examples.
 */
import { test } from 'node:test';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitTunes } from '../../../src/music/abc/reader';
import { diffTune, hasAbc2midi } from './abc2midiDiff';

function abcFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? abcFiles(p) : name.endsWith('.abc') ? [p] : [];
    });
}

const corpus = process.env.REFRAIN_DIFF_CORPUS;

test('agreement with abc2midi over a corpus', { skip: !corpus || !hasAbc2midi() }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'refrain-diff-'));
  const classes = new Map<string, string[]>();
  let total = 0;
  let agree = 0;
  try {
    for (const file of abcFiles(corpus ?? '')) {
      const text = readFileSync(file, 'utf8');
      for (const r of splitTunes(text)) {
        total++;
        const v = diffTune(text.slice(r.start, r.end), dir);
        if (v.agree) {
          agree++;
          continue;
        }
        const list = classes.get(v.kind) ?? [];
        list.push(`${file.slice((corpus ?? '').length + 1)} X:${r.reference ?? '?'}: ${v.detail}`);
        classes.set(v.kind, list);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`abc2midi agreement: ${agree} of ${total} tunes (${((100 * agree) / Math.max(1, total)).toFixed(1)}%)`);
  for (const [kind, list] of [...classes].sort((a, b) => b[1].length - a[1].length)) {
    console.log(`  ${kind}: ${list.length}`);
    for (const ex of list.slice(0, Number(process.env.REFRAIN_DIFF_EXAMPLES ?? 5))) {
      console.log(`    ${ex}`);
    }
  }
});
