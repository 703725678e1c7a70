/**
 * The parse worker (bundled as `dist/parseWorker.js`): reads user text (ABC tunes, MIDI bytes) off
 * the extension host's thread, so that a parser that runs long, or never returns, cannot freeze
 * VS Code. `ParseHost` ends it when a request overruns its time limit.
 *
 * Node `worker_threads`; no vscode.
 */

import { parentPort } from 'node:worker_threads';
import { loadPieces } from '../music/load';
import { MusicInputError } from '../music/score';
import { readTuneAt, readTuneByIndex } from '../music/select';
import type { ParseRequest, ParseResponse } from './parseProtocol';

function answer(req: ParseRequest): unknown {
  switch (req.op) {
    case 'tuneAt':
      return readTuneAt(req.text, req.offset);
    case 'tuneByIndex':
      return readTuneByIndex(req.text, req.index);
    case 'pieces':
      return loadPieces(req.path, req.bytes);
    default:
      throw new Error(`unknown parse request ${JSON.stringify(req)}`);
  }
}

parentPort?.on('message', (req: ParseRequest) => {
  let res: ParseResponse;
  try {
    res = { id: req.id, ok: true, value: answer(req) };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    res =
      e instanceof MusicInputError
        ? { id: req.id, ok: false, code: e.code, message }
        : { id: req.id, ok: false, code: 'parse-failed', message: `The reader failed unexpectedly (${message}). Please report the file.`, crash: true };
  }
  parentPort?.postMessage(res);
});

// Loaded: the host starts its time limits from here (loading the readers is not parsing).
parentPort?.postMessage({ id: 0, ok: true, value: 'ready' } satisfies ParseResponse);
