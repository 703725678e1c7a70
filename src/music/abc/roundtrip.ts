/**
 * ABC round-trip check: read -> write -> read must give the same notes.
 */
import type { Note } from '../score';
import { MusicInputError } from '../score';
import type { AbcTune } from './reader';
import { readAbc } from './reader';
import { writeAbc } from './writer';

function describe(n: Note | undefined): string {
  return n === undefined ? 'nothing' : `track ${n.track} pitch ${n.pitch} at ${n.onset} for ${n.duration}`;
}

function order(a: Note, b: Note): number {
  return a.track - b.track || a.onset - b.onset || a.pitch - b.pitch || a.duration - b.duration;
}

/**
 * Writes a tune with {@link writeAbc}, reads the text back with {@link readAbc}, and compares the
 * two note lists as (track, pitch, onset, duration). `detail` names the first difference.
 */
export function abcRoundTrip(tune: AbcTune): { ok: boolean; detail?: string } {
  let text: string;
  try {
    text = writeAbc(tune.score, tune.reference === undefined ? {} : { reference: tune.reference });
  } catch (e) {
    return { ok: false, detail: `writing failed: ${e instanceof Error ? e.message : String(e)}` };
  }
  let again;
  try {
    again = readAbc(text);
  } catch (e) {
    const code = e instanceof MusicInputError ? `${e.code}: ` : '';
    return { ok: false, detail: `re-reading failed: ${code}${e instanceof Error ? e.message : String(e)}` };
  }
  if (again.tunes.length !== 1) {
    const why = again.skipped[0] ? ` (${again.skipped[0].code}: ${again.skipped[0].reason})` : '';
    return { ok: false, detail: `re-reading gave ${again.tunes.length} tunes${why}` };
  }
  const a = [...tune.score.notes].sort(order);
  const b = [...again.tunes[0].score.notes].sort(order);
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    if (!x || !y || x.track !== y.track || x.pitch !== y.pitch || x.onset !== y.onset || x.duration !== y.duration) {
      return { ok: false, detail: `note ${i} of ${a.length}: wrote ${describe(x)}, read back ${describe(y)}` };
    }
  }
  return { ok: true };
}
