/**
 * `npm run fuzz`: feeds seeded, mutated ABC and MIDI inputs (10,000 of each by default) to the
 * readers through the same parse worker the extension uses, each with a time limit, and counts:
 * inputs read, input errors (a clear `MusicInputError`), crashes (any other error, or a tune
 * skipped because of an unforeseen exception), and hangs (over the time limit). Prints the slowest
 * input and the peak memory; writes every failing input to out/fuzz/failures/ to reproduce.
 * Exit 1 on any crash or hang, or a peak over 1 GB.
 *
 * Options: --abc N --midi N --seed S --limit-ms MS (2000) --only abc:I|midi:I (one input)
 * --save (write each input to out/fuzz/input-*).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readAbc } from '../../src/music/abc/reader';
import { writeMidi } from '../../src/music/midi/writer';
import { ParseHost } from '../../src/host/parseHost';
import { Rng, mutateAbc, mutateMidi, mutateMidiEvents } from './mutate';

interface Tally {
  /** Inputs read without a whole-file error, per kind. */
  readByKind: Record<string, number>;
  inputs: number;
  read: number;
  inputErrors: number;
  skipped: number;
  crashes: number;
  hangs: number;
  slowest: { id: string; ms: number };
}

const ROOT = resolve(__dirname, '../..');
const FAILURES = join(ROOT, 'out/fuzz/failures');

function files(dir: string, ext: RegExp): string[] {
  if (!existsSync(dir)) {
    return [];
  }
  return readdirSync(dir)
    .sort()
    .flatMap((n) => {
      const p = join(dir, n);
      return statSync(p).isDirectory() ? files(p, ext) : ext.test(n) ? [p] : [];
    });
}

/** The seeds: the project's own ABC fixtures, its MIDI fixture, and MIDI written from the ABC tunes. */
function seeds(): { abc: string[]; midi: Uint8Array[] } {
  const abc = [...files(join(ROOT, 'examples'), /\.abc$/), ...files(join(ROOT, 'test/fixtures'), /\.abc$/)].map((p) => readFileSync(p, 'utf8'));
  const midi: Uint8Array[] = files(join(ROOT, 'test/fixtures'), /\.midi?$/).map((p) => new Uint8Array(readFileSync(p)));
  for (const text of abc) {
    try {
      for (const t of readAbc(text).tunes.slice(0, 3)) {
        midi.push(writeMidi(t.score));
      }
    } catch {
      // A seed that does not read is still a fine ABC seed.
    }
  }
  return { abc, midi: midi.filter((m) => m.length > 14) };
}

function record(id: string, input: Uint8Array, kind: 'crash' | 'hang', why: string): void {
  mkdirSync(FAILURES, { recursive: true });
  const path = join(FAILURES, `${kind}-${id.replace(':', '-')}.${id.startsWith('abc') ? 'abc' : 'mid'}`);
  writeFileSync(path, input);
  console.log(`${kind.toUpperCase()} ${id}: ${why} (input in ${path})`);
}

async function runOne(host: ParseHost, tally: Tally, id: string, input: Uint8Array, limitMs: number): Promise<void> {
  const path = id.startsWith('abc') ? 'fuzz.abc' : 'fuzz.mid';
  const t0 = performance.now();
  let timedOut = false;
  try {
    const r = await host.pieces(path, input);
    tally.read++;
    tally.readByKind[path] = (tally.readByKind[path] ?? 0) + 1;
    tally.skipped += r.skipped.length;
    const internal = r.skipped.find((s) => s.code === 'abc-unreadable');
    if (internal) {
      tally.crashes++;
      record(id, input, 'crash', `a tune failed with an unforeseen error: ${internal.reason}`);
    }
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'parse-timeout') {
      timedOut = true;
      tally.hangs++;
      record(id, input, 'hang', `over the ${limitMs} ms limit`);
    } else if (code === undefined || code === 'parse-failed') {
      tally.crashes++;
      record(id, input, 'crash', e instanceof Error ? e.message : String(e));
    } else {
      tally.inputErrors++;
    }
  }
  const ms = performance.now() - t0;
  if (ms > tally.slowest.ms) {
    tally.slowest = { id, ms };
  }
  if (ms > limitMs && !timedOut) {
    // Answered, but only after the limit: a hang all the same.
    tally.hangs++;
    record(id, input, 'hang', `took ${ms.toFixed(0)} ms`);
  }
}

function inputFor(kind: 'abc' | 'midi', index: number, seed: number, pool: { abc: string[]; midi: Uint8Array[] }): Uint8Array {
  const rng = new Rng(seed * 1_000_003 + index * 7919 + (kind === 'abc' ? 0 : 1));
  if (kind === 'abc') {
    return new TextEncoder().encode(mutateAbc(rng, rng.pick(pool.abc), pool.abc));
  }
  // Half structure-keeping event mutations (deep reader paths), half byte damage (error paths).
  const base = rng.pick(pool.midi);
  return rng.next() < 0.5 ? mutateMidiEvents(rng, base) : mutateMidi(rng, base, pool.midi);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      abc: { type: 'string', default: '10000' },
      midi: { type: 'string', default: '10000' },
      seed: { type: 'string', default: '1' },
      'limit-ms': { type: 'string', default: '2000' },
      only: { type: 'string' },
      save: { type: 'boolean', default: false },
      worker: { type: 'string', default: join(__dirname, 'parseWorker.js') },
    },
  });
  const seed = Number(values.seed);
  const limitMs = Number(values['limit-ms']);
  const pool = seeds();
  const host = new ParseHost({ workerPath: values.worker, timeLimitMs: limitMs });
  const tally: Tally = { readByKind: {}, inputs: 0, read: 0, inputErrors: 0, skipped: 0, crashes: 0, hangs: 0, slowest: { id: '-', ms: 0 } };
  const plan: ['abc' | 'midi', number][] = values.only
    ? [[values.only.split(':')[0] as 'abc' | 'midi', Number(values.only.split(':')[1])]]
    : [
        ...Array.from({ length: Number(values.abc) }, (_, i): ['abc', number] => ['abc', i]),
        ...Array.from({ length: Number(values.midi) }, (_, i): ['midi', number] => ['midi', i]),
      ];
  // Start the worker before the clock runs: thread start-up is not parsing.
  await host.pieces('warm-up.abc', new TextEncoder().encode('X:1\nK:C\nC|\n'));
  const started = performance.now();
  for (const [kind, i] of plan) {
    tally.inputs++;
    const input = inputFor(kind, i, seed, pool);
    if (values.save) {
      const path = join(ROOT, 'out/fuzz', `input-${kind}-${i}.${kind === 'abc' ? 'abc' : 'mid'}`);
      mkdirSync(join(ROOT, 'out/fuzz'), { recursive: true });
      writeFileSync(path, input);
      console.log(`input written to ${path}`);
    }
    await runOne(host, tally, `${kind}:${i}`, input, limitMs);
    if (tally.inputs % 2000 === 0) {
      console.log(`  ${tally.inputs} inputs, ${((performance.now() - started) / 1000).toFixed(0)} s`);
    }
  }
  host.dispose();
  const peakMb = process.resourceUsage().maxRSS / 1024;
  console.log(
    `fuzz (seed ${seed}, limit ${limitMs} ms): ${tally.inputs} inputs (${values.only ? values.only : `${values.abc} ABC + ${values.midi} MIDI`}) in ${((performance.now() - started) / 1000).toFixed(0)} s\n` +
      `  read ${tally.read} (ABC ${tally.readByKind['fuzz.abc'] ?? 0}, MIDI ${tally.readByKind['fuzz.mid'] ?? 0}; ABC tunes skipped with a reason: ${tally.skipped}), ` +
      `input errors ${tally.inputErrors}, crashes ${tally.crashes}, hangs ${tally.hangs}\n` +
      `  slowest input ${tally.slowest.id}: ${tally.slowest.ms.toFixed(0)} ms; peak memory ${peakMb.toFixed(0)} MB`,
  );
  return tally.crashes > 0 || tally.hangs > 0 || peakMb > 1024 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(70);
  },
);
