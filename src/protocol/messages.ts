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
 * below; the host validates everything it receives with `parseWebviewMessage` (`./validate`).
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
  cleanRelatedOffsets,
  isRelatedOffset,
} from '../engine/limits';
import { ERROR_CODES } from '../platform/errors';
import type { ErrorAction, UserErrorCode } from '../platform/errors';

// The limits and defaults are decided once, in `engine/limits.ts`; the views read them from here.
export { DEFAULT_RELATED_OFFSETS, DEFAULT_VARIATION, MAX_CANDIDATES, MAX_LAYERS, MAX_LAYER_WINDOW, MAX_RELATED_OFFSET, MAX_RELATED_OFFSETS, cleanRelatedOffsets, isRelatedOffset };
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

/** Whether a value looks like a message the host posts (a light check for the webview side; the host's checks are `./validate`). */
export function isHostMessage(value: unknown): value is HostToWebviewMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return false;
  }
  const r = value as { kind?: unknown; method?: unknown; id?: unknown; error?: unknown; result?: unknown };
  if (typeof r.method !== 'string') {
    return false;
  }
  if (r.kind === 'notification') {
    return (NOTIFICATION_METHODS as readonly string[]).includes(r.method);
  }
  if (r.kind === 'response') {
    return typeof r.id === 'number' && (REQUEST_METHODS as readonly string[]).includes(r.method) && (r.error === undefined) !== (r.result === undefined);
  }
  return false;
}
