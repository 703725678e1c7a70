import { readFileSync } from 'node:fs';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { readAbc } from '../music/abc/reader';
import { abcRoundTrip } from '../music/abc/roundtrip';
import { readMidi } from '../music/midi/reader';
import { midiRoundTrip } from '../music/midi/roundtrip';
import { formatOfPath } from '../music/load';
import { MusicInputError } from '../music/score';
import { throwIfAborted } from '../platform/cancellation';
import type { CliContext } from './usage';
import { displayPath, listMusicFiles } from './walk';

/** `refrain roundtrip DIR`: read -> write -> read every piece and count identical note sequences. */
export async function runRoundTrip(ctx: CliContext, options: { dir: string; json: boolean }): Promise<number> {
  const files = listMusicFiles(options.dir);
  let read = 0;
  let identical = 0;
  let unreadable = 0;
  const failures: string[] = [];
  for (let f = 0; f < files.length; f++) {
    throwIfAborted(ctx.signal);
    const file = files[f];
    const shown = displayPath(options.dir, file);
    ctx.progress(`${f}/${files.length} ${shown}`);
    try {
      if (formatOfPath(file) === 'abc') {
        const result = readAbc(readFileSync(file, 'utf8'));
        unreadable += result.skipped.length;
        for (const tune of result.tunes) {
          read++;
          const r = abcRoundTrip(tune);
          if (r.ok) {
            identical++;
          } else if (failures.length < 20) {
            failures.push(`${shown} #${tune.index + 1}: ${r.detail ?? 'differs'}`);
          }
        }
      } else {
        const score = readMidi(readFileSync(file));
        read++;
        const r = midiRoundTrip(score);
        if (r.ok) {
          identical++;
        } else if (failures.length < 20) {
          failures.push(`${shown}: ${r.detail ?? 'differs'}`);
        }
      }
    } catch (e) {
      if (!(e instanceof MusicInputError)) {
        throw e;
      }
      unreadable++;
    }
    if (f % 8 === 7) {
      await yieldToLoop();
    }
  }
  ctx.progress('');
  const pct = read > 0 ? (100 * identical) / read : 0;
  if (options.json) {
    ctx.out(JSON.stringify({ root: options.dir, files: files.length, read, unreadable, identical, identicalPercent: Math.round(pct * 100) / 100, failures }));
  } else {
    ctx.out(`${options.dir}: ${read} pieces read (${unreadable} unreadable), ${identical} identical after write and re-read (${pct.toFixed(2)}%)`);
    for (const line of failures) {
      ctx.out(`  differs: ${line}`);
    }
  }
  return 0;
}
