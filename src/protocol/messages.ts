/**
 * The typed protocol between the extension host and Refrain's webviews (the structure panel
 * and the MIDI editor). Three kinds of message, each `{ kind, id?, method, params }`:
 *
 * - **Command** (webview -> host): fire and forget (`ready`, `selectBars`, `cancel`, ...).
 * - **Request / Response** (webview -> host, then host -> webview): the request carries an
 *   `id`; the host always answers with a response of the same `id` and `method`, holding
 *   either `result` or `error` (`{ code, message }`).
 * - **Notification** (host -> webview): state pushed to the view (`piece`, `progress`, ...).
 *
 * Bulk data travels as typed arrays (SSMs as `Float32Array`, notes as integer arrays): VS
 * Code transfers them without JSON-encoding every number. Sizes are bounded by the caps
 * below; the host validates everything it receives with {@link parseWebviewMessage}.
 *
 * Imports neither `vscode` nor the DOM: the host, the webview bundle and plain-Node tests
 * all use this file.
 */

import {
  DEFAULT_RELATED_OFFSETS,
  DEFAULT_VARIATION,
  MAX_CANDIDATES,
  MAX_LAYERS,
  MAX_LAYER_WINDOW,
  MAX_NEW_BARS,
  MAX_RELATED_OFFSET,
  MAX_RELATED_OFFSETS,
  MAX_SEED,
  MAX_TEMPERATURE,
  cleanRelatedOffsets,
} from '../engine/limits';
import { ERROR_CODES } from '../platform/errors';
import type { ErrorAction, UserErrorCode } from '../platform/errors';

// The limits and defaults are decided once, in `engine/limits.ts`; the views read them from here.
export { DEFAULT_RELATED_OFFSETS, DEFAULT_VARIATION, MAX_CANDIDATES, MAX_LAYERS, MAX_LAYER_WINDOW, MAX_RELATED_OFFSET, MAX_RELATED_OFFSETS, cleanRelatedOffsets };
export { ERROR_CODES };
export type { ErrorAction };

/** Most bars one generation may add (the engine's `MAX_NEW_BARS`). */
export const MAX_GENERATE_BARS = MAX_NEW_BARS;

/** Bumped when a message changes shape; the webview says which version it speaks in `ready`. */
export const PROTOCOL_VERSION = 2;

/** Largest SSM side sent to a webview; bigger matrices are block-averaged down to this. */
export const MAX_SSM_SIDE = 512;
/** Most notes sent in one piano roll; the rest are left out and counted in `truncated`. */
export const MAX_ROLL_NOTES = 200_000;
/** Longest form string accepted (`'A8 A8 B8 A8'`). */
export const MAX_FORM_LENGTH = 2000;
/** Longest free text (log lines, URIs, ids) accepted from a webview. */
export const MAX_TEXT_LENGTH = 4000;
/** Progress notifications per second, at most. */
export const PROGRESS_HZ = 10;
/** Default request timeout on the webview side, in ms. */
export const REQUEST_TIMEOUT_MS = 30_000;
/** Timeout of a `generate` request on the webview side, in ms (model runs can be long). */
export const GENERATE_TIMEOUT_MS = 10 * 60_000;

// ---------------------------------------------------------------------------------------------
// Payloads

/** Which webview speaks: the structure panel or the MIDI custom editor. */
export type ViewKind = 'panel' | 'midi';

/** The notes of a piano roll, one entry per note across the parallel arrays. */
export interface RollNotes {
  /** MIDI pitch 0..127. */
  readonly pitch: Uint8Array;
  /** MIDI velocity 1..127. */
  readonly velocity: Uint8Array;
  /** Index into {@link RollPayload.tracks}. */
  readonly track: Uint16Array;
  /** Onset in ticks. */
  readonly onset: Uint32Array;
  /** Duration in ticks (> 0). */
  readonly duration: Uint32Array;
}

/** A track of a piano roll. */
export interface RollTrack {
  readonly name: string;
  readonly isDrum: boolean;
  /** General MIDI program 0..127 (the synth picks a timbre family from it). */
  readonly program: number;
}

/** What a piano roll draws and the synth plays. */
export interface RollPayload {
  /** Ticks per quarter note of every tick value below. */
  readonly ticksPerQuarter: number;
  /** Bar boundaries: bar i spans `[barStarts[i], barStarts[i + 1])`; `bars + 1` entries. */
  readonly barStarts: Uint32Array;
  readonly tracks: readonly RollTrack[];
  readonly notes: RollNotes;
  /** Tempo map: ticks of each change (first is 0) and its quarter notes per minute. */
  readonly tempoTicks: Uint32Array;
  readonly tempoBpm: Float32Array;
  /** Index of the first generated bar (candidates only). */
  readonly firstNewBar?: number;
  /** Notes left out because the roll was over {@link MAX_ROLL_NOTES}. */
  readonly truncated?: number;
}

/** A bar-level SSM as sent: `size` x `size` values, block means when `size < bars`. */
export interface SsmPayload {
  /** Bars the matrix stands for. */
  readonly bars: number;
  /** Side of {@link data}; equals `bars` unless downsampled (then {@link MAX_SSM_SIDE} or less). */
  readonly size: number;
  /** Row-major, `size * size` values in [0, 1]. */
  readonly data: Float32Array;
}

/** An interval the piece's own L_t curve points out (a local peak). */
export interface IntervalHint {
  readonly interval: number;
  readonly value: number;
}

/** Everything a view shows about one piece. */
export interface PieceView {
  /** Identifies the piece (document + tune); the same key means "the same piece, updated". */
  readonly key: string;
  /** Increases with every update the host sends. */
  readonly revision: number;
  readonly format: 'abc' | 'midi';
  /** File name. */
  readonly name: string;
  readonly title?: string;
  /** 0-based tune position in its file and how many tunes the file has (MIDI: 0 of 1). */
  readonly tuneIndex: number;
  readonly tuneCount: number;
  /** Meters and keys as text (`'6/8'`, `'D major'`). */
  readonly meters: readonly string[];
  readonly keys: readonly string[];
  /** Bar similarity the SSM uses (`'jaccard'`, `'chroma'`, ...). */
  readonly feature: string;
  readonly roll: RollPayload;
  readonly ssm: SsmPayload;
  /** L_t of the piece: index t = interval in bars (index 0 unused); NaN where undefined. */
  readonly lt: Float32Array;
  /** The piece's most structure-related intervals, strongest first. */
  readonly topIntervals: readonly IntervalHint[];
  /** Whether clicking bars selects them in a text editor (ABC) or only in the view (MIDI). */
  readonly selectable: boolean;
  /** The tune as ABC for the notation view (ABC pieces that are not too long). */
  readonly notation?: NotationPayload;
}

/** Longest tune text the host sends for notation (longer tunes show no staff). */
export const MAX_NOTATION_CHARS = 60_000;

/**
 * The ABC text of one tune, with where each performed bar is written in it: bar b is
 * `abc.slice(barStart[b], barEnd[b])` (-1 when unknown). A bar inside a repeat is written once,
 * so several performed bars share a range.
 */
export interface NotationPayload {
  readonly abc: string;
  readonly barStart: Int32Array;
  readonly barEnd: Int32Array;
}

/** A generation model the picker offers. */
export interface ModelChoice {
  readonly id: string;
  readonly label: string;
  /** Positional encoding trained into the model: `'rope'`, `'srope'`, `'ropepool'`, `'fstripe'`, `'tsrope'` or `'none'`. */
  readonly positionalEncoding: string;
  /** Number of attention layers (how many window controls the panel shows). */
  readonly layers: number;
  readonly description?: string;
  /** L_t of the model's training corpus, index t as in {@link PieceView.lt}, when the card has it. */
  readonly corpusLt?: Float32Array;
  /** Measured form compliance of the model at default settings, 0..1; absent when not measured. */
  readonly followsForm?: number;
  /** A research variant (labelled "experimental"). */
  readonly experimental?: boolean;
}

/** Where the target structure of a generation comes from. */
export type TemplateChoice =
  | { readonly kind: 'none' }
  | { readonly kind: 'piece' }
  | { readonly kind: 'file'; readonly uri: string }
  | { readonly kind: 'form'; readonly form: string }
  | { readonly kind: 'painted'; readonly size: number; readonly data: Float32Array };

/** The kinds of {@link TemplateChoice}, in the order the panel lists them. */
export const TEMPLATE_KINDS: readonly TemplateChoice['kind'][] = ['piece', 'file', 'form', 'painted', 'none'];

/** A generated candidate as a view shows it. */
export interface CandidateView {
  readonly id: string;
  readonly label: string;
  /** Bars the candidate adds (its roll's last `newBars` bars, from `roll.firstNewBar`). */
  readonly newBars: number;
  readonly roll: RollPayload;
  readonly ssm: SsmPayload;
  /** Raw figures (shown in a tooltip). */
  readonly metrics: readonly { readonly name: string; readonly value: number }[];
  /** Form compliance of the new bars, 0..1 ("follows the form: N%"), when a template was followed. */
  readonly followsForm?: number;
  /** Similarity error against the training corpus's L_t curve, when the model has one. */
  readonly se?: number;
  /** ABC candidates: exactly the text Insert writes into the file. */
  readonly abc?: string;
  /** ABC candidates: a small tune of the new bars (header fields in force + {@link abc}) for notation. */
  readonly notation?: string;
}

/** What the panel's controls ask the model for. */
export interface GenerateParams {
  /** Bars to add, 1..{@link MAX_GENERATE_BARS}. */
  readonly bars: number;
  /** Candidates to return, 1..{@link MAX_CANDIDATES}. */
  readonly candidates: number;
  /** Sampling temperature, (0, 5]. */
  readonly temperature: number;
  /** Nucleus (top-p) mass, (0, 1]. */
  readonly topP: number;
  /** Seed of the sampler, a whole number 0..2^32-1 (same seed, same music). */
  readonly seed: number;
  /** Bar offsets each new bar attends to in full (Museformer), unique, ascending. */
  readonly relatedOffsets: readonly number[];
  /** Attention window per layer in tokens, 0 for the whole context (PerceiverS). */
  readonly layerWindows: readonly number[];
  /**
   * Variation, 0..1: 0 = sections the template marks as the same come back as written, 1 = free.
   * Default {@link DEFAULT_VARIATION}.
   */
  readonly variation: number;
  /** Model id from {@link ModelChoice.id}; `''` lets the host choose. */
  readonly modelId: string;
  readonly template: TemplateChoice;
  /** Keep only the k most likely tokens (0: no limit); absent: `refrain.generation.topK`. */
  readonly topK?: number;
  /** Related bars from the template instead of the offsets; absent: `refrain.generation.relatedFromTemplate`. */
  readonly relatedFromTemplate?: boolean;
}

/** Progress of a running generation. */
export interface ProgressParams {
  readonly requestId: number;
  readonly done: number;
  readonly total: number;
  readonly message?: string;
}

/** The error half of a response: the user-facing error of `platform/errors.ts`. */
export interface ProtocolError {
  /** Stable reason: see {@link ERROR_CODES}. */
  readonly code: ErrorCode;
  /** Short, user-readable text. */
  readonly message: string;
  /** What the user can do (a button the view may offer); absent: nothing in particular. */
  readonly action?: ErrorAction;
}

/** One of {@link ERROR_CODES} (the user-facing error codes). */
export type ErrorCode = UserErrorCode;

// ---------------------------------------------------------------------------------------------
// Method tables

/** Commands: webview -> host, no reply. */
export interface CommandMap {
  /** The view has loaded its script and listens; the host may now post. */
  ready: { readonly protocol: number; readonly view: ViewKind };
  /** Select bars i and j (0-based, performed order) in the editor. */
  selectBars: { readonly i: number; readonly j: number };
  /** Stop the request with this id (a running generation). */
  cancel: { readonly requestId: number };
  /** The view drew a piece (diagnostics and integration tests). */
  rendered: { readonly key: string; readonly revision: number; readonly bars: number; readonly ssmSize: number; readonly candidates: number };
  /** A line for the extension's log (the view's own errors). */
  log: { readonly level: 'info' | 'warn' | 'error'; readonly message: string };
}

/** Requests: webview -> host, always answered. */
export interface RequestMap {
  generate: { params: GenerateParams; result: { readonly candidates: readonly CandidateView[] } };
  insert: { params: { readonly candidateId: string }; result: { readonly message: string } };
  listModels: { params: Record<string, never>; result: { readonly models: readonly ModelChoice[] } };
  previewTemplate: { params: { readonly template: TemplateChoice; readonly bars: number }; result: { readonly ssm: SsmPayload; readonly label: string } };
  pickTemplateFile: { params: Record<string, never>; result: { readonly uri: string; readonly name: string } | { readonly uri?: undefined } };
}

/** Notifications: host -> webview. */
export interface NotificationMap {
  /** The piece to show (the ABC tune under the cursor, the MIDI file). */
  piece: PieceView;
  /** Nothing to show, and why (no music editor, or the piece cannot be read). */
  noPiece: { readonly reason: string; readonly isError: boolean };
  progress: ProgressParams;
  /** Settings the view uses. */
  config: {
    readonly relatedOffsets: readonly number[];
    readonly bars: number;
    readonly candidates: number;
    readonly temperature: number;
    readonly topP: number;
    /** `refrain.generation.seed` when set: the panel keeps it; absent, every Generate draws a fresh seed. */
    readonly seed?: number;
  };
  /** Start or stop playback (the Play / Stop commands). */
  playback: { readonly action: 'play' | 'stop' };
  /** A generation started or ended (replayed after the view reloads). */
  generation: { readonly running: boolean; readonly requestId: number };
  /**
   * The candidates of the latest generation (replayed after the view reloads). With `stale` the
   * piece has changed since (an edit, an insert): they are shown, and Insert is refused with this reason.
   */
  candidates: { readonly requestId: number; readonly candidates: readonly CandidateView[]; readonly stale?: string };
}

/** Method names of each kind. */
export type CommandMethod = keyof CommandMap;
export type RequestMethod = keyof RequestMap;
export type NotificationMethod = keyof NotificationMap;

/** Params / result types by method. */
export type RequestParams<M extends RequestMethod> = RequestMap[M]['params'];
export type RequestResult<M extends RequestMethod> = RequestMap[M]['result'];

/** Every command method, for exhaustive checks. */
export const COMMAND_METHODS: readonly CommandMethod[] = ['ready', 'selectBars', 'cancel', 'rendered', 'log'];
/** Every request method, for exhaustive checks. */
export const REQUEST_METHODS: readonly RequestMethod[] = ['generate', 'insert', 'listModels', 'previewTemplate', 'pickTemplateFile'];
/** Every notification method, for exhaustive checks. */
export const NOTIFICATION_METHODS: readonly NotificationMethod[] = ['piece', 'noPiece', 'progress', 'config', 'playback', 'generation', 'candidates'];

// ---------------------------------------------------------------------------------------------
// Messages

/** A command message. */
export type CommandMessage = { [M in CommandMethod]: { readonly kind: 'command'; readonly method: M; readonly params: CommandMap[M] } }[CommandMethod];

/** A request message. */
export type RequestMessage = {
  [M in RequestMethod]: { readonly kind: 'request'; readonly id: number; readonly method: M; readonly params: RequestParams<M> };
}[RequestMethod];

/** A response message: `result` or `error`, never both. */
export type ResponseMessage = {
  [M in RequestMethod]:
    | { readonly kind: 'response'; readonly id: number; readonly method: M; readonly result: RequestResult<M>; readonly error?: undefined }
    | { readonly kind: 'response'; readonly id: number; readonly method: M; readonly result?: undefined; readonly error: ProtocolError };
}[RequestMethod];

/** A notification message. */
export type NotificationMessage = {
  [M in NotificationMethod]: { readonly kind: 'notification'; readonly method: M; readonly params: NotificationMap[M] };
}[NotificationMethod];

/** What a webview posts. */
export type WebviewToHostMessage = CommandMessage | RequestMessage;
/** What the host posts. */
export type HostToWebviewMessage = ResponseMessage | NotificationMessage;

/** Builds a command message. */
export function command<M extends CommandMethod>(method: M, params: CommandMap[M]): CommandMessage {
  return { kind: 'command', method, params } as CommandMessage;
}

/** Builds a request message. */
export function request<M extends RequestMethod>(id: number, method: M, params: RequestParams<M>): RequestMessage {
  return { kind: 'request', id, method, params } as RequestMessage;
}

/** Builds a notification message. */
export function notification<M extends NotificationMethod>(method: M, params: NotificationMap[M]): NotificationMessage {
  return { kind: 'notification', method, params } as NotificationMessage;
}

/** Builds a successful response. */
export function okResponse<M extends RequestMethod>(id: number, method: M, result: RequestResult<M>): ResponseMessage {
  return { kind: 'response', id, method, result } as ResponseMessage;
}

/** Builds a failed response. */
export function errorResponse(id: number, method: RequestMethod, code: ErrorCode, message: string, action?: ErrorAction): ResponseMessage {
  return { kind: 'response', id, method, error: action !== undefined && action !== 'none' ? { code, message, action } : { code, message } };
}

/** For the `default` branch of an exhaustive `switch`: fails to compile when a case is missing. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`Unexpected ${what}: ${JSON.stringify(value)}`);
}

// ---------------------------------------------------------------------------------------------
// Validation of what the host receives

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
    bars: integer(1, MAX_GENERATE_BARS)(r.bars, `${path}.bars`),
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
      return request(id, method, { template: checkTemplate(r.template, `${path}.template`), bars: integer(1, MAX_GENERATE_BARS)(r.bars, `${path}.bars`) });
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

/** Whether a value looks like a message the host posts (a light check for the webview side). */
export function isHostMessage(value: unknown): value is HostToWebviewMessage {
  if (!isRecord(value) || typeof value.method !== 'string') {
    return false;
  }
  if (value.kind === 'notification') {
    return (NOTIFICATION_METHODS as readonly string[]).includes(value.method);
  }
  if (value.kind === 'response') {
    return typeof value.id === 'number' && (REQUEST_METHODS as readonly string[]).includes(value.method) && (value.error === undefined) !== (value.result === undefined);
  }
  return false;
}
