/**
 * Differential reading of ABC against abc2midi (Debian `abcmidi`), the field's reference converter.
 * Both readings are reduced to notes per voice, in performed order: pitch, onset and duration in
 * ticks of 480 per quarter note. Chord-symbol accompaniment, grace notes, fermatas, dynamics and
 * drums are left out on the abc2midi side (its options and channel 10), and ornaments (`~`, `T`,
 * `!trill!`...) and `R:` are removed from its copy of the text, because abc2midi plays ornaments as
 * several notes and swings hornpipes, where Refrain keeps the notes as written. abc2midi also starts
 * the notes of a chord a few ticks apart; those are put back together.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readAbc, splitTunes } from '../../../src/music/abc/reader';
import { scanSmf } from '../../../src/music/midi/smf';
import { TPQ } from '../../../src/music/score';

/** One note: MIDI pitch, onset and duration in ticks of {@link TPQ} per quarter note. */
export interface Row {
  pitch: number;
  onset: number;
  dur: number;
}

/** The result of comparing one tune. */
export type Verdict =
  | { agree: true }
  | { agree: false; kind: string; detail: string };

/** Largest onset or duration difference, in ticks, still read as equal (abc2midi starts notes one tick late). */
const TOLERANCE = 3;

/** True when abc2midi can be run. */
export function hasAbc2midi(): boolean {
  const r = spawnSync('abc2midi', ['-ver'], { encoding: 'utf8' });
  return r.error === undefined;
}

const ORNAMENTS = /!(?:trill|roll|turn|turnx|invertedturn|invertedturnx|mordent|lowermordent|uppermordent|pralltriller|shortphrase|arpeggio)!/g;

/** A music line without the ornaments and staccato dots that abc2midi plays as changed notes. */
function withoutDecorations(music: string): string {
  return music
    .replace(ORNAMENTS, '')
    .replace(/!staccato!/g, '')
    .replace(/[~T.](?=[\^_=]*[A-Ga-g[])/g, '');
}

/**
 * abc2midi's copy of a tune: ornament decorations and staccato dots (abc2midi
 * halves a staccato note) removed from the music lines, an `X:` line added when missing, and the `R:`
 * (rhythm) field hidden, since abc2midi swings the quavers of a tune marked `R:hornpipe`. The notes
 * written are unchanged.
 */
export function forAbc2midi(text: string): string {
  const body = text
    .split('\n')
    .map((line) => {
      if (line.startsWith('R:')) {
        return `%${line}`;
      }
      if (/^[A-Za-z+]:|^%/.test(line)) {
        return line;
      }
      // Outside quoted annotations only.
      return line
        .split('"')
        .map((part, i) => (i % 2 === 1 ? part : withoutDecorations(part)))
        .join('"');
    })
    .join('\n');
  return /^X:/m.test(body) ? body : `X:1\n${body}`;
}

function sortRows(rows: Row[]): Row[] {
  return rows.sort((a, b) => a.onset - b.onset || a.pitch - b.pitch);
}

/** Largest stagger, in ticks, abc2midi puts between the notes of one chord. */
const CHORD_STAGGER = 60;

/** Moves staggered chord notes (later onset, same end) back to the chord's first onset. */
function unstagger(rows: Row[]): Row[] {
  sortRows(rows);
  for (let i = 1; i < rows.length; i++) {
    const r = rows[i];
    const end = r.onset + r.dur;
    for (let j = i - 1; j >= 0 && r.onset - rows[j].onset <= CHORD_STAGGER; j--) {
      const a = rows[j];
      if (a.onset < r.onset && Math.abs(a.onset + a.dur - end) <= TOLERANCE) {
        r.onset = a.onset;
        r.dur = end - a.onset;
      }
    }
  }
  return sortRows(rows);
}

/** abc2midi's notes per voice (tracks with notes, in file order), or why there are none. */
export function abc2midiVoices(tuneText: string, dir: string): Row[][] | string {
  const inPath = join(dir, 'tune.abc');
  const outPath = join(dir, 'tune.mid');
  rmSync(outPath, { force: true });
  writeFileSync(inPath, forAbc2midi(tuneText));
  const args = [inPath, '-o', outPath, '-silent', '-NGUI', '-NGRA', '-NFER', '-NFNP'];
  const r = spawnSync('abc2midi', args, { encoding: 'utf8', timeout: 10_000 });
  if (r.error || !existsSync(outPath)) {
    return `abc2midi wrote no file (${r.error?.message ?? (r.stdout + r.stderr).trim().slice(0, 120)})`;
  }
  return smfVoices(new Uint8Array(readFileSync(outPath)));
}

/**
 * The notes per track of a MIDI file (tracks with notes, in file order, channel 10 left out),
 * read the way abc2midi's output is read: a file Refrain writes is compared with abc2midi's
 * output through this one reading.
 */
export function smfVoices(bytes: Uint8Array): Row[][] {
  const smf = scanSmf(bytes, 64 * 1024 * 1024);
  const scale = (t: number): number => Math.round((t * TPQ) / smf.ppq);
  const voices: Row[][] = [];
  for (const track of smf.tracks) {
    const rows = track.notes
      .filter((n) => n.channel !== 9 && n.end > n.start)
      .map((n) => ({ pitch: n.pitch, onset: scale(n.start), dur: scale(n.end) - scale(n.start) }));
    if (rows.length > 0) {
      voices.push(unstagger(rows));
    }
  }
  return voices;
}

/** The repository root (the folder holding test/fixtures/abc), from a compiled test or the cwd. */
export function repoRoot(fromDir: string): string {
  const candidates = [resolve(fromDir, '../../../..'), process.cwd()];
  const root = candidates.find((d) => existsSync(join(d, 'test/fixtures/abc')));
  if (!root) {
    throw new Error('repository root not found');
  }
  return root;
}

/** The project's ABC fixture files: the bundled examples and the test fixtures. */
export function fixtureFiles(root: string): string[] {
  const dirs = ['examples', 'test/fixtures/abc', 'test/fixtures/splice', 'test/fixtures/integration'];
  return dirs.flatMap((d) =>
    readdirSync(join(root, d))
      .filter((n) => n.endsWith('.abc'))
      .sort()
      .map((n) => join(root, d, n)),
  );
}

/** One fixture tune: its text and an id `path X:n` (path relative to the root). */
export interface FixtureTune {
  readonly id: string;
  readonly text: string;
}

/** Every fixture tune with a `K:` line, in file order. */
export function fixtureTunes(root: string): FixtureTune[] {
  const out: FixtureTune[] = [];
  for (const file of fixtureFiles(root)) {
    const text = readFileSync(file, 'utf8');
    for (const r of splitTunes(text)) {
      const tuneText = text.slice(r.start, r.end);
      if (/^K:/m.test(tuneText)) {
        out.push({ id: `${file.slice(root.length + 1)} X:${r.reference ?? '?'}`, text: tuneText });
      }
    }
  }
  return out;
}

/**
 * Fixture tunes on which abc2midi is known to be wrong, with the class of disagreement expected
 * (see docs/abc2midi-differences.md).
 */
export const KNOWN_DIFFERENCES: Readonly<Record<string, string>> = {
  // `K:D exp ^f _b` keeps only F sharp and B flat; abc2midi adds them to D major's signature.
  'test/fixtures/abc/session.abc X:6': 'pitch',
};

/** Refrain's notes per voice (track, then voice in track), or why the tune was not read. */
export function refrainVoices(tuneText: string): Row[][] | string {
  const r = readAbc(tuneText);
  if (r.tunes.length === 0) {
    return `skipped: ${r.skipped[0]?.code ?? 'no tune'} (${r.skipped[0]?.reason ?? ''})`;
  }
  const byVoice = new Map<string, Row[]>();
  for (const n of r.tunes[0].score.notes) {
    const key = `${String(n.track).padStart(4, '0')}:${String(n.voice).padStart(4, '0')}`;
    const list = byVoice.get(key) ?? [];
    list.push({ pitch: n.pitch, onset: n.onset, dur: n.duration });
    byVoice.set(key, list);
  }
  return [...byVoice.keys()].sort().map((k) => sortRows(byVoice.get(k) ?? []));
}

function show(r: Row | undefined): string {
  return r === undefined ? 'nothing' : `${r.pitch}@${(r.onset / TPQ).toFixed(3)}+${(r.dur / TPQ).toFixed(3)}`;
}

/** Compares two voices note by note: the first difference, named by what differs. */
function compareVoice(ours: Row[], theirs: Row[]): { kind: string; at: number } | undefined {
  const n = Math.max(ours.length, theirs.length);
  for (let i = 0; i < n; i++) {
    const a = ours[i];
    const b = theirs[i];
    if (a === undefined || b === undefined) {
      return { kind: 'note-count', at: i };
    }
    if (Math.abs(a.onset - b.onset) > TOLERANCE) {
      return { kind: 'onset', at: i };
    }
    if (a.pitch !== b.pitch) {
      return { kind: 'pitch', at: i };
    }
    if (Math.abs(a.dur - b.dur) > TOLERANCE) {
      return { kind: 'duration', at: i };
    }
  }
  return undefined;
}

/** Compares Refrain's and abc2midi's readings of one tune. */
export function compareReadings(ours: Row[][] | string, theirs: Row[][] | string): Verdict {
  if (typeof theirs === 'string') {
    return { agree: false, kind: 'abc2midi-failed', detail: theirs };
  }
  if (typeof ours === 'string') {
    return { agree: false, kind: 'refrain-skipped', detail: ours };
  }
  if (ours.length !== theirs.length) {
    return { agree: false, kind: 'voice-count', detail: `Refrain ${ours.length} voices, abc2midi ${theirs.length}` };
  }
  for (let v = 0; v < ours.length; v++) {
    const d = compareVoice(ours[v], theirs[v]);
    if (d) {
      const detail = `voice ${v + 1}, note ${d.at + 1}: Refrain ${show(ours[v][d.at])}, abc2midi ${show(theirs[v][d.at])}`;
      return { agree: false, kind: d.kind, detail };
    }
  }
  return { agree: true };
}

/** Reads one tune both ways and compares. `dir` is a scratch folder for abc2midi's files. */
export function diffTune(tuneText: string, dir: string): Verdict {
  return compareReadings(refrainVoices(tuneText), abc2midiVoices(tuneText, dir));
}
