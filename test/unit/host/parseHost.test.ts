// User text is parsed in a worker with a time limit: a parse that overruns is ended and reported,
// the extension host's thread keeps running, and the next request gets a fresh worker (issue 10).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ParseHost } from '../../../src/host/parseHost';
import { MusicInputError } from '../../../src/music/score';

const dir = mkdtempSync(join(tmpdir(), 'refrain-parse-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The built parse worker (`npm run build` writes dist/parseWorker.js). */
function realWorker(): string {
  const candidates = [process.env.REFRAIN_PARSE_WORKER, resolve(__dirname, '../../../../dist/parseWorker.js'), resolve(process.cwd(), 'dist/parseWorker.js')];
  const found = candidates.find((c) => c !== undefined && existsSync(c));
  assert.ok(found, 'dist/parseWorker.js is missing: run `npm run build` first');
  return found;
}

/** A stand-in worker that never returns on the text "HANG" and answers anything else. */
function hangingWorker(): string {
  const path = join(dir, 'hang.js');
  writeFileSync(
    path,
    "const { parentPort } = require('node:worker_threads');\n" +
      "parentPort.on('message', (m) => { if (m.text === 'HANG') { for (;;) {} } parentPort.postMessage({ id: m.id, ok: true, value: { count: 1 } }); });\n" +
      "parentPort.postMessage({ id: 0, ok: true, value: 'ready' });\n",
  );
  return path;
}

test('the tune at the cursor is read in the worker', async () => {
  const host = new ParseHost({ workerPath: realWorker() });
  try {
    const text = 'X:1\nT:A\nK:C\nCDEF|\n\nX:2\nT:B\nK:G\nGABc|\n';
    const r = await host.tuneAt(text, text.indexOf('GABc'));
    assert.equal(r.count, 2);
    assert.equal(r.tune?.title, 'B');
    assert.deepEqual(r.tune?.score.notes.map((n) => n.pitch), [67, 69, 71, 72]);
    const pieces = await host.pieces('x.abc', new TextEncoder().encode(text));
    assert.equal(pieces.pieces.length, 2);
    await assert.rejects(host.pieces('x.abc', new Uint8Array(0)), (e: unknown) => e instanceof MusicInputError && e.code === 'abc-empty');
  } finally {
    host.dispose();
  }
});

test('a parse that overruns is ended and reported; the thread never stalls; the next request works', async () => {
  const host = new ParseHost({ workerPath: hangingWorker(), timeLimitMs: 400 });
  let lastTick = performance.now();
  let worstGap = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    worstGap = Math.max(worstGap, now - lastTick);
    lastTick = now;
  }, 10);
  try {
    const t0 = performance.now();
    // A request queued behind the hanging one waits its turn and then runs in a fresh worker.
    const hanging = host.tuneAt('HANG', 0);
    const queued = host.tuneAt('X:1\nK:C\nC|\n', 0);
    await assert.rejects(hanging, (e: unknown) => e instanceof MusicInputError && e.code === 'parse-timeout' && /longer than 0\.4 s.*stopped it/.test(e.message));
    const took = performance.now() - t0;
    assert.ok(took >= 390 && took < 2000, `rejected after ${took.toFixed(0)} ms`);
    assert.ok(worstGap < 200, `the main thread stalled ${worstGap.toFixed(0)} ms`);
    assert.equal((await queued).count, 1);
    const next = await host.tuneAt('X:1\nK:C\nC|\n', 0);
    assert.equal(next.count, 1);
  } finally {
    clearInterval(ticker);
    host.dispose();
  }
});
