/**
 * Messages between the engine client (main thread) and the engine worker. Every request
 * carries an `id`; the worker answers each with exactly one `result`, `benchResult`,
 * `released` or `error` of that id. Cancellation: the client sets the request's shared
 * flag (read by the worker between decode steps without waiting for its event loop) and
 * also posts `cancel`.
 *
 * Pure types and constants: no vscode, no onnxruntime.
 */

import type { LogLevel } from '../platform/logger';
import type { ModelCard } from './card';
import type { ErrorPayload } from './errors';
import type { ScoreResult, ScoreSpec } from './scoring';
import type { Candidate, ExecutionProviderChoice, GenerateProgress, GenerateRequest, LayerScale } from './types';

/** `workerData` of the engine worker. */
export interface EngineWorkerData {
  refrainEngineWorker: true;
  executionProvider: ExecutionProviderChoice;
  threads?: number;
  /** Lowest log level the worker sends. */
  logLevel: LogLevel;
}

/** A resolved model, as the worker needs it. */
export interface ModelRef {
  id: string;
  onnxPath: string;
  cardPath: string;
  card: ModelCard;
  refrainVocab: boolean;
}

/** Which attention plan a benchmark run uses. */
export type BenchPlan = 'structured' | 'structured-all-summaries' | 'structured-windowed' | 'dense';

/** A decode-speed measurement request. */
export interface BenchDecodeSpec {
  /** A token sequence (ids, bar, pos) at least as long as the largest context + decodeTokens. */
  ids: number[];
  bar: number[];
  pos: number[];
  /** Context lengths to measure at (tokens of prefill before decoding). */
  contexts: number[];
  /** Tokens decoded one at a time after each prefill. */
  decodeTokens: number;
  plans: BenchPlan[];
  /** Related offsets of the structured plans. */
  offsets: number[];
  /** Prefill chunk (tokens per step). */
  chunk: number;
  /** Per context, stop decoding after this many milliseconds (0 = no limit). */
  budgetMs: number;
  /** Also time steps of this many lanes side by side at the first context (see {@link BenchLaneSteps}). */
  laneSteps?: number;
}

/** One row of {@link BenchDecodeResult}. */
export interface BenchDecodeRow {
  plan: BenchPlan;
  context: number;
  layers: { plan: string; window: LayerScale }[];
  prefillMs: number;
  decodeTokens: number;
  /** Median time of one decode step (one token). */
  decodeMsPerToken: number;
  /** Mean time of one decode step. */
  decodeMeanMsPerToken: number;
  /** Mean keys per layer a decode step attended to. */
  keysPerStep: number;
  /** Mean summary rows the SING head gathered per decode step (0 without one). */
  singKeysPerStep?: number;
  /** KV cache bytes at the end. */
  cacheBytes: number;
}

/**
 * Steps carrying one new token for each of `lanes` lanes forked from one prefix (candidates
 * decoded side by side, without their sampling), against a lone lane's steps over the same
 * tokens: what a lane adds to a model step.
 */
export interface BenchLaneSteps {
  context: number;
  lanes: number;
  steps: number;
  /** Median step of the lone lane and of the lanes together. */
  oneMsPerStep: number;
  lanesMsPerStep: number;
  ratio: number;
  /** Mean keys per layer a step attended: the lone lane's, and the union of the lanes'. */
  oneKeysPerStep: number;
  lanesKeysPerStep: number;
}

/** Result of a decode benchmark. */
export interface BenchDecodeResult {
  provider: string;
  loadMs: number;
  rows: BenchDecodeRow[];
  /** Present when the spec asked for it ({@link BenchDecodeSpec.laneSteps}). */
  laneSteps?: BenchLaneSteps;
  /** Peak resident set size of the process seen by the worker, bytes. */
  peakRss: number;
  /** RSS before the worker loaded the model, bytes. */
  baseRss: number;
}

/** Main thread -> worker. */
export type ToWorker =
  | { type: 'generate'; id: number; model: ModelRef; request: GenerateRequest; cancel?: SharedArrayBuffer }
  | { type: 'benchDecode'; id: number; model: ModelRef; spec: BenchDecodeSpec; cancel?: SharedArrayBuffer }
  | { type: 'score'; id: number; model: ModelRef; spec: ScoreSpec; cancel?: SharedArrayBuffer }
  | { type: 'cancel'; id: number }
  | { type: 'release'; id: number };

/** Worker -> main thread. */
export type FromWorker =
  | { type: 'log'; level: LogLevel; message: string }
  | { type: 'progress'; id: number; progress: GenerateProgress }
  | { type: 'result'; id: number; candidates: Candidate[] }
  | { type: 'benchResult'; id: number; result: BenchDecodeResult }
  | { type: 'scoreResult'; id: number; result: ScoreResult }
  | { type: 'released'; id: number }
  | { type: 'error'; id: number; error: ErrorPayload };
