/**
 * The host's checks of what a webview posts: every message is validated against the protocol
 * (`./messages`) and the request limits (`engine/limits.ts`) before a handler sees it.
 *
 * Imports neither `vscode` nor the DOM.
 */

import { DEFAULT_VARIATION, MAX_CANDIDATES, MAX_LAYERS, MAX_LAYER_WINDOW, MAX_NEW_BARS, MAX_RELATED_OFFSET, MAX_RELATED_OFFSETS, MAX_SEED, MAX_TEMPERATURE, cleanRelatedOffsets } from '../engine/limits';
import { COMMAND_METHODS, MAX_FORM_LENGTH, MAX_SSM_SIDE, MAX_TEXT_LENGTH, REQUEST_METHODS, TEMPLATE_KINDS, assertNever, command, request } from './messages';
import type { CommandMessage, CommandMethod, GenerateParams, RequestMessage, RequestMethod, TemplateChoice, ViewKind, WebviewToHostMessage } from './messages';

/** The outcome of {@link parseWebviewMessage}. */
export type ParseResult =
  | { readonly ok: true; readonly message: WebviewToHostMessage }
  | {
      readonly ok: false;
      /** Why the message was refused. */
      readonly reason: string;
      /** Set when the message was a readable request: the host answers it with an error. */
      readonly request?: { readonly id: number; readonly method: RequestMethod };
    };

type Check<T> = (value: unknown, path: string) => T;

class InvalidMessage extends Error {}

function fail(path: string, expected: string, value: unknown): never {
  const seen = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
  throw new InvalidMessage(`${path} must be ${expected} (got ${seen})`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

function record(value: unknown, path: string): Record<string, unknown> {
  if (!isRecord(value)) {
    fail(path, 'an object', value);
  }
  return value;
}

function integer(min: number, max: number): Check<number> {
  return (value, path) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      fail(path, `a whole number from ${min} to ${max}`, value);
    }
    return value;
  };
}

function finite(min: number, max: number, minExclusive = false): Check<number> {
  return (value, path) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value > max || value < min || (minExclusive && value === min)) {
      fail(path, `a number ${minExclusive ? 'above' : 'from'} ${min} ${minExclusive ? 'up to' : 'to'} ${max}`, value);
    }
    return value;
  };
}

function text(maxLength: number, allowEmpty = true): Check<string> {
  return (value, path) => {
    if (typeof value !== 'string' || value.length > maxLength || (!allowEmpty && value.length === 0)) {
      fail(path, `a ${allowEmpty ? '' : 'non-empty '}string of at most ${maxLength} characters`, value);
    }
    return value;
  };
}

function oneOf<T extends string>(values: readonly T[]): Check<T> {
  return (value, path) => {
    if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
      fail(path, `one of ${values.join(', ')}`, value);
    }
    return value as T;
  };
}

function list<T>(item: Check<T>, maxLength: number): Check<T[]> {
  return (value, path) => {
    if (!Array.isArray(value) || value.length > maxLength) {
      fail(path, `a list of at most ${maxLength} items`, value);
    }
    return value.map((v, k) => item(v, `${path}[${k}]`));
  };
}

/**
 * A `Float32Array` of exactly `length` finite values in [0, 1]. A plain number array is
 * accepted too (some transports turn typed arrays into arrays) and converted.
 */
function unitFloats(length: number): Check<Float32Array> {
  return (value, path) => {
    let data: Float32Array;
    if (value instanceof Float32Array) {
      data = value;
    } else if (Array.isArray(value) && value.length === length && value.every((v) => typeof v === 'number')) {
      data = Float32Array.from(value as number[]);
    } else {
      fail(path, `a Float32Array of ${length} values`, value);
    }
    if (data.length !== length) {
      throw new InvalidMessage(`${path} must hold ${length} values (got ${data.length})`);
    }
    for (let k = 0; k < data.length; k++) {
      const v = data[k];
      if (!(v >= 0 && v <= 1)) {
        throw new InvalidMessage(`${path}[${k}] must be a number from 0 to 1`);
      }
    }
    return data;
  };
}

function noParams(value: unknown, path: string): Record<string, never> {
  const r = value === undefined ? {} : record(value, path);
  if (Object.keys(r).length > 0) {
    throw new InvalidMessage(`${path} must be empty`);
  }
  return {};
}

const requestId = integer(1, Number.MAX_SAFE_INTEGER);
const barIndex = integer(0, 1_000_000);

/** Checks a template choice; painted templates must be square, at most {@link MAX_SSM_SIDE} bars. */
export function checkTemplate(value: unknown, path = 'template'): TemplateChoice {
  const r = record(value, path);
  const kind = oneOf(TEMPLATE_KINDS)(r.kind, `${path}.kind`);
  switch (kind) {
    case 'none':
      return { kind };
    case 'piece':
      return { kind };
    case 'file':
      return { kind, uri: text(MAX_TEXT_LENGTH, false)(r.uri, `${path}.uri`) };
    case 'form':
      return { kind, form: text(MAX_FORM_LENGTH, false)(r.form, `${path}.form`) };
    case 'painted': {
      const size = integer(1, MAX_SSM_SIDE)(r.size, `${path}.size`);
      return { kind, size, data: unitFloats(size * size)(r.data, `${path}.data`) };
    }
    default:
      return assertNever(kind, 'template kind');
  }
}

/** Checks generation parameters; offsets come back sorted and without duplicates. */
export function checkGenerateParams(value: unknown, path = 'params'): GenerateParams {
  const r = record(value, path);
  const offsets = list(integer(1, MAX_RELATED_OFFSET), MAX_RELATED_OFFSETS)(r.relatedOffsets, `${path}.relatedOffsets`);
  return {
    bars: integer(1, MAX_NEW_BARS)(r.bars, `${path}.bars`),
    candidates: integer(1, MAX_CANDIDATES)(r.candidates, `${path}.candidates`),
    temperature: finite(0, MAX_TEMPERATURE, true)(r.temperature, `${path}.temperature`),
    topP: finite(0, 1, true)(r.topP, `${path}.topP`),
    seed: integer(0, MAX_SEED)(r.seed, `${path}.seed`),
    relatedOffsets: cleanRelatedOffsets(offsets),
    layerWindows: list(integer(0, MAX_LAYER_WINDOW), MAX_LAYERS)(r.layerWindows, `${path}.layerWindows`),
    variation: r.variation === undefined ? DEFAULT_VARIATION : finite(0, 1)(r.variation, `${path}.variation`),
    modelId: text(200)(r.modelId, `${path}.modelId`),
    template: checkTemplate(r.template, `${path}.template`),
    ...(r.topK !== undefined ? { topK: integer(0, 1000)(r.topK, `${path}.topK`) } : {}),
    ...(r.relatedFromTemplate !== undefined ? { relatedFromTemplate: boolean(r.relatedFromTemplate, `${path}.relatedFromTemplate`) } : {}),
  };
}

function boolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') {
    fail(path, 'true or false', value);
  }
  return value;
}

function checkCommandParams(method: CommandMethod, value: unknown): CommandMessage {
  const path = `${method}.params`;
  switch (method) {
    case 'ready': {
      const r = record(value, path);
      return command(method, { protocol: integer(0, 1_000_000)(r.protocol, `${path}.protocol`), view: oneOf<ViewKind>(['panel', 'midi'])(r.view, `${path}.view`) });
    }
    case 'selectBars': {
      const r = record(value, path);
      return command(method, { i: barIndex(r.i, `${path}.i`), j: barIndex(r.j, `${path}.j`) });
    }
    case 'cancel': {
      const r = record(value, path);
      return command(method, { requestId: requestId(r.requestId, `${path}.requestId`) });
    }
    case 'rendered': {
      const r = record(value, path);
      return command(method, {
        key: text(MAX_TEXT_LENGTH)(r.key, `${path}.key`),
        revision: integer(0, Number.MAX_SAFE_INTEGER)(r.revision, `${path}.revision`),
        bars: barIndex(r.bars, `${path}.bars`),
        ssmSize: integer(0, MAX_SSM_SIDE)(r.ssmSize, `${path}.ssmSize`),
        candidates: integer(0, MAX_CANDIDATES)(r.candidates, `${path}.candidates`),
      });
    }
    case 'log': {
      const r = record(value, path);
      const message = typeof r.message === 'string' ? r.message.slice(0, MAX_TEXT_LENGTH) : text(MAX_TEXT_LENGTH)(r.message, `${path}.message`);
      return command(method, { level: oneOf<'info' | 'warn' | 'error'>(['info', 'warn', 'error'])(r.level, `${path}.level`), message });
    }
    default:
      return assertNever(method, 'command');
  }
}

function checkRequestParams(id: number, method: RequestMethod, value: unknown): RequestMessage {
  const path = `${method}.params`;
  switch (method) {
    case 'generate':
      return request(id, method, checkGenerateParams(value, path));
    case 'insert': {
      const r = record(value, path);
      return request(id, method, { candidateId: text(200, false)(r.candidateId, `${path}.candidateId`) });
    }
    case 'listModels':
      return request(id, method, noParams(value, path));
    case 'previewTemplate': {
      const r = record(value, path);
      return request(id, method, { template: checkTemplate(r.template, `${path}.template`), bars: integer(1, MAX_NEW_BARS)(r.bars, `${path}.bars`) });
    }
    case 'pickTemplateFile':
      return request(id, method, noParams(value, path));
    default:
      return assertNever(method, 'request');
  }
}

/**
 * Validates a message a webview posted. Never throws: a malformed message gives
 * `{ ok: false, reason }`, with `request` set when it was a request the host can still
 * answer (with an `invalid-request` error).
 */
export function parseWebviewMessage(value: unknown): ParseResult {
  if (!isRecord(value)) {
    return { ok: false, reason: 'message must be an object' };
  }
  const { kind, method } = value;
  try {
    if (kind === 'command') {
      const m = oneOf(COMMAND_METHODS)(method, 'method');
      return { ok: true, message: checkCommandParams(m, value.params) };
    }
    if (kind === 'request') {
      const id = requestId(value.id, 'id');
      if (typeof method !== 'string' || !(REQUEST_METHODS as readonly string[]).includes(method)) {
        return { ok: false, reason: `unknown request method ${JSON.stringify(String(method).slice(0, 60))}` };
      }
      const m = method as RequestMethod;
      try {
        return { ok: true, message: checkRequestParams(id, m, value.params) };
      } catch (e) {
        return { ok: false, reason: e instanceof InvalidMessage ? e.message : String(e), request: { id, method: m } };
      }
    }
    return { ok: false, reason: `kind must be "command" or "request" (got ${JSON.stringify(String(kind).slice(0, 40))})` };
  } catch (e) {
    if (e instanceof InvalidMessage) {
      return { ok: false, reason: e.message };
    }
    throw e;
  }
}

